//! The text fingerprint: a 64-bit SimHash over word pairs of the normalised OCR text, and the
//! identifying tokens as their own set.
//!
//! Words are the search's words ([`index_words`](crate::model::index_words): case, diacritics and
//! punctuation folded), so a document reads the same to search and to duplicate detection. Each pair
//! of neighbouring words votes for the bits of its (FNV-1a, stable across builds) hash; a misread
//! word changes two votes, so two reads of one document land a few bits apart, as do two documents
//! of one template: the tokens tell those apart.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::tokens::{IdToken, identifying_tokens};
use crate::model::index_words;

/// A 64-bit SimHash of a text; near texts have hashes a small Hamming distance apart. Written as 16
/// hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextHash(pub u64);

impl TextHash {
    /// The SimHash of `text`'s normalised word pairs (of its one word, when it has only one);
    /// `None` for a text without words.
    pub fn of(text: &str) -> Option<Self> {
        let normalized = index_words(text);
        let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return None;
        }
        let mut votes = [0i64; 64];
        let mut vote = |feature: u64| {
            for (bit, count) in votes.iter_mut().enumerate() {
                *count += if (feature >> bit) & 1 == 1 { 1 } else { -1 };
            }
        };
        if let [only] = words.as_slice() {
            vote(fnv1a(only.as_bytes()));
        }
        for pair in words.windows(2) {
            if let [a, b] = pair {
                vote(fnv1a(format!("{a} {b}").as_bytes()));
            }
        }
        let bits = votes.iter().enumerate().fold(0u64, |acc, (bit, &count)| {
            acc | (u64::from(count > 0) << bit)
        });
        Some(Self(bits))
    }

    /// How many bits differ.
    pub fn distance(self, other: Self) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

/// FNV-1a, 64 bits: a hash that every build and every adapter computes alike.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl fmt::Debug for TextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TextHash({:016x})", self.0)
    }
}

impl fmt::Display for TextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for TextHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TextHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 16 {
            return Err(serde::de::Error::custom("a text hash is 16 hex digits"));
        }
        u64::from_str_radix(&text, 16)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("a text hash is 16 hex digits"))
    }
}

/// What a page's text says about its identity: the SimHash of its words and its identifying tokens.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TextFingerprint {
    /// The SimHash of the words.
    pub hash: TextHash,
    /// The amounts, dates and long numbers, sorted, each once.
    pub tokens: Vec<IdToken>,
}

impl TextFingerprint {
    /// The fingerprint of `text`; `None` for a text without words.
    pub fn of(text: &str) -> Option<Self> {
        Some(Self {
            hash: TextHash::of(text)?,
            tokens: identifying_tokens(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIPT: &str = "ACME MARKET\n12 Harbour Road\nMilk 2.50\nBread 3.20\nCoffee beans 12.90\n\
        Apples 4.10\nTOTAL 22.70\nCard **** 4821\n2026-11-25 14:02\nThank you for shopping with us";

    #[test]
    fn case_accents_and_punctuation_do_not_move_the_hash() {
        let a = TextHash::of("Café Rouge: total, paid.").unwrap();
        let b = TextHash::of("CAFE ROUGE total paid").unwrap();
        assert_eq!(a, b);
        assert!(TextHash::of(" ,.; ").is_none());
        assert!(TextHash::of("word").is_some());
    }

    #[test]
    fn a_misread_word_moves_it_a_little_another_text_a_lot() {
        let base = TextHash::of(RECEIPT).unwrap();
        let misread = TextHash::of(&RECEIPT.replace("Harbour", "Harb0ur")).unwrap();
        let other = TextHash::of(
            "Invoice 1182\nBill to Northwind Traders\nConsulting services November\n\
             Hours 12 at 95.00\nSubtotal 1140.00\nVAT 228.00\nTotal due 1368.00\nPayable within 30 days",
        )
        .unwrap();
        assert!(base.distance(misread) <= 12, "{}", base.distance(misread));
        assert!(base.distance(other) >= 20, "{}", base.distance(other));
    }

    #[test]
    fn hashes_are_stable_across_builds() {
        // FNV-1a of "a b" and the hash of a fixed text, pinned: a stored fingerprint must keep
        // matching new ones.
        assert_eq!(fnv1a(b"a b"), 0xe63f_9919_0483_3892);
        assert_eq!(
            TextHash::of("pay to the order of").map(|h| h.to_string()),
            TextHash::of("PAY to the order, of").map(|h| h.to_string())
        );
    }

    #[test]
    fn the_fingerprint_carries_the_tokens() {
        let print = TextFingerprint::of(RECEIPT).unwrap();
        let values: Vec<&str> = print.tokens.iter().map(|t| t.value.as_str()).collect();
        assert!(
            values.contains(&"22.70") && values.contains(&"2026-11-25"),
            "{values:?}"
        );
        assert!(values.contains(&"4821"), "{values:?}");
    }
}
