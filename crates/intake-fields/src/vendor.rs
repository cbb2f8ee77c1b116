//! The vendor: the largest text near the top of the first page that is not a title (`INVOICE`), a
//! label or a number, and the address block under it.

use intake_domain::model::{Field, FieldType};

use crate::labels::{Label, Role, is_title};
use crate::page::{Line, Span, block_field, segments};
use crate::summary::block_under;

/// How many lines from the top of the first page the vendor is looked for in.
const HEAD_LINES: usize = 8;
/// The vendor is read from layout alone: trusted less than a labelled value.
const WEIGHT: f32 = 0.75;

/// The vendor's name and address, when the top of the first page has a candidate.
pub(crate) fn vendor(lines: &[Line<'_>], labels: &[Vec<Label>]) -> Vec<Field> {
    let Some(first_page) = lines.first().map(|l| l.page) else {
        return Vec::new();
    };
    let mut best: Option<(f32, Span)> = None;
    for (i, line) in lines
        .iter()
        .enumerate()
        .take_while(|(_, l)| l.page == first_page)
        .take(HEAD_LINES)
    {
        let line_labels = labels.get(i).map(Vec::as_slice).unwrap_or_default();
        for (start, end) in segments(line) {
            let Some(span) = candidate(line, line_labels, i, start, end) else {
                continue;
            };
            let height = line.word_height();
            // Of two about as large, the higher one.
            if best.is_none_or(|(h, _)| height > h * 1.08) {
                best = Some((height, span));
            }
        }
    }
    let Some((_, span)) = best else {
        return Vec::new();
    };
    let mut out: Vec<Field> = span
        .field(lines, FieldType::VendorName, WEIGHT)
        .into_iter()
        .collect();
    let address = block_under(lines, labels, span);
    if let Some(field) = block_field(lines, &address, FieldType::VendorAddress, WEIGHT) {
        out.push(field);
    }
    out
}

/// The piece `start..end` of `line` as a vendor candidate: title words at its ends dropped, then
/// refused if it carries a label or is mostly digits or has fewer than three letters.
fn candidate(
    line: &Line<'_>,
    labels: &[Label],
    index: usize,
    mut start: usize,
    mut end: usize,
) -> Option<Span> {
    while start < end && line.words.get(start).is_some_and(|w| is_title(&w.key)) {
        start += 1;
    }
    while end > start && line.words.get(end - 1).is_some_and(|w| is_title(&w.key)) {
        end -= 1;
    }
    if end <= start
        || labels
            .iter()
            .any(|l| l.role != Role::Ignore && l.start < end && l.end > start)
    {
        return None;
    }
    let text = line.text_of(start, end);
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (letters >= 3 && digits * 2 < letters).then_some(Span {
        line: index,
        start,
        end,
    })
}
