//! Fingerprints of a page, to find the same document when it comes back as another file (re-scanned,
//! re-photographed, re-compressed): issue 27's near-duplicate presentment.
//!
//! A page's fingerprint is its picture's perceptual hash ([`ImageHash`], from a [`PageSketch`] the
//! engine makes from the upright page) and its text's ([`TextFingerprint`]: a SimHash of the words
//! and the identifying tokens). [`DuplicateRule`] decides whether two pages are one document, and
//! says why; [`bands`](bands_of) are how an index finds the candidates without scanning an owner's
//! images, and a [`Probe`]'s plan which of them it reads.

mod bands;
mod found;
mod image;
mod plan;
mod probe;
mod rule;
mod text;
mod tokens;

pub use bands::{
    BAND_BITS, BANDS, BandKey, HashKind, MAX_INDEXED_DISTANCE, bands_of, probe_keys, token_keys,
};
pub use found::{MAX_NEAR_DUPLICATES, NearDuplicate};
pub use image::{ImageHash, PageSketch, SKETCH_SIDE, SketchError};
pub use plan::{KeyEntry, KeyRead, TokenCounts};
pub use probe::Probe;
pub use rule::{Basis, Comparison, DuplicateRule, Verdict};
pub use text::{TextFingerprint, TextHash};
pub use tokens::{IdToken, MIN_NUMBER_DIGITS, TokenKind, identifying_tokens};

use serde::{Deserialize, Serialize};

use super::{OcrResult, PageNumber};

/// What identifies one page of a record: its picture's hash (when an engine saw its pixels) and its
/// text's fingerprint (when it has words).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageFingerprint {
    /// The page, from 1.
    pub page: PageNumber,
    /// The perceptual hash of the upright page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageHash>,
    /// The SimHash and identifying tokens of its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextFingerprint>,
}

impl PageFingerprint {
    /// The fingerprint of page `page`, from its picture's hash and its text.
    pub fn new(page: PageNumber, image: Option<ImageHash>, text: &str) -> Self {
        Self {
            page,
            image,
            text: TextFingerprint::of(text),
        }
    }

    /// The fingerprints of the pages of an OCR result: each page the engine reported (with the
    /// image hash it made, if any) or, from an engine that reports none, each page its lines are on;
    /// each page's text is its lines. Pages with neither a picture nor words are left out.
    pub fn of_result(result: &OcrResult) -> Vec<Self> {
        let mut numbers: Vec<PageNumber> =
            result.pages().iter().map(super::OcrPage::page).collect();
        numbers.extend(result.lines().iter().map(super::OcrLine::page));
        numbers.sort_unstable();
        numbers.dedup();
        numbers
            .into_iter()
            .map(|number| {
                let image = result
                    .pages()
                    .iter()
                    .find(|p| p.page() == number)
                    .and_then(super::OcrPage::image_hash);
                let text: Vec<&str> = result
                    .lines()
                    .iter()
                    .filter(|l| l.page() == number)
                    .map(super::OcrLine::text)
                    .collect();
                Self::new(number, image, &text.join("\n"))
            })
            .filter(|print| !print.is_empty())
            .collect()
    }

    /// How many identifying tokens the page has.
    pub fn token_count(&self) -> usize {
        self.text.as_ref().map_or(0, |t| t.tokens.len())
    }

    /// Whether there is anything to compare (a picture or words).
    pub fn is_empty(&self) -> bool {
        self.image.is_none() && self.text.is_none()
    }

    /// The keys an index stores this page under: the bands of its image hash and its identifying
    /// tokens.
    pub fn band_keys(&self) -> Vec<BandKey> {
        let mut keys: Vec<BandKey> = self
            .image
            .into_iter()
            .flat_map(|h| bands_of(HashKind::Image, h.0))
            .collect();
        keys.extend(self.text.iter().flat_map(|t| token_keys(&t.tokens)));
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The keys a lookup for pages `rule` could call duplicates of this one asks for: the image
    /// hash's within the rule's image distance (pictures near enough), and the identifying tokens
    /// (a duplicate by text shares some).
    pub fn probe_keys(&self, rule: &DuplicateRule) -> Vec<BandKey> {
        let mut keys = Vec::new();
        if let Some(image) = self.image {
            keys.extend(probe_keys(
                HashKind::Image,
                image.0,
                rule.max_image_distance,
            ));
        }
        if let Some(text) = &self.text {
            keys.extend(token_keys(&text.tokens));
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FIRST_PAGE;

    #[test]
    fn a_page_is_stored_under_the_bands_of_what_it_has() {
        let both = PageFingerprint::new(FIRST_PAGE, Some(ImageHash(7)), "Total 12.00");
        assert_eq!(both.band_keys().len(), 5, "four image bands, one token");
        let blank = PageFingerprint::new(FIRST_PAGE, None, " ");
        assert!(blank.is_empty() && blank.band_keys().is_empty());
        let probe = both.probe_keys(&DuplicateRule::default());
        assert!(both.band_keys().iter().all(|k| probe.contains(k)));
    }

    #[test]
    fn a_result_gives_one_fingerprint_per_page_with_its_own_text() {
        use crate::model::{BoundingBox, OcrLine, OcrPage, OcrWord, PageSource};
        let page = |n| PageNumber::new(n).unwrap();
        let line = |text: &str, n| {
            let bbox = BoundingBox::new(0.1, 0.1, 0.5, 0.1).unwrap();
            OcrLine::from_words(vec![OcrWord::new(text, 90.0, bbox).unwrap()])
                .unwrap()
                .on_page(page(n))
        };
        let result = OcrResult::new("e", vec![line("31.00", 1), line("2026-11-25", 3)], false)
            .unwrap()
            .with_pages(vec![
                OcrPage::new(page(1), 10, 10, PageSource::Ocr).with_image_hash(ImageHash(5)),
                OcrPage::new(page(2), 10, 10, PageSource::Ocr),
                OcrPage::new(page(3), 10, 10, PageSource::Ocr),
            ]);
        let prints = PageFingerprint::of_result(&result);
        let pages: Vec<u32> = prints.iter().map(|p| p.page.get()).collect();
        assert_eq!(pages, [1, 3], "page 2 has neither picture nor words");
        assert_eq!(prints[0].image, Some(ImageHash(5)));
        let tokens = |p: &PageFingerprint| {
            p.text
                .as_ref()
                .map(|t| t.tokens.iter().map(ToString::to_string).collect::<Vec<_>>())
        };
        assert_eq!(tokens(&prints[0]), Some(vec!["31.00".to_owned()]));
        assert_eq!(tokens(&prints[1]), Some(vec!["2026-11-25".to_owned()]));
        // Lines of an engine that reports no pages are on the pages they name.
        let bare = OcrResult::new("e", vec![line("Total 4.00", 1)], false).unwrap();
        assert_eq!(PageFingerprint::of_result(&bare).len(), 1);
    }

    #[test]
    fn a_fingerprint_round_trips_through_json() {
        let print = PageFingerprint::new(
            FIRST_PAGE,
            Some(ImageHash(0xABCD)),
            "Paid 31.00 on 2026-11-25",
        );
        let json = serde_json::to_value(&print).unwrap();
        assert_eq!(json["image"], "000000000000abcd");
        assert_eq!(
            serde_json::from_value::<PageFingerprint>(json).unwrap(),
            print
        );
    }
}
