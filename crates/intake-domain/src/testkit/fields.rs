//! The field extractor's conformance suite: whatever an extractor reads, what it returns is well
//! formed (confidences in `0..=1`, boxes inside the page, pages the document has, normalised values
//! that parse as their type says, an unreadable value flagged).

use crate::model::{
    BoundingBox, DocumentFields, FIRST_PAGE, FieldType, FieldWarning, OcrLine, OcrResult, OcrWord,
    ValueKind,
};
use crate::ports::{FieldExtractor, FieldInput, OcrInput};

/// Panics unless `doc`, read from `ocr`, is well formed.
pub fn assert_well_formed(ocr: &OcrResult, doc: &DocumentFields) {
    let unit = |v: f32| (0.0..=1.0).contains(&v);
    assert!(
        unit(doc.document_type.confidence),
        "document type confidence {doc:?}"
    );
    let pages: Vec<_> = ocr
        .lines()
        .iter()
        .map(OcrLine::page)
        .chain(ocr.pages().iter().map(crate::model::OcrPage::page))
        .collect();
    for field in doc
        .fields
        .iter()
        .chain(doc.line_items.iter().flat_map(|i| i.fields.iter()))
    {
        assert!(unit(field.confidence), "confidence of {field:?}");
        let b = field.bounding_box;
        assert!(
            b.left() >= 0.0
                && b.top() >= 0.0
                && b.left() + b.width() <= 1.0 + 1e-5
                && b.top() + b.height() <= 1.0 + 1e-5,
            "box of {field:?}"
        );
        assert!(
            pages.is_empty() || pages.contains(&field.page),
            "page of {field:?}"
        );
        let Some(normalized) = &field.normalized else {
            assert!(
                field.warnings.contains(&FieldWarning::Unreadable),
                "a field without a normalised value says it is unreadable: {field:?}"
            );
            continue;
        };
        match field.field_type.value_kind() {
            ValueKind::Amount | ValueKind::Words => {
                assert!(field.cents().is_some(), "amount {field:?}");
            }
            ValueKind::Date => assert!(
                time::Date::parse(
                    normalized,
                    time::macros::format_description!("[year]-[month]-[day]")
                )
                .is_ok(),
                "date {field:?}"
            ),
            ValueKind::Digits => assert!(
                normalized.bytes().all(|b| b.is_ascii_digit()),
                "digits {field:?}"
            ),
            _ => assert!(!normalized.trim().is_empty(), "text {field:?}"),
        }
        if field.field_type == FieldType::KeyValue {
            assert!(
                field.label.is_some(),
                "a KEY_VALUE has its label: {field:?}"
            );
        }
    }
}

/// A receipt as OCR lines: a vendor, a date, an item, a total.
pub fn scripted_receipt() -> OcrResult {
    let line = |text: &str, top: f32| {
        let words = text
            .split(' ')
            .enumerate()
            .map(|(i, w)| {
                #[allow(clippy::cast_precision_loss)]
                let left = 0.05 + 0.18 * i as f32;
                OcrWord::new(w, 93.0, BoundingBox::new(left, top, 0.15, 0.03).unwrap()).unwrap()
            })
            .collect();
        OcrLine::from_words(words).unwrap().on_page(FIRST_PAGE)
    };
    OcrResult::new(
        "scripted",
        vec![
            line("CORNER CAFE", 0.05),
            line("Date: 25/11/2026", 0.15),
            line("Tea 4.50", 0.3),
            line("Total: 4.50", 0.5),
            line("Tip: n/a", 0.6),
        ],
        false,
    )
    .unwrap()
}

/// Runs `extractor` over the scripted inputs (a receipt, nothing read) and checks that what it
/// returns is well formed.
pub async fn run_suite(extractor: &dyn FieldExtractor) {
    run_suite_with(extractor, None).await;
}

/// [`run_suite`] for an extractor that reads the document itself (Textract AnalyzeExpense): each
/// scripted OCR result comes with `image`, and what the extractor returns for it is checked the
/// same way.
pub async fn run_suite_with(extractor: &dyn FieldExtractor, image: Option<&OcrInput>) {
    for ocr in [
        scripted_receipt(),
        OcrResult::new("scripted", vec![], false).unwrap(),
    ] {
        let input = match image {
            Some(image) => FieldInput::of(&ocr).with_image(image),
            None => FieldInput::of(&ocr),
        };
        let doc = extractor.extract(input).await.expect("extracts");
        assert_well_formed(&ocr, &doc);
    }
}
