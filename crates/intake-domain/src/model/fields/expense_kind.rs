//! Receipt or invoice, from an expense reader's fields alone: readers such as Textract
//! AnalyzeExpense return the fields of a sale without saying which kind of document carried them,
//! so the kind is decided here, once, from what the fields are.

use super::{DocumentKind, DocumentType, Field, FieldType, LineItem};

/// Types only an invoice carries: what is owed, when and under which terms, and to whom it is
/// billed. A receipt records a sale that is paid.
const INVOICE_EVIDENCE: &[FieldType] = &[
    FieldType::DueDate,
    FieldType::PaymentTerms,
    FieldType::AmountDue,
    FieldType::PriorBalance,
    FieldType::PoNumber,
    FieldType::CustomerNumber,
    FieldType::DeliveryDate,
    FieldType::ReceiverName,
    FieldType::ReceiverAddress,
];

/// Words that name an invoice in an identifier's printed label (the languages the rule engine
/// reads: English, Malay, German, French, Spanish, Italian).
const INVOICE_WORDS: &[&str] = &[
    "invoice", "invois", "rechnung", "facture", "factura", "fattura",
];

/// A receipt is what an expense document is without invoice evidence: that absence is trusted
/// this much of the surest field's confidence.
const RECEIPT_BY_ABSENCE: f32 = 0.8;

/// Whether an identifier's printed label names an invoice.
fn invoice_label(field: &Field) -> bool {
    field.field_type == FieldType::InvoiceReceiptId
        && field.label.as_deref().is_some_and(|label| {
            let label = label.to_lowercase();
            INVOICE_WORDS.iter().any(|w| label.contains(w))
        })
}

impl DocumentType {
    /// The kind of an expense document by the evidence of its fields: an invoice when any field is
    /// of a type only invoices carry (a due date, payment terms, an amount due, a bill-to) or an
    /// identifier printed as an invoice number, with that field's confidence; else a receipt, at
    /// 0.8 of the surest field's confidence; `other` (confidence 0) when nothing was read.
    pub fn of_expense_fields(fields: &[Field], line_items: &[LineItem]) -> Self {
        let evidence = fields
            .iter()
            .filter(|f| INVOICE_EVIDENCE.contains(&f.field_type) || invoice_label(f))
            .map(|f| f.confidence)
            .reduce(f32::max);
        if let Some(confidence) = evidence {
            return Self::new(DocumentKind::Invoice, confidence);
        }
        let surest = fields
            .iter()
            .chain(line_items.iter().flat_map(|i| i.fields.iter()))
            .map(|f| f.confidence)
            .reduce(f32::max);
        match surest {
            Some(confidence) => Self::new(DocumentKind::Receipt, confidence * RECEIPT_BY_ABSENCE),
            None => Self::new(DocumentKind::Other, 0.0),
        }
    }
}
