//! Records in every state, with every field the stored document has: the subjects of the stored-form
//! fixtures (`crates/intake-domain/tests/fixtures/`), which hold what each schema version wrote for them.

use std::time::Duration;

use std::num::NonZeroU32;

use crate::model::{
    BoundingBox, ContentType, DocumentFields, DocumentKind, DocumentType, FailureCode, Field,
    FieldOptions, FieldType, ImageRecord, ImageStatus, LineItem, Measurements, ObjectKey, OcrLine,
    OcrPage, OcrResult, OcrWord, PageSource, RejectionCode, Sha256Digest,
};

use super::{LEASE, epoch, id_at, record, with_parts};

/// A two-line OCR result with boxes and confidences.
fn read_result(engine: &str) -> OcrResult {
    let word = |text: &str, conf: f32, left: f32| {
        OcrWord::new(
            text,
            conf,
            BoundingBox::new(left, 0.25, 0.125, 0.0625).expect("box"),
        )
        .expect("word")
    };
    let lines = vec![
        OcrLine::from_words(vec![word("PAY", 97.5, 0.125), word("TO", 91.0, 0.25)]).expect("line"),
        OcrLine::from_words(vec![word("31.00", 88.25, 0.5)]).expect("line"),
    ];
    OcrResult::new(engine, lines, false).expect("result")
}

/// What an extractor read of [`paged_result`]: an invoice with its total (settled day-first).
fn invoice_fields() -> DocumentFields {
    let page = NonZeroU32::new(3).expect("page");
    let total = Field::new(
        FieldType::Total,
        "31.00",
        0.875,
        page,
        BoundingBox::new(0.5, 0.2, 0.125, 0.05).expect("box"),
    )
    .with_label("TOTAL");
    let item = LineItem {
        fields: vec![Field::new(
            FieldType::Price,
            "31.00",
            0.75,
            page,
            BoundingBox::new(0.5, 0.1, 0.125, 0.05).expect("box"),
        )],
    };
    DocumentFields::new(
        DocumentType::new(DocumentKind::Invoice, 0.75),
        vec![total],
        vec![item],
    )
    .settled(FieldOptions::default())
}

/// A three-page document's result: page 1 from a text layer, page 2 read by OCR with nothing on
/// it, page 3 read by OCR.
fn paged_result() -> OcrResult {
    let page = |n: u32| NonZeroU32::new(n).expect("page");
    let word = |text: &str, conf: f32| {
        OcrWord::new(
            text,
            conf,
            BoundingBox::new(0.1, 0.2, 0.3, 0.05).expect("box"),
        )
        .expect("word")
    };
    let lines = vec![
        OcrLine::from_words(vec![word("INVOICE", 100.0)])
            .expect("line")
            .on_page(page(1)),
        OcrLine::from_words(vec![word("TOTAL", 93.5), word("31.00", 90.0)])
            .expect("line")
            .on_page(page(3)),
    ];
    OcrResult::new("pp-ocr", lines, false)
        .expect("result")
        .with_pages(vec![
            OcrPage::new(page(1), 1700, 2200, PageSource::TextLayer),
            OcrPage::new(page(2), 1700, 2200, PageSource::Ocr),
            OcrPage::new(page(3), 2200, 1700, PageSource::Ocr),
        ])
}

/// What processing measured of the fixtures' bytes.
fn measured() -> Measurements {
    Measurements {
        size_bytes: Some(1234),
        sha256: Some(Sha256Digest::of(b"fixture bytes")),
        content_type: Some(ContentType::Png),
        dimensions: Some((640, 480)),
        page_count: Some(1),
        duplicate_of: None,
    }
}

/// Named records in every state a record can be stored in, each with the fields that state has:
/// awaiting upload (declared size and SHA-256), being reprocessed (lease, attempts, requested engine,
/// history), processed (text, lines, preview, history), a copy of a duplicate, rejected, failed, a
/// purged tombstone, and a processed document of several pages.
pub fn stored_records() -> Vec<(&'static str, ImageRecord)> {
    let at = |seconds: u64| epoch().saturating_add(Duration::from_secs(seconds));
    let awaiting = with_parts(record(id_at(0, 1)), |parts| {
        parts.declared_sha256 = Some(Sha256Digest::of(b"fixture bytes"));
    });

    let first = record(id_at(0, 2));
    let done = first
        .claim(at(1), LEASE)
        .and_then(|r| r.complete(at(2), &measured(), &read_result("tesseract")))
        .expect("processed");
    let reprocessing = done
        .reprocess(at(3), Some("pp-ocr"))
        .and_then(|r| r.claim(at(4), LEASE))
        .expect("reprocessing");
    let mut processed = reprocessing
        .complete(at(5), &measured(), &read_result("pp-ocr"))
        .expect("processed again");
    processed
        .attach_preview(ObjectKey::for_preview(processed.image_id()))
        .expect("preview");

    let copy = {
        let copy = record(id_at(0, 3)).claim(at(6), LEASE).expect("claim");
        let mut measured = measured();
        measured.duplicate_of = Some(done.image_id());
        let mut copy = copy
            .complete_as_copy(at(7), &measured, &done)
            .expect("copy");
        copy.note_near_duplicates(vec![crate::model::NearDuplicate {
            image_id: id_at(0, 7),
            basis: crate::model::Basis::ImageAndText,
            similarity: 0.9375,
            matched_tokens: vec!["31.00".to_owned()],
            page: crate::model::FIRST_PAGE,
            other_page: crate::model::FIRST_PAGE,
            image_distance: Some(4),
            text_distance: None,
        }])
        .expect("near-duplicates");
        copy
    };
    let rejected = record(id_at(0, 4))
        .claim(at(1), LEASE)
        .and_then(|r| {
            r.reject(
                at(2),
                &measured(),
                RejectionCode::TypeMismatch,
                "declared image/png, found image/jpeg",
            )
        })
        .expect("rejected");
    let failed = record(id_at(0, 5))
        .claim(at(1), LEASE)
        .and_then(|r| {
            r.fail(
                at(2),
                Some(&measured()),
                FailureCode::OcrTimeout,
                "the engine took longer than 30 s",
            )
        })
        .expect("failed");
    let purged = record(id_at(0, 6))
        .claim(at(1), LEASE)
        .and_then(|r| r.complete(at(2), &measured(), &read_result("tesseract")))
        .and_then(|r| r.mark_deleted(at(3)))
        .and_then(|r| r.purge(at(4), "retention"))
        .expect("purged");
    let paged = {
        let mut measured = measured();
        measured.content_type = Some(ContentType::Pdf);
        measured.dimensions = None;
        measured.page_count = Some(3);
        let mut paged = record(id_at(0, 7))
            .claim(at(1), LEASE)
            .and_then(|r| r.complete(at(2), &measured, &paged_result()))
            .expect("a document of pages");
        paged
            .note_fields("rules", invoice_fields())
            .expect("fields");
        paged
    };
    assert_eq!(processed.status(), ImageStatus::Processed);
    vec![
        ("awaiting-upload", awaiting),
        ("reprocessing", reprocessing),
        ("processed", processed),
        ("duplicate", copy),
        ("rejected", rejected),
        ("failed", failed),
        ("purged", purged),
        ("pages", paged),
    ]
}
