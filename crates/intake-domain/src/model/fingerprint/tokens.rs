//! Identifying tokens: the amounts, dates and long numbers that tell one document of a template from
//! another (a receipt's total and date, a cheque's number and amount, an invoice's number).
//!
//! Read from the OCR text line by line, and written in one canonical form each, so the same value
//! read from two files compares equal: amounts with their decimal part after a point and no grouping
//! (`1.234,56` and `1,234.56` are `1234.56`), dates as their numbers joined by `-` (`25/11/2026` is
//! `25-11-2026`, `2026-11-25` stays), long numbers (at least four digits: cheque, invoice, account
//! numbers) as their digits, the spaces and dashes they were printed with folded away.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::printed::{amount_digits, digit_groups, numeric_date};

/// The fewest digits a number must have to identify a document.
pub const MIN_NUMBER_DIGITS: usize = 4;

/// What kind of value a token is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TokenKind {
    /// A money amount: digits with a two-digit decimal part.
    Amount,
    /// A date written in numbers.
    Date,
    /// A number of at least [`MIN_NUMBER_DIGITS`] digits.
    Number,
}

/// One identifying token in its canonical form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct IdToken {
    /// Its kind.
    pub kind: TokenKind,
    /// Its canonical form (`1234.56`, `25-11-2026`, `000123456`).
    pub value: String,
}

impl IdToken {
    fn new(kind: TokenKind, value: String) -> Self {
        Self { kind, value }
    }
}

impl fmt::Display for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// The identifying tokens of `text`, sorted, each once.
pub fn identifying_tokens(text: &str) -> Vec<IdToken> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut digit_groups: Vec<String> = Vec::new();
        for piece in line.split_whitespace() {
            let piece = trim_to_digits(piece);
            match classify(piece) {
                Some(token) if token.kind == TokenKind::Number && is_digits(piece) => {
                    digit_groups.push(piece.to_owned());
                }
                Some(token) => {
                    flush(&mut digit_groups, &mut out);
                    out.push(token);
                }
                None if is_digits(piece) && piece.len() >= 3 => digit_groups.push(piece.to_owned()),
                None => flush(&mut digit_groups, &mut out),
            }
        }
        flush(&mut digit_groups, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Ends a run of digit groups of three or more digits printed apart (`1234 5678 9012`, a MICR line):
/// each long group is a number, and so is the run joined, as an account number printed in groups is
/// read either way by different scans.
fn flush(groups: &mut Vec<String>, out: &mut Vec<IdToken>) {
    for group in groups.iter().filter(|g| g.len() >= MIN_NUMBER_DIGITS) {
        out.push(IdToken::new(TokenKind::Number, group.clone()));
    }
    if groups.len() > 1 {
        out.push(IdToken::new(TokenKind::Number, groups.concat()));
    }
    groups.clear();
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `piece` from its first ASCII digit to its last (currency signs, `#`, `No.`, brackets and MICR
/// symbols dropped).
fn trim_to_digits(piece: &str) -> &str {
    let start = piece.find(|c: char| c.is_ascii_digit());
    let end = piece.rfind(|c: char| c.is_ascii_digit());
    match (start, end) {
        (Some(s), Some(e)) => piece.get(s..=e).unwrap_or_default(),
        _ => "",
    }
}

/// The token `piece` (from its first digit to its last) is, if any.
fn classify(piece: &str) -> Option<IdToken> {
    // Anything but single separators between digit groups (`12ab34`, `1..2`) is not a value.
    let (groups, separators) = digit_groups(piece)?;
    if numeric_date(&groups, &separators).is_some() {
        // The numbers in the order printed: which is the day is not this token's business.
        let date = groups
            .iter()
            .map(|g| g.trim_start_matches('0').to_owned())
            .collect::<Vec<_>>()
            .join("-");
        return Some(IdToken::new(TokenKind::Date, date));
    }
    if let Some(amount) = amount_digits(&groups, &separators, false) {
        return Some(IdToken::new(
            TokenKind::Amount,
            format!("{}.{}", amount.units, amount.cents),
        ));
    }
    if separators.iter().all(|&c| c == '-' || c == ' ') {
        let digits: String = groups.concat();
        if digits.len() >= MIN_NUMBER_DIGITS {
            return Some(IdToken::new(TokenKind::Number, digits));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(TokenKind, String)> {
        identifying_tokens(text)
            .into_iter()
            .map(|t| (t.kind, t.value))
            .collect()
    }

    #[test]
    fn amounts_are_folded_to_one_form() {
        for (text, want) in [
            ("TOTAL $31.00", "31.00"),
            ("Total: RM1,234.56", "1234.56"),
            ("Summe 1.234,56 EUR", "1234.56"),
            ("Betrag 31,00", "31.00"),
            ("0.50", "0.50"),
            ("CHF 1'250.00", "1250.00"),
        ] {
            assert_eq!(
                values(text),
                vec![(TokenKind::Amount, want.to_owned())],
                "{text}"
            );
        }
    }

    #[test]
    fn dates_keep_their_numbers_in_order() {
        assert_eq!(
            values("Date: 2026-11-25"),
            vec![(TokenKind::Date, "2026-11-25".into())]
        );
        assert_eq!(
            values("25/11/2026"),
            vec![(TokenKind::Date, "25-11-2026".into())]
        );
        assert_eq!(values("05.01.26"), vec![(TokenKind::Date, "5-1-26".into())]);
        assert!(values("40/40/2026").is_empty());
    }

    #[test]
    fn long_numbers_fold_their_separators_and_short_ones_are_left_out() {
        assert_eq!(
            values("Invoice No. INV-004711"),
            vec![(TokenKind::Number, "004711".into())]
        );
        let number = |v: &str| (TokenKind::Number, v.to_owned());
        assert_eq!(
            values("Acct 1234 5678 9012"),
            vec![
                number("1234"),
                number("123456789012"),
                number("5678"),
                number("9012")
            ]
        );
        assert_eq!(
            values("⑆021000021⑆ 1234567⑈ 0101"),
            vec![
                number("0101"),
                number("021000021"),
                number("02100002112345670101"),
                number("1234567"),
            ]
        );
        assert_eq!(
            values("Tel 555 0199"),
            vec![number("0199"), number("5550199")]
        );
        assert!(values("Qty 2 x 12 items, table 7").is_empty());
        assert_eq!(
            values("Qty 2 12.00"),
            vec![(TokenKind::Amount, "12.00".into())]
        );
    }

    #[test]
    fn words_and_odd_pieces_are_not_tokens() {
        assert!(values("THANK YOU come again").is_empty());
        assert!(values("12ab34 1..2 3,4 v1.2.3.4").is_empty());
        assert!(values("").is_empty());
    }
}
