//! How an index answers a [`Probe`]: which key entries to read (the plan), and which of the pages
//! read are candidates (the shortlist), so a lookup never reads a popular key's entries it does not
//! need.
//!
//! Each key entry of a stored page carries the page's token count and hashes ([`KeyEntry`]). For
//! the stored pages with `n` tokens, the rule flags only those sharing at least `k(n)` of the
//! probe's `K` token keys (see [`Probe`]'s proof), each of which is under one of the `K − k(n) + 1`
//! keys with the fewest pages: the plan reads those keys' entries, for those token counts only,
//! and the shortlist keeps a page when the keys it was found under, with every key not read for its
//! count assumed shared, still meet the condition with its hashes.

use std::collections::BTreeMap;

use super::{BandKey, HashKind, ImageHash, PageFingerprint, Probe, TextHash};
use crate::model::{ImageId, PageNumber};

/// What an index keeps beside each key of a stored page: enough to turn most pages away from the
/// key entries alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct KeyEntry {
    /// The image the page is of.
    pub image_id: ImageId,
    /// The page.
    pub page: PageNumber,
    /// How many identifying tokens the page has.
    pub tokens: u32,
    /// The page's picture hash, if any.
    pub image: Option<ImageHash>,
    /// The page's text hash, if any.
    pub text: Option<TextHash>,
}

impl KeyEntry {
    /// An entry as an index read it back.
    pub fn new(
        image_id: ImageId,
        page: PageNumber,
        tokens: u32,
        image: Option<ImageHash>,
        text: Option<TextHash>,
    ) -> Self {
        Self {
            image_id,
            page,
            tokens,
            image,
            text,
        }
    }

    /// The entry of page `print` of image `image_id`.
    pub fn of(image_id: ImageId, print: &PageFingerprint) -> Self {
        Self {
            image_id,
            page: print.page,
            tokens: u32::try_from(print.token_count()).unwrap_or(u32::MAX),
            image: print.image,
            text: print.text.as_ref().map(|t| t.hash),
        }
    }
}

/// Stored pages' token counts from `least` to `most`, both included.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct TokenCounts {
    /// The smallest count.
    pub least: u32,
    /// The largest count.
    pub most: u32,
}

/// One read of a plan: the entries under `key` of the pages with a token count in one of `tokens`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct KeyRead {
    /// The key.
    pub key: BandKey,
    /// The pages' token counts to read (disjoint, ascending).
    pub tokens: Vec<TokenCounts>,
}

/// The ranges of `u32` token counts where `wanted` holds, given that above `tail_from` it holds on
/// a prefix of the counts (it never holds again once it stops).
fn ranges(tail_from: u32, wanted: impl Fn(u32) -> bool) -> Vec<TokenCounts> {
    let mut out: Vec<TokenCounts> = Vec::new();
    let mut push = |n: u32, most: u32| match out.last_mut() {
        Some(last) if last.most.checked_add(1) == Some(n) => last.most = most,
        _ => out.push(TokenCounts { least: n, most }),
    };
    for n in 0..=tail_from {
        if wanted(n) {
            push(n, n);
        }
    }
    if tail_from < u32::MAX && wanted(tail_from + 1) {
        // The last count past `tail_from` where it holds: a binary search over the prefix.
        let (mut yes, mut no) = (u64::from(tail_from) + 1, u64::from(u32::MAX) + 1);
        while no - yes > 1 {
            let mid = yes + (no - yes) / 2;
            if wanted(u32::try_from(mid).unwrap_or(u32::MAX)) {
                yes = mid;
            } else {
                no = mid;
            }
        }
        push(tail_from + 1, u32::try_from(yes).unwrap_or(u32::MAX));
    }
    out
}

impl Probe {
    /// How many of the rarest token keys are read for stored pages with `n` tokens (`L(n)`): those
    /// that some basis other than a picture needing no token flags share enough of.
    fn keys_read(&self, n: usize) -> usize {
        let by_image = self.keys_by_image(n).filter(|&k| k > 0);
        let least = match (by_image, self.keys_by_text(n)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(k), None) | (None, Some(k)) => k,
            (None, None) => return 0,
        };
        (self.token_keys.len() + 1).saturating_sub(least.max(1))
    }

    /// Whether stored pages with `n` tokens are looked up by the picture's keys: the picture basis
    /// could flag them without a shared token.
    fn read_by_image(&self, n: usize) -> bool {
        !self.image_keys.is_empty() && self.keys_by_image(n) == Some(0)
    }

    /// The reads that find every stored page the probe admits, given how many stored pages are under
    /// each of its token keys (`pages[i]` for `token_keys[i]`; missing counts read as none): for
    /// each token count, the rarest keys it needs (ties in key order), and the picture's keys for
    /// the counts only a picture can flag. Empty when nothing can be a candidate.
    ///
    /// Above the probe's own token count the rule's conditions only tighten as stored pages have
    /// more tokens (`replaced` is `T − m`, agreement falls), so each key is read for one range of
    /// the larger counts, found by a binary search.
    pub fn plan(&self, pages: &[u64]) -> Vec<KeyRead> {
        let tail_from = u32::try_from(self.tokens).unwrap_or(u32::MAX);
        let n_of = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        let mut order: Vec<(u64, usize, BandKey)> = self
            .token_keys
            .iter()
            .enumerate()
            .map(|(i, &key)| (pages.get(i).copied().unwrap_or(0), i, key))
            .collect();
        order.sort_unstable();
        let mut reads = Vec::new();
        for (rank, &(_, _, key)) in order.iter().enumerate() {
            let tokens = ranges(tail_from, |n| self.keys_read(n_of(n)) > rank);
            if !tokens.is_empty() {
                reads.push(KeyRead { key, tokens });
            }
        }
        let by_image = ranges(tail_from, |n| self.read_by_image(n_of(n)));
        if !by_image.is_empty() {
            reads.extend(self.image_keys.iter().map(|&key| KeyRead {
                key,
                tokens: by_image.clone(),
            }));
        }
        reads
    }

    /// The pages among `entries` (what the index holds under the keys of [`Self::plan`], for the
    /// token counts it asked for) that can be candidates: each page's token key hits as found,
    /// every token key not read for its count taken as shared, its hashes checked by
    /// [`Self::admits`]. Each page once, in (image, page) order.
    pub fn shortlist(
        &self,
        entries: impl IntoIterator<Item = (BandKey, KeyEntry)>,
    ) -> Vec<(ImageId, PageNumber)> {
        let mut found: BTreeMap<(ImageId, PageNumber), (KeyEntry, Vec<BandKey>)> = BTreeMap::new();
        for (key, entry) in entries {
            let (_, keys) = found
                .entry((entry.image_id, entry.page))
                .or_insert_with(|| (entry, Vec::new()));
            if key.kind == HashKind::Token && !keys.contains(&key) {
                keys.push(key);
            }
        }
        found
            .into_iter()
            .filter(|(_, (entry, keys))| {
                let n = usize::try_from(entry.tokens).unwrap_or(usize::MAX);
                let unread = self.token_keys.len() - self.keys_read(n).min(self.token_keys.len());
                self.admits(n, entry.image, entry.text, keys.len() + unread)
            })
            .map(|(page, _)| page)
            .collect()
    }
}
