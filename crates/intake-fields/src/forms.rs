//! A form's labelled answers (`KEY_VALUE`): a label is words ending in a colon; its value is what
//! follows on the line up to the next label, or, for a label that ends its line, the line below it.
//! Where two pairs share a line (`Name: A. Smith  Date: 3/4/98`), the next label starts after the
//! widest gap before its colon.

use intake_domain::model::{Field, FieldType};

use crate::page::{Line, Span, segments};
use crate::values::below;

/// Read from layout and punctuation alone.
const WEIGHT: f32 = 0.7;
/// Read from a gap alone, without a colon.
const GAP_WEIGHT: f32 = 0.5;
/// The longest label, in words.
const MAX_LABEL_WORDS: usize = 6;

/// A label: its words, the colon on the last.
#[derive(Clone, Copy)]
struct Key {
    start: usize,
    end: usize,
}

/// The widest gap between consecutive words of `line` in `start..end`: the index of the word after
/// it.
fn widest_gap(line: &Line<'_>, start: usize, end: usize) -> Option<usize> {
    (start + 1..end)
        .filter_map(|j| {
            let a = line.words.get(j - 1)?;
            let b = line.words.get(j)?;
            Some((j, b.bbox.left() - (a.bbox.left() + a.bbox.width())))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(j, _)| j)
}

fn keys(line: &Line<'_>) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    let mut from = 0;
    for (j, word) in line.words.iter().enumerate() {
        let is_key = word.text.ends_with(':')
            && word.text.chars().filter(|c| c.is_alphabetic()).count() >= 1
            && !word
                .text
                .chars()
                .take(word.text.len().saturating_sub(1))
                .all(|c| c.is_ascii_digit());
        if !is_key {
            continue;
        }
        let start = if from == 0 && out.is_empty() {
            0
        } else {
            // The previous value ends at the widest gap before this label's last word.
            widest_gap(line, from, j + 1).unwrap_or(j).max(from)
        };
        let start = start.max(j + 1 - MAX_LABEL_WORDS.min(j + 1));
        out.push(Key { start, end: j + 1 });
        from = j + 1;
    }
    out
}

/// Every labelled pair of the page as `KEY_VALUE` fields, the label without its colon.
pub(crate) fn key_values(lines: &[Line<'_>]) -> Vec<Field> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let keys = keys(line);
        for (k, key) in keys.iter().enumerate() {
            let label = line.text_of(key.start, key.end);
            let label = label.trim_end_matches(':').trim();
            if label.is_empty() {
                continue;
            }
            let limit = keys.get(k + 1).map_or(line.words.len(), |n| n.start);
            let span = if key.end < limit {
                Some(Span {
                    line: i,
                    start: key.end,
                    end: limit,
                })
            } else {
                let as_label = crate::labels::Label {
                    role: crate::labels::Role::Ignore,
                    start: key.start,
                    end: key.end,
                };
                below(lines, i, &as_label)
                    .filter(|(b, (s, e))| {
                        // A line below that is itself a pair is another pair, not this value.
                        lines.get(*b).is_some_and(|l| {
                            !l.words
                                .get(*s..*e)
                                .unwrap_or_default()
                                .iter()
                                .any(|w| w.text.ends_with(':'))
                                && gap_pair(l).is_none()
                        })
                    })
                    .map(|(b, (s, e))| Span {
                        line: b,
                        start: s,
                        end: e,
                    })
            };
            if let Some(field) = span.and_then(|s| s.field(lines, FieldType::KeyValue, WEIGHT)) {
                out.push(field.with_label(label));
            }
        }
    }
    out
}

/// The label and value pieces of a line printed as a pair without a colon: two pieces apart (see
/// [`segments`]), the first a label (letters, at most six words, no digit), no colon on the line.
fn gap_pair(line: &Line<'_>) -> Option<((usize, usize), (usize, usize))> {
    if line.words.iter().any(|w| w.text.ends_with(':')) {
        return None;
    }
    let [(ls, le), value] = segments(line)[..] else {
        return None;
    };
    let label = line.text_of(ls, le);
    let letters = label.chars().filter(|c| c.is_alphabetic()).count();
    (le - ls <= MAX_LABEL_WORDS && letters >= 2 && !label.chars().any(|c| c.is_ascii_digit()))
        .then_some(((ls, le), value))
}

/// A form's pairs printed without a colon ([`gap_pair`]). Only for a document already read as a
/// form: on a receipt the same shape is an item and its price (and on the development set's forms
/// read as `other`, adding them lowered F1 from 0.274 to 0.270).
pub(crate) fn gap_pairs(lines: &[Line<'_>]) -> Vec<Field> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(((ls, le), (vs, ve))) = gap_pair(line) else {
            continue;
        };
        let span = Span {
            line: i,
            start: vs,
            end: ve,
        };
        if let Some(field) = span.field(lines, FieldType::KeyValue, GAP_WEIGHT) {
            out.push(field.with_label(line.text_of(ls, le)));
        }
    }
    out
}
