//! Field by field on OCR results built from boxes: text placed where a layout puts it, each word
//! boxed by its characters (a character is 0.55 of the text height wide).

use intake_domain::model::{
    BoundingBox, DateOrder, DocumentKind, FieldOptions, FieldType, FieldWarning, OcrLine,
    OcrResult, OcrWord,
};

use super::*;

/// A run of text at `left`, `top` (relative to a page `aspect` times taller than wide), `height`
/// high, as one line of words; right-aligned runs end at `left`.
fn run(text: &str, left: f32, top: f32, height: f32, right_aligned: bool) -> Vec<OcrWord> {
    let char_width = height * 0.55;
    #[allow(clippy::cast_precision_loss)]
    let width = text.chars().count() as f32 * char_width;
    let mut x = if right_aligned { left - width } else { left };
    let mut words = Vec::new();
    for piece in text.split(' ') {
        #[allow(clippy::cast_precision_loss)]
        let w = piece.chars().count() as f32 * char_width;
        if !piece.is_empty() {
            words.push(
                OcrWord::new(piece, 95.0, BoundingBox::new(x, top, w, height).unwrap()).unwrap(),
            );
        }
        x += w + char_width;
    }
    words
}

/// A run on a row: its text, its left (or right) end, whether it is right-aligned.
type Run<'a> = (&'a str, f32, bool);

/// A page: rows of runs (`(top, height, runs)`), each row a visual line.
fn page(rows: &[(f32, f32, &[Run<'_>])]) -> OcrResult {
    let lines = rows
        .iter()
        .map(|(top, height, runs)| {
            let words: Vec<OcrWord> = runs
                .iter()
                .flat_map(|(text, left, right)| run(text, *left, *top, *height, *right))
                .collect();
            OcrLine::from_words(words).unwrap()
        })
        .collect();
    OcrResult::new("scripted", lines, false).unwrap()
}

fn normalized(doc: &DocumentFields, t: FieldType) -> Option<String> {
    doc.first(t).and_then(|f| f.normalized.clone())
}

fn receipt() -> OcrResult {
    const H: f32 = 0.02;
    page(&[
        (0.03, 0.035, &[("CORNER CAFE", 0.3, false)]),
        (0.08, H, &[("12 Market Street", 0.3, false)]),
        (0.11, H, &[("Kuala Lumpur 50450", 0.28, false)]),
        (0.14, H, &[("Tel: 03-1234 5678", 0.3, false)]),
        (
            0.18,
            H,
            &[
                ("Receipt No: R-20931", 0.05, false),
                ("25/11/2026 14:02", 0.95, true),
            ],
        ),
        (
            0.24,
            H,
            &[("2 x Flat white", 0.05, false), ("9.00", 0.95, true)],
        ),
        (
            0.27,
            H,
            &[("Almond croissant", 0.05, false), ("3.20", 0.95, true)],
        ),
        (
            0.30,
            H,
            &[("Soup of the day", 0.05, false), ("7.80", 0.95, true)],
        ),
        (
            0.35,
            H,
            &[("Sub Total", 0.05, false), ("20.00", 0.95, true)],
        ),
        (0.38, H, &[("SST 6%", 0.05, false), ("1.20", 0.95, true)]),
        (0.41, H, &[("TOTAL", 0.05, false), ("RM 21.20", 0.95, true)]),
        (0.44, H, &[("Cash", 0.05, false), ("50.00", 0.95, true)]),
        (0.47, H, &[("Change", 0.05, false), ("28.80", 0.95, true)]),
        (0.52, H, &[("Thank you, come again", 0.2, false)]),
    ])
}

#[test]
fn a_receipt_gives_its_summary_vendor_date_and_items() {
    let doc = RuleExtractor::default().read(&receipt());
    assert_eq!(doc.document_type.kind, DocumentKind::Receipt, "{doc:#?}");
    assert_eq!(normalized(&doc, FieldType::Total).as_deref(), Some("21.20"));
    assert_eq!(
        doc.first(FieldType::Total).unwrap().currency.as_deref(),
        Some("MYR")
    );
    assert_eq!(
        normalized(&doc, FieldType::Subtotal).as_deref(),
        Some("20.00")
    );
    assert_eq!(normalized(&doc, FieldType::Tax).as_deref(), Some("1.20"));
    assert_eq!(
        normalized(&doc, FieldType::AmountPaid).as_deref(),
        Some("50.00")
    );
    assert_eq!(
        normalized(&doc, FieldType::VendorName).as_deref(),
        Some("CORNER CAFE")
    );
    assert_eq!(
        normalized(&doc, FieldType::VendorAddress).as_deref(),
        Some("12 Market Street Kuala Lumpur 50450")
    );
    assert_eq!(
        normalized(&doc, FieldType::VendorPhone).as_deref(),
        Some("03-1234 5678")
    );
    assert_eq!(
        normalized(&doc, FieldType::InvoiceReceiptId).as_deref(),
        Some("R20931")
    );
    assert_eq!(
        normalized(&doc, FieldType::InvoiceReceiptDate).as_deref(),
        Some("2026-11-25")
    );
    // Change is no field.
    assert!(doc.fields.iter().all(|f| f.value != "28.80"));
    let items: Vec<(Option<String>, Option<String>)> = doc
        .line_items
        .iter()
        .map(|i| {
            (
                i.cell(FieldType::Item).and_then(|f| f.normalized.clone()),
                i.cell(FieldType::Price).and_then(|f| f.normalized.clone()),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            (Some("Flat white".into()), Some("9.00".into())),
            (Some("Almond croissant".into()), Some("3.20".into())),
            (Some("Soup of the day".into()), Some("7.80".into())),
        ]
    );
    assert_eq!(
        doc.line_items[0]
            .cell(FieldType::Quantity)
            .and_then(|f| f.normalized.as_deref()),
        Some("2")
    );
    // The parts and the items agree: no warnings.
    assert!(doc.fields.iter().all(|f| f.warnings.is_empty()), "{doc:#?}");
    // The total's box is where its amount was printed, right of the label.
    let total = doc.first(FieldType::Total).unwrap();
    assert!(total.bounding_box.left() > 0.7 && (total.bounding_box.top() - 0.41).abs() < 1e-3);
    assert!(total.confidence > 0.8 && total.confidence <= 1.0);
    assert_eq!(total.label.as_deref(), Some("TOTAL"));
}

#[test]
fn a_total_that_is_not_its_parts_warns() {
    const H: f32 = 0.02;
    let ocr = page(&[
        (0.03, 0.035, &[("CORNER CAFE", 0.3, false)]),
        (
            0.24,
            H,
            &[("Flat white", 0.05, false), ("9.00", 0.95, true)],
        ),
        (0.35, H, &[("Subtotal", 0.05, false), ("9.00", 0.95, true)]),
        (0.38, H, &[("Tax", 0.05, false), ("0.90", 0.95, true)]),
        (0.41, H, &[("Total", 0.05, false), ("19.90", 0.95, true)]),
    ]);
    let doc = RuleExtractor::default().read(&ocr);
    assert_eq!(
        doc.first(FieldType::Total).unwrap().warnings,
        vec![FieldWarning::PartsDisagree {
            expected: "9.90".into()
        }]
    );
}

fn invoice(date: &str) -> OcrResult {
    const H: f32 = 0.015;
    page(&[
        (
            0.04,
            0.03,
            &[
                ("Northwind Supplies GmbH", 0.06, false),
                ("RECHNUNG", 0.94, true),
            ],
        ),
        (
            0.08,
            H,
            &[
                ("Hafenstraße 12", 0.06, false),
                ("Rechnungsnummer: RE-2026-0117", 0.94, true),
            ],
        ),
        (
            0.10,
            H,
            &[
                ("20457 Hamburg", 0.06, false),
                ("Datum:", 0.62, false),
                (date, 0.94, true),
            ],
        ),
        (0.16, H, &[("Rechnungsempfänger:", 0.06, false)]),
        (0.18, H, &[("Müller & Sohn KG", 0.06, false)]),
        (0.20, H, &[("Lindenallee 4", 0.06, false)]),
        (0.22, H, &[("80331 München", 0.06, false)]),
        (
            0.28,
            H,
            &[
                ("Beschreibung", 0.06, false),
                ("Menge", 0.55, true),
                ("Preis", 0.75, true),
                ("Betrag", 0.94, true),
            ],
        ),
        (
            0.31,
            H,
            &[
                ("Schrauben M8", 0.06, false),
                ("200", 0.55, true),
                ("0,06", 0.75, true),
                ("12,00", 0.94, true),
            ],
        ),
        (
            0.34,
            H,
            &[
                ("Scharniere", 0.06, false),
                ("12", 0.55, true),
                ("2,50", 0.75, true),
                ("30,00", 0.94, true),
            ],
        ),
        (
            0.40,
            H,
            &[("Zwischensumme", 0.55, false), ("42,00 €", 0.94, true)],
        ),
        (
            0.43,
            H,
            &[("MwSt. 19%", 0.55, false), ("7,98 €", 0.94, true)],
        ),
        (
            0.46,
            H,
            &[("Gesamtbetrag", 0.55, false), ("49,98 €", 0.94, true)],
        ),
        (0.52, H, &[("Zahlbar bis: 15.12.2026", 0.06, false)]),
    ])
}

#[test]
fn an_invoice_in_german_gives_its_fields_and_receiver() {
    let doc = RuleExtractor::default().read(&invoice("03.04.2026"));
    assert_eq!(doc.document_type.kind, DocumentKind::Invoice, "{doc:#?}");
    assert_eq!(normalized(&doc, FieldType::Total).as_deref(), Some("49.98"));
    assert_eq!(
        doc.first(FieldType::Total).unwrap().currency.as_deref(),
        Some("EUR")
    );
    assert_eq!(
        normalized(&doc, FieldType::Subtotal).as_deref(),
        Some("42.00")
    );
    assert_eq!(normalized(&doc, FieldType::Tax).as_deref(), Some("7.98"));
    assert_eq!(
        normalized(&doc, FieldType::InvoiceReceiptId).as_deref(),
        Some("RE20260117")
    );
    assert_eq!(
        normalized(&doc, FieldType::InvoiceReceiptDate).as_deref(),
        Some("2026-04-03")
    );
    assert_eq!(
        normalized(&doc, FieldType::DueDate).as_deref(),
        Some("2026-12-15")
    );
    assert_eq!(
        normalized(&doc, FieldType::VendorName).as_deref(),
        Some("Northwind Supplies GmbH")
    );
    assert_eq!(
        normalized(&doc, FieldType::VendorAddress).as_deref(),
        Some("Hafenstraße 12 20457 Hamburg")
    );
    assert_eq!(
        normalized(&doc, FieldType::ReceiverName).as_deref(),
        Some("Müller & Sohn KG")
    );
    assert_eq!(
        normalized(&doc, FieldType::ReceiverAddress).as_deref(),
        Some("Lindenallee 4 80331 München")
    );
    assert_eq!(doc.line_items.len(), 2, "{:#?}", doc.line_items);
    let first = &doc.line_items[0];
    assert_eq!(
        first
            .cell(FieldType::Quantity)
            .unwrap()
            .normalized
            .as_deref(),
        Some("200")
    );
    assert_eq!(
        first
            .cell(FieldType::UnitPrice)
            .unwrap()
            .normalized
            .as_deref(),
        Some("0.06")
    );
    assert!(doc.fields.iter().all(|f| f.warnings.is_empty()), "{doc:#?}");
    // The deployment's order decides an ambiguous date.
    let us = RuleExtractor::new(FieldOptions::with_date_order(DateOrder::MonthFirst))
        .read(&invoice("03.04.2026"));
    assert_eq!(
        normalized(&us, FieldType::InvoiceReceiptDate).as_deref(),
        Some("2026-03-04")
    );
}

fn cheque(words: &str) -> OcrResult {
    const H: f32 = 0.045;
    page(&[
        (
            0.05,
            H,
            &[("JOHN Q. PUBLIC", 0.04, false), ("1042", 0.96, true)],
        ),
        (0.11, H, &[("88 Elm Road, Springfield", 0.04, false)]),
        (
            0.20,
            H,
            &[("Date", 0.62, false), ("11/25/2026", 0.96, true)],
        ),
        (
            0.33,
            H,
            &[
                ("PAY TO THE ORDER OF", 0.04, false),
                ("Acme Roofing LLC", 0.3, false),
                ("$ 1,250.00", 0.96, true),
            ],
        ),
        (0.45, H, &[(words, 0.04, false), ("DOLLARS", 0.96, true)]),
        (0.62, H, &[("FIRST NATIONAL BANK", 0.04, false)]),
        (0.72, H, &[("Memo roof repair", 0.04, false)]),
        (0.88, H, &[("⑆011000015⑆ 4567890123⑈ 1042", 0.2, false)]),
    ])
}

#[test]
fn a_cheque_gives_its_micr_groups_payee_and_amounts() {
    let doc = RuleExtractor::new(FieldOptions::with_date_order(DateOrder::MonthFirst))
        .read(&cheque("One thousand two hundred fifty and 00/100"));
    assert_eq!(doc.document_type.kind, DocumentKind::Cheque, "{doc:#?}");
    assert_eq!(
        normalized(&doc, FieldType::RoutingNumber).as_deref(),
        Some("011000015")
    );
    assert_eq!(
        normalized(&doc, FieldType::AccountNumber).as_deref(),
        Some("4567890123")
    );
    assert_eq!(
        normalized(&doc, FieldType::CheckNumber).as_deref(),
        Some("1042")
    );
    assert_eq!(
        normalized(&doc, FieldType::Payee).as_deref(),
        Some("Acme Roofing LLC")
    );
    assert_eq!(
        normalized(&doc, FieldType::Amount).as_deref(),
        Some("1250.00")
    );
    assert_eq!(
        normalized(&doc, FieldType::AmountInWords).as_deref(),
        Some("1250.00")
    );
    assert_eq!(
        normalized(&doc, FieldType::CheckDate).as_deref(),
        Some("2026-11-25")
    );
    assert!(doc.first(FieldType::VendorName).is_none());
    assert!(doc.fields.iter().all(|f| f.warnings.is_empty()), "{doc:#?}");
    let planted =
        RuleExtractor::default().read(&cheque("Two thousand two hundred fifty and 00/100"));
    let amount = planted.first(FieldType::Amount).unwrap();
    assert_eq!(
        amount.warnings,
        vec![FieldWarning::WordsDisagree {
            figures: "1250.00".into(),
            words: "2250.00".into()
        }]
    );
}

#[test]
fn a_form_gives_its_labelled_pairs_beside_and_below() {
    const H: f32 = 0.015;
    let ocr = page(&[
        (0.05, 0.03, &[("APPLICATION FOR MEMBERSHIP", 0.2, false)]),
        (
            0.12,
            H,
            &[
                ("Name: Jane Doe", 0.06, false),
                ("Phone no.: 555 0100", 0.55, false),
            ],
        ),
        (0.16, H, &[("Address:", 0.06, false)]),
        (0.18, H, &[("4 Harbour Lane", 0.06, false)]),
        (0.24, H, &[("Member since: 1998", 0.06, false)]),
        (0.28, H, &[("Signature:", 0.06, false)]),
        (0.33, H, &[("Approved:", 0.06, false)]),
        // A label without its colon, its answer a wide gap away.
        (
            0.38,
            H,
            &[("Brand", 0.06, false), ("Kool Waterfall", 0.4, false)],
        ),
    ]);
    let doc = RuleExtractor::default().read(&ocr);
    let pairs: Vec<(String, String)> = doc
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::KeyValue)
        .map(|f| (f.label.clone().unwrap(), f.value.clone()))
        .collect();
    let pair = |l: &str, v: &str| (l.to_owned(), v.to_owned());
    assert_eq!(
        pairs,
        vec![
            pair("Name", "Jane Doe"),
            pair("Phone no.", "555 0100"),
            pair("Address", "4 Harbour Lane"),
            pair("Member since", "1998"),
            pair("Brand", "Kool Waterfall"),
        ]
    );
    assert_eq!(doc.document_type.kind, DocumentKind::Form, "{doc:#?}");
}

#[test]
fn nothing_read_is_nothing_found() {
    let doc = RuleExtractor::default().read(&OcrResult::new("e", vec![], false).unwrap());
    assert_eq!(doc.document_type.kind, DocumentKind::Other);
    assert!(doc.fields.is_empty() && doc.line_items.is_empty());
}

#[test]
fn labels_misread_by_a_letter_are_still_labels_but_short_words_must_be_exact() {
    const H: f32 = 0.02;
    let ocr = page(&[
        (0.03, 0.035, &[("Bäckerei Sonnenschein", 0.1, false)]),
        (0.10, H, &[("Qty Item Amount", 0.05, false)]),
        (
            0.13,
            H,
            &[("2 Apfelkuchen", 0.05, false), ("5,60", 0.95, true)],
        ),
        (
            0.20,
            H,
            &[("Zwischersuimme", 0.05, false), ("5,60", 0.95, true)],
        ),
        (0.23, H, &[("MwSt. 19%", 0.05, false), ("1,06", 0.95, true)]),
        (0.26, H, &[("Totat", 0.05, false), ("6,66 €", 0.95, true)]),
        // `Tax` misread as `Tux` is too short to guess.
        (0.29, H, &[("Tux", 0.05, false), ("9,99", 0.95, true)]),
    ]);
    let doc = RuleExtractor::default().read(&ocr);
    assert_eq!(
        normalized(&doc, FieldType::Subtotal).as_deref(),
        Some("5.60")
    );
    assert_eq!(normalized(&doc, FieldType::Total).as_deref(), Some("6.66"));
    assert_eq!(normalized(&doc, FieldType::Tax).as_deref(), Some("1.06"));
    assert_eq!(doc.line_items.len(), 1, "{:#?}", doc.line_items);
    assert!(doc.fields.iter().all(|f| f.warnings.is_empty()), "{doc:#?}");
}
