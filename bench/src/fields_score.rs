//! Scoring section 10: tallies, when a value read matches the truth, FUNSD's linked pairs and the
//! one-to-one matching of key-value pairs.

use intake_domain::model::FieldType;

use crate::support::{BenchError, fail};

/// Hits out of a total.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Tally {
    pub(crate) hits: usize,
    pub(crate) total: usize,
}

impl Tally {
    pub(crate) fn add(&mut self, hit: bool) {
        self.hits += usize::from(hit);
        self.total += 1;
    }

    pub(crate) fn plus(&self, other: &Self) -> Self {
        Self {
            hits: self.hits + other.hits,
            total: self.total + other.total,
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.hits as f64 / self.total.max(1) as f64
    }
}

/// Text folded for comparison: lowercase, letters and digits, single spaces.
pub(crate) fn fold(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a normalised value read matches the truth: equal, except that names (vendor, payee) are
/// compared folded (a receipt's vendor in capitals is the same vendor).
pub(crate) fn same_value(field_type: FieldType, got: &str, expected: &str) -> bool {
    match field_type {
        FieldType::VendorName | FieldType::Payee => fold(got) == fold(expected),
        _ => got == expected,
    }
}

/// FUNSD's linked question → answer pairs of one form (both with text), as (question, answer).
pub(crate) fn funsd_pairs(json: &str) -> Result<Vec<(String, String)>, BenchError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(fail("annotation"))?;
    let form = value["form"].as_array().cloned().unwrap_or_default();
    let by_id = |id: &serde_json::Value| form.iter().find(|e| e["id"] == *id);
    let text = |e: &serde_json::Value| {
        e["text"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    for entity in &form {
        if entity["label"] != "question" {
            continue;
        }
        for link in entity["linking"].as_array().cloned().unwrap_or_default() {
            let (Some(q), Some(a)) = (link.get(0), link.get(1)) else {
                continue;
            };
            if *q != entity["id"] {
                continue;
            }
            if let Some(answer) = by_id(a).filter(|e| e["label"] == "answer") {
                let (q, a) = (text(entity), text(answer));
                if !q.is_empty() && !a.is_empty() {
                    out.push((q, a));
                }
            }
        }
    }
    Ok(out)
}

/// Pairs found, pairs of the truth, and how many matched.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Counts {
    pub(crate) found: usize,
    pub(crate) truth: usize,
    pub(crate) matched: usize,
}

impl Counts {
    pub(crate) fn add(&mut self, matched: usize, found: usize, truth: usize) {
        self.matched += matched;
        self.found += found;
        self.truth += truth;
    }

    pub(crate) fn precision(&self) -> f64 {
        self.matched as f64 / self.found.max(1) as f64
    }

    pub(crate) fn recall(&self) -> f64 {
        self.matched as f64 / self.truth.max(1) as f64
    }

    pub(crate) fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// 1 − the edit distance over the longer length, of the folded texts.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (fold(a).chars().collect(), fold(b).chars().collect());
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    1.0 - row[b.len()] as f64 / longest as f64
}

/// How many found pairs match a truth pair one to one (greedily, in order), label and value each at
/// least `threshold` similar.
pub(crate) fn matched(
    found: &[(String, String)],
    truth: &[(String, String)],
    threshold: f64,
) -> usize {
    let mut used = vec![false; truth.len()];
    let mut count = 0;
    for (label, value) in found {
        let hit = truth.iter().enumerate().position(|(i, (q, a))| {
            !used[i] && similarity(label, q) >= threshold && similarity(value, a) >= threshold
        });
        if let Some(i) = hit {
            used[i] = true;
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_match_one_to_one_when_label_and_value_are_close() {
        let truth = vec![
            ("DATE:".to_owned(), "12/10/98".to_owned()),
            ("TO:".to_owned(), "Bob".to_owned()),
        ];
        let found = vec![
            ("Date".to_owned(), "12/10/98".to_owned()),
            ("Date".to_owned(), "12/10/98".to_owned()),
            ("To".to_owned(), "Rob Smith".to_owned()),
        ];
        assert_eq!(matched(&found, &truth, 0.8), 1);
        assert!(same_value(
            FieldType::VendorName,
            "CORNER CAFE",
            "Corner Cafe"
        ));
        assert!(!same_value(FieldType::Total, "31.00", "31.0"));
        let json = r#"{"form":[{"id":0,"label":"question","text":"Name:","linking":[[0,1]]},
            {"id":1,"label":"answer","text":" Jane  Doe","linking":[[0,1]]},
            {"id":2,"label":"question","text":"Fax:","linking":[]}]}"#;
        assert_eq!(
            funsd_pairs(json).unwrap(),
            vec![("Name:".to_owned(), "Jane Doe".to_owned())]
        );
    }
}
