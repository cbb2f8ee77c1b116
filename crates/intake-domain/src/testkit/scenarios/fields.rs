//! Fields end to end: a rendered receipt uploaded is read for its type and fields (with their boxes
//! on the page), found by its total and its kind, not by another receipt's total, and read again when
//! processed again.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;
use crate::model::{
    DateOrder, DocumentKind, FIRST_PAGE, FieldType, OcrPage, OcrResult, PageSource,
};
use crate::testkit::documents::{self, LabelledDocument};
use crate::testkit::images::DEJAVU_SANS_PATHS;

/// Two day-first receipts of other totals, rendered, if the font is installed.
fn receipts() -> Option<[LabelledDocument; 2]> {
    let font = DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())?;
    let docs: Vec<LabelledDocument> = documents::clean(&font)?
        .into_iter()
        .filter(|d| d.kind == DocumentKind::Receipt && d.date_order == DateOrder::DayFirst)
        .collect();
    let first = docs.first()?.clone();
    let second = docs
        .iter()
        .find(|d| d.expected(FieldType::Total) != first.expected(FieldType::Total))?
        .clone();
    Some([first, second])
}

/// What the engine answers for `doc`'s page.
fn read(h: &impl Harness, doc: &LabelledDocument) -> OcrResult {
    OcrResult::new(
        &h.intake().ocr_capabilities().engine,
        doc.reading.clone(),
        false,
    )
    .expect("a result")
    .with_pages(vec![OcrPage::new(
        FIRST_PAGE,
        doc.page.width,
        doc.page.height,
        PageSource::Ocr,
    )])
}

/// The ids of `alice`'s images `request` lists.
async fn listed(h: &impl Harness, request: ListRequest) -> Vec<ImageId> {
    h.intake()
        .list_images(&owner("alice"), &request)
        .await
        .expect("list")
        .images
        .iter()
        .map(|i| i.record.image_id())
        .collect()
}

/// A rendered receipt is read as a receipt with its total (normalised, with the box it was read
/// from, on the page) and found by `field=TOTAL:…` and `documentType=receipt`; another receipt's
/// total does not find it; processed again, it is read again. Skipped where the adapter set reads no
/// fields, its engine cannot be scripted or the font is not installed.
pub async fn receipts_are_read_for_their_fields_and_found_by_them(h: &impl Harness) {
    let Some([first, second]) = receipts() else {
        return;
    };
    let (one, two) = (first.page.png(), second.page.png());
    if h.intake().field_extractor_name().is_none()
        || !h.script_ocr(&one, read(h, &first))
        || !h.script_ocr(&two, read(h, &second))
    {
        return;
    }
    let mut ids = Vec::new();
    for (name, bytes) in [("receipt-1.png", &one), ("receipt-2.png", &two)] {
        let ticket = h
            .intake()
            .request_upload(&owner("alice"), png_request(name, bytes))
            .await
            .expect("request upload");
        h.send(&ticket.request(), Some(bytes.clone()))
            .await
            .expect("PUT");
        ids.push(processed(h, &ticket.object_key).await.image_id());
    }
    let read = h
        .intake()
        .image_fields(&owner("alice"), ids[0])
        .await
        .expect("fields");
    assert_eq!(
        read.document_type().map(|t| t.kind),
        Some(DocumentKind::Receipt),
        "{:?}",
        first.page.name
    );
    let expected = first.expected(FieldType::Total).expect("a total");
    let total = read
        .fields()
        .iter()
        .find(|f| f.field_type == FieldType::Total)
        .expect("the total was read");
    assert_eq!(total.normalized.as_deref(), Some(expected));
    let b = total.bounding_box;
    assert!(
        b.left() > 0.5 && b.left() + b.width() <= 1.0 && b.top() > 0.3 && b.top() < 1.0,
        "the total is right-aligned in the lower part of the page: {b:?}"
    );
    assert_eq!(read.fields_extractor(), h.intake().field_extractor_name());

    let by_total = ListRequest::default().with_field(format!("TOTAL:{expected}"));
    assert_eq!(listed(h, by_total.clone()).await, vec![ids[0]]);
    assert_eq!(
        listed(h, by_total.with_document_kind(DocumentKind::Receipt)).await,
        vec![ids[0]]
    );
    let other = second.expected(FieldType::Total).expect("a total");
    assert_eq!(
        listed(
            h,
            ListRequest::default().with_field(format!("TOTAL:{other}"))
        )
        .await,
        vec![ids[1]]
    );
    assert_eq!(
        listed(
            h,
            ListRequest::default().with_document_kind(DocumentKind::Receipt)
        )
        .await,
        vec![ids[1], ids[0]]
    );
    assert!(
        listed(
            h,
            ListRequest::default()
                .with_field(format!("TOTAL:{expected}"))
                .with_document_kind(DocumentKind::Invoice)
        )
        .await
        .is_empty()
    );

    // Processed again, the document is read again (reprocessing drops the fields first).
    let Ok(queued) = h.intake().reprocess(&owner("alice"), ids[0], None).await else {
        return;
    };
    assert_eq!(queued.document_type(), None);
    let by_total = ListRequest::default().with_field(format!("TOTAL:{expected}"));
    assert!(listed(h, by_total.clone()).await.is_empty());
    let again = processed(h, queued.object_key()).await;
    assert_eq!(again.fields(), read.fields());
    assert_eq!(listed(h, by_total).await, vec![ids[0]]);
}
