//! Finding documents by a field's value (`field=TOTAL:31.00`): the type named, the value normalised
//! by the same rule the fields were ([`DocumentFields::settled`](super::DocumentFields::settled)),
//! so `TOTAL:31` finds a total read as `RM 31.00` and `INVOICE_RECEIPT_DATE:25 Nov 2026` one read as
//! `25/11/2026`.

use std::fmt;

use super::{Field, FieldOptions, FieldType, ValueKind, checks};

/// The longest filter text accepted (type, colon and value).
pub const MAX_FIELD_FILTER_CHARS: usize = 200;

/// The most field filters one listing takes.
pub const MAX_FIELD_FILTERS: usize = 8;

/// One field filter: documents with a field of this type whose normalised value is this.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct FieldFilter {
    field_type: FieldType,
    value: String,
}

/// Why a filter text is no field filter.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FieldFilterError {
    /// Not `TYPE:value`, or longer than [`MAX_FIELD_FILTER_CHARS`].
    #[error(
        "a field filter is TYPE:value (at most {MAX_FIELD_FILTER_CHARS} characters), e.g. TOTAL:31.00"
    )]
    Malformed,
    /// The type is none of the field types.
    #[error(
        "unknown field type {0:?}; field types are named as Textract AnalyzeExpense names them (TOTAL, INVOICE_RECEIPT_DATE, VENDOR_NAME, CHECK_NUMBER, KEY_VALUE, ...)"
    )]
    UnknownType(String),
    /// More than [`MAX_FIELD_FILTERS`] filters.
    #[error("at most {MAX_FIELD_FILTERS} field filters")]
    TooMany,
    /// The value cannot be read as a value of the type (`TOTAL:abc`).
    #[error("{value:?} cannot be read as a value of {field_type}")]
    Unreadable {
        /// The type's name.
        field_type: String,
        /// The value given.
        value: String,
    },
}

impl FieldFilter {
    /// The filter `text` (`TOTAL:31.00`) names: the type, and the value in its canonical form under
    /// `options` (the deployment's, as the fields were settled with).
    ///
    /// # Errors
    /// [`FieldFilterError`] for a text that is not `TYPE:value`, an unknown type, or a value the
    /// type's rule cannot read.
    pub fn parse(text: &str, options: FieldOptions) -> Result<Self, FieldFilterError> {
        if text.chars().count() > MAX_FIELD_FILTER_CHARS {
            return Err(FieldFilterError::Malformed);
        }
        let (name, value) = text.split_once(':').ok_or(FieldFilterError::Malformed)?;
        let name = name.trim();
        if name.is_empty() || value.trim().is_empty() {
            return Err(FieldFilterError::Malformed);
        }
        let field_type = FieldType::parse(&name.to_ascii_uppercase())
            .ok_or_else(|| FieldFilterError::UnknownType(name.to_owned()))?;
        let canonical = checks::canonical(field_type, value, options)
            .map(|(value, _)| value)
            .or_else(|| {
                (field_type.value_kind() == ValueKind::Amount)
                    .then(|| bare_amount(value))
                    .flatten()
            });
        let value = canonical.ok_or_else(|| FieldFilterError::Unreadable {
            field_type: field_type.name(),
            value: value.trim().to_owned(),
        })?;
        Ok(Self { field_type, value })
    }

    /// The field type.
    pub fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// The canonical value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether one of `fields` is of the filter's type with its value: the one rule every
    /// repository's filter implements.
    pub fn matches(&self, fields: &[Field]) -> bool {
        fields.iter().any(|f| {
            f.field_type == self.field_type && f.normalized.as_deref() == Some(self.value.as_str())
        })
    }

    /// The filter as a key of [`field_keys`] (`TOTAL=31.00`), for stores that index them.
    pub fn key(&self) -> String {
        field_key(self.field_type, &self.value)
    }
}

impl fmt::Display for FieldFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.field_type.name(), self.value)
    }
}

/// An amount as a person types it in a filter (`31`, `31.5`, `31,50`), which a printed amount needs
/// a two-digit decimal part or a currency to be read as: its canonical decimal.
fn bare_amount(value: &str) -> Option<String> {
    let value = value.trim();
    let (units, fraction) = value.split_once(['.', ',']).unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty()
        || units.len() > 15
        || fraction.len() > 2
        || !digits(units)
        || !digits(fraction)
    {
        return None;
    }
    let units = units.trim_start_matches('0');
    let units = if units.is_empty() { "0" } else { units };
    Some(format!("{units}.{fraction:0<2}"))
}

fn field_key(field_type: FieldType, value: &str) -> String {
    format!("{}={value}", field_type.name())
}

/// The keys a document is found by (`TYPE=normalised value`, sorted, without repeats): one per
/// field with a normalised value. Line items' cells are not keys.
pub fn field_keys(fields: &[Field]) -> Vec<String> {
    let mut keys: Vec<String> = fields
        .iter()
        .filter_map(|f| Some(field_key(f.field_type, f.normalized.as_deref()?)))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::model::{BoundingBox, DateOrder, FIRST_PAGE};

    fn parse(text: &str) -> Result<FieldFilter, FieldFilterError> {
        FieldFilter::parse(text, FieldOptions::default())
    }

    #[test]
    fn values_are_normalised_by_their_type_s_rule() {
        assert_eq!(parse("TOTAL:31").unwrap().value(), "31.00");
        assert_eq!(parse("total: RM 1,031.50").unwrap().key(), "TOTAL=1031.50");
        assert_eq!(parse("AMOUNT:31.5").unwrap().value(), "31.50");
        assert_eq!(parse("PRICE:007,5").unwrap().value(), "7.50");
        assert_eq!(
            parse("INVOICE_RECEIPT_DATE:25 Nov 2026").unwrap().value(),
            "2026-11-25"
        );
        assert_eq!(
            parse("INVOICE_RECEIPT_DATE:03/04/2026").unwrap().value(),
            "2026-04-03"
        );
        let us = FieldOptions::with_date_order(DateOrder::MonthFirst);
        assert_eq!(
            FieldFilter::parse("INVOICE_RECEIPT_DATE:03/04/2026", us)
                .unwrap()
                .value(),
            "2026-03-04"
        );
        assert_eq!(
            parse("INVOICE_RECEIPT_ID:inv-0047 11").unwrap().value(),
            "INV004711"
        );
        assert_eq!(
            parse("VENDOR_NAME:Corner   Cafe").unwrap().to_string(),
            "VENDOR_NAME:Corner Cafe"
        );
    }

    #[test]
    fn malformed_filters_unknown_types_and_unreadable_values_are_refused() {
        assert_eq!(parse("TOTAL"), Err(FieldFilterError::Malformed));
        assert_eq!(parse(":31"), Err(FieldFilterError::Malformed));
        assert_eq!(parse("TOTAL: "), Err(FieldFilterError::Malformed));
        assert_eq!(
            parse(&format!(
                "VENDOR_NAME:{}",
                "a".repeat(MAX_FIELD_FILTER_CHARS)
            )),
            Err(FieldFilterError::Malformed)
        );
        assert_eq!(
            parse("GRAND_TOTAL:31"),
            Err(FieldFilterError::UnknownType("GRAND_TOTAL".into()))
        );
        assert!(matches!(
            parse("TOTAL:abc"),
            Err(FieldFilterError::Unreadable { .. })
        ));
        assert!(matches!(
            parse("INVOICE_RECEIPT_DATE:31/31/2026"),
            Err(FieldFilterError::Unreadable { .. })
        ));
    }

    #[test]
    fn a_filter_matches_a_field_of_its_type_with_its_value_only() {
        let field = |t: FieldType, v: &str| {
            let mut f = Field::new(
                t,
                v,
                0.9,
                FIRST_PAGE,
                BoundingBox::new(0.1, 0.1, 0.1, 0.1).unwrap(),
            );
            super::checks::normalize(&mut f, FieldOptions::default());
            f
        };
        let fields = vec![
            field(FieldType::Total, "RM 31.00"),
            field(FieldType::Subtotal, "29.00"),
            field(FieldType::VendorName, "??"),
        ];
        assert!(parse("TOTAL:31").unwrap().matches(&fields));
        assert!(!parse("TOTAL:29").unwrap().matches(&fields));
        assert!(parse("SUBTOTAL:29").unwrap().matches(&fields));
        assert_eq!(
            field_keys(&fields),
            vec!["SUBTOTAL=29.00", "TOTAL=31.00", "VENDOR_NAME=??"]
        );
    }
}
