//! Dead jobs: what the queue gave up on, shown to operators, and taken back into the queue or dropped
//! by them.

use super::Intake;
use crate::error::IntakeError;
use crate::model::ImageId;
use crate::ports::{DeadJob, JobQueue, MAX_PAGE_LIMIT};

/// How many dead jobs are looked through to find an image's.
const DEAD_JOB_SCAN: u32 = 100_000;

impl Intake {
    /// The most recently buried jobs, newest first, at most `limit` (clamped to `1..=1000`).
    ///
    /// # Errors
    /// [`IntakeError::Queue`] when the queue fails.
    pub async fn dead_jobs(
        &self,
        queue: &dyn JobQueue,
        limit: u32,
    ) -> Result<Vec<DeadJob>, IntakeError> {
        Ok(queue.dead_jobs(limit.clamp(1, MAX_PAGE_LIMIT)).await?)
    }

    /// Takes image `id`'s dead job back into the queue, due now, as a fresh job: its processing runs
    /// again under the usual rules (an image another processor holds is waited for; a finished
    /// image stays as it is: reprocessing is what runs OCR on it again). Returns the
    /// number of dead jobs taken back.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] when the image has no dead job; [`IntakeError::Queue`].
    pub async fn retry_dead_job(
        &self,
        queue: &dyn JobQueue,
        id: ImageId,
    ) -> Result<usize, IntakeError> {
        let now = self.inner.clock.now();
        let mut revived = 0;
        for key in self.dead_keys(queue, id).await? {
            if queue.revive(&key, now).await? {
                revived += 1;
            }
        }
        if revived == 0 {
            return Err(IntakeError::NotFound { id });
        }
        tracing::info!(image_id = %id, "dead job taken back into the queue");
        Ok(revived)
    }

    /// Forgets image `id`'s dead job (the image's record stays as it is).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] when the image has no dead job; [`IntakeError::Queue`].
    pub async fn drop_dead_job(
        &self,
        queue: &dyn JobQueue,
        id: ImageId,
    ) -> Result<(), IntakeError> {
        let mut dropped = false;
        for key in self.dead_keys(queue, id).await? {
            dropped |= queue.forget_dead(&key).await?;
        }
        if !dropped {
            return Err(IntakeError::NotFound { id });
        }
        tracing::info!(image_id = %id, "dead job dropped");
        Ok(())
    }

    /// The keys of image `id`'s dead jobs (a key names its image, whether or not a record exists).
    async fn dead_keys(
        &self,
        queue: &dyn JobQueue,
        id: ImageId,
    ) -> Result<Vec<crate::model::ObjectKey>, IntakeError> {
        let mut keys: Vec<_> = queue
            .dead_jobs(DEAD_JOB_SCAN)
            .await?
            .into_iter()
            .map(|dead| dead.key)
            .filter(|key| key.image_id() == id)
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}
