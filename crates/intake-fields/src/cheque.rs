//! A cheque: the MICR band at the bottom split into its digit groups (routing, account, cheque
//! number), the payee after `PAY TO THE ORDER OF`, the amount in figures on that line (or the one
//! printed with a currency), the amount in words, and the cheque number at the top right.

use intake_domain::model::{Field, FieldType, amount_in_words, parse_money};

use crate::labels::{Label, Role};
use crate::page::{Line, Span, Word};

/// Layout-read cheque fields are trusted this much; the MICR band, printed to be machine read,
/// more.
const WEIGHT: f32 = 0.85;
const MICR: f32 = 0.9;

/// Digits in a word, and whether the word is only digits and MICR symbols.
fn digit_runs(word: &Word<'_>) -> Vec<String> {
    word.text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| g.len() >= 3)
        .map(str::to_owned)
        .collect()
}

/// The ABA checksum of a nine-digit US routing number.
fn aba_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 9 {
        return false;
    }
    let weighted: u32 = d
        .iter()
        .zip([3, 7, 1, 3, 7, 1, 3, 7, 1])
        .map(|(x, w)| x * w)
        .sum();
    weighted.is_multiple_of(10)
}

/// The MICR band: the lowest line of the page's bottom quarter whose words are mostly digit groups
/// (at least two of three digits or more, digits at least half its characters).
fn micr_line(lines: &[Line<'_>]) -> Option<usize> {
    let page = lines.first()?.page;
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.page == page && l.bbox.top() > 0.6)
        .filter(|(_, l)| {
            let groups: usize = l.words.iter().map(|w| digit_runs(w).len()).sum();
            let text = l.text();
            let digits = text.chars().filter(char::is_ascii_digit).count();
            let letters = text.chars().filter(|c| c.is_alphabetic()).count();
            groups >= 2
                && digits * 2 >= text.chars().filter(|c| !c.is_whitespace()).count()
                && letters <= 3
        })
        .max_by(|(_, a), (_, b)| a.bbox.top().total_cmp(&b.bbox.top()))
        .map(|(i, _)| i)
}

/// A digit group of the band and the word it is in.
struct Group {
    digits: String,
    word: usize,
}

/// The cheque's fields. `top_number` is the cheque number printed at the top right, if read.
pub(crate) fn cheque(lines: &[Line<'_>], labels: &[Vec<Label>]) -> Vec<Field> {
    let mut out = Vec::new();
    let top_number = top_right_number(lines);
    let band = micr_line(lines);
    if let Some(index) = band {
        out.extend(micr(
            lines,
            index,
            top_number.as_ref().map(|(_, d)| d.as_str()),
        ));
    }
    if let Some((span, _)) = &top_number {
        out.retain(|f| f.field_type != FieldType::CheckNumber);
        out.extend(span.field(lines, FieldType::CheckNumber, WEIGHT));
    }
    let payee = payee(lines, labels);
    if let Some((span, _)) = &payee {
        out.extend(span.field(lines, FieldType::Payee, WEIGHT));
    }
    out.extend(amount(lines, payee.map(|(_, line)| line), band));
    out.extend(words(lines, labels));
    out
}

/// The band's groups: the routing number is the nine digits that pass the ABA checksum (else the
/// first group of nine), the cheque number the group that equals the number at the top right (else
/// the shortest group of three to six digits), the account number the longest group left.
fn micr(lines: &[Line<'_>], index: usize, top: Option<&str>) -> Vec<Field> {
    let Some(line) = lines.get(index) else {
        return Vec::new();
    };
    let mut groups: Vec<Group> = line
        .words
        .iter()
        .enumerate()
        .flat_map(|(w, word)| {
            digit_runs(word)
                .into_iter()
                .map(move |digits| Group { digits, word: w })
        })
        .collect();
    let mut out = Vec::new();
    let mut take = |groups: &mut Vec<Group>, at: Option<usize>, field_type: FieldType| {
        if let Some(at) = at
            && at < groups.len()
        {
            let group = groups.remove(at);
            let span = Span {
                line: index,
                start: group.word,
                end: group.word + 1,
            };
            if let Some(mut field) = span.field(lines, field_type, MICR) {
                field.value = group.digits;
                out.push(field);
            }
        }
    };
    let routing = groups
        .iter()
        .position(|g| aba_valid(&g.digits))
        .or_else(|| groups.iter().position(|g| g.digits.len() == 9));
    take(&mut groups, routing, FieldType::RoutingNumber);
    let number = top
        .and_then(|t| {
            groups
                .iter()
                .position(|g| g.digits.trim_start_matches('0') == t.trim_start_matches('0'))
        })
        .or_else(|| {
            groups
                .iter()
                .enumerate()
                .filter(|(_, g)| (3..=6).contains(&g.digits.len()))
                .min_by_key(|(_, g)| g.digits.len())
                .map(|(i, _)| i)
        });
    take(&mut groups, number, FieldType::CheckNumber);
    let account = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.digits.len() >= 5)
        .max_by_key(|(_, g)| g.digits.len())
        .map(|(i, _)| i);
    take(&mut groups, account, FieldType::AccountNumber);
    out
}

/// The number printed at the top right of the first page: three to six digits alone (or after
/// `No.`), in the top third and the right half. The span and its digits.
fn top_right_number(lines: &[Line<'_>]) -> Option<(Span, String)> {
    let page = lines.first()?.page;
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.page == page) {
        if line.bbox.top() > 1.0 / 3.0 {
            continue;
        }
        for (j, word) in line.words.iter().enumerate() {
            let digits: String = word.text.chars().filter(char::is_ascii_digit).collect();
            let only = word
                .text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '#' | '.' | ':'));
            if only
                && (3..=6).contains(&digits.len())
                && word.bbox.left() > 0.5
                && !word.text.contains(['.', ','])
            {
                return Some((
                    Span {
                        line: i,
                        start: j,
                        end: j + 1,
                    },
                    digits,
                ));
            }
        }
    }
    None
}

/// The payee: the words after a payee label up to an amount (or the next label), else the line
/// below. The span and the payee label's line.
fn payee(lines: &[Line<'_>], labels: &[Vec<Label>]) -> Option<(Span, usize)> {
    for (i, line_labels) in labels.iter().enumerate() {
        let Some((k, label)) = line_labels
            .iter()
            .enumerate()
            .find(|(_, l)| l.role == Role::Payee)
        else {
            continue;
        };
        let line = lines.get(i)?;
        let limit = line_labels.get(k + 1).map_or(line.words.len(), |l| l.start);
        let end = (label.end..limit)
            .find(|&j| {
                line.words.get(j).is_some_and(|w| {
                    w.text.chars().any(|c| c.is_ascii_digit())
                        || parse_money(&format!("{} 1.00", w.text))
                            .is_some_and(|m| m.currency.is_some())
                })
            })
            .unwrap_or(limit);
        let end = (label.end..end)
            .rev()
            .find(|&j| line.words.get(j).is_some_and(|w| !w.key.is_empty()))
            .map_or(label.end, |j| j + 1);
        if end > label.end {
            return Some((
                Span {
                    line: i,
                    start: label.end,
                    end,
                },
                i,
            ));
        }
    }
    None
}

/// The amount in figures: on the payee's line, else the first printed with a currency, else the
/// first amount above the MICR band.
fn amount(lines: &[Line<'_>], payee_line: Option<usize>, band: Option<usize>) -> Option<Field> {
    let find = |i: usize| -> Option<Span> {
        let line = lines.get(i)?;
        let j = line.words.iter().rposition(|w| {
            w.text.chars().any(|c| c.is_ascii_digit())
                && w.text.contains(['.', ','])
                && parse_money(w.text).is_some()
        })?;
        let start = if j > 0
            && line.words.get(j - 1).is_some_and(|w| {
                parse_money(&format!("{} 1.00", w.text)).is_some_and(|m| m.currency.is_some())
                    && !w.text.chars().any(|c| c.is_ascii_digit())
            }) {
            j - 1
        } else {
            j
        };
        Some(Span {
            line: i,
            start,
            end: j + 1,
        })
    };
    let page = lines.first()?.page;
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| Some(i) != band && lines.get(i).is_some_and(|l| l.page == page))
        .collect();
    let span = payee_line
        .and_then(find)
        .or_else(|| {
            candidates.iter().find_map(|&i| {
                let span = find(i)?;
                let text = span.text(lines);
                parse_money(&text)?.currency.map(|_| span)
            })
        })
        .or_else(|| candidates.iter().find_map(|&i| find(i)))?;
    span.field(lines, FieldType::Amount, WEIGHT)
}

/// The amount in words: the first line that reads as one (`One thousand ... and 56/100`), its
/// words from the first number word.
fn words(lines: &[Line<'_>], labels: &[Vec<Label>]) -> Option<Field> {
    for (i, line) in lines.iter().enumerate() {
        if labels
            .get(i)
            .is_some_and(|l| l.iter().any(|l| l.role == Role::Payee))
        {
            continue;
        }
        for start in 0..line.words.len().min(3) {
            let text = line.text_of(start, line.words.len());
            if text.chars().filter(|c| c.is_alphabetic()).count() >= 6
                && amount_in_words(&text).is_some()
            {
                let span = Span {
                    line: i,
                    start,
                    end: line.words.len(),
                };
                return span.field(lines, FieldType::AmountInWords, WEIGHT);
            }
        }
    }
    None
}
