use super::*;
use crate::model::FIRST_PAGE;

fn b() -> BoundingBox {
    BoundingBox::new(0.1, 0.1, 0.2, 0.05).unwrap()
}

fn field(t: FieldType, value: &str) -> Field {
    Field::new(t, value, 0.9, FIRST_PAGE, b())
}

fn settled(fields: Vec<Field>, items: Vec<LineItem>) -> DocumentFields {
    DocumentFields::new(DocumentType::new(DocumentKind::Receipt, 0.8), fields, items)
        .settled(FieldOptions::default())
}

fn money(text: &str) -> Option<(String, Option<String>)> {
    parse_money(text).map(|m| (m.decimal(), m.currency))
}

#[test]
fn amounts_take_both_conventions_and_their_printed_currency() {
    let some = |v: &str, c: Option<&str>| Some((v.to_owned(), c.map(str::to_owned)));
    assert_eq!(money("RM 1,234.56"), some("1234.56", Some("MYR")));
    assert_eq!(money("RM12.00"), some("12.00", Some("MYR")));
    assert_eq!(money("1.234,56 €"), some("1234.56", Some("EUR")));
    assert_eq!(money("EUR 12,50"), some("12.50", Some("EUR")));
    assert_eq!(money("£7.20"), some("7.20", Some("GBP")));
    assert_eq!(money("$1,250"), some("1250.00", Some("$")));
    assert_eq!(money("USD 31.00"), some("31.00", Some("USD")));
    assert_eq!(money("S$ 4.50"), some("4.50", Some("SGD")));
    assert_eq!(money("31.00"), some("31.00", None));
    assert_eq!(money("GST 6% 1.80"), some("1.80", None));
    assert_eq!(money("Discount -2.00"), some("-2.00", None));
    assert_eq!(money("(3.50)"), some("-3.50", None));
    // Whole numbers without a currency, dates and codes are not amounts.
    assert_eq!(money("1250"), None);
    assert_eq!(money("25.11.2026"), None);
    assert_eq!(money("12kg No.5"), None);
    assert_eq!(money(""), None);
}

#[test]
fn dates_become_iso_in_the_deployment_order_when_the_page_leaves_it_open() {
    let day = DateOrder::DayFirst;
    let month = DateOrder::MonthFirst;
    assert_eq!(
        normalize_date("03/04/2026", day).as_deref(),
        Some("2026-04-03")
    );
    assert_eq!(
        normalize_date("03/04/2026", month).as_deref(),
        Some("2026-03-04")
    );
    // One number over 12 decides, whatever the deployment says.
    assert_eq!(
        normalize_date("11/25/2026", day).as_deref(),
        Some("2026-11-25")
    );
    assert_eq!(
        normalize_date("25.11.26", month).as_deref(),
        Some("2026-11-25")
    );
    assert_eq!(
        normalize_date("Date: 2026-11-25 14:02", day).as_deref(),
        Some("2026-11-25")
    );
    assert_eq!(
        normalize_date("25 Nov 2026", day).as_deref(),
        Some("2026-11-25")
    );
    assert_eq!(
        normalize_date("November 25, 2026", day).as_deref(),
        Some("2026-11-25")
    );
    assert_eq!(
        normalize_date("25-Dez-2026", day).as_deref(),
        Some("2026-12-25")
    );
    assert_eq!(
        normalize_date("5. März 2026", day).as_deref(),
        Some("2026-03-05")
    );
    assert_eq!(normalize_date("31/02/2026", day), None);
    assert_eq!(normalize_date("Total 31.00", day), None);
    assert_eq!(DateOrder::parse("MDY"), Some(month));
    assert_eq!(DateOrder::parse("sideways"), None);
}

#[test]
fn amounts_in_words_read_as_cheques_write_them() {
    assert_eq!(
        amount_in_words("One thousand two hundred thirty-four and 56/100 DOLLARS"),
        Some(123_456)
    );
    assert_eq!(
        amount_in_words("*** Two Hundred Fifty and no/100 ***"),
        Some(25_000)
    );
    assert_eq!(
        amount_in_words("Two hundred fifty ringgit and fifty sen only"),
        Some(25_050)
    );
    assert_eq!(
        amount_in_words("Ninety-nine dollars and 5/100"),
        Some(9_905)
    );
    assert_eq!(amount_in_words("Twelve thousand"), Some(1_200_000));
    assert_eq!(amount_in_words("a hundred"), Some(10_000));
    // A letter misread is still the word; a word near two is not guessed.
    assert_eq!(
        amount_in_words("One thousamd two hundred fiftv and 00/100"),
        Some(125_000)
    );
    assert_eq!(amount_in_words("Ninetv-nine"), Some(9_900));
    assert_eq!(
        amount_in_words("Four thousand ninety-two and 22/100 DÓLLARS"),
        Some(409_222)
    );
    assert_eq!(edit_distance("dóllars", "dollars"), 1);
    assert_eq!(amount_in_words("Pay to the order of"), None);
    assert_eq!(amount_in_words("and 45/100"), None);
    assert_eq!(amount_in_words("fifty and 45/1000"), None);
}

#[test]
fn fields_are_normalised_by_their_type_and_unreadable_ones_say_so() {
    let doc = settled(
        vec![
            field(FieldType::Total, "RM 31.00"),
            field(FieldType::InvoiceReceiptDate, "25/11/2026"),
            field(FieldType::InvoiceReceiptId, "inv-0047 11"),
            field(FieldType::CheckNumber, "No. 001234"),
            field(FieldType::VendorName, "  CORNER   CAFE "),
            field(FieldType::Subtotal, "Sub total"),
        ],
        vec![],
    );
    let normalized: Vec<Option<&str>> =
        doc.fields.iter().map(|f| f.normalized.as_deref()).collect();
    assert_eq!(
        normalized,
        vec![
            Some("31.00"),
            Some("2026-11-25"),
            Some("INV004711"),
            Some("001234"),
            Some("CORNER CAFE"),
            None
        ]
    );
    assert_eq!(doc.fields[0].currency.as_deref(), Some("MYR"));
    assert_eq!(doc.fields[0].cents(), Some(3100));
    assert_eq!(doc.fields[5].warnings, vec![FieldWarning::Unreadable]);
    assert!(doc.fields[..5].iter().all(|f| f.warnings.is_empty()));
}

#[test]
fn words_that_disagree_with_figures_warn_on_both() {
    let doc = settled(
        vec![
            field(FieldType::Amount, "$1,250.00"),
            field(
                FieldType::AmountInWords,
                "One thousand two hundred five and 00/100",
            ),
        ],
        vec![],
    );
    let warning = FieldWarning::WordsDisagree {
        figures: "1250.00".into(),
        words: "1205.00".into(),
    };
    assert_eq!(doc.fields[0].warnings, vec![warning.clone()]);
    assert_eq!(doc.fields[1].warnings, vec![warning]);
    let agreeing = settled(
        vec![
            field(FieldType::Amount, "$1,250.00"),
            field(
                FieldType::AmountInWords,
                "One thousand two hundred fifty and 00/100",
            ),
        ],
        vec![],
    );
    assert!(agreeing.fields.iter().all(|f| f.warnings.is_empty()));
}

fn item(amount: &str) -> LineItem {
    LineItem {
        fields: vec![
            field(FieldType::Item, "Tea"),
            field(FieldType::Price, amount),
        ],
    }
}

#[test]
fn a_total_that_is_not_its_parts_or_its_items_warns() {
    let ok = settled(
        vec![
            field(FieldType::Subtotal, "10.00"),
            field(FieldType::Tax, "0.60"),
            field(FieldType::Total, "10.60"),
        ],
        vec![item("4.00"), item("6.00")],
    );
    assert!(ok.fields.iter().all(|f| f.warnings.is_empty()), "{ok:?}");
    let wrong = settled(
        vec![
            field(FieldType::Subtotal, "10.00"),
            field(FieldType::Tax, "0.60"),
            field(FieldType::Total, "16.60"),
        ],
        vec![item("4.00"), item("7.00")],
    );
    assert_eq!(
        wrong.first(FieldType::Total).unwrap().warnings,
        vec![FieldWarning::PartsDisagree {
            expected: "10.60".into()
        }]
    );
    assert_eq!(
        wrong.first(FieldType::Subtotal).unwrap().warnings,
        vec![FieldWarning::LineItemsDisagree {
            sum: "11.00".into()
        }]
    );
    // Without a subtotal the items are checked against the total, before or after tax.
    let taxed = settled(
        vec![
            field(FieldType::Tax, "1.00"),
            field(FieldType::Total, "11.00"),
        ],
        vec![item("4.00"), item("6.00")],
    );
    assert!(taxed.fields.iter().all(|f| f.warnings.is_empty()));
}

#[test]
fn the_vocabulary_serialises_as_the_issue_writes_it() {
    let doc = settled(
        vec![field(FieldType::Total, "31.00").with_label("Total")],
        vec![],
    );
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["documentType"]["type"], "receipt");
    assert_eq!(json["fields"][0]["type"], "TOTAL");
    assert_eq!(json["fields"][0]["label"], "Total");
    assert_eq!(json["fields"][0]["normalized"], "31.00");
    assert_eq!(
        json["fields"][0]["box"]["left"]
            .as_f64()
            .map(|v| (v * 10.0).round()),
        Some(1.0)
    );
    assert_eq!(serde_json::from_value::<DocumentFields>(json).unwrap(), doc);
    assert_eq!(FieldType::InvoiceReceiptDate.name(), "INVOICE_RECEIPT_DATE");
    assert_eq!(FieldType::parse("KEY_VALUE"), Some(FieldType::KeyValue));
    assert_eq!(FieldType::parse("total"), None);
    assert_eq!(DocumentKind::parse("cheque"), Some(DocumentKind::Cheque));
    assert!(
        (Field::new(FieldType::Total, "1", 3.0, FIRST_PAGE, b()).confidence - 1.0).abs() < 1e-6
    );
    assert!(
        DocumentType::new(DocumentKind::Other, f32::NAN)
            .confidence
            .abs()
            < 1e-6
    );
}

#[test]
fn every_analyze_expense_standard_name_is_a_field_type_spelled_as_textract_spells_it() {
    // Textract's standard summary fields and line item cells (its developer guide, "Analyzing
    // Invoices and Receipts"), without the parts of an address group (NAME, STREET, CITY...).
    for name in [
        "INVOICE_RECEIPT_DATE",
        "INVOICE_RECEIPT_ID",
        "TAX_PAYER_ID",
        "CUSTOMER_NUMBER",
        "ACCOUNT_NUMBER",
        "VENDOR_NAME",
        "RECEIVER_NAME",
        "VENDOR_ADDRESS",
        "RECEIVER_ADDRESS",
        "ORDER_DATE",
        "DUE_DATE",
        "DELIVERY_DATE",
        "PO_NUMBER",
        "PAYMENT_TERMS",
        "TOTAL",
        "AMOUNT_DUE",
        "AMOUNT_PAID",
        "SUBTOTAL",
        "TAX",
        "SERVICE_CHARGE",
        "GRATUITY",
        "PRIOR_BALANCE",
        "DISCOUNT",
        "SHIPPING_HANDLING_CHARGE",
        "VENDOR_ABN_NUMBER",
        "VENDOR_GST_NUMBER",
        "VENDOR_PAN_NUMBER",
        "VENDOR_VAT_NUMBER",
        "RECEIVER_ABN_NUMBER",
        "RECEIVER_GST_NUMBER",
        "RECEIVER_PAN_NUMBER",
        "RECEIVER_VAT_NUMBER",
        "VENDOR_PHONE",
        "RECEIVER_PHONE",
        "VENDOR_URL",
        "ITEM",
        "QUANTITY",
        "PRICE",
        "UNIT_PRICE",
        "PRODUCT_CODE",
        "OTHER",
    ] {
        let parsed = FieldType::parse(name).unwrap_or_else(|| panic!("{name} is no field type"));
        assert_eq!(parsed.name(), name);
    }
    assert_eq!(
        FieldType::VendorAbnNumber.value_kind(),
        ValueKind::Identifier
    );
}

#[test]
fn an_expense_document_is_an_invoice_only_on_invoice_evidence() {
    let kind = |fields: &[Field]| DocumentType::of_expense_fields(fields, &[]);
    let due = Field::new(FieldType::DueDate, "2026-12-31", 0.7, FIRST_PAGE, b());
    let invoice = kind(&[field(FieldType::Total, "10.00"), due]);
    assert_eq!(invoice.kind, DocumentKind::Invoice);
    assert!((invoice.confidence - 0.7).abs() < 1e-6);

    let numbered = field(FieldType::InvoiceReceiptId, "R-1").with_label("Rechnung Nr.");
    assert_eq!(kind(&[numbered]).kind, DocumentKind::Invoice);
    let receipt_no = field(FieldType::InvoiceReceiptId, "R-1").with_label("Receipt No");
    let receipt = kind(&[receipt_no, field(FieldType::Total, "10.00")]);
    assert_eq!(receipt.kind, DocumentKind::Receipt);
    assert!((receipt.confidence - 0.72).abs() < 1e-6);

    let only_items = DocumentType::of_expense_fields(
        &[],
        &[LineItem {
            fields: vec![field(FieldType::Price, "2.00")],
        }],
    );
    assert_eq!(only_items.kind, DocumentKind::Receipt);
    let nothing = kind(&[]);
    assert_eq!(
        (nothing.kind, nothing.confidence),
        (DocumentKind::Other, 0.0)
    );
}
