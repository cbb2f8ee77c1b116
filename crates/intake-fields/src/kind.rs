//! The document's kind by evidence: each kind scores the words and layout that speak for it (a
//! cheque's `PAY TO THE ORDER OF` and MICR band, an invoice's title and `Bill To`, a receipt's
//! `Cash` and `Change`, a form's many labelled answers); the highest score wins, with a confidence
//! that grows with its lead over the runner-up. Too little evidence is `other`.

use intake_domain::model::{DocumentKind, DocumentType, Field, FieldType};

use crate::page::Line;

/// Phrases (word keys joined by spaces) and the points they give a kind; each counts once.
const EVIDENCE: &[(&str, DocumentKind, u32)] = &[
    ("pay to the order of", DocumentKind::Cheque, 4),
    ("order of", DocumentKind::Cheque, 2),
    ("dollars", DocumentKind::Cheque, 1),
    ("memo", DocumentKind::Cheque, 1),
    ("cheque", DocumentKind::Cheque, 1),
    ("check", DocumentKind::Cheque, 1),
    ("invoice", DocumentKind::Invoice, 3),
    ("rechnung", DocumentKind::Invoice, 3),
    ("facture", DocumentKind::Invoice, 3),
    ("bill to", DocumentKind::Invoice, 2),
    ("due date", DocumentKind::Invoice, 2),
    ("payment terms", DocumentKind::Invoice, 1),
    ("terms", DocumentKind::Invoice, 1),
    ("po number", DocumentKind::Invoice, 1),
    ("zahlbar bis", DocumentKind::Invoice, 2),
    ("receipt", DocumentKind::Receipt, 3),
    ("quittung", DocumentKind::Receipt, 3),
    ("kassenbon", DocumentKind::Receipt, 3),
    ("resit", DocumentKind::Receipt, 3),
    ("cash", DocumentKind::Receipt, 1),
    ("change", DocumentKind::Receipt, 1),
    ("card", DocumentKind::Receipt, 1),
    ("thank you", DocumentKind::Receipt, 1),
    ("terima kasih", DocumentKind::Receipt, 1),
    ("danke", DocumentKind::Receipt, 1),
    ("merci", DocumentKind::Receipt, 1),
    ("cashier", DocumentKind::Receipt, 1),
    ("table", DocumentKind::Receipt, 1),
];

fn contains(keys: &[&str], phrase: &str) -> bool {
    let parts: Vec<&str> = phrase.split(' ').collect();
    keys.windows(parts.len()).any(|w| w == parts.as_slice())
}

/// The kind of the document whose lines are `lines` and whose fields are `fields`.
pub(crate) fn kind(lines: &[Line<'_>], fields: &[Field]) -> DocumentType {
    let mut scores = [0_u32; 5];
    let index = |k: DocumentKind| DocumentKind::ALL.iter().position(|x| *x == k).unwrap_or(4);
    let keys: Vec<&str> = lines
        .iter()
        .flat_map(|l| l.words.iter().map(|w| w.key.as_str()))
        .collect();
    for (phrase, kind, points) in EVIDENCE {
        if contains(&keys, phrase)
            && let Some(score) = scores.get_mut(index(*kind))
        {
            *score += points;
        }
    }
    let has = |t: FieldType| fields.iter().any(|f| f.field_type == t);
    let mut add = |k: DocumentKind, points: u32| {
        if let Some(score) = scores.get_mut(index(k)) {
            *score += points;
        }
    };
    if has(FieldType::RoutingNumber) || has(FieldType::AccountNumber) {
        add(DocumentKind::Cheque, 3);
    }
    if has(FieldType::AmountInWords) {
        add(DocumentKind::Cheque, 2);
    }
    if has(FieldType::Total) {
        add(DocumentKind::Receipt, 2);
        add(DocumentKind::Invoice, 1);
    }
    if has(FieldType::Tax) || has(FieldType::Subtotal) {
        add(DocumentKind::Receipt, 1);
        add(DocumentKind::Invoice, 1);
    }
    if has(FieldType::ReceiverName) || has(FieldType::DueDate) {
        add(DocumentKind::Invoice, 2);
    }
    let pairs = fields
        .iter()
        .filter(|f| f.field_type == FieldType::KeyValue)
        .count();
    if pairs >= 3 && !has(FieldType::Total) {
        add(DocumentKind::Form, u32::try_from(pairs.min(8)).unwrap_or(8));
    }
    let mut ranked: Vec<(u32, DocumentKind)> = DocumentKind::ALL
        .iter()
        .map(|k| (scores.get(index(*k)).copied().unwrap_or(0), *k))
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    let (best, kind) = ranked.first().copied().unwrap_or((0, DocumentKind::Other));
    let second = ranked.get(1).map_or(0, |r| r.0);
    if best < 3 {
        return DocumentType::new(DocumentKind::Other, 0.5);
    }
    #[allow(clippy::cast_precision_loss)]
    let confidence = 0.5 + 0.5 * (best - second) as f32 / best as f32;
    DocumentType::new(kind, confidence)
}
