//! Facts read from a document (issue 28): what kind of document it is and its fields (the total, the
//! date, the merchant, the cheque's number and amount), each with how sure the reader is and the box
//! it was read from, so a rule can run on them and a person can verify them at a glance.
//!
//! One vocabulary for every extractor: Textract AnalyzeExpense's field type names where one exists
//! ([`FieldType`]), cheque types beside them, and `KEY_VALUE` pairs for forms. Every extractor hands
//! its raw readings to [`DocumentFields::settled`], which normalises values by one rule (amounts as
//! decimal strings with their currency, dates as ISO 8601 in the deployment's day/month order, a
//! cheque's amount in words as a number) and checks them against each other (words against figures,
//! the total against its parts and against the line items): a disagreement is a field warning.

mod checks;
mod dates;
mod expense_kind;
mod filter;
mod money;
mod types;
mod words;

pub use dates::{DateOrder, normalize_date};
pub use filter::{
    FieldFilter, FieldFilterError, MAX_FIELD_FILTER_CHARS, MAX_FIELD_FILTERS, field_keys,
};
pub use money::{Money, parse_money};
pub use types::{FieldType, ValueKind};
pub use words::{amount_in_words, edit_distance};

use serde::{Deserialize, Serialize};

use super::{BoundingBox, PageNumber};

/// What kind of document a page set is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DocumentKind {
    /// A till receipt.
    Receipt,
    /// An invoice or bill.
    Invoice,
    /// A cheque.
    Cheque,
    /// A form of labels and answers.
    Form,
    /// Anything else.
    Other,
}

impl DocumentKind {
    /// Every kind, as the API lists them.
    pub const ALL: [Self; 5] = [
        Self::Receipt,
        Self::Invoice,
        Self::Cheque,
        Self::Form,
        Self::Other,
    ];

    /// The kind's name in the API (`receipt`, `invoice`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Invoice => "invoice",
            Self::Cheque => "cheque",
            Self::Form => "form",
            Self::Other => "other",
        }
    }

    /// The kind named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a document of this kind is an expense (a receipt or an invoice): what an expense
    /// reader (Textract AnalyzeExpense) reads again where the deployment has one, while every other
    /// kind keeps the general reader's reading. The one rule of which extractor reads which kind.
    pub const fn is_expense(self) -> bool {
        matches!(self, Self::Receipt | Self::Invoice)
    }
}

/// The document's kind and how sure the extractor is of it (`0..=1`).
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
pub struct DocumentType {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: DocumentKind,
    /// Confidence in `0..=1`.
    pub confidence: f32,
}

impl DocumentType {
    /// A kind with its confidence, clamped into `0..=1` (NaN is 0).
    pub fn new(kind: DocumentKind, confidence: f32) -> Self {
        Self {
            kind,
            confidence: unit(confidence),
        }
    }
}

/// `value` clamped into `0..=1`, NaN as 0.
fn unit(value: f32) -> f32 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

/// Why a field's value is in doubt: each a signal for a person or a fraud rule.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "camelCase")]
#[non_exhaustive]
pub enum FieldWarning {
    /// The value could not be read as its type says (an amount without a number, a date that is no
    /// date).
    Unreadable,
    /// A cheque's amount in words and its amount in figures disagree.
    WordsDisagree {
        /// The amount in figures, normalised.
        figures: String,
        /// The amount in words, as a number.
        words: String,
    },
    /// The total is not its subtotal plus tax and charges less discounts.
    PartsDisagree {
        /// What the parts add up to.
        expected: String,
    },
    /// The line items do not add up to the subtotal (or, without one, the total).
    LineItemsDisagree {
        /// What the line items add up to.
        sum: String,
    },
}

/// One field read from a document.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Field {
    /// What the field is.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The label printed beside the value (`Total Amount`, `Invoice No.`), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The value as read.
    pub value: String,
    /// The value in its type's canonical form (see [`ValueKind`]), when it could be read as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized: Option<String>,
    /// The currency of an amount, when printed: an ISO 4217 code (`MYR` for `RM`, `EUR` for `€`),
    /// or the sign itself where it names several (`$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// How sure the extractor is, in `0..=1`.
    pub confidence: f32,
    /// The page the value is on.
    pub page: PageNumber,
    /// Where the value is on its page.
    #[serde(rename = "box")]
    pub bounding_box: BoundingBox,
    /// What is in doubt about the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<FieldWarning>,
}

impl Field {
    /// A field as read, not yet normalised; the confidence is clamped into `0..=1`.
    pub fn new(
        field_type: FieldType,
        value: impl Into<String>,
        confidence: f32,
        page: PageNumber,
        bounding_box: BoundingBox,
    ) -> Self {
        Self {
            field_type,
            label: None,
            value: value.into(),
            normalized: None,
            currency: None,
            confidence: unit(confidence),
            page,
            bounding_box,
            warnings: Vec::new(),
        }
    }

    /// The same field with the label printed beside it.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The normalised value as a money amount in cents, for an amount field that has one.
    pub fn cents(&self) -> Option<i64> {
        money::cents_of(self.normalized.as_deref()?)
    }
}

/// One row of a receipt's or invoice's items: its cells as fields (`ITEM`, `QUANTITY`,
/// `UNIT_PRICE`, `PRICE`, as AnalyzeExpense names them).
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The row's cells.
    pub fields: Vec<Field>,
}

impl LineItem {
    /// The cell of type `field_type`, if the row has one.
    pub fn cell(&self, field_type: FieldType) -> Option<&Field> {
        self.fields.iter().find(|f| f.field_type == field_type)
    }
}

/// How a deployment reads what a page leaves open.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct FieldOptions {
    /// The order of day and month in a date such as `03/04/2026`.
    pub date_order: DateOrder,
}

impl FieldOptions {
    /// Options with a date order.
    pub fn with_date_order(date_order: DateOrder) -> Self {
        Self { date_order }
    }
}

/// What an extractor found in a document: its kind, its fields and its line items.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentFields {
    /// The document's kind.
    pub document_type: DocumentType,
    /// The fields, in the order read.
    pub fields: Vec<Field>,
    /// The item rows of a receipt or an invoice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
}

impl DocumentFields {
    /// Fields as an extractor read them.
    pub fn new(document_type: DocumentType, fields: Vec<Field>, line_items: Vec<LineItem>) -> Self {
        Self {
            document_type,
            fields,
            line_items,
        }
    }

    /// The same fields normalised by their types and checked against each other: every field and
    /// line item cell gets its canonical value ([`ValueKind`]) or an [`FieldWarning::Unreadable`]
    /// warning, then the cheque's words are checked against its figures and the total against its
    /// parts and the line items. What every extractor returns.
    #[must_use]
    pub fn settled(mut self, options: FieldOptions) -> Self {
        for field in self
            .fields
            .iter_mut()
            .chain(self.line_items.iter_mut().flat_map(|i| i.fields.iter_mut()))
        {
            checks::normalize(field, options);
        }
        checks::cross_check(&mut self);
        self
    }

    /// The first field of type `field_type`, if any.
    pub fn first(&self, field_type: FieldType) -> Option<&Field> {
        self.fields.iter().find(|f| f.field_type == field_type)
    }
}

#[cfg(test)]
mod tests;
