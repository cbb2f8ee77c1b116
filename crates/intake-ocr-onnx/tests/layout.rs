//! Reading order on the real engine: rendered layouts (a receipt with right-aligned amounts, two and
//! three columns between a header and a footer, a table, photos turned a few degrees) read by
//! PP-OCR and arranged by the domain's layout rule, as the processor stores them.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::setup;

use intake_domain::model::{OcrResult, OcrWord};
use intake_domain::ports::OcrEngine as _;
use intake_domain::testkit::layouts::{self, LayoutPage};
use intake_ocr_onnx::PpOcr;

/// The page read and arranged as the processor arranges an engine's result.
fn read(engine: &PpOcr, page: &LayoutPage) -> OcrResult {
    let result = engine.read_blocking(&page.png()).expect("OCR succeeds");
    assert!(engine.capabilities().reports_fragments);
    result.in_reading_order(true)
}

/// Lowercase words, for comparing what was read with what was printed.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// Where each expected line's first word (with the next, so it is unique) is found in the text
/// read, in order: the positions must rise, and nearly every line must be found.
fn assert_in_order(page: &LayoutPage, text: &str) {
    let read = words(text);
    let mut last = 0;
    let mut found = 0;
    for line in &page.reading {
        let expected = words(line);
        let key = &expected[..expected.len().min(2)];
        if let Some(at) = read.windows(key.len()).position(|w| w == key) {
            assert!(
                at >= last,
                "{}: {line:?} read before the line above it:\n{text}",
                page.name
            );
            last = at;
            found += 1;
        }
    }
    assert!(
        found * 10 >= page.reading.len() * 8,
        "{}: found {found} of {} lines:\n{text}",
        page.name,
        page.reading.len()
    );
}

#[test]
fn a_receipt_reads_each_label_with_its_amount() {
    let Some((engine, font)) = setup() else {
        return;
    };
    for page in [
        layouts::receipt(font).unwrap(),
        layouts::receipt(font).unwrap().turned(4.0),
    ] {
        let result = read(engine, &page);
        let lines: Vec<String> = result.lines().iter().map(|l| l.text().to_owned()).collect();
        for expected in [
            "Total Amount: 31.00",
            "Soup of the day 7.80",
            "Flat white 4.50",
        ] {
            assert!(
                lines.iter().any(|l| l == expected),
                "{}: no line {expected:?} in {lines:#?}",
                page.name
            );
        }
        assert_in_order(&page, &result.text());
        // The joined line's words are the fragments' words, left to right, inside its box.
        let total = result
            .lines()
            .iter()
            .find(|l| l.text() == "Total Amount: 31.00")
            .unwrap();
        let texts: Vec<&str> = total.words().iter().map(OcrWord::text).collect();
        assert_eq!(texts, ["Total", "Amount:", "31.00"]);
        let b = total.bounding_box();
        assert!(total.words().iter().all(|w| {
            let wb = w.bounding_box();
            wb.left() >= b.left() - 1e-4 && wb.left() + wb.width() <= b.left() + b.width() + 1e-4
        }));
    }
}

#[test]
fn columns_read_one_after_another_between_header_and_footer() {
    let Some((engine, font)) = setup() else {
        return;
    };
    for page in [
        layouts::columns(2, font).unwrap(),
        layouts::columns(3, font).unwrap(),
        layouts::columns(2, font).unwrap().turned(-3.0),
    ] {
        let text = read(engine, &page).text();
        assert_in_order(&page, &text);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.first().is_some_and(|l| l.starts_with("HARBOUR TOWN"))
                && lines.last().is_some_and(|l| l.starts_with("Printed by")),
            "{}: header and footer first and last:\n{text}",
            page.name
        );
    }
}

#[test]
fn a_table_reads_row_by_row() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let page = layouts::table(font).unwrap();
    let result = read(engine, &page);
    let lines: Vec<String> = result.lines().iter().map(|l| l.text().to_owned()).collect();
    let rows = page
        .reading
        .iter()
        .filter(|row| lines.iter().any(|l| words(l) == words(row)))
        .count();
    assert!(rows >= 5, "{rows} of 6 rows read whole: {lines:#?}");
    assert_in_order(&page, &result.text());
}
