//! Whatever OCR reads (any text, any boxes, any confidences, several pages), the rule engine
//! returns without panicking and what it returns is well formed.
#![allow(
    clippy::unwrap_used,
    reason = "the strategies build valid values; a failure is the test's"
)]

use intake_domain::model::{BoundingBox, OcrLine, OcrResult, OcrWord, PageNumber};
use intake_domain::testkit::fields::assert_well_formed;
use intake_fields::RuleExtractor;
use proptest::prelude::*;

/// Words drawn from what documents print (labels, amounts, dates, MICR groups, number words) and
/// from anything at all.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Total",
            "TOTAL:",
            "Sub",
            "Subtotal",
            "Tax",
            "GST",
            "Date:",
            "Invoice",
            "No:",
            "#",
            "Bill",
            "To:",
            "PAY",
            "TO",
            "THE",
            "ORDER",
            "OF",
            "Cash",
            "Change",
            "RM",
            "$",
            "€",
            "31.00",
            "1,234.56",
            "1.234,56",
            "25/11/2026",
            "2026-11-25",
            "03.04.26",
            "one",
            "hundred",
            "thousand",
            "and",
            "45/100",
            "DOLLARS",
            "|:011000015|:",
            "4567890123",
            "1042",
            "Name:",
            "x",
            "2",
            "Qty",
            "Amount",
            "Description",
            ":",
            "",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

fn line() -> impl Strategy<Value = OcrLine> {
    (
        prop::collection::vec((word(), 0.0_f32..1.0, 0.0_f32..0.3, 0.0_f32..100.0), 1..8),
        0.0_f32..1.0,
        0.001_f32..0.1,
        1_u32..3,
    )
        .prop_map(|(words, top, height, page)| {
            let words: Vec<OcrWord> = words
                .into_iter()
                .map(|(text, left, width, confidence)| {
                    OcrWord::new(
                        text,
                        confidence,
                        BoundingBox::new(left, top, width, height).unwrap(),
                    )
                    .unwrap()
                })
                .collect();
            OcrLine::from_words(words)
                .unwrap()
                .on_page(PageNumber::new(page).unwrap())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn any_reading_gives_well_formed_fields(lines in prop::collection::vec(line(), 0..40)) {
        let mut lines = lines;
        lines.sort_by_key(OcrLine::page);
        let ocr = OcrResult::new("arbitrary", lines, false).unwrap();
        let found = RuleExtractor::default().read(&ocr);
        assert_well_formed(&ocr, &found);
    }
}
