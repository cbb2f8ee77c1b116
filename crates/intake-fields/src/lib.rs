//! # intake-fields
//!
//! Intake's local field extractor (issue 28): a pure, layout-aware rule engine over a document's OCR
//! lines (in reading order, with their words and boxes) that reads its kind and its fields in the
//! domain's vocabulary, offline, behind the [`FieldExtractor`] port.
//!
//! The rules, each in its module:
//! - **labels** (`labels`): phrases in English, Malay, German and French (`Total`, `Sub Total`,
//!   `GST`, `Invoice No.`, `Due Date`, `Bill To`, `PAY TO THE ORDER OF`...), the longest at each word;
//! - **values** (`values`): a label's value is the words of its kind on its right up to the next
//!   label (the last amount, the first date, the first identifier), else on the line below under it;
//! - **vendor** (`vendor`): the largest text near the top that is no title, label or number, and
//!   the address block aligned under it;
//! - **line items** (`items`): rows above the summary that end in an amount;
//! - **cheques** (`cheque`): the MICR band split into routing, account and cheque number, the
//!   payee, the amount in figures and in words, the number at the top right;
//! - **forms** (`forms`): labels ending in a colon and their values (`KEY_VALUE`);
//! - **kind** (`kind`): the document's kind by evidence.
//!
//! Normalisation and the checks of fields against each other are the domain's
//! ([`DocumentFields::settled`]), as for every extractor.

mod cheque;
mod forms;
mod items;
mod kind;
mod labels;
mod page;
mod summary;
mod values;
mod vendor;

use async_trait::async_trait;
use intake_domain::model::{
    BoundingBox, DateOrder, DocumentFields, DocumentKind, Field, FieldOptions, FieldType, OcrResult,
};
use intake_domain::ports::{FieldError, FieldExtractor, FieldInput};

use crate::page::Line;
use crate::summary::Reading;

/// A date read without a label (the first on the page) is trusted this much.
const UNLABELLED_DATE: f32 = 0.6;

/// The rule engine, with the deployment's options (the day/month order of ambiguous dates).
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleExtractor {
    options: FieldOptions,
}

impl RuleExtractor {
    /// An extractor reading with `options`.
    pub fn new(options: FieldOptions) -> Self {
        Self { options }
    }

    /// The kind and fields of the document `ocr` read, normalised and checked.
    pub fn read(&self, ocr: &OcrResult) -> DocumentFields {
        let lines = page::lines_of(ocr);
        let labels = summary::all_labels(&lines);
        let readings = summary::readings(&lines, &labels, self.options.date_order);
        let mut fields = summary::chosen(&lines, &readings);
        fields.extend(vendor::vendor(&lines, &labels));
        fields.extend(summary::receiver(&lines, &labels));
        if !fields
            .iter()
            .any(|f| f.field_type == FieldType::InvoiceReceiptDate)
        {
            fields.extend(first_date(&lines, &fields, self.options.date_order));
        }
        let pairs = forms::key_values(&lines);
        let cheque = cheque::cheque(&lines, &labels);
        let evidence: Vec<Field> = fields
            .iter()
            .chain(&pairs)
            .chain(&cheque)
            .cloned()
            .collect();
        let document_type = kind::kind(&lines, &evidence);
        let mut line_items = Vec::new();
        let fields = match document_type.kind {
            DocumentKind::Cheque => besides(cheque_fields(fields, cheque), pairs),
            // A form's labelled answers are its fields; a typed reading of one is left out.
            DocumentKind::Form => besides(besides(pairs, forms::gap_pairs(&lines)), fields),
            _ => {
                line_items = items::line_items(&lines, &labels, summary_line(&readings));
                besides(fields, pairs)
            }
        };
        DocumentFields::new(document_type, fields, line_items).settled(self.options)
    }
}

/// The first date on the page that no field has taken, as the document's date.
fn first_date(lines: &[Line<'_>], fields: &[Field], order: DateOrder) -> Option<Field> {
    (0..lines.len()).find_map(|i| {
        let line = lines.get(i)?;
        let span = values::value_in(
            lines,
            i,
            0,
            line.words.len(),
            FieldType::InvoiceReceiptDate,
            order,
        )?;
        let field = span.field(lines, FieldType::InvoiceReceiptDate, UNLABELLED_DATE)?;
        (!fields.iter().any(|f| overlaps(f, &field))).then_some(field)
    })
}

/// `first`, then those of `second` not read from where one of `first` was.
fn besides(mut first: Vec<Field>, second: Vec<Field>) -> Vec<Field> {
    let kept: Vec<Field> = second
        .into_iter()
        .filter(|s| !first.iter().any(|f| overlaps(f, s)))
        .collect();
    first.extend(kept);
    first
}

/// A cheque keeps its own fields and its date (read as the document's date).
fn cheque_fields(fields: Vec<Field>, cheque: Vec<Field>) -> Vec<Field> {
    let mut out: Vec<Field> = fields
        .into_iter()
        .filter_map(|mut f| match f.field_type {
            FieldType::InvoiceReceiptDate => {
                f.field_type = FieldType::CheckDate;
                Some(f)
            }
            _ => None,
        })
        .collect();
    out.extend(cheque);
    out
}

/// The first line of a receipt's or invoice's summary: the first subtotal, tax or total read on
/// its label's line.
fn summary_line(readings: &[Reading]) -> Option<usize> {
    readings
        .iter()
        .filter(|r| {
            r.same_line
                && matches!(
                    r.field_type,
                    FieldType::Subtotal | FieldType::Total | FieldType::Tax | FieldType::AmountDue
                )
        })
        .map(|r| r.span.line)
        .min()
}

/// Whether two fields were read from much the same place (their boxes overlap by half the smaller).
fn overlaps(a: &Field, b: &Field) -> bool {
    a.page == b.page && overlap(&a.bounding_box, &b.bounding_box)
}

fn overlap(a: &BoundingBox, b: &BoundingBox) -> bool {
    let w = (a.left() + a.width()).min(b.left() + b.width()) - a.left().max(b.left());
    let h = (a.top() + a.height()).min(b.top() + b.height()) - a.top().max(b.top());
    let smaller = (a.width() * a.height()).min(b.width() * b.height());
    w > 0.0 && h > 0.0 && w * h >= smaller / 2.0
}

#[async_trait]
impl FieldExtractor for RuleExtractor {
    fn name(&self) -> &'static str {
        "rules"
    }

    async fn extract(&self, input: FieldInput<'_>) -> Result<DocumentFields, FieldError> {
        Ok(self.read(input.ocr))
    }
}

#[cfg(test)]
mod tests;
