//! The rule that calls two pages the same document, and why.
//!
//! - near-identical pictures *and* compatible identifying tokens: a duplicate (`image`, or
//!   `image+text` when the words and tokens agree as well);
//! - near-identical pictures with different amounts, dates or numbers: the same template, not a
//!   duplicate;
//! - pictures too different (another photo of the paper) but words and tokens that agree strongly:
//!   a duplicate (`text`).

use serde::{Deserialize, Serialize};

use super::{IdToken, PageFingerprint};

/// The thresholds of the duplicate rule: configuration, with defaults measured on rendered receipts,
/// cheques and invoices and their re-scanned variants.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct DuplicateRule {
    /// The largest Hamming distance between image hashes of near-identical pictures.
    pub max_image_distance: u32,
    /// The least share of identifying tokens (matched ÷ all, of both pages) for near-identical
    /// pictures to be the same document.
    pub min_image_token_agreement: f64,
    /// The most tokens one page may have in place of others of the other page (see
    /// [`Comparison::replaced_tokens`]) for the pages to be the same document: one is an OCR misread,
    /// two are another document of the template (another date and number, another amount).
    pub max_replaced_tokens: usize,
    /// The largest Hamming distance between text hashes of pages that read alike.
    pub max_text_distance: u32,
    /// The least token agreement for pages whose pictures differ to be the same document by their
    /// text.
    pub min_text_token_agreement: f64,
    /// The fewest matched tokens for pages whose pictures differ to be the same document by their
    /// text (at least one, whatever is configured: words alone never vouch for a document, and
    /// lookups find such pages by their shared tokens).
    pub min_text_matched_tokens: usize,
}

impl Default for DuplicateRule {
    fn default() -> Self {
        Self {
            max_image_distance: 10,
            min_image_token_agreement: 0.5,
            max_replaced_tokens: 1,
            max_text_distance: 22,
            min_text_token_agreement: 0.75,
            min_text_matched_tokens: 3,
        }
    }
}

/// What made two pages duplicates.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Basis {
    /// Near-identical pictures, with tokens that do not disagree.
    #[serde(rename = "image")]
    Image,
    /// Words and identifying tokens that agree, the pictures too far apart.
    #[serde(rename = "text")]
    Text,
    /// Near-identical pictures and agreeing words and tokens.
    #[serde(rename = "image+text")]
    ImageAndText,
}

impl Basis {
    /// Its name in the API (`image`, `text`, `image+text`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Text => "text",
            Self::ImageAndText => "image+text",
        }
    }
}

/// How two pages compare: the measures the rule looked at.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct Comparison {
    /// Bits apart of the image hashes, when both pages have one.
    pub image_distance: Option<u32>,
    /// Bits apart of the text hashes, when both pages have text.
    pub text_distance: Option<u32>,
    /// Matched tokens ÷ the tokens of either page; `None` when neither has any.
    pub token_agreement: Option<f64>,
    /// The tokens both pages have.
    pub matched_tokens: Vec<IdToken>,
    /// The tokens only one page has (what makes a look-alike another document).
    pub differing_tokens: Vec<IdToken>,
    /// How many of one page's tokens stand where the other has others: the fewer of the two pages'
    /// own tokens (a token only one page has, the other having none in its place, is a token OCR
    /// missed).
    pub replaced_tokens: usize,
}

/// The rule's answer, with its reasons.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum Verdict {
    /// The same document: on what basis, with a similarity from 0 to 1 (the mean of the measures
    /// the basis rests on).
    Duplicate {
        /// What made it one.
        basis: Basis,
        /// How alike, from 0 to 1.
        similarity: f64,
        /// The measures.
        comparison: Comparison,
    },
    /// Different documents (or too little to tell), with the measures that said so.
    Distinct {
        /// Near-identical pictures whose tokens disagree: the same template.
        same_template: bool,
        /// The measures.
        comparison: Comparison,
    },
}

impl Verdict {
    /// Whether the pages are the same document.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate { .. })
    }

    /// The measures behind the verdict.
    pub fn comparison(&self) -> &Comparison {
        match self {
            Self::Duplicate { comparison, .. } | Self::Distinct { comparison, .. } => comparison,
        }
    }
}

/// `1 − bits / 64`: a distance as a similarity.
fn closeness(distance: u32) -> f64 {
    1.0 - f64::from(distance.min(64)) / 64.0
}

impl DuplicateRule {
    /// Compares two pages' fingerprints.
    pub fn compare(&self, a: &PageFingerprint, b: &PageFingerprint) -> Verdict {
        let comparison = measure(a, b);
        let image_near = comparison
            .image_distance
            .is_some_and(|d| d <= self.max_image_distance);
        let text_near = comparison
            .text_distance
            .is_some_and(|d| d <= self.max_text_distance);
        let agreement = comparison.token_agreement;
        let few_replaced = comparison.replaced_tokens <= self.max_replaced_tokens;
        let tokens_compatible =
            few_replaced && agreement.is_none_or(|t| t >= self.min_image_token_agreement);
        let tokens_strong = few_replaced
            && agreement.is_some_and(|t| t >= self.min_text_token_agreement)
            && comparison.matched_tokens.len() >= self.min_text_matched_tokens.max(1);
        let image_similarity = comparison.image_distance.map_or(0.0, closeness);
        let text_similarity = comparison.text_distance.map_or(0.0, closeness);
        let token_similarity = agreement.unwrap_or(1.0);
        if image_near && tokens_compatible {
            let (basis, similarity) = if text_near && tokens_strong {
                (
                    Basis::ImageAndText,
                    (image_similarity + text_similarity + token_similarity) / 3.0,
                )
            } else {
                (
                    Basis::Image,
                    f64::midpoint(image_similarity, token_similarity),
                )
            };
            return Verdict::Duplicate {
                basis,
                similarity,
                comparison,
            };
        }
        if text_near && tokens_strong {
            return Verdict::Duplicate {
                basis: Basis::Text,
                similarity: f64::midpoint(text_similarity, token_similarity),
                comparison,
            };
        }
        Verdict::Distinct {
            same_template: image_near && !tokens_compatible,
            comparison,
        }
    }
}

/// The measures between two pages.
fn measure(a: &PageFingerprint, b: &PageFingerprint) -> Comparison {
    let image_distance = a.image.zip(b.image).map(|(x, y)| x.distance(y));
    let text_distance = a
        .text
        .as_ref()
        .zip(b.text.as_ref())
        .map(|(x, y)| x.hash.distance(y.hash));
    let no_tokens = Vec::new();
    let ours = a.text.as_ref().map_or(&no_tokens, |t| &t.tokens);
    let theirs = b.text.as_ref().map_or(&no_tokens, |t| &t.tokens);
    let matched_tokens: Vec<IdToken> = ours
        .iter()
        .filter(|t| theirs.contains(t))
        .cloned()
        .collect();
    let only_ours = ours.iter().filter(|t| !theirs.contains(t)).count();
    let only_theirs = theirs.iter().filter(|t| !ours.contains(t)).count();
    let mut differing_tokens: Vec<IdToken> = ours
        .iter()
        .chain(theirs)
        .filter(|t| !matched_tokens.contains(t))
        .cloned()
        .collect();
    differing_tokens.sort();
    differing_tokens.dedup();
    let all = matched_tokens.len() + differing_tokens.len();
    let token_agreement = (all > 0).then(|| {
        let (matched, all) = (
            u32::try_from(matched_tokens.len()).unwrap_or(u32::MAX),
            u32::try_from(all).unwrap_or(u32::MAX),
        );
        f64::from(matched) / f64::from(all)
    });
    Comparison {
        image_distance,
        text_distance,
        token_agreement,
        matched_tokens,
        differing_tokens,
        replaced_tokens: only_ours.min(only_theirs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FIRST_PAGE, ImageHash, TextFingerprint};

    fn page(image: u64, text: &str) -> PageFingerprint {
        PageFingerprint {
            page: FIRST_PAGE,
            image: Some(ImageHash(image)),
            text: TextFingerprint::of(text),
        }
    }

    const RECEIPT: &str = "ACME MARKET\n12 Harbour Road\nMilk 2.50\nBread 3.20\nCoffee 12.90\n\
        TOTAL 18.60\nCard **** 4821\n2026-11-25 14:02\nReceipt 004417\nThank you";

    #[test]
    fn a_rescan_is_a_duplicate_by_image_and_text() {
        let original = page(0xF0F0_1234_5678_9ABC, RECEIPT);
        let rescan = page(
            0xF0F0_1234_5678_9ABD ^ 0b110,
            &RECEIPT.replace("Bread", "Brcad"),
        );
        let verdict = DuplicateRule::default().compare(&rescan, &original);
        let Verdict::Duplicate {
            basis,
            similarity,
            comparison,
        } = verdict
        else {
            panic!("{verdict:?}");
        };
        assert_eq!(basis, Basis::ImageAndText);
        assert_eq!(comparison.image_distance, Some(3));
        assert!(similarity > 0.9, "{similarity}");
        let matched: Vec<String> = comparison
            .matched_tokens
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(matched.contains(&"18.60".to_owned()) && matched.contains(&"004417".to_owned()));
    }

    #[test]
    fn the_same_template_with_other_values_is_not() {
        let original = page(0xF0F0_1234_5678_9ABC, RECEIPT);
        let other = RECEIPT
            .replace("18.60", "21.40")
            .replace("12.90", "15.70")
            .replace("2026-11-25", "2026-12-02")
            .replace("004417", "004502")
            .replace("4821", "7730");
        let verdict =
            DuplicateRule::default().compare(&page(0xF0F0_1234_5678_9ABC, &other), &original);
        assert!(
            matches!(
                verdict,
                Verdict::Distinct {
                    same_template: true,
                    ..
                }
            ),
            "{verdict:?}"
        );
        assert!(
            verdict
                .comparison()
                .differing_tokens
                .iter()
                .any(|t| t.value == "21.40")
        );
    }

    #[test]
    fn the_next_invoice_of_a_series_is_not_one_misread_is() {
        let invoice = "INVOICE\nNumber INV-2026-0112 Date 2026-10-01\nConsulting 12 hours at 95.00\n\
            Subtotal 1,140.00\nTotal due 1,368.00\nAccount 6016 1331 9268";
        let next = invoice.replace("0112", "0113").replace("10-01", "10-08");
        let hash = 0x1234_5678_9ABC_DEF0;
        let rule = DuplicateRule::default();
        let verdict = rule.compare(&page(hash, &next), &page(hash, invoice));
        assert!(!verdict.is_duplicate(), "{verdict:?}");
        assert_eq!(verdict.comparison().replaced_tokens, 2);
        let misread = invoice.replace("1,368.00", "1,388.00");
        let verdict = rule.compare(&page(hash ^ 0b101, &misread), &page(hash, invoice));
        assert!(verdict.is_duplicate(), "{verdict:?}");
        assert_eq!(verdict.comparison().replaced_tokens, 1);
    }

    #[test]
    fn another_photo_of_the_paper_is_a_duplicate_by_its_text() {
        let original = page(0x0000_0000_0000_0000, RECEIPT);
        let photo = page(
            0xFFFF_FFFF_0000_0000,
            &RECEIPT.replace("Thank you", "Thank vou"),
        );
        let verdict = DuplicateRule::default().compare(&photo, &original);
        assert!(
            matches!(
                verdict,
                Verdict::Duplicate {
                    basis: Basis::Text,
                    ..
                }
            ),
            "{verdict:?}"
        );
        // Without tokens to vouch for it, text alone is not enough.
        let plain = |t: &str| page(0, t);
        let letter = "Dear Sir we write to tell you about the meeting next week in the hall";
        let verdict = DuplicateRule::default().compare(&plain(letter), &page(u64::MAX, letter));
        assert!(!verdict.is_duplicate(), "{verdict:?}");
    }

    #[test]
    fn unrelated_pages_are_distinct_and_say_why() {
        let a = page(0x0123_4567_89AB_CDEF, RECEIPT);
        let b = page(
            !0x0123_4567_89AB_CDEF,
            "Invoice 7781\nTotal due 1368.00\n2026-10-01",
        );
        let verdict = DuplicateRule::default().compare(&a, &b);
        assert!(matches!(
            verdict,
            Verdict::Distinct {
                same_template: false,
                ..
            }
        ));
        assert_eq!(verdict.comparison().image_distance, Some(64));
        assert!(
            verdict
                .comparison()
                .token_agreement
                .is_some_and(|t| t < f64::EPSILON)
        );
    }

    #[test]
    fn pictures_without_text_compare_by_image_alone() {
        let bare = |h| PageFingerprint {
            page: FIRST_PAGE,
            image: Some(ImageHash(h)),
            text: None,
        };
        assert!(
            DuplicateRule::default()
                .compare(&bare(0b1011), &bare(0b0001))
                .is_duplicate()
        );
        assert!(
            !DuplicateRule::default()
                .compare(&bare(0), &bare(u64::MAX))
                .is_duplicate()
        );
    }

    #[test]
    fn the_rule_reads_partial_configuration_over_its_defaults() {
        let rule: DuplicateRule = serde_json::from_str(r#"{"maxImageDistance": 4}"#).unwrap();
        assert_eq!(rule.max_image_distance, 4);
        assert_eq!(
            rule.max_text_distance,
            DuplicateRule::default().max_text_distance
        );
        assert_eq!(
            serde_json::to_value(Basis::ImageAndText).unwrap(),
            "image+text"
        );
    }
}
