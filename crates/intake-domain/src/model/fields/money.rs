//! Money amounts as printed: digits in either grouping convention (through the shared reading of
//! [`crate::model::printed`]) and the currency where one is printed beside them.

use crate::model::printed::{amount_digits, digit_groups};

/// A money amount: cents and the printed currency.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Money {
    /// The amount in hundredths of the unit.
    pub cents: i64,
    /// The currency printed with it: an ISO 4217 code, or the sign where it names several (`$`).
    pub currency: Option<String>,
}

impl Money {
    /// The amount as a decimal string with two decimals (`1234.56`, `-3.00`).
    pub fn decimal(&self) -> String {
        decimal(self.cents)
    }
}

/// `cents` as a decimal string with two decimals.
pub(crate) fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The cents of a normalised amount (`1234.56`, `-3.00`).
pub(crate) fn cents_of(normalized: &str) -> Option<i64> {
    let (negative, digits) = normalized
        .strip_prefix('-')
        .map_or((false, normalized), |rest| (true, rest));
    let (units, cents) = digits.split_once('.')?;
    if cents.len() != 2 || units.is_empty() || units.len() > 15 {
        return None;
    }
    let value = units.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?;
    Some(if negative { -value } else { value })
}

/// Currency signs and codes as printed, longest first (so `S$` is not read as `$`), with what they
/// normalise to.
const CURRENCIES: [(&str, &str); 22] = [
    ("MYR", "MYR"),
    ("USD", "USD"),
    ("EUR", "EUR"),
    ("GBP", "GBP"),
    ("SGD", "SGD"),
    ("AUD", "AUD"),
    ("CAD", "CAD"),
    ("CHF", "CHF"),
    ("JPY", "JPY"),
    ("INR", "INR"),
    ("IDR", "IDR"),
    ("US$", "USD"),
    ("S$", "SGD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("RM", "MYR"),
    ("Rp", "IDR"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("¥", "¥"),
    ("$", "$"),
];

/// The currency `piece` starts or ends with, and what is left of it.
fn strip_currency(piece: &str) -> (Option<&'static str>, &str) {
    for (printed, code) in CURRENCIES {
        if let Some(rest) = piece.strip_prefix(printed) {
            return (Some(code), rest);
        }
        if let Some(rest) = piece.strip_suffix(printed) {
            return (Some(code), rest);
        }
    }
    (None, piece)
}

/// The money amount in `text`: the last piece that reads as digits with a two-digit decimal part
/// (`1,234.56`, `1.234,56`), or as whole units next to a currency (`$1,250`); the currency printed
/// in the piece or beside it (`RM 12.00`, `12,50 €`); negative when it starts with `-` or is in
/// brackets. `None` when no piece is an amount.
pub fn parse_money(text: &str) -> Option<Money> {
    let pieces: Vec<&str> = text.split_whitespace().collect();
    let mut found: Option<Money> = None;
    for (i, raw) in pieces.iter().enumerate() {
        let negative = raw.starts_with('-') || (raw.starts_with('(') && raw.ends_with(')'));
        let trimmed = raw.trim_matches(|c: char| matches!(c, '(' | ')' | '-' | '+' | ':' | '*'));
        let (mut currency, rest) = strip_currency(trimmed);
        let start = rest.find(|c: char| c.is_ascii_digit());
        let end = rest.rfind(|c: char| c.is_ascii_digit());
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        // Anything but a number inside the piece (`12kg`, `No.5`) is not an amount.
        if start != 0 || end + 1 != rest.len() {
            continue;
        }
        let Some(number) = rest.get(start..=end) else {
            continue;
        };
        let Some((groups, separators)) = digit_groups(number) else {
            continue;
        };
        let beside = |j: Option<usize>| {
            j.and_then(|j| pieces.get(j))
                .and_then(|p| match strip_currency(p) {
                    (Some(code), "") => Some(code),
                    _ => None,
                })
        };
        currency = currency
            .or_else(|| beside(i.checked_sub(1)))
            .or_else(|| beside(i.checked_add(1)));
        let Some(digits) = amount_digits(&groups, &separators, currency.is_some()) else {
            continue;
        };
        if digits.units.len() > 15 {
            continue;
        }
        let Ok(units) = digits.units.parse::<i64>() else {
            continue;
        };
        let Ok(cents) = digits.cents.parse::<i64>() else {
            continue;
        };
        let value = units * 100 + cents;
        found = Some(Money {
            cents: if negative { -value } else { value },
            currency: currency.map(str::to_owned),
        });
    }
    found
}
