//! Labelled fields: every label of every line and the value beside or below it; of several
//! readings of one type, the one on the label's own line, then the longest label (`Grand Total`
//! over `Total`), then for the total the last on the page (the summary is at the bottom), for the
//! others the first.

use intake_domain::model::{DateOrder, Field, FieldType};

use crate::labels::{Label, Role, labels_in};
use crate::page::{Line, Span, block_field, segments};
use crate::values::{below, value_of};

/// How much a value on its label's line is trusted, and one below it.
const SAME_LINE: f32 = 0.95;
const BELOW: f32 = 0.8;

/// A labelled reading.
#[derive(Clone, Debug)]
pub(crate) struct Reading {
    pub(crate) field_type: FieldType,
    pub(crate) label: String,
    pub(crate) label_words: usize,
    pub(crate) span: Span,
    pub(crate) same_line: bool,
}

/// The labels of every line, by line.
pub(crate) fn all_labels(lines: &[Line<'_>]) -> Vec<Vec<Label>> {
    lines.iter().map(labels_in).collect()
}

/// Every labelled reading of a typed field.
pub(crate) fn readings(
    lines: &[Line<'_>],
    labels: &[Vec<Label>],
    order: DateOrder,
) -> Vec<Reading> {
    let mut out = Vec::new();
    for (index, (line, line_labels)) in lines.iter().zip(labels).enumerate() {
        for (k, label) in line_labels.iter().enumerate() {
            let Role::Field(field_type) = label.role else {
                continue;
            };
            let next_start = line_labels.get(k + 1).map_or(line.words.len(), |l| l.start);
            if let Some((span, same_line)) =
                value_of(lines, index, label, next_start, field_type, order)
            {
                out.push(Reading {
                    field_type,
                    label: line
                        .text_of(label.start, label.end)
                        .trim_end_matches(':')
                        .to_owned(),
                    label_words: label.end - label.start,
                    span,
                    same_line,
                });
            }
        }
    }
    out
}

/// The chosen reading of each type, as fields.
pub(crate) fn chosen(lines: &[Line<'_>], readings: &[Reading]) -> Vec<Field> {
    let mut types: Vec<FieldType> = readings.iter().map(|r| r.field_type).collect();
    types.sort();
    types.dedup();
    let mut out = Vec::new();
    for field_type in types {
        let best = readings
            .iter()
            .enumerate()
            .filter(|(_, r)| r.field_type == field_type)
            .max_by_key(|(i, r)| {
                let position = if field_type == FieldType::Total {
                    *i
                } else {
                    usize::MAX - i
                };
                (r.same_line, r.label_words, position)
            })
            .map(|(_, r)| r);
        if let Some(reading) = best {
            let weight = if reading.same_line { SAME_LINE } else { BELOW };
            if let Some(field) = reading.span.field(lines, field_type, weight) {
                out.push(field.with_label(reading.label.clone()));
            }
        }
    }
    out
}

/// The buyer: after a `Bill To` label, the rest of its line or the line below for the name, then
/// the lines under the name (at most three, each close below the last and starting near its left)
/// for the address.
pub(crate) fn receiver(lines: &[Line<'_>], labels: &[Vec<Label>]) -> Vec<Field> {
    for (index, line_labels) in labels.iter().enumerate() {
        let Some((k, label)) = line_labels
            .iter()
            .enumerate()
            .find(|(_, l)| l.role == Role::Receiver)
        else {
            continue;
        };
        let Some(line) = lines.get(index) else {
            continue;
        };
        let next_start = line_labels.get(k + 1).map_or(line.words.len(), |l| l.start);
        let name = if label.end < next_start {
            Some(Span {
                line: index,
                start: label.end,
                end: next_start,
            })
        } else {
            below(lines, index, label).map(|(i, (s, e))| Span {
                line: i,
                start: s,
                end: e,
            })
        };
        let Some(name) = name else { continue };
        let label_text = line
            .text_of(label.start, label.end)
            .trim_end_matches(':')
            .to_owned();
        let mut out: Vec<Field> = name
            .field(lines, FieldType::ReceiverName, BELOW)
            .map(|f| f.with_label(label_text.clone()))
            .into_iter()
            .collect();
        let address = block_under(lines, labels, name);
        if let Some(field) = block_field(lines, &address, FieldType::ReceiverAddress, BELOW) {
            out.push(field);
        }
        return out;
    }
    Vec::new()
}

/// The lines under the span's line that continue its block: close below, aligned with it (their
/// left edge near its left, or their centre near its centre: receipts centre their headers),
/// without labels; at most three. Of a line that runs on across the page beside the block
/// (arranged lines join a row of two columns) only the piece aligned with it counts.
pub(crate) fn block_under(lines: &[Line<'_>], labels: &[Vec<Label>], span: Span) -> Vec<Span> {
    let words = span.words(lines);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return Vec::new();
    };
    let left = first.bbox.left();
    let centre = (left + last.bbox.left() + last.bbox.width()) / 2.0;
    let Some(head) = lines.get(span.line) else {
        return Vec::new();
    };
    let height = head.word_height().max(0.005);
    let mut bottom = head.bbox.top() + head.bbox.height();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(span.line + 1) {
        if out.len() == 3 || line.page != head.page {
            break;
        }
        let close = line.bbox.top() <= bottom + 1.2 * height && line.bbox.top() >= bottom - height;
        let aligned = segments(line).into_iter().find(|&(s, e)| {
            let piece = Span {
                line: i,
                start: s,
                end: e,
            };
            let words = piece.words(lines);
            let (Some(a), Some(b)) = (words.first(), words.last()) else {
                return false;
            };
            let (l, r) = (a.bbox.left(), b.bbox.left() + b.bbox.width());
            (l - left).abs() < 3.0 * height || (f32::midpoint(l, r) - centre).abs() < 3.0 * height
        });
        let Some((start, end)) = aligned else { break };
        // A title (`KASSENBON`, `TAX INVOICE`) or an items table's header row ends the block.
        if line
            .words
            .get(start..end)
            .is_some_and(|w| w.iter().all(|w| crate::labels::is_title(&w.key)))
            || crate::items::is_header(line)
        {
            break;
        }
        let labelled = labels.get(i).is_some_and(|l| {
            l.iter()
                .any(|l| l.role != Role::Ignore && l.start < end && l.end > start)
        });
        if !close || labelled {
            break;
        }
        bottom = line.bbox.top() + line.bbox.height();
        out.push(Span {
            line: i,
            start,
            end,
        });
    }
    out
}
