//! Which stored pages a lookup must return: the necessary condition of the duplicate rule over what
//! an index keeps beside every key of a stored page (its token count and hashes, see
//! [`KeyEntry`](super::KeyEntry)) and the number of the probe's token keys it is under, so an index
//! decides candidacy from its key rows alone, without reading any page's fingerprint.
//!
//! Why it never drops a pair [`DuplicateRule::compare`] flags (the probe page as `a` with `T`
//! tokens, the stored one as `b` with `n`; `m` tokens matched): the rule measures
//! `replaced = min(T − m, n − m)` and `agreement = m / (T + n − m)` (none when both pages have no
//! tokens), so for each `n` the matched counts it accepts are known in advance, per basis:
//! - by picture (`image` or `image+text`): the pictures at most `max_image_distance` bits apart,
//!   `replaced ≤ max_replaced_tokens`, and no agreement or `agreement ≥ min_image_token_agreement`;
//! - by text: the text hashes at most `max_text_distance` bits apart, `replaced ≤
//!   max_replaced_tokens`, `agreement ≥ min_text_token_agreement` and `m ≥
//!   min_text_matched_tokens` (at least one: text alone never vouches);
//! - `m` matched tokens are under at least `m − (T − the probe's distinct token keys)` distinct
//!   token keys of the probe (two tokens' 64-bit keys may collide), and at least one when `m ≥ 1`;
//!   the smallest `m` a basis accepts gives the fewest keys `k(n)` a flagged page shares.
//!
//! A page sharing at least `k` of the probe's `K` token keys is under at least one of any `K − k + 1`
//! of them (prefix filtering): the [`plan`](Probe::plan) reads, for the stored pages of each token
//! count, only the rarest `K − k(n) + 1` keys. Only a page the picture basis could flag without any
//! shared token (a probe without tokens, or a rule asking no agreement) is looked up by the picture's
//! band keys, which reach pictures within [`MAX_INDEXED_DISTANCE`](super::MAX_INDEXED_DISTANCE).

use super::{
    BandKey, DuplicateRule, HashKind, ImageHash, PageFingerprint, TextHash, probe_keys, token_keys,
};

/// What to look one page up by: its hashes and keys, and the rule whose necessary condition decides
/// which stored pages are candidates.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct Probe {
    /// The page's picture hash, if it has a picture.
    pub image: Option<ImageHash>,
    /// The page's text hash, if it has words.
    pub text: Option<TextHash>,
    /// The image keys: every band value within the rule's distance of the page's picture, when a
    /// stored page could be a duplicate without sharing a token (none otherwise: the token keys
    /// find every candidate).
    pub image_keys: Vec<BandKey>,
    /// The page's token keys, each once.
    pub token_keys: Vec<BandKey>,
    /// The page's identifying tokens (`T`).
    pub(super) tokens: usize,
    /// Tokens under a key another of the page's tokens is under too.
    collided: usize,
    /// The rule the candidates are for.
    rule: DuplicateRule,
}

/// The two bases the rule flags on, as far as tokens go.
#[derive(Clone, Copy)]
enum Basis {
    Image,
    Text,
}

fn as_f64(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

impl Probe {
    /// The probe of `page` under `rule`.
    pub fn of(page: &PageFingerprint, rule: &DuplicateRule) -> Self {
        let tokens = page.text.as_ref().map_or(&[][..], |t| &t.tokens[..]);
        let mut token_keys: Vec<BandKey> = token_keys(tokens).collect();
        token_keys.sort_unstable();
        token_keys.dedup();
        let mut probe = Self {
            image: page.image,
            text: page.text.as_ref().map(|t| t.hash),
            image_keys: Vec::new(),
            collided: tokens.len() - token_keys.len(),
            token_keys,
            tokens: tokens.len(),
            rule: *rule,
        };
        // A stored page shares no token yet may be flagged by its picture only when no matched
        // token is needed: the probe has none (a stored page without any), or the rule asks no
        // agreement (see `least_keys`).
        if let Some(image) = page.image
            && (probe.tokens == 0 || rule.min_image_token_agreement <= 0.0)
        {
            probe.image_keys = probe_keys(HashKind::Image, image.0, rule.max_image_distance);
        }
        probe
    }

    /// The fewest of the probe's token keys a stored page with `n` tokens shares when `basis` flags
    /// it; `None` when the basis cannot (whatever the hashes).
    fn least_keys(&self, basis: Basis, n: usize) -> Option<usize> {
        let (t, rule) = (self.tokens, &self.rule);
        let (floor, least) = match basis {
            Basis::Image => (0, rule.min_image_token_agreement),
            Basis::Text => (
                rule.min_text_matched_tokens.max(1),
                rule.min_text_token_agreement,
            ),
        };
        let matched = (floor..=t.min(n)).find(|&m| {
            let replaced = (t - m).min(n - m);
            let all = t + n - m;
            let agrees = if all == 0 {
                matches!(basis, Basis::Image)
            } else {
                as_f64(m) / as_f64(all) >= least
            };
            replaced <= rule.max_replaced_tokens && agrees
        })?;
        Some(match matched {
            0 => 0,
            m => m.saturating_sub(self.collided).max(1),
        })
    }

    /// The fewest token keys the picture basis needs of a stored page with `n` tokens (`None`
    /// without a picture to compare).
    pub(super) fn keys_by_image(&self, n: usize) -> Option<usize> {
        self.image.and_then(|_| self.least_keys(Basis::Image, n))
    }

    /// The fewest token keys the text basis needs of a stored page with `n` tokens.
    pub(super) fn keys_by_text(&self, n: usize) -> Option<usize> {
        self.text.and_then(|_| self.least_keys(Basis::Text, n))
    }

    /// Whether a stored page with `n` tokens, picture `image` and text `text`, under `token_hits`
    /// of the probe's token keys, could be flagged: the picture near enough and enough shared keys
    /// for the picture basis, or the text near enough and enough for the text basis.
    pub fn admits(
        &self,
        n: usize,
        image: Option<ImageHash>,
        text: Option<TextHash>,
        token_hits: usize,
    ) -> bool {
        let image_near = self
            .image
            .zip(image)
            .is_some_and(|(a, b)| a.distance(b) <= self.rule.max_image_distance);
        let text_near = self
            .text
            .zip(text)
            .is_some_and(|(a, b)| a.distance(b) <= self.rule.max_text_distance);
        let by_image = image_near && self.keys_by_image(n).is_some_and(|k| token_hits >= k);
        let by_text = text_near && self.keys_by_text(n).is_some_and(|k| token_hits >= k);
        by_image || by_text
    }

    /// How many of the probe's token keys `stored` is under.
    pub fn token_hits(&self, stored: &PageFingerprint) -> usize {
        let keys = stored.band_keys();
        self.token_keys
            .iter()
            .filter(|k| keys.binary_search(k).is_ok())
            .count()
    }

    /// Whether `stored` is a candidate ([`Self::admits`] on its token count, hashes and
    /// [`Self::token_hits`]).
    pub fn admits_page(&self, stored: &PageFingerprint) -> bool {
        self.admits(
            stored.token_count(),
            stored.image,
            stored.text.as_ref().map(|t| t.hash),
            self.token_hits(stored),
        )
    }

    /// Whether no stored page can be a candidate (nothing to look up).
    pub fn is_void(&self) -> bool {
        self.plan(&[]).is_empty()
    }
}

#[cfg(test)]
mod tests;
