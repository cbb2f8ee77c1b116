//! Where a value is among a label's neighbours: the words that read as the value's kind (the last
//! amount, the first date, the first identifier), on the label's right or on the line below it.

use intake_domain::model::{DateOrder, FieldType, ValueKind, normalize_date, parse_money};

use crate::labels::{Label, Role, labels_in};
use crate::page::{Line, Span, Word};

/// Words that stand between a label and its identifier (`Invoice No. :`, `N°` (whose key is `n`),
/// `Nr.`).
const ID_FILLERS: [&str; 8] = ["no", "#", "nr", "n", "number", "num", "", "ref"];

/// Whether `word` alone is a currency sign or code (`RM`, `€`, `USD`).
fn is_currency(word: &Word<'_>) -> bool {
    parse_money(&format!("{} 1.00", word.text)).is_some_and(|m| m.currency.is_some())
        && !word.text.chars().any(|c| c.is_ascii_digit())
}

/// The words of `line` from `start` to `end` that make a value of `kind`, as a span of `line_index`.
pub(crate) fn value_in(
    lines: &[Line<'_>],
    line_index: usize,
    start: usize,
    end: usize,
    field_type: FieldType,
    order: DateOrder,
) -> Option<Span> {
    let line = lines.get(line_index)?;
    let words = line.words.get(start..end.min(line.words.len()))?;
    let span = |s: usize, e: usize| Span {
        line: line_index,
        start: start + s,
        end: start + e,
    };
    match field_type.value_kind() {
        ValueKind::Amount => {
            let j = words.iter().rposition(|w| {
                w.text.chars().any(|c| c.is_ascii_digit()) && parse_money(w.text).is_some()
                    || words_money(words, w)
            })?;
            let s = if j > 0 && words.get(j - 1).is_some_and(is_currency) {
                j - 1
            } else {
                j
            };
            let e = if words.get(j + 1).is_some_and(is_currency) {
                j + 2
            } else {
                j + 1
            };
            Some(span(s, e))
        }
        ValueKind::Date => {
            for width in 1..=3 {
                for s in 0..words.len() {
                    let e = s + width;
                    if e > words.len() {
                        break;
                    }
                    let text = line.text_of(start + s, start + e);
                    if normalize_date(&text, order).is_some() {
                        return Some(span(s, e));
                    }
                }
            }
            None
        }
        ValueKind::Identifier | ValueKind::Digits => {
            let j = words.iter().position(|w| {
                !ID_FILLERS.contains(&w.key.as_str()) && w.text.chars().any(|c| c.is_ascii_digit())
            })?;
            // Only fillers may stand between the label and the identifier.
            if words
                .get(..j)
                .unwrap_or_default()
                .iter()
                .any(|w| !ID_FILLERS.contains(&w.key.as_str()))
            {
                return None;
            }
            Some(span(j, j + 1))
        }
        _ => {
            let s = words
                .iter()
                .position(|w| !ID_FILLERS.contains(&w.key.as_str()))?;
            Some(span(s, words.len()))
        }
    }
}

/// Whether `w` is a whole number printed next to a currency word (`RM 12`): an amount too.
fn words_money(words: &[Word<'_>], w: &Word<'_>) -> bool {
    let Some(i) = words.iter().position(|x| std::ptr::eq(x, w)) else {
        return false;
    };
    let before = i
        .checked_sub(1)
        .and_then(|b| words.get(b))
        .map(|b| b.text)
        .unwrap_or_default();
    w.text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
        && parse_money(&format!("{before} {}", w.text)).is_some_and(|m| m.currency.is_some())
}

/// Where the value of `label` (on line `index`) is: on its right up to the next label of the line,
/// or else, unless the label is the line's only text and a title (`INVOICE`), on the next line
/// below it, among the words under the label. The span and whether it was on the same line.
pub(crate) fn value_of(
    lines: &[Line<'_>],
    index: usize,
    label: &Label,
    next_start: usize,
    field_type: FieldType,
    order: DateOrder,
) -> Option<(Span, bool)> {
    if let Some(span) = value_in(lines, index, label.end, next_start, field_type, order) {
        return Some((span, true));
    }
    let line = lines.get(index)?;
    let rest_empty = label.end >= next_start.min(line.words.len());
    let title = label.start == 0
        && label.end == line.words.len()
        && line
            .words
            .first()
            .is_some_and(|w| crate::labels::is_title(&w.key))
        && !line.words.last().is_some_and(|w| w.text.ends_with(':'));
    if !rest_empty || title {
        return None;
    }
    let (below, range) = below(lines, index, label)?;
    let (start, end) = range;
    value_in(lines, below, start, end, field_type, order).map(|s| (s, false))
}

/// The next line below `label` on line `index` whose words lie under it (from the label's left to
/// twice its width past its right, or a sixth of the page): that line and the range of its words
/// there. Only a line within two and a half line heights counts, and it must carry no label of
/// its own over those words.
pub(crate) fn below(
    lines: &[Line<'_>],
    index: usize,
    label: &Label,
) -> Option<(usize, (usize, usize))> {
    let line = lines.get(index)?;
    let words = line.words.get(label.start..label.end)?;
    let first = words.first()?;
    let last = words.last()?;
    let left = first.bbox.left();
    let right = last.bbox.left() + last.bbox.width();
    let reach = right + (right - left).max(1.0 / 6.0);
    let height = line.word_height();
    let bottom = line.bbox.top() + line.bbox.height();
    for (i, next) in lines.iter().enumerate().skip(index + 1).take(6) {
        if next.page != line.page {
            return None;
        }
        let top = next.bbox.top();
        if top < bottom - height / 2.0 {
            continue;
        }
        if top > bottom + 2.5 * height {
            return None;
        }
        let under: Vec<usize> = next
            .words
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                let centre = w.bbox.left() + w.bbox.width() / 2.0;
                centre >= left - 0.01 && centre <= reach
            })
            .map(|(j, _)| j)
            .collect();
        let (Some(&s), Some(&e)) = (under.first(), under.last()) else {
            continue;
        };
        if labels_in(next)
            .iter()
            .any(|l| l.role != Role::Ignore && l.start <= e && l.end > s && l.start >= s)
        {
            return None;
        }
        return Some((i, (s, e + 1)));
    }
    None
}
