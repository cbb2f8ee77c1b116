//! A cheque's amount in words (`One thousand two hundred thirty-four and 56/100 dollars`) as a
//! number, so it can be checked against the amount in figures.

/// Small numbers by name.
const UNITS: [(&str, i64); 28] = [
    ("zero", 0),
    ("no", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
];

/// Words that name the currency or close the amount, and are skipped.
const FILLER: [&str; 16] = [
    "and", "only", "dollars", "dollar", "ringgit", "euros", "euro", "pounds", "pound", "rupees",
    "cents", "cent", "sen", "pence", "exactly", "xx",
];

fn unit(word: &str) -> Option<i64> {
    match word {
        "ninety" => Some(90),
        "forty" | "fourty" => Some(40),
        _ => UNITS
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, n)| *n),
    }
}

/// A run of number words (`two hundred thirty four thousand`) as a number; `None` when a word is
/// not one, or the run is empty.
fn number(words: &[&str]) -> Option<i64> {
    let (mut total, mut current, mut any) = (0_i64, 0_i64, false);
    for word in words {
        match *word {
            "hundred" => current = current.max(1).checked_mul(100)?,
            "thousand" => {
                total = total.checked_add(current.max(1).checked_mul(1000)?)?;
                current = 0;
            }
            "million" => {
                total = total.checked_add(current.max(1).checked_mul(1_000_000)?)?;
                current = 0;
            }
            "a" => {}
            w => current = current.checked_add(unit(w)?)?,
        }
        any = true;
    }
    any.then(|| total.checked_add(current)).flatten()
}

/// Every word an amount in words is written with.
fn vocabulary() -> impl Iterator<Item = &'static str> {
    UNITS
        .iter()
        .map(|(w, _)| *w)
        .chain(FILLER)
        .chain(["ninety", "hundred", "thousand", "million"])
}

/// The vocabulary word `token` is, or was meant to be: itself, or the word nearest to it within
/// one edit (two for words of seven letters or more) when no other word is as near (OCR's
/// `thousamd`, `fiftv`, `DÓLLARS`). Tokens of fewer than four letters are taken only as they are.
fn canonical(token: &str) -> Option<&'static str> {
    if let Some(word) = vocabulary().find(|w| *w == token) {
        return Some(word);
    }
    let letters = token.chars().count();
    if letters < 4 || !token.chars().all(char::is_alphabetic) {
        return None;
    }
    let allowed = if letters >= 7 { 2 } else { 1 };
    let mut best: Option<(usize, &'static str)> = None;
    let mut tied = false;
    for word in vocabulary() {
        let distance = edit_distance(word, token);
        if distance > allowed {
            continue;
        }
        match best {
            Some((d, _)) if distance > d => {}
            Some((d, _)) if distance == d => tied = true,
            _ => {
                best = Some((distance, word));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(_, word)| word)
}

/// The Levenshtein distance between two words, in characters: how far OCR's reading of a word is
/// from the word (the fields' tolerant matching of number words and labels).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let value = (diagonal + usize::from(ca != *cb))
                .min(above.saturating_add(1))
                .min(left.saturating_add(1));
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The amount written in `text`, in cents: English number words for the whole units, then the
/// cents as a fraction (`and 45/100`, `and no/100`, `xx/100`) or in words before `cents` or `sen`
/// (`and forty-five cents`). Currency names, `and`, `only` and hyphens are skipped; a word OCR
/// misread by a letter or two is read as the one number word it is closest to. `None` when a
/// word is neither a number, a fraction nor a filler, or no number is written.
pub fn amount_in_words(text: &str) -> Option<i64> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == '*')
        .map(|t| t.trim_matches(|c: char| matches!(c, '.' | '*' | '(' | ')' | '=' | '~')))
        .filter(|t| !t.is_empty())
        .map(|t| canonical(t).unwrap_or(t))
        .collect();
    let (mut whole, mut cents): (Vec<&str>, Option<i64>) = (Vec::new(), None);
    let mut cent_words: Vec<&str> = Vec::new();
    let mut after_currency = false;
    for token in &tokens {
        if let Some((numerator, denominator)) = token.split_once('/') {
            if denominator != "100" {
                return None;
            }
            cents = Some(match numerator {
                "no" | "xx" | "00" | "" => 0,
                n if n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()) => n.parse().ok()?,
                _ => return None,
            });
            continue;
        }
        if matches!(*token, "cents" | "cent" | "sen" | "pence") {
            cents = Some(number(&cent_words)?);
            cent_words.clear();
            continue;
        }
        if matches!(
            *token,
            "dollars" | "dollar" | "ringgit" | "euros" | "euro" | "pounds" | "pound" | "rupees"
        ) {
            after_currency = true;
            continue;
        }
        if FILLER.contains(token) {
            continue;
        }
        if token.chars().all(char::is_alphabetic) {
            if after_currency {
                cent_words.push(token);
            } else {
                whole.push(token);
            }
            continue;
        }
        return None;
    }
    if !cent_words.is_empty() {
        // Words after the currency but no `cents`: they are cents only if `cents` follows, which it
        // did not, so the text is not an amount as written on cheques.
        return None;
    }
    let units = number(&whole)?;
    units.checked_mul(100)?.checked_add(cents.unwrap_or(0))
}
