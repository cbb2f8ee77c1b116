//! Dates as printed (`25/11/2026`, `2026-11-25`, `25.11.26`, `25 Nov 2026`, `November 25, 2026`)
//! to ISO 8601, with the deployment's day/month order for the ones a page leaves open.

use crate::model::printed::{NumericDate, digit_groups, numeric_date};

/// The order of day and month in a date whose numbers do not say (`03/04/2026`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum DateOrder {
    /// Day first (`03/04/2026` is 3 April): most of the world, and the default.
    #[default]
    DayFirst,
    /// Month first (`03/04/2026` is 4 March): the United States.
    MonthFirst,
}

impl DateOrder {
    /// The order named in configuration (`day-first`, `month-first`, or the short `dmy`, `mdy`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "day-first" | "dmy" => Some(Self::DayFirst),
            "month-first" | "mdy" => Some(Self::MonthFirst),
            _ => None,
        }
    }
}

/// Month names and their abbreviations in English, German, French and Malay, lowercase, without
/// accents' variants beyond the common ones.
const MONTHS: [(&str, u8); 40] = [
    ("jan", 1),
    ("januar", 1),
    ("janv", 1),
    ("janvier", 1),
    ("feb", 2),
    ("februar", 2),
    ("févr", 2),
    ("fev", 2),
    ("mar", 3),
    ("mär", 3),
    ("märz", 3),
    ("mars", 3),
    ("apr", 4),
    ("avr", 4),
    ("avril", 4),
    ("may", 5),
    ("mai", 5),
    ("mei", 5),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("jul", 7),
    ("juli", 7),
    ("juil", 7),
    ("julai", 7),
    ("aug", 8),
    ("ogos", 8),
    ("août", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("okt", 10),
    ("mac", 3),
    ("nov", 11),
    ("dec", 12),
    ("dez", 12),
    ("dis", 12),
    ("déc", 12),
    ("dezember", 12),
    ("décembre", 12),
];

/// English month names in full.
const FULL: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The month `word` names (an abbreviation or a name in full), if any.
fn month_of(word: &str) -> Option<u8> {
    let word = word.to_lowercase();
    let word = word.trim_end_matches('.');
    if let Some((_, m)) = MONTHS.iter().find(|(name, _)| *name == word) {
        return Some(*m);
    }
    FULL.iter()
        .position(|name| *name == word)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// A year as printed: four digits as they are, two digits in 1970..=2069.
fn full_year(year: u32, short: bool) -> i32 {
    let year = i32::try_from(year).unwrap_or(0);
    if short {
        if year < 70 { 2000 + year } else { 1900 + year }
    } else {
        year
    }
}

/// `year-month-day` in ISO 8601 if that day exists.
fn iso(year: i32, month: u32, day: u32) -> Option<String> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    if !(1900..=2100).contains(&date.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

fn numeric(date: NumericDate, order: DateOrder) -> Option<String> {
    match date {
        NumericDate::YearFirst { year, month, day } => {
            let (month, day) = if month > 12 {
                (day, month)
            } else {
                (month, day)
            };
            iso(full_year(year, false), month, day)
        }
        NumericDate::YearLast {
            first,
            second,
            year,
            short_year,
        } => {
            // The page decides when one number cannot be a month; the deployment otherwise.
            let (day, month) = if first > 12 {
                (first, second)
            } else if second > 12 {
                (second, first)
            } else {
                match order {
                    DateOrder::DayFirst => (first, second),
                    DateOrder::MonthFirst => (second, first),
                }
            };
            iso(full_year(year, short_year), month, day)
        }
    }
}

/// The first date in `text` as ISO 8601 (`2026-11-25`): written in numbers (`25/11/2026`, with `/`,
/// `-` or `.`; the year first or last, two or four digits), or with the month's name (`25 Nov 2026`,
/// `Nov 25, 2026`, `25-Nov-26`). Day and month are in `order` unless one of them is over 12. `None`
/// when `text` holds no date that exists.
pub fn normalize_date(text: &str, order: DateOrder) -> Option<String> {
    for piece in text.split_whitespace() {
        let start = piece.find(|c: char| c.is_ascii_digit());
        let end = piece.rfind(|c: char| c.is_ascii_digit());
        if let (Some(s), Some(e)) = (start, end)
            && let Some((groups, separators)) = piece.get(s..=e).and_then(digit_groups)
            && let Some(date) = numeric_date(&groups, &separators)
            && let Some(iso) = numeric(date, order)
        {
            return Some(iso);
        }
    }
    named_month(text)
}

/// A date with the month's name: a day before or after it, the year after both.
fn named_month(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: Option<&&str>| -> Option<(u32, usize)> {
        let w = w?;
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic()); // 25th
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok().map(|n| (n, digits.len())))
            .flatten()
    };
    for (i, word) in words.iter().enumerate() {
        let Some(month) = month_of(word) else {
            continue;
        };
        let year = |j: usize| {
            number(words.get(j))
                .filter(|(_, len)| *len == 4 || *len == 2)
                .map(|(y, len)| full_year(y, len == 2))
        };
        // 25 Nov 2026
        if let Some((day, _)) = i.checked_sub(1).and_then(|j| number(words.get(j)))
            && let Some(year) = year(i + 1)
            && let Some(iso) = iso(year, u32::from(month), day)
        {
            return Some(iso);
        }
        // Nov 25, 2026
        if let Some((day, len)) = number(words.get(i + 1))
            && len <= 2
            && let Some(year) = year(i + 2)
            && let Some(iso) = iso(year, u32::from(month), day)
        {
            return Some(iso);
        }
    }
    None
}
