//! Reprocessing: running OCR again on the stored bytes of a finished image, under the same claim
//! rules as a first run (never twice at once), the earlier result kept as a summary.

use super::Intake;
use crate::error::IntakeError;
use crate::model::{ImageId, ImageRecord, Owner};
use crate::ports::RepoError;

impl Intake {
    /// Sets one of `owner`'s finished images aside to be processed again, by `engine` when named
    /// (one of [`Intake::engine_names`]; else the deployment's), see [`ImageRecord::reprocess`], and
    /// requests its processing. Returns the record as written
    /// (`PROCESSING`, no claim held); the new result's event (`image.processed`, `image.failed` ...)
    /// follows when processing ends.
    ///
    /// The request is made twice so that no crash can strand the image: once, due after the
    /// processing lease, before the record is written (if the write fails, that request finds the
    /// image finished and does nothing), and once, due now, after.
    ///
    /// # Errors
    /// [`IntakeError::ReprocessUnavailable`] without processing requests;
    /// [`IntakeError::UnknownEngine`] for an engine this deployment does not have;
    /// [`IntakeError::NotFound`] for an unknown, deleted or another owner's image;
    /// [`IntakeError::InvalidState`] (409) for an image being processed, awaiting its upload, or
    /// rejected for its bytes; port errors.
    pub async fn reprocess(
        &self,
        owner: &Owner,
        id: ImageId,
        engine: Option<&str>,
    ) -> Result<ImageRecord, IntakeError> {
        let inner = &self.inner;
        let requests = inner
            .requests
            .as_ref()
            .ok_or(IntakeError::ReprocessUnavailable)?;
        let names = self.engine_names();
        if let Some(name) = engine
            && !names.contains(&name)
        {
            return Err(IntakeError::UnknownEngine {
                engine: name.chars().take(64).collect(),
                known: names.join(", "),
            });
        }
        for _ in 0..super::process::MAX_RACES {
            let current = inner
                .repository
                .get(&id)
                .await?
                .filter(|r| r.owner() == owner && !r.is_deleted())
                .ok_or(IntakeError::NotFound { id })?;
            let now = inner.clock.now();
            let next = current.reprocess(now, engine)?;
            requests
                .request(
                    current.object_key(),
                    now.saturating_add(inner.config.processing_lease),
                )
                .await?;
            match self.commit(&current, &next).await {
                Ok(()) => {
                    // Should this request fail, the first one runs the image when it comes due.
                    if let Err(error) = requests.request(next.object_key(), now).await {
                        tracing::warn!(image_id = %id, error = %crate::error_chain(&error), "processing requested for later only");
                    }
                    tracing::info!(image_id = %id, "image set aside for processing again");
                    return Ok(next);
                }
                Err(RepoError::Precondition { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict { id })
    }
}
