//! The rules every extractor's fields pass through: normalisation by type, then the checks of
//! fields against each other.

use super::money::{cents_of, decimal};
use super::{
    DocumentFields, Field, FieldOptions, FieldType, FieldWarning, ValueKind, amount_in_words,
    normalize_date, parse_money,
};

/// The canonical form of `value` read as a value of `field_type` (see [`ValueKind`]), with the
/// currency of an amount where one is printed; `None` when it cannot be read as one.
pub(super) fn canonical(
    field_type: FieldType,
    value: &str,
    options: FieldOptions,
) -> Option<(String, Option<String>)> {
    let value = value.trim();
    match field_type.value_kind() {
        ValueKind::Amount => parse_money(value).map(|money| (money.decimal(), money.currency)),
        ValueKind::Date => normalize_date(value, options.date_order).map(|d| (d, None)),
        ValueKind::Words => amount_in_words(value).map(|cents| (decimal(cents), None)),
        ValueKind::Identifier => {
            let id: String = value
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_uppercase)
                .collect();
            (!id.is_empty()).then_some((id, None))
        }
        ValueKind::Digits => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            (!digits.is_empty()).then_some((digits, None))
        }
        ValueKind::Quantity => quantity(value).map(|q| (q, None)),
        ValueKind::Text => {
            let text = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (!text.is_empty()).then_some((text, None))
        }
    }
}

/// Sets `field`'s canonical value (and currency) from its value by its type's [`ValueKind`], or
/// warns that it is unreadable. A field already normalised (by an engine that normalises, such as
/// Textract) is normalised again from its value: one rule for every extractor.
pub(super) fn normalize(field: &mut Field, options: FieldOptions) {
    let normalized = match canonical(field.field_type, &field.value, options) {
        Some((value, currency)) => {
            if field.field_type.value_kind() == ValueKind::Amount {
                field.currency = currency;
            }
            Some(value)
        }
        None => None,
    };
    field.warnings.retain(|w| *w != FieldWarning::Unreadable);
    if normalized.is_none() {
        field.warnings.push(FieldWarning::Unreadable);
    }
    field.normalized = normalized;
}

/// A quantity: digits with an optional decimal part after `.` or `,` (`2`, `1,5` is `1.5`), an `x`
/// or unit letters around it dropped (`2x`, `x2`, `3 pcs`).
fn quantity(value: &str) -> Option<String> {
    let number = value
        .split_whitespace()
        .map(|p| p.trim_matches(|c: char| c.is_alphabetic() || c == '@'))
        .find(|p| !p.is_empty())?;
    let (units, fraction) = match number.split_once(['.', ',']) {
        Some((u, f)) => (u, f.trim_end_matches('0')),
        None => (number, ""),
    };
    if units.is_empty()
        || !units
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units = units.trim_start_matches('0');
    let units = if units.is_empty() { "0" } else { units };
    Some(if fraction.is_empty() {
        units.to_owned()
    } else {
        format!("{units}.{fraction}")
    })
}

/// Cents of the first field of `field_type` that has them.
fn cents(doc: &DocumentFields, field_type: FieldType) -> Option<i64> {
    doc.fields
        .iter()
        .filter(|f| f.field_type == field_type)
        .find_map(|f| f.normalized.as_deref().and_then(cents_of))
}

fn warn(doc: &mut DocumentFields, field_type: FieldType, warning: &FieldWarning) {
    if let Some(field) = doc
        .fields
        .iter_mut()
        .find(|f| f.field_type == field_type && f.normalized.is_some())
        && !field.warnings.contains(warning)
    {
        field.warnings.push(warning.clone());
    }
}

/// The checks of fields against each other: a cheque's amount in words against its figures (both
/// fields warned, a fraud signal), the total against subtotal + tax + charges − discount, and the
/// line items' amounts against the subtotal (or, without one, the total, with or without the tax).
pub(super) fn cross_check(doc: &mut DocumentFields) {
    if let (Some(figures), Some(words)) = (
        cents(doc, FieldType::Amount),
        cents(doc, FieldType::AmountInWords),
    ) && figures != words
    {
        let warning = FieldWarning::WordsDisagree {
            figures: decimal(figures),
            words: decimal(words),
        };
        warn(doc, FieldType::Amount, &warning);
        warn(doc, FieldType::AmountInWords, &warning);
    }
    let total = cents(doc, FieldType::Total);
    let subtotal = cents(doc, FieldType::Subtotal);
    if let (Some(total), Some(subtotal)) = (total, subtotal) {
        let added: i64 = [
            FieldType::Tax,
            FieldType::ServiceCharge,
            FieldType::Gratuity,
            FieldType::ShippingHandlingCharge,
        ]
        .into_iter()
        .filter_map(|t| cents(doc, t))
        .sum();
        // A discount may be printed negative or not: it is taken off either way.
        let discount = cents(doc, FieldType::Discount).map_or(0, i64::abs);
        let expected = subtotal + added - discount;
        // Prices printed tax-inclusive: the total is the subtotal, the tax shown for information.
        if expected != total && subtotal != total {
            warn(
                doc,
                FieldType::Total,
                &FieldWarning::PartsDisagree {
                    expected: decimal(expected),
                },
            );
        }
    }
    let amounts: Vec<i64> = doc
        .line_items
        .iter()
        .filter_map(|item| item.cell(FieldType::Price))
        .filter_map(|f| f.normalized.as_deref().and_then(cents_of))
        .collect();
    if amounts.is_empty() {
        return;
    }
    let sum: i64 = amounts.iter().sum();
    let (against, value) = match (subtotal, total) {
        (Some(subtotal), _) => (FieldType::Subtotal, subtotal),
        (None, Some(total)) => (FieldType::Total, total),
        (None, None) => return,
    };
    // Without a subtotal, the items may add up to the total before or after tax.
    let tax = cents(doc, FieldType::Tax).unwrap_or(0);
    let agrees = sum == value || (against == FieldType::Total && sum + tax == value);
    if !agrees {
        warn(
            doc,
            against,
            &FieldWarning::LineItemsDisagree { sum: decimal(sum) },
        );
    }
}
