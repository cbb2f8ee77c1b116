//! Which stored pages a lookup must return: the necessary condition of the duplicate rule, over the
//! counts of keys a stored page shares with the probe, so an index decides candidacy from its key
//! rows alone, without reading any page's fingerprint.
//!
//! Why it never drops a pair [`DuplicateRule::compare`] flags (the probe page as `a`, the stored one
//! as `b`; `m` of the probe's `T` tokens matched):
//! - by picture (`image` or `image+text`): the hashes are at most `max_image_distance` bits apart,
//!   so `b` is under one of the probe's image keys (see [`probe_keys`](super::probe_keys)); and the
//!   tokens are compatible: no tokens on either page, or `m / (m + only a + only b) ≥
//!   min_image_token_agreement`, so `m / T ≥` it too (the denominator only shrinks);
//! - by text: `m ≥ min_text_matched_tokens` (and at least one: text alone never vouches) and
//!   `m / T ≥ min_text_token_agreement`, as above;
//! - `m` matched tokens are under at least `m − (T − the probe's distinct token keys)` distinct token
//!   keys of the probe (16-bit keys of two tokens may collide), and at least one when `m ≥ 1`.
//!
//! Lookups reach pictures only within [`MAX_INDEXED_DISTANCE`](super::MAX_INDEXED_DISTANCE): a rule
//! configured farther apart is looked up as that.

use super::{BandKey, DuplicateRule, HashKind, PageFingerprint, probe_keys, token_keys};

/// What to look one page up by: its keys, and how many of its token keys a stored page must share
/// to be a candidate (with one of its image keys, or alone).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Probe {
    /// The image keys: every band value within the rule's distance of the page's picture (none
    /// without a picture).
    pub image_keys: Vec<BandKey>,
    /// The page's token keys, each once.
    pub token_keys: Vec<BandKey>,
    /// The fewest shared token keys with which a stored page under one of the image keys is a
    /// candidate; `None` when no picture can make it one (no picture, or a rule no token count
    /// satisfies).
    pub tokens_with_image: Option<usize>,
    /// The fewest shared token keys that make a stored page a candidate by themselves; `None` when
    /// the text basis cannot apply (no tokens, or a rule no token count satisfies).
    pub tokens_alone: Option<usize>,
}

/// The fewest matched tokens `m` of `total` with `m / total ≥ least` (computed as the rule computes
/// agreement), at least `floor`; `None` when none is.
fn least_matched(total: usize, least: f64, floor: usize) -> Option<usize> {
    if total == 0 {
        return (floor == 0).then_some(0);
    }
    let as_f64 = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
    (floor..=total).find(|&m| as_f64(m) / as_f64(total) >= least)
}

impl Probe {
    /// The probe of `page` under `rule`.
    pub fn of(page: &PageFingerprint, rule: &DuplicateRule) -> Self {
        let image_keys = page
            .image
            .map(|h| probe_keys(HashKind::Image, h.0, rule.max_image_distance))
            .unwrap_or_default();
        let tokens = page.text.as_ref().map_or(&[][..], |t| &t.tokens[..]);
        let mut token_keys: Vec<BandKey> = token_keys(tokens).collect();
        token_keys.sort_unstable();
        token_keys.dedup();
        // Tokens that share a key with another of the page's: each is one key fewer to count on.
        let collided = tokens.len() - token_keys.len();
        let keys_for = |matched: usize| match matched {
            0 => 0,
            m => m.saturating_sub(collided).max(1),
        };
        let tokens_with_image = page
            .image
            .and_then(|_| least_matched(tokens.len(), rule.min_image_token_agreement, 0))
            .map(keys_for);
        let tokens_alone = least_matched(
            tokens.len(),
            rule.min_text_token_agreement,
            rule.min_text_matched_tokens.max(1),
        )
        .map(keys_for);
        Self {
            image_keys,
            token_keys,
            tokens_with_image,
            tokens_alone,
        }
    }

    /// Whether a stored page under `image_hits` of the image keys and `token_hits` of the token keys
    /// is a candidate: the rule could call it a duplicate of the probed page.
    pub fn admits(&self, image_hits: usize, token_hits: usize) -> bool {
        let by_image = image_hits > 0 && self.tokens_with_image.is_some_and(|n| token_hits >= n);
        by_image || self.tokens_alone.is_some_and(|n| token_hits >= n)
    }

    /// How many of the image keys and of the token keys `stored` is under.
    pub fn hits(&self, stored: &PageFingerprint) -> (usize, usize) {
        let keys = stored.band_keys();
        let count = |ours: &[BandKey]| {
            ours.iter()
                .filter(|k| keys.binary_search(k).is_ok())
                .count()
        };
        (count(&self.image_keys), count(&self.token_keys))
    }

    /// Whether `stored` is a candidate ([`Self::admits`] on its [`Self::hits`]).
    pub fn admits_page(&self, stored: &PageFingerprint) -> bool {
        let (image, tokens) = self.hits(stored);
        self.admits(image, tokens)
    }

    /// Whether no stored page can be a candidate (nothing to look up).
    pub fn is_void(&self) -> bool {
        let by_image = !self.image_keys.is_empty() && self.tokens_with_image.is_some();
        let by_tokens = !self.token_keys.is_empty() && self.tokens_alone.is_some();
        !by_image && !by_tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FIRST_PAGE, IdToken, ImageHash, MAX_INDEXED_DISTANCE, TokenKind};

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A receipt-like text of the pool's tokens picked by `pick`, words in between.
    fn text(pool: &[&str], pick: &[usize]) -> String {
        let mut lines = vec!["ACME MARKET 12 Harbour Road".to_owned()];
        for &i in pick {
            lines.push(format!("Item line {i} value {}", pool[i]));
        }
        lines.push("Thank you for shopping with us".to_owned());
        lines.join("\n")
    }

    fn page(image: Option<u64>, text: &str) -> PageFingerprint {
        PageFingerprint::new(FIRST_PAGE, image.map(ImageHash), text)
    }

    fn rules() -> Vec<DuplicateRule> {
        let base = DuplicateRule::default();
        let mut rules = vec![base];
        for change in 0..7 {
            let mut rule = base;
            match change {
                0 => rule.min_image_token_agreement = 0.0,
                1 => rule.min_image_token_agreement = 1.0,
                2 => rule.min_text_matched_tokens = 0,
                3 => rule.min_text_matched_tokens = 5,
                4 => rule.min_text_token_agreement = 0.3,
                5 => rule.max_image_distance = 4,
                _ => {
                    rule.max_image_distance = MAX_INDEXED_DISTANCE;
                    rule.max_replaced_tokens = 3;
                    rule.max_text_distance = 40;
                }
            }
            rules.push(rule);
        }
        rules
    }

    /// Every pair the rule calls duplicates is admitted, over random pages drawn from a small pool
    /// of tokens (so pages share many) and pictures near and far, under the default rule and
    /// variants of each threshold; and the condition is selective.
    #[test]
    fn never_drops_a_pair_the_rule_flags() {
        let pool = [
            "12.50",
            "31.00",
            "7.99",
            "1,368.00",
            "2026-11-25",
            "25/11/2026",
            "2026-12-02",
            "004417",
            "004530",
            "6016 1331 9268",
            "88.10",
            "2026-01-09",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut flagged, mut turned_away) = (0, 0);
        for rule in rules() {
            for _ in 0..4000 {
                let picks = |rng: &mut Rng| -> Vec<usize> {
                    let n = rng.below(7);
                    let mut pick: Vec<usize> = (0..n)
                        .map(|_| usize::try_from(rng.below(pool.len() as u64)).unwrap())
                        .collect();
                    pick.sort_unstable();
                    pick.dedup();
                    pick
                };
                let ours = picks(&mut rng);
                let theirs = if rng.below(3) == 0 {
                    ours.clone()
                } else if rng.below(2) == 0 {
                    let mut t = ours.clone();
                    t.retain(|_| rng.below(4) != 0);
                    t.extend(picks(&mut rng).into_iter().take(1));
                    t.sort_unstable();
                    t.dedup();
                    t
                } else {
                    picks(&mut rng)
                };
                let hash = rng.next();
                let other = match rng.below(4) {
                    0 => None,
                    1 => Some(rng.next()),
                    _ => {
                        let mut h = hash;
                        for _ in 0..rng.below(14) {
                            h ^= 1 << rng.below(64);
                        }
                        Some(h)
                    }
                };
                let own_image = (rng.below(6) != 0).then_some(hash);
                let a = page(own_image, &text(&pool, &ours));
                let b = page(other, &text(&pool, &theirs));
                let probe = Probe::of(&a, &rule);
                let admitted = probe.admits_page(&b);
                if rule.compare(&a, &b).is_duplicate() {
                    flagged += 1;
                    assert!(admitted, "{rule:?}\n{a:?}\n{b:?}\n{probe:?}");
                } else if !admitted {
                    turned_away += 1;
                }
            }
        }
        assert!(
            flagged > 3000 && turned_away > 3000,
            "{flagged} {turned_away}"
        );
    }

    /// Two tokens of the probe under one 16-bit key still admit a page matching three tokens.
    #[test]
    fn colliding_token_keys_are_counted_once() {
        let amount = |n: u32| IdToken {
            kind: TokenKind::Amount,
            value: format!("{}.{:02}", n / 100, n % 100),
        };
        let mut seen = std::collections::HashMap::new();
        let (x, y) = (0..200_000)
            .find_map(|n| {
                let key = token_keys(std::slice::from_ref(&amount(n))).next()?;
                seen.insert(key, n).map(|m| (m, n))
            })
            .expect("two amounts under one key");
        let (x, y) = (amount(x), amount(y));
        let words = format!("Shop receipt\nPaid {x}\nTip {y}\nRef 004417\nThanks and see you");
        let a = page(None, &words);
        let b = page(None, &words.replace("Thanks", "Thank"));
        let rule = DuplicateRule::default();
        let verdict = rule.compare(&a, &b);
        assert!(verdict.is_duplicate(), "{verdict:?}");
        assert_eq!(verdict.comparison().matched_tokens.len(), 3);
        let probe = Probe::of(&a, &rule);
        assert_eq!(probe.token_keys.len(), 2);
        assert_eq!(probe.hits(&b), (0, 2));
        assert!(probe.admits_page(&b));
    }

    #[test]
    fn a_page_sharing_one_date_and_no_picture_is_no_candidate() {
        let rule = DuplicateRule::default();
        let receipt = "Shop\nTotal 18.60\n2026-11-25\nReceipt 004417";
        let probe = Probe::of(&page(Some(0x1234), receipt), &rule);
        assert_eq!(probe.tokens_with_image, Some(2), "half of three tokens");
        assert_eq!(probe.tokens_alone, Some(3));
        let same_day = page(
            Some(!0x1234),
            "Other shop\nTotal 4.10\n2026-11-25\nNo 778812",
        );
        assert_eq!(probe.hits(&same_day), (0, 1));
        assert!(!probe.admits_page(&same_day));
        // The same template and day, another receipt: near picture, one shared token.
        let template = page(Some(0x1235), "Shop\nTotal 9.10\n2026-11-25\nReceipt 004418");
        assert_eq!(probe.hits(&template), (4, 1));
        assert!(!probe.admits_page(&template));
        assert!(
            !rule
                .compare(&page(Some(0x1234), receipt), &template)
                .is_duplicate()
        );
        // A page without tokens is looked up by its picture alone; one without either, not at all.
        let bare = Probe::of(&page(Some(0x1234), ""), &rule);
        assert_eq!(bare.tokens_with_image, Some(0));
        assert!(bare.tokens_alone.is_none() && !bare.is_void());
        assert!(Probe::of(&page(None, "no tokens here"), &rule).is_void());
    }
}
