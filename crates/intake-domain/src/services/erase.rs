//! Erasure: purging an image's bytes, sidecars, preview, text and name for good, leaving a tombstone;
//! and the retention rule that purges soft-deleted images after a while.

use std::time::Duration;

use super::Intake;
use crate::error::IntakeError;
use crate::model::{ImageId, ImageRecord, ObjectKey, Owner};
use crate::ports::{ListQuery, RepoError};

/// Who a retention purge is recorded as done by.
pub const RETENTION: &str = "retention";

impl Intake {
    /// Erases one of `owner`'s images for good, on behalf of `by`: soft-deletes it if it is not yet
    /// (`image.deleted`), erases its object (every version), its preview, its stored exports and
    /// the repository's detail (sidecars), then makes its record a tombstone ([`ImageRecord::purge`],
    /// `image.purged`). Each step is idempotent and the record is the last thing written, so a purge
    /// cut off by a crash is finished by asking again; purging a tombstone succeeds (idempotent).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown id or another owner's image;
    /// [`IntakeError::InvalidState`] (409) while a processor holds the image (it is deleted then,
    /// and the purge succeeds once the processor is done); port errors (the purge may then be half
    /// done: asking again finishes it).
    pub async fn purge_image(
        &self,
        owner: &Owner,
        id: ImageId,
        by: &str,
    ) -> Result<(), IntakeError> {
        for _ in 0..super::process::MAX_RACES {
            let current = self
                .inner
                .repository
                .get(&id)
                .await?
                .filter(|r| r.owner() == owner)
                .ok_or(IntakeError::NotFound { id })?;
            if current.is_purged() {
                return Ok(());
            }
            if !current.is_deleted() {
                let deleted = current.mark_deleted(self.inner.clock.now())?;
                match self.commit(&current, &deleted).await {
                    Ok(()) | Err(RepoError::Precondition { .. }) => continue,
                    Err(other) => return Err(other.into()),
                }
            }
            // A processor holding the image writes its result when it finishes: the purge waits
            // for that (409; the image is deleted already, so it is out of sight meanwhile).
            if let (crate::model::ImageStatus::Processing, Some(until)) =
                (current.status(), current.lease_expires_at())
                && until > self.inner.clock.now()
            {
                return Err(crate::model::TransitionError::Claimed { id, until }.into());
            }
            self.erase_bytes(&current).await?;
            let tombstone = current.purge(self.inner.clock.now(), by)?;
            match self.commit(&current, &tombstone).await {
                Ok(()) => {
                    tracing::info!(image_id = %id, by, "image purged");
                    return Ok(());
                }
                Err(RepoError::Precondition { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict { id })
    }

    /// Everything of `record` outside its record: the object (every version), the preview and the
    /// page pictures, the stored exports, the repository's sidecars.
    pub(super) async fn erase_bytes(&self, record: &ImageRecord) -> Result<(), IntakeError> {
        let inner = &self.inner;
        inner.store.purge(record.object_key()).await?;
        inner
            .store
            .purge(&ObjectKey::for_preview(record.image_id()))
            .await?;
        for key in super::export::export_keys(record.image_id()) {
            inner.store.purge(&key).await?;
        }
        let pages = record.page_count().unwrap_or(1);
        for key in super::pages::page_picture_keys(record.image_id(), pages) {
            inner.store.purge(&key).await?;
        }
        inner.repository.erase_detail(&record.image_id()).await?;
        self.forget_fingerprints(record.owner(), record.image_id())
            .await;
        Ok(())
    }

    /// Purges the images soft-deleted more than `after` ago, at most `limit` of them, on behalf of
    /// [`RETENTION`]; returns how many were purged. Called again, it goes on where the last call
    /// stopped (tombstones are skipped).
    ///
    /// # Errors
    /// Repository errors while listing; an image that cannot be purged is logged and left for the
    /// next call.
    pub async fn purge_expired(&self, after: Duration, limit: usize) -> Result<usize, IntakeError> {
        let cutoff = self.inner.clock.now().unix_millis()
            - i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        let mut query = ListQuery::new([], 200).deleted_only();
        let mut purged = 0;
        loop {
            let page = self.inner.repository.list(&query).await?;
            for record in &page.records {
                let expired = record
                    .deleted_at()
                    .is_some_and(|at| at.unix_millis() <= cutoff);
                if !expired || record.is_purged() {
                    continue;
                }
                if purged == limit {
                    return Ok(purged);
                }
                match self
                    .purge_image(record.owner(), record.image_id(), RETENTION)
                    .await
                {
                    Ok(()) => purged += 1,
                    Err(error) => {
                        tracing::warn!(image_id = %record.image_id(), error = %crate::error_chain(&error), "retention could not purge an image; it is tried again next time");
                    }
                }
            }
            match page.next_cursor {
                Some(cursor) => query = query.after(Some(cursor)),
                None => return Ok(purged),
            }
        }
    }
}
