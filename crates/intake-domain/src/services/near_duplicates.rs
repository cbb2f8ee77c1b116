//! Near-duplicate presentment (issue 27): the processor looks a new record's page fingerprints up in
//! the owner's fingerprint index and notes what the duplicate rule calls the same document; the
//! index learns the record once it is committed and forgets it when the image is deleted. The
//! index is an aid: when it fails, the failure is logged and counted and the upload goes on,
//! unflagged (a flag never rejects or hides an upload; people decide).

use std::sync::atomic::Ordering;

use super::Intake;
use crate::error::{IntakeError, error_chain};
use crate::model::{
    DuplicateRule, ImageId, ImageRecord, ImageStatus, NearDuplicate, Owner, PageFingerprint, Probe,
};
use crate::ports::{FingerprintIndex, FingerprintIndexError, IndexedPage, ListQuery, OcrDetail};

/// The stored pages the index offers as candidates for any of `pages` under `rule`: one lookup per
/// page, each deciding candidacy from the index's key entries ([`Probe`]).
async fn candidates(
    index: &dyn FingerprintIndex,
    owner: &Owner,
    pages: &[PageFingerprint],
    rule: &DuplicateRule,
) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
    let mut found = Vec::new();
    for page in pages {
        let probe = Probe::of(page, rule);
        if !probe.is_void() {
            found.extend(index.candidates(owner, &probe).await?);
        }
    }
    Ok(found)
}

impl Intake {
    /// Whether this deployment keeps a fingerprint index (records are checked for near-duplicates).
    pub fn finds_near_duplicates(&self) -> bool {
        self.inner.fingerprints.is_some()
    }

    /// How many times the fingerprint index failed since these services were built (a lookup, a
    /// put or a remove): what the entry point's metrics report. Each failure is logged too.
    pub fn fingerprint_index_failures(&self) -> u64 {
        self.inner.index_failures.load(Ordering::Relaxed)
    }

    fn index_failed(&self, what: &str, id: ImageId, error: &FingerprintIndexError) {
        self.inner.index_failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(image_id = %id, error = %error_chain(error), "the fingerprint index could not {what}");
    }

    /// The owner's images the duplicate rule calls the same document as a page of `pages` (image
    /// `id`'s): `None` without an index, or when the index failed (logged and counted).
    pub(super) async fn near_duplicates_of(
        &self,
        owner: &Owner,
        id: ImageId,
        pages: &[PageFingerprint],
    ) -> Option<Vec<NearDuplicate>> {
        let index = self.inner.fingerprints.as_ref()?;
        if pages.is_empty() {
            return Some(Vec::new());
        }
        let rule = &self.inner.config.duplicate_rule;
        match candidates(index.as_ref(), owner, pages, rule).await {
            Ok(found) => Some(rule.near_duplicates(
                id,
                pages,
                found.iter().map(|p| (p.image_id, &p.fingerprint)),
            )),
            Err(error) => {
                self.index_failed("look near-duplicates up", id, &error);
                None
            }
        }
    }

    /// Notes on a processed record (not yet written) the near-duplicates of its pages, where the
    /// deployment looks for them and the index answered.
    pub(super) async fn flag_near_duplicates(
        &self,
        done: &mut ImageRecord,
    ) -> Result<(), IntakeError> {
        let found = self
            .near_duplicates_of(done.owner(), done.image_id(), done.fingerprints())
            .await;
        if let Some(found) = found {
            done.note_near_duplicates(found)?;
        }
        Ok(())
    }

    /// Brings the index in line with `record` as committed: a live processed record's fingerprints
    /// are kept (replacing any earlier ones), any other's forgotten. Best effort: a failure is logged
    /// and counted.
    pub(super) async fn index_record(&self, record: &ImageRecord) {
        let Some(index) = self.inner.fingerprints.as_ref() else {
            return;
        };
        let live = record.status() == ImageStatus::Processed && !record.is_deleted();
        let pages = if live { record.fingerprints() } else { &[] };
        if let Err(error) = index.put(record.owner(), record.image_id(), pages).await {
            self.index_failed("keep an image's fingerprints", record.image_id(), &error);
        }
    }

    /// Forgets a deleted image's fingerprints. Best effort: a failure is logged and counted (a stale
    /// entry only adds a candidate that lookups of similar images skip).
    pub(super) async fn forget_fingerprints(&self, owner: &Owner, id: ImageId) {
        let Some(index) = self.inner.fingerprints.as_ref() else {
            return;
        };
        if let Err(error) = index.remove(owner, id).await {
            self.index_failed("forget an image's fingerprints", id, &error);
        }
    }

    /// The owner's live images that look like the same document as one of theirs, now (images
    /// uploaded after it included), the most alike first: what `GET /images/{id}/similar` lists.
    /// A record processed before fingerprints were stored is compared by its text.
    ///
    /// # Errors
    /// [`IntakeError::SimilarUnavailable`] without a fingerprint index;
    /// [`IntakeError::NotFound`] for an unknown, deleted or another owner's image;
    /// [`IntakeError::Fingerprints`] / [`IntakeError::Repository`] when a port fails.
    pub async fn similar_images(
        &self,
        owner: &Owner,
        id: ImageId,
    ) -> Result<Vec<NearDuplicate>, IntakeError> {
        let index = self
            .inner
            .fingerprints
            .as_ref()
            .ok_or(IntakeError::SimilarUnavailable)?;
        let record = self
            .inner
            .repository
            .get(&id)
            .await?
            .filter(|r| r.owner() == owner && !r.is_deleted())
            .ok_or(IntakeError::NotFound { id })?;
        let pages = record.computed_fingerprints();
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        let rule = &self.inner.config.duplicate_rule;
        let found = candidates(index.as_ref(), owner, &pages, rule).await?;
        let mut similar = Vec::new();
        for candidate in rule.near_duplicates(
            id,
            &pages,
            found.iter().map(|p| (p.image_id, &p.fingerprint)),
        ) {
            // The index forgets deleted images; one it could not forget is skipped here.
            let live = self
                .inner
                .repository
                .get_view(&candidate.image_id, OcrDetail::Text)
                .await?
                .is_some_and(|r| r.owner() == owner && !r.is_deleted());
            if live {
                similar.push(candidate);
            }
        }
        Ok(similar)
    }

    /// Fills the fingerprint index from the stored records (a back-fill, run once where records
    /// were stored before the index existed): every live processed image of every owner is put
    /// under its stored fingerprints, or, for a record processed before they were stored, the text
    /// fingerprints of its stored OCR text (its pictures are not stored, so such pages have no image
    /// hash). Idempotent: putting an image again replaces what the index had. Returns how many
    /// images now have fingerprints in the index (0 without an index).
    ///
    /// # Errors
    /// [`IntakeError::Repository`] / [`IntakeError::Fingerprints`] when a port fails; calling again
    /// finishes the work.
    pub async fn index_stored_records(&self) -> Result<u64, IntakeError> {
        let Some(index) = self.inner.fingerprints.as_ref() else {
            return Ok(0);
        };
        let repository = &self.inner.repository;
        let mut query = ListQuery::new([ImageStatus::Processed], 200);
        let mut indexed = 0;
        loop {
            let page = repository.list(&query).await?;
            for listed in &page.records {
                let pages = if listed.fingerprints().is_empty() {
                    // Listings leave the text out: the record is read whole to compute them.
                    match repository.get(&listed.image_id()).await? {
                        Some(full) if !full.is_deleted() => full.computed_fingerprints(),
                        _ => continue,
                    }
                } else {
                    listed.fingerprints().to_vec()
                };
                if pages.is_empty() {
                    continue;
                }
                index.put(listed.owner(), listed.image_id(), &pages).await?;
                indexed += 1;
            }
            match page.next_cursor {
                Some(cursor) => query = query.after(Some(cursor)),
                None => return Ok(indexed),
            }
        }
    }
}
