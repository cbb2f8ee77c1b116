//! Line items: the rows above a receipt's or invoice's summary (its subtotal, tax or total) that end
//! in an amount and carry a description; below the items table's header row when there is one.
//! Cells: the last amount is the `PRICE`, an amount before it the `UNIT_PRICE`, a small whole
//! number first or just before the amounts (`2 x`, a quantity column) the `QUANTITY`, the words
//! left the `ITEM`.

use intake_domain::model::{FieldType, LineItem, parse_money};

use crate::labels::{Label, Role};
use crate::page::{Line, Span, Word};

/// Words of an items table's header row.
const HEADER: [&str; 22] = [
    "description",
    "item",
    "items",
    "qty",
    "quantity",
    "price",
    "unit",
    "amount",
    "menge",
    "preis",
    "betrag",
    "artikel",
    "bezeichnung",
    "désignation",
    "qté",
    "prix",
    "montant",
    "kuantiti",
    "harga",
    "amaun",
    "rate",
    "einzelpreis",
];

/// Cells are read from layout: trusted less than a labelled value.
const WEIGHT: f32 = 0.85;

fn is_amount(word: &Word<'_>) -> bool {
    word.text.chars().any(|c| c.is_ascii_digit())
        && parse_money(word.text).is_some()
        && word.text.contains(['.', ','])
}

fn is_currency(word: &Word<'_>) -> bool {
    !word.text.chars().any(|c| c.is_ascii_digit())
        && parse_money(&format!("{} 1.00", word.text)).is_some_and(|m| m.currency.is_some())
}

/// A quantity word: a whole number up to 999, with an `x` stuck to it or not.
fn quantity(word: &Word<'_>) -> bool {
    let digits = word.key.trim_matches('x');
    !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `line` is an items table's header row: two of its words or more are column names.
pub(crate) fn is_header(line: &Line<'_>) -> bool {
    line.words
        .iter()
        .filter(|w| HEADER.contains(&w.key.as_str()))
        .count()
        >= 2
}

/// The item rows of the first page that has a summary, above its first summary line
/// (`summary`, a line index).
pub(crate) fn line_items(
    lines: &[Line<'_>],
    labels: &[Vec<Label>],
    summary: Option<usize>,
) -> Vec<LineItem> {
    let Some(summary) = summary else {
        return Vec::new();
    };
    let Some(page) = lines.get(summary).map(|l| l.page) else {
        return Vec::new();
    };
    let header = (0..summary).rev().find(|&i| {
        lines.get(i).is_some_and(|l| {
            l.page == page
                && l.words
                    .iter()
                    .filter(|w| HEADER.contains(&w.key.as_str()))
                    .count()
                    >= 2
        })
    });
    let start = header.map_or(0, |h| h + 1);
    (start..summary)
        .filter(|&i| lines.get(i).is_some_and(|l| l.page == page))
        .filter(|&i| {
            !labels.get(i).is_some_and(|l| {
                l.iter()
                    .any(|l| matches!(l.role, Role::Field(_) | Role::Receiver))
            })
        })
        .filter_map(|i| row(lines, i))
        .collect()
}

fn row(lines: &[Line<'_>], index: usize) -> Option<LineItem> {
    let line = lines.get(index)?;
    let words = &line.words;
    let mut end = words.len();
    while end > 0 && words.get(end - 1).is_some_and(is_currency) {
        end -= 1;
    }
    let mut amounts: Vec<usize> = Vec::new();
    let mut j = end;
    while j > 0 {
        let Some(word) = words.get(j - 1) else { break };
        if is_amount(word) {
            amounts.push(j - 1);
        } else if !is_currency(word) {
            break;
        }
        j -= 1;
    }
    let &price = amounts.first()?;
    let mut desc_end = j;
    let mut quantity_at: Option<usize> = None;
    if desc_end > 0 && words.get(desc_end - 1).is_some_and(quantity) {
        quantity_at = Some(desc_end - 1);
        desc_end -= 1;
    }
    let mut desc_start = 0;
    if quantity_at.is_none() && words.first().is_some_and(quantity) && desc_end > 1 {
        quantity_at = Some(0);
        desc_start = 1;
    }
    while desc_start < desc_end
        && words
            .get(desc_start)
            .is_some_and(|w| w.key == "x" || w.key == "@")
    {
        desc_start += 1;
    }
    let description = line.text_of(desc_start, desc_end);
    if description.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return None;
    }
    let span = |s: usize, e: usize| Span {
        line: index,
        start: s,
        end: e,
    };
    let mut fields = Vec::new();
    fields.extend(span(desc_start, desc_end).field(lines, FieldType::Item, WEIGHT));
    if let Some(q) = quantity_at {
        fields.extend(span(q, q + 1).field(lines, FieldType::Quantity, WEIGHT));
    }
    if let Some(&unit) = amounts.get(1) {
        fields.extend(span(unit, unit + 1).field(lines, FieldType::UnitPrice, WEIGHT));
    }
    fields.extend(span(price, price + 1).field(lines, FieldType::Price, WEIGHT));
    Some(LineItem { fields })
}
