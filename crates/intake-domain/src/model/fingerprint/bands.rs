//! How fingerprints are indexed so that "every hash within distance k" is a few exact lookups.
//!
//! A 64-bit hash is cut into [`BANDS`] bands of [`BAND_BITS`] bits, and an index keeps one entry per
//! band (owner, kind, band index, band value). Two hashes at most `k` bits apart differ in at most
//! `k / BANDS` bits in at least one band (pigeonhole), so a lookup asks, for every band, for the
//! values within that radius of the probe's, and verifies what it finds by the full distance
//! (multi-index hashing; with a radius of 0 it is the classic "k + 1 bands, one equal").
//!
//! Text is looked up by its identifying tokens instead: a page the rule calls a duplicate by its
//! text shares at least [`min_text_matched_tokens`](super::DuplicateRule::min_text_matched_tokens)
//! tokens with it, so every token is a key (its kind as the band, the 64-bit hash of its kind and
//! value as the value: a receipt, cheque or invoice number names a handful of pages, not the
//! hundreds a 16-bit key would hold among a million; a collision only adds a candidate, which the
//! rule then turns down). Text hashes themselves are not indexed: two reads of one photo can be 20
//! bits apart, too far for any band lookup.

use serde::{Deserialize, Serialize};

use super::text::fnv1a;
use super::{IdToken, TokenKind};

/// How many bands a hash is cut into.
pub const BANDS: u8 = 4;
/// The bits of one band.
pub const BAND_BITS: u32 = 16;
/// The largest distance a lookup guarantees to find everything within (a radius of 2 bits a band:
/// 4 × 137 keys).
pub const MAX_INDEXED_DISTANCE: u32 = 3 * BANDS as u32 - 1;

/// Which hash a band is cut from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HashKind {
    /// The page's picture ([`ImageHash`](super::ImageHash)).
    Image,
    /// One of the page's identifying tokens ([`IdToken`]).
    Token,
}

impl HashKind {
    /// Its name in an index (`image`, `text`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Token => "token",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Image, Self::Token]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// One band of one hash: what an index keeps an entry for and looks up exactly.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BandKey {
    /// The hash it is cut from.
    pub kind: HashKind,
    /// Which band, from 0 (the lowest bits) to [`BANDS`] − 1.
    pub band: u8,
    /// The band's bits (an image band's 16; a token's whole 64-bit hash).
    pub value: u64,
}

/// The bands of `hash`: the keys an index stores it under.
pub fn bands_of(kind: HashKind, hash: u64) -> impl Iterator<Item = BandKey> {
    (0..BANDS).map(move |band| BandKey {
        kind,
        band,
        value: band_value(hash, band),
    })
}

fn band_value(hash: u64, band: u8) -> u64 {
    (hash >> (u32::from(band) * BAND_BITS)) & 0xFFFF
}

/// The keys of identifying tokens: one each, the token's kind as the band, the 64-bit hash of its
/// kind and value as the value.
pub fn token_keys(tokens: &[IdToken]) -> impl Iterator<Item = BandKey> + '_ {
    tokens.iter().map(|token| {
        let (band, kind) = match token.kind {
            TokenKind::Amount => (0, "amount"),
            TokenKind::Date => (1, "date"),
            TokenKind::Number => (2, "number"),
        };
        let hash = mixed(fnv1a(format!("{kind}:{}", token.value).as_bytes()));
        BandKey {
            kind: HashKind::Token,
            band,
            value: hash,
        }
    })
}

/// FNV-1a's hash with every bit mixed into every other (MurmurHash3's finaliser): FNV-1a's own
/// top bits barely change with the last character.
fn mixed(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The keys a lookup of every hash within `max_distance` of `hash` asks for: in every band, each
/// value within `max_distance / BANDS` bits of the probe's (distances above
/// [`MAX_INDEXED_DISTANCE`] are looked up as that).
pub fn probe_keys(kind: HashKind, hash: u64, max_distance: u32) -> Vec<BandKey> {
    let radius = max_distance.min(MAX_INDEXED_DISTANCE) / u32::from(BANDS);
    let mut keys = Vec::new();
    for band in 0..BANDS {
        let value = band_value(hash, band);
        let mut near = vec![value];
        if radius >= 1 {
            for i in 0..BAND_BITS {
                near.push(value ^ (1 << i));
            }
        }
        if radius >= 2 {
            for i in 0..BAND_BITS {
                for j in i + 1..BAND_BITS {
                    near.push(value ^ (1 << i) ^ (1 << j));
                }
            }
        }
        keys.extend(near.into_iter().map(|value| BandKey { kind, band, value }));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_stored_under_its_four_bands() {
        let keys: Vec<u64> = bands_of(HashKind::Image, 0x0123_4567_89ab_cdef)
            .map(|k| k.value)
            .collect();
        assert_eq!(keys, [0xcdef, 0x89ab, 0x4567, 0x0123]);
    }

    #[test]
    fn every_hash_within_the_distance_shares_a_probed_key() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for max in [0, 3, 4, 7, 8, MAX_INDEXED_DISTANCE] {
            for _ in 0..300 {
                let hash = next();
                let mut other = hash;
                // Flip exactly `max` distinct bits.
                let mut flipped = 0;
                while flipped < max {
                    let bit = 1u64 << (next() % 64);
                    if other & bit == hash & bit {
                        other ^= bit;
                        flipped += 1;
                    }
                }
                let probe = probe_keys(HashKind::Image, hash, max);
                assert!(
                    bands_of(HashKind::Image, other).any(|k| probe.contains(&k)),
                    "{hash:x} {other:x} at {max}"
                );
            }
        }
        assert_eq!(probe_keys(HashKind::Image, 1, 3).len(), 4);
        assert_eq!(probe_keys(HashKind::Image, 1, 7).len(), 4 * 17);
        assert_eq!(probe_keys(HashKind::Image, 1, 64).len(), 4 * 137);
    }

    #[test]
    fn tokens_are_keyed_by_kind_and_value() {
        let tokens =
            super::super::identifying_tokens("Total 31.00\nNo. 004417\n2026-11-25\nPaid 31,00");
        let keys: Vec<BandKey> = token_keys(&tokens).collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert_eq!(
            keys.iter().map(|k| k.band).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert!(keys.iter().all(|k| k.kind == HashKind::Token));
        let again: Vec<BandKey> = token_keys(&tokens).collect();
        assert_eq!(keys, again);
        // Consecutive numbers (the next receipt of a series) are under different keys.
        let series: std::collections::BTreeSet<u64> = (0..100)
            .flat_map(|n| {
                let tokens = super::super::identifying_tokens(&format!("No. {:06}", 4400 + n));
                token_keys(&tokens).map(|k| k.value).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(series.len(), 100);
    }
}
