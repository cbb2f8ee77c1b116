//! Textract's expense documents as the domain's fields: each summary field by its type name (the
//! domain spells Textract's standard types the same way), its printed label, its value's text, box
//! and page, and the lower of its type's and its value's confidence; each line item's cells the
//! same way. Normalisation is left to [`DocumentFields::settled`].
//!
//! Types outside the vocabulary are `OTHER`, their label kept (Textract's type name when nothing
//! was printed). An address group's parts are read whole: its `NAME` and `ADDRESS` are the
//! vendor's or the receiver's name and address when Textract gave no such standard field, and
//! its `STREET`, `CITY`, `STATE`, `COUNTRY`, `ZIP_CODE` and `ADDRESS_BLOCK` repeat its address.
//! A line item's `EXPENSE_ROW` (the whole row's text) repeats its cells.

use aws_sdk_textract::types::{
    ExpenseDetection, ExpenseDocument, ExpenseField, ExpenseGroupProperty, ExpenseType,
};
use intake_domain::model::{
    BoundingBox, DocumentFields, DocumentType, FIRST_PAGE, Field, FieldType, LineItem, PageNumber,
};
use intake_domain::ports::{Failure, FieldError};

/// The parts of an address group that repeat its `ADDRESS`, and a line item's whole row.
const REPEATS: &[&str] = &[
    "STREET",
    "CITY",
    "STATE",
    "COUNTRY",
    "ZIP_CODE",
    "ADDRESS_BLOCK",
    "EXPENSE_ROW",
];

/// The fields of every expense document Textract found, with the document's kind decided by the
/// domain from those fields ([`DocumentType::of_expense_fields`]: Textract does not say).
pub(crate) fn map_documents(documents: &[ExpenseDocument]) -> Result<DocumentFields, FieldError> {
    let mut fields = Vec::new();
    let mut grouped = Vec::new();
    let mut line_items = Vec::new();
    for document in documents {
        for field in document.summary_fields() {
            match address_part(field) {
                Some(field_type) => grouped.extend(map_field(field, Some(field_type))?),
                None => fields.extend(map_field(field, None)?),
            }
        }
        for group in document.line_item_groups() {
            for item in group.line_items() {
                let mut cells = Vec::new();
                for field in item.line_item_expense_fields() {
                    cells.extend(map_field(field, None)?);
                }
                if !cells.is_empty() {
                    line_items.push(LineItem { fields: cells });
                }
            }
        }
    }
    // A group's name or address stands in for the standard field Textract did not give.
    for field in grouped {
        if !fields.iter().any(|f| f.field_type == field.field_type) {
            fields.push(field);
        }
    }
    let document_type = DocumentType::of_expense_fields(&fields, &line_items);
    Ok(DocumentFields::new(document_type, fields, line_items))
}

/// The type an address group's `NAME` or `ADDRESS` stands for: the vendor's when the group is a
/// vendor's (`VENDOR`, `VENDOR_REMIT_TO`, `VENDOR_SUPPLIER`), the receiver's when it is a
/// receiver's (`RECEIVER_BILL_TO`, ...).
fn address_part(field: &ExpenseField) -> Option<FieldType> {
    let name = field.r#type().and_then(|t| t.text())?;
    let group = field
        .group_properties()
        .iter()
        .flat_map(ExpenseGroupProperty::types)
        .find(|t| t.starts_with("VENDOR") || t.starts_with("RECEIVER"))?;
    let vendor = group.starts_with("VENDOR");
    match (name, vendor) {
        ("NAME", true) => Some(FieldType::VendorName),
        ("ADDRESS", true) => Some(FieldType::VendorAddress),
        ("NAME", false) => Some(FieldType::ReceiverName),
        ("ADDRESS", false) => Some(FieldType::ReceiverAddress),
        _ => None,
    }
}

/// One expense field as a domain field, typed `as_type` or by its own type name; `None` for a
/// field without a value or one that repeats others ([`REPEATS`]).
fn map_field(
    field: &ExpenseField,
    as_type: Option<FieldType>,
) -> Result<Option<Field>, FieldError> {
    let type_name = field.r#type().and_then(|t| t.text()).unwrap_or("OTHER");
    if as_type.is_none() && REPEATS.contains(&type_name) {
        return Ok(None);
    }
    let Some(value) = field.value_detection() else {
        return Ok(None);
    };
    let text = value.text().map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    let label = field
        .label_detection()
        .and_then(ExpenseDetection::text)
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let known = as_type
        .or_else(|| FieldType::parse(type_name).filter(|t| !matches!(t, FieldType::KeyValue)));
    let field_type = known.unwrap_or(FieldType::Other);
    let label = match (label, known) {
        (Some(label), _) => Some(label.to_owned()),
        // An unknown type keeps its name where nothing was printed.
        (None, None) if type_name != "OTHER" => Some(type_name.to_owned()),
        (None, _) => None,
    };
    // Right only if both its type and its value are.
    let confidence = match (
        field.r#type().and_then(ExpenseType::confidence),
        value.confidence(),
    ) {
        (Some(t), Some(v)) => t.min(v),
        (t, v) => t.or(v).unwrap_or(0.0),
    } / 100.0;
    let mut mapped = Field::new(
        field_type,
        text,
        confidence,
        page(field)?,
        bounding_box(value)?,
    );
    if let Some(label) = label {
        mapped = mapped.with_label(label);
    }
    Ok(Some(mapped))
}

/// The field's page as Textract numbers them (from 1); the first for a field without one.
fn page(field: &ExpenseField) -> Result<PageNumber, FieldError> {
    match field.page_number() {
        None => Ok(FIRST_PAGE),
        Some(n) => u32::try_from(n)
            .ok()
            .and_then(PageNumber::new)
            .ok_or_else(|| Failure::other(format!("Textract gave a field on page {n}")).into()),
    }
}

/// The value's box, relative to the page as Textract's and every OCR box is (an empty box at the
/// corner when Textract gave none).
fn bounding_box(value: &ExpenseDetection) -> Result<BoundingBox, FieldError> {
    let b = value.geometry().and_then(|g| g.bounding_box());
    BoundingBox::new(
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::left),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::top),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::width),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::height),
    )
    .map_err(|e| Failure::other(e).into())
}

#[cfg(test)]
mod tests {
    use aws_sdk_textract::types::{LineItemFields, LineItemGroup};
    use intake_domain::model::DocumentKind;

    use super::*;

    fn detection(text: &str, confidence: f32) -> ExpenseDetection {
        ExpenseDetection::builder()
            .text(text)
            .confidence(confidence)
            .build()
    }

    fn field(kind: &str, label: Option<&str>, value: &str, group: Option<&str>) -> ExpenseField {
        let mut f = ExpenseField::builder()
            .r#type(ExpenseType::builder().text(kind).confidence(99.0).build())
            .value_detection(detection(value, 90.0))
            .set_label_detection(label.map(|l| detection(l, 95.0)))
            .page_number(1);
        if let Some(group) = group {
            f = f.group_properties(ExpenseGroupProperty::builder().types(group).id("g").build());
        }
        f.build()
    }

    fn map(summary: Vec<ExpenseField>, rows: Vec<Vec<ExpenseField>>) -> DocumentFields {
        let group = rows.into_iter().fold(LineItemGroup::builder(), |g, row| {
            g.line_items(
                LineItemFields::builder()
                    .set_line_item_expense_fields(Some(row))
                    .build(),
            )
        });
        let doc = ExpenseDocument::builder()
            .set_summary_fields(Some(summary))
            .line_item_groups(group.build())
            .build();
        map_documents(&[doc]).unwrap()
    }

    fn types(doc: &DocumentFields) -> Vec<String> {
        doc.fields.iter().map(|f| f.field_type.name()).collect()
    }

    #[test]
    fn a_group_name_stands_in_only_for_a_missing_standard_field_and_its_parts_are_dropped() {
        let doc = map(
            vec![
                field("VENDOR_NAME", None, "Kedai A", None),
                field("NAME", None, "Kedai A Sdn Bhd", Some("VENDOR")),
                field("ADDRESS", None, "1 Jalan B", Some("VENDOR")),
                field("CITY", None, "Kuala Lumpur", Some("VENDOR")),
                field("NAME", None, "Fabrikam", Some("RECEIVER_BILL_TO")),
            ],
            vec![],
        );
        assert_eq!(
            types(&doc),
            ["VENDOR_NAME", "VENDOR_ADDRESS", "RECEIVER_NAME"]
        );
        assert_eq!(doc.fields[0].value, "Kedai A");
        // A bill-to is an invoice's.
        assert_eq!(doc.document_type.kind, DocumentKind::Invoice);
    }

    #[test]
    fn unknown_types_are_other_with_their_label_or_their_name_and_confidence_is_the_lower() {
        let doc = map(
            vec![
                field("IBAN", None, "DE02 1203", None),
                field("OTHER", Some("Cashier"), "Aminah", None),
                field("KEY_VALUE", Some("Table"), "7", None),
            ],
            vec![vec![
                field("ITEM", None, "Tea", None),
                field("EXPENSE_ROW", None, "Tea 4.50", None),
                field("PRICE", None, "4.50", None),
            ]],
        );
        assert_eq!(types(&doc), ["OTHER", "OTHER", "OTHER"]);
        let labels: Vec<_> = doc.fields.iter().map(|f| f.label.as_deref()).collect();
        assert_eq!(labels, [Some("IBAN"), Some("Cashier"), Some("Table")]);
        assert!((doc.fields[0].confidence - 0.90).abs() < 1e-6);
        let cells: Vec<_> = doc.line_items[0]
            .fields
            .iter()
            .map(|f| f.field_type.name())
            .collect();
        assert_eq!(cells, ["ITEM", "PRICE"]);
        assert_eq!(doc.document_type.kind, DocumentKind::Receipt);
    }

    #[test]
    fn nothing_read_is_an_other_document_and_a_page_zero_is_refused() {
        let doc = map(vec![field("TOTAL", None, "  ", None)], vec![]);
        assert!(doc.fields.is_empty());
        assert_eq!(doc.document_type.kind, DocumentKind::Other);
        let bad = ExpenseField::builder()
            .r#type(ExpenseType::builder().text("TOTAL").build())
            .value_detection(detection("1.00", 90.0))
            .page_number(0)
            .build();
        let doc = ExpenseDocument::builder().summary_fields(bad).build();
        assert!(matches!(map_documents(&[doc]), Err(FieldError::Failed(_))));
    }
}
