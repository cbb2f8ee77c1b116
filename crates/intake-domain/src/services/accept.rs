//! Uploads taken by a store that receives them itself (the local server), where S3's event
//! notification is a job in a [`JobQueue`]: the protocol, in one place, by which no stored object is
//! left unprocessed and no upload is stored without its record.

use std::time::Duration;

use super::Intake;
use crate::error::IntakeError;
use crate::model::{ImageStatus, ObjectKey};
use crate::ports::{JobQueue, RepoError};

impl Intake {
    /// Whether the store may take the bytes for `key`, and its processing scheduled before it does.
    ///
    /// 1. Intake must have issued this upload ([`Intake::expect_upload`]).
    /// 2. Its job is scheduled `intent_delay` from now: the *intent*. If the store dies before it
    ///    confirms the upload ([`Intake::upload_stored`]), the job still runs after the delay, so a
    ///    stored object is never left unprocessed.
    /// 3. The upload is checked again. A ticket acknowledged before it was durable
    ///    ([`ImageRepository::create_relaxed`](crate::ports::ImageRepository::create_relaxed)) is
    ///    durable once its adapter acknowledges a later durable write, and when the queue and the
    ///    records share one ordered store (the local server's database) the intent is such a write:
    ///    the record read now is the one on disk, so a ticket whose write failed takes no bytes.
    ///
    /// # Errors
    /// As [`Intake::expect_upload`]; [`IntakeError::Queue`] when the job cannot be scheduled (out
    /// of space, or the queue is unavailable): nothing may be stored then.
    pub async fn accept_upload(
        &self,
        key: &ObjectKey,
        queue: &dyn JobQueue,
        intent_delay: Duration,
    ) -> Result<(), IntakeError> {
        self.expect_upload(key).await?;
        let due = self.inner.clock.now().saturating_add(intent_delay);
        queue.enqueue(key, due).await?;
        self.expect_upload(key).await
    }

    /// After the store committed the bytes for `key` (accepted by [`Intake::accept_upload`]): the
    /// image is `PROCESSING` from now on ([`ImageRecord::receive`](crate::model::ImageRecord::receive)), so listings show it at once, and
    /// its job becomes due at once.
    ///
    /// Noting the image as received is best effort: if that write fails (or a processor took the
    /// image first), the processor's claim makes it `PROCESSING` as before, so the failure is logged
    /// and nothing else changes.
    ///
    /// # Errors
    /// [`IntakeError::Queue`] when the queue fails. Nothing is lost then: the intent job runs after
    /// its delay.
    pub async fn upload_stored(
        &self,
        key: &ObjectKey,
        queue: &dyn JobQueue,
    ) -> Result<(), IntakeError> {
        self.note_stored(key).await;
        Ok(queue.enqueue(key, self.inner.clock.now()).await?)
    }

    /// Lists the image of `key` from now on: its record, if it still awaits its upload, becomes
    /// `PROCESSING` with no claim held ([`ImageRecord::receive`](crate::model::ImageRecord::receive)).
    /// Called once the bytes are known to be stored: by the local server when its store commits
    /// them, and by AWS's processor for every notice of a batch before it processes any of them.
    ///
    /// Best effort: if the write fails (or a processor or a delete wrote first), the processor's
    /// claim makes the image `PROCESSING` as before, so a failure is logged and nothing else changes.
    pub async fn note_stored(&self, key: &ObjectKey) {
        if let Err(error) = self.note_received(key).await {
            tracing::warn!(key = %key, error = %error, "could not list the upload before processing takes it");
        }
    }

    /// Writes the record of `key` as received, if it still awaits its upload.
    async fn note_received(&self, key: &ObjectKey) -> Result<(), IntakeError> {
        let Some(current) = self.inner.repository.get(&key.image_id()).await? else {
            return Ok(());
        };
        if current.status() != ImageStatus::AwaitingUpload || current.is_deleted() {
            return Ok(());
        }
        let next = current.receive(self.inner.clock.now())?;
        match self.commit(&current, &next).await {
            // A processor or a delete wrote first: theirs is the newer state.
            Ok(()) | Err(RepoError::Precondition { .. } | RepoError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
