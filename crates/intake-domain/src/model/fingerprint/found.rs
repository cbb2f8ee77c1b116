//! A near-duplicate found for a record: which image, on what basis, how alike, and the tokens both
//! share (what a person checks before deciding).

use serde::{Deserialize, Serialize};

use super::{Basis, PageFingerprint, rule::DuplicateRule, rule::Verdict};
use crate::model::{ImageId, PageNumber};

/// Another image of the same owner that the rule calls the same document as a page of this one.
/// Its JSON (`imageId`, `basis`, `similarity`, `matchedTokens`, `page`, `otherPage`, and the
/// distances when measured) is both what records store and what the API shows.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NearDuplicate {
    /// The other image.
    pub image_id: ImageId,
    /// What made it a duplicate.
    pub basis: Basis,
    /// How alike, from 0 to 1.
    pub similarity: f64,
    /// The identifying tokens both pages have, in their canonical form.
    pub matched_tokens: Vec<String>,
    /// The page of this record.
    pub page: PageNumber,
    /// The page of the other image.
    pub other_page: PageNumber,
    /// Bits apart of the image hashes, when both pages have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_distance: Option<u32>,
    /// Bits apart of the text hashes, when both pages have text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_distance: Option<u32>,
}

/// The most near-duplicates one record lists (the most alike first).
pub const MAX_NEAR_DUPLICATES: usize = 20;

impl DuplicateRule {
    /// The images among `candidates` (other images' stored pages) that the rule calls duplicates of
    /// a page of `pages` (those of image `own`, which is never its own duplicate): one entry per
    /// image, its best page pair, the most alike first (ties by image id), at most
    /// [`MAX_NEAR_DUPLICATES`].
    pub fn near_duplicates<'a>(
        &self,
        own: ImageId,
        pages: &[PageFingerprint],
        candidates: impl IntoIterator<Item = (ImageId, &'a PageFingerprint)>,
    ) -> Vec<NearDuplicate> {
        let mut best: Vec<NearDuplicate> = Vec::new();
        for (image_id, theirs) in candidates {
            if image_id == own {
                continue;
            }
            for ours in pages {
                let Verdict::Duplicate {
                    basis,
                    similarity,
                    comparison,
                } = self.compare(ours, theirs)
                else {
                    continue;
                };
                let found = NearDuplicate {
                    image_id,
                    basis,
                    similarity,
                    matched_tokens: comparison
                        .matched_tokens
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    page: ours.page,
                    other_page: theirs.page,
                    image_distance: comparison.image_distance,
                    text_distance: comparison.text_distance,
                };
                match best.iter_mut().find(|b| b.image_id == image_id) {
                    Some(kept) if kept.similarity >= found.similarity => {}
                    Some(kept) => *kept = found,
                    None => best.push(found),
                }
            }
        }
        best.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.image_id.cmp(&b.image_id))
        });
        best.truncate(MAX_NEAR_DUPLICATES);
        best
    }
}
