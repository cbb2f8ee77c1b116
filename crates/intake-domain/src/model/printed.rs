//! Numbers as documents print them: the one reading of a money amount's digits (`1.234,56`,
//! `1,234.56`, `1'250.00`) and of a date's numbers (`25/11/2026`, `2026-11-25`), shared by the
//! duplicate fingerprints' identifying tokens and by the normalised fields, so both read a page's
//! figures alike.

/// A piece of text (from its first digit to its last) split into its digit groups and the single
/// characters between them; `None` when anything but one character separates two groups (`12ab34`,
/// `1..2`).
pub(crate) fn digit_groups(piece: &str) -> Option<(Vec<&str>, Vec<char>)> {
    if piece.is_empty() {
        return None;
    }
    let groups: Vec<&str> = piece
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let separators: Vec<char> = piece.chars().filter(|c| !c.is_ascii_digit()).collect();
    (separators.len() + 1 == groups.len()).then_some((groups, separators))
}

/// A money amount's digits: its whole units (no grouping, no leading zeros, `0` for none) and its
/// two-digit decimal part.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct AmountDigits {
    /// The whole units, without grouping or leading zeros.
    pub(crate) units: String,
    /// The decimal part, two digits.
    pub(crate) cents: String,
}

/// Digits with a two-digit decimal part after the last `.` or `,`, grouped by the other (or a space
/// or `'`) in threes. With `whole`, digits without a decimal part are an amount too when they are
/// ungrouped or grouped in threes by `,`, `'` or a space (`1,250`, `1250`; not `1.250`, which reads
/// either way), the decimal part then `00`.
pub(crate) fn amount_digits(
    groups: &[&str],
    separators: &[char],
    whole: bool,
) -> Option<AmountDigits> {
    let decimal = separators
        .last()
        .zip(groups.last())
        .filter(|(sep, cents)| matches!(sep, '.' | ',') && cents.len() == 2);
    let (units, grouping, decimal_sep) = match decimal {
        Some((&sep, &cents)) => (
            groups.get(..groups.len() - 1)?,
            separators.get(..separators.len() - 1)?,
            Some((sep, cents)),
        ),
        None if whole => (groups, separators, None),
        None => return None,
    };
    let bad_grouping = |c: char| {
        decimal_sep.is_some_and(|(sep, _)| c == sep)
            || !matches!(c, '.' | ',' | ' ' | '\'')
            || (decimal_sep.is_none() && c == '.')
    };
    if grouping.iter().any(|&c| bad_grouping(c)) || units.is_empty() {
        return None;
    }
    if units.iter().skip(1).any(|g| g.len() != 3)
        || units
            .first()
            .is_some_and(|g| g.len() > 3 && units.len() > 1)
    {
        return None;
    }
    let digits: String = units.concat();
    let digits = digits.trim_start_matches('0');
    Some(AmountDigits {
        units: if digits.is_empty() { "0" } else { digits }.to_owned(),
        cents: decimal_sep.map_or("00", |(_, cents)| cents).to_owned(),
    })
}

/// The numbers of a date written in numbers, as printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NumericDate {
    /// `y-m-d`: the year printed first, with four digits (and, rarely, `y-d-m`: the month is the
    /// number of the two that is at most 12).
    YearFirst {
        /// The year.
        year: u32,
        /// The second number: the month unless it is over 12.
        month: u32,
        /// The third number: the day.
        day: u32,
    },
    /// `a/b/y`: day and month in an order the page does not say (both at most 31, one at most
    /// 12), the year last with two or four digits.
    YearLast {
        /// The first number.
        first: u32,
        /// The second number.
        second: u32,
        /// The year as printed.
        year: u32,
        /// Whether the year was printed with two digits.
        short_year: bool,
    },
}

/// `d/m/y`, `m/d/y`, `y-m-d` (with `/`, `-` or `.`, one kind of separator), if the groups are one.
pub(crate) fn numeric_date(groups: &[&str], separators: &[char]) -> Option<NumericDate> {
    let [first, second, third] = groups else {
        return None;
    };
    let [s1, s2] = separators else {
        return None;
    };
    if s1 != s2 || !matches!(s1, '/' | '-' | '.') {
        return None;
    }
    let number = |g: &str| g.parse::<u32>().ok();
    if first.len() == 4 && second.len() <= 2 && third.len() <= 2 {
        let (month, day) = (number(second)?, number(third)?);
        if month == 0 || day == 0 || month.max(day) > 31 || month.min(day) > 12 {
            return None;
        }
        return Some(NumericDate::YearFirst {
            year: number(first)?,
            month,
            day,
        });
    }
    if first.len() <= 2 && second.len() <= 2 && (third.len() == 4 || third.len() == 2) {
        let (a, b) = (number(first)?, number(second)?);
        if a == 0 || b == 0 || a.max(b) > 31 || a.min(b) > 12 {
            return None;
        }
        return Some(NumericDate::YearLast {
            first: a,
            second: b,
            year: number(third)?,
            short_year: third.len() == 2,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(piece: &str, whole: bool) -> Option<String> {
        let (g, s) = digit_groups(piece)?;
        amount_digits(&g, &s, whole).map(|a| format!("{}.{}", a.units, a.cents))
    }

    #[test]
    fn amounts_read_both_conventions_and_whole_units_only_when_asked() {
        assert_eq!(amount("1.234,56", false).as_deref(), Some("1234.56"));
        assert_eq!(amount("1,234.56", false).as_deref(), Some("1234.56"));
        assert_eq!(amount("007.50", false).as_deref(), Some("7.50"));
        assert_eq!(amount("1,250", false), None);
        assert_eq!(amount("1,250", true).as_deref(), Some("1250.00"));
        assert_eq!(amount("1.250", true), None);
        assert_eq!(amount("1,2345.00", false), None);
        assert_eq!(amount("12ab34", true), None);
    }

    #[test]
    fn dates_keep_what_the_page_says_and_no_more() {
        let date = |p: &str| {
            let (g, s) = digit_groups(p)?;
            numeric_date(&g, &s)
        };
        assert_eq!(
            date("2026-11-25"),
            Some(NumericDate::YearFirst {
                year: 2026,
                month: 11,
                day: 25
            })
        );
        assert_eq!(
            date("03/04/26"),
            Some(NumericDate::YearLast {
                first: 3,
                second: 4,
                year: 26,
                short_year: true
            })
        );
        assert_eq!(date("40/40/2026"), None);
        assert_eq!(date("2026-13-13"), None);
        assert_eq!(date("1/2-2026"), None);
    }
}
