//! Processing an uploaded object: the notification ([`event`]), one streaming read ([`inspect`]),
//! the rules it must pass ([`rules`]), the claim and its result ([`claim`]), and the outcome
//! ([`outcome`]). This file runs them in order.

mod claim;
mod event;
mod inspect;
mod outcome;
mod rules;

use bytes::Bytes;

pub use event::ObjectCreated;
pub use outcome::{ProcessOutcome, SkipReason};

use self::claim::Claim;
use self::rules::{examine, exhausted_message, ocr_failure};
use super::Intake;
use crate::error::{IntakeError, error_chain};
use crate::model::{
    ContentType, FailureCode, ImageRecord, Measurements, ObjectKey, OcrResult, OcrStatus,
};
use crate::ports::{ImageFacts, OcrDetail, OcrError, OcrInput, PortError, RepoError, StoreError};

/// How many times a service re-reads and retries a write that lost a race before giving up with
/// [`IntakeError::Conflict`].
pub(super) const MAX_RACES: usize = 8;

/// How a claimed image's run ended.
enum Run {
    /// With its terminal record (not yet written).
    Finished(Box<ImageRecord>),
    /// The object is not in the store.
    ObjectMissing,
    /// A retryable failure after the object was measured: the error, and what was measured (hash,
    /// size, type, dimensions), which a release or a final failure keeps.
    Interrupted {
        error: IntakeError,
        measured: Measurements,
    },
}

/// Where a processed image's text comes from.
enum Text {
    /// The engine read it.
    Read(OcrResult),
    /// An earlier image with the same bytes was read; its result is reused.
    CopiedFrom(Box<ImageRecord>),
}

/// The record Intake issued `key` for, or why there is none.
fn issued(key: &ObjectKey, record: Option<ImageRecord>) -> Result<ImageRecord, IntakeError> {
    let Some(record) = record else {
        return Err(IntakeError::UnknownObject {
            key: key.to_string(),
            reason: "no upload was issued for this image".into(),
        });
    };
    if record.object_key() != key {
        return Err(IntakeError::UnknownObject {
            key: key.to_string(),
            reason: "the key differs from the issued one".into(),
        });
    }
    Ok(record)
}

impl Intake {
    /// Processes an object-created notification: claims the image, streams the object once (SHA-256,
    /// size, format, dimensions), rejects it or runs OCR, and records the result.
    ///
    /// Idempotent: a replayed or concurrent duplicate notification never runs OCR twice; it returns
    /// [`ProcessOutcome::AlreadyDone`] or [`ProcessOutcome::InProgress`].
    ///
    /// # Errors
    /// [`IntakeError::UnknownObject`] / [`IntakeError::ForeignBucket`] for objects Intake did not issue;
    /// retryable errors ([`IntakeError::is_retryable`]) when a dependency failed, after releasing the
    /// claim so a retry can proceed at once. Permanent OCR failures are not errors: they are recorded.
    pub async fn process_object_created(
        &self,
        event: &ObjectCreated,
    ) -> Result<ProcessOutcome, IntakeError> {
        let expected = self.inner.store.bucket();
        if event.bucket != expected {
            return Err(IntakeError::ForeignBucket {
                bucket: event.bucket.clone(),
                expected: expected.to_owned(),
            });
        }
        let key = &event.key;
        if !key.is_upload() {
            return Err(IntakeError::UnknownObject {
                key: key.to_string(),
                reason: "an object Intake made (a preview, an export) is not an upload to process"
                    .into(),
            });
        }
        let claimed = match self.claim(key).await? {
            Claim::Won(record) => *record,
            Claim::Settled(outcome) => return Ok(outcome),
        };
        let mut measured = None;
        let result = match self.run(&claimed).await {
            Ok(Run::Finished(done)) => self.finish(&claimed, *done).await,
            Ok(Run::Interrupted { error, measured: m }) => {
                measured = Some(m);
                Err(error)
            }
            Ok(Run::ObjectMissing) => self.unclaim(&claimed).await,
            Err(error) => Err(error),
        };
        match result {
            Err(error) if claimed.attempts() >= self.inner.config.max_attempts => {
                // The last allowed attempt failed: record it now, as no further delivery may come,
                // with whatever this attempt measured.
                let failed = claimed.fail(
                    self.inner.clock.now(),
                    measured.as_ref(),
                    FailureCode::RetriesExhausted,
                    exhausted_message(claimed.attempts(), Some(&error)),
                )?;
                if let Ok(outcome) = self.finish(&claimed, failed).await {
                    Ok(outcome)
                } else {
                    self.release(&claimed, measured.as_ref()).await;
                    Err(error)
                }
            }
            Err(error) => {
                self.release(&claimed, measured.as_ref()).await;
                Err(error)
            }
            ok => ok,
        }
    }

    /// Undoes the claim of an image whose object is not in the store, but only if nobody has written
    /// since: never over another's claim.
    async fn unclaim(&self, claimed: &ImageRecord) -> Result<ProcessOutcome, IntakeError> {
        let back = claimed.unclaim(self.inner.clock.now())?;
        match self.commit(claimed, &back).await {
            Ok(()) | Err(RepoError::Precondition { .. }) => Ok(ProcessOutcome::Skipped {
                image_id: claimed.image_id(),
                reason: SkipReason::ObjectMissing,
            }),
            Err(other) => Err(other.into()),
        }
    }

    /// Whether an upload to `key` may be accepted: only for an image Intake issued this key for. A
    /// store that receives uploads itself (the local server) asks before taking any bytes, so that an
    /// upload whose record was never issued (or was lost in a crash before it was durable,
    /// see [`ImageRepository::create_relaxed`](crate::ports::ImageRepository::create_relaxed)) is
    /// refused instead of stored and never processed.
    ///
    /// The caller has checked that Intake signed the URL for `key`, so a key with no record at all
    /// had its ticket lost before it was stored.
    ///
    /// # Errors
    /// [`IntakeError::UploadTicketLost`] when there is no record for this key;
    /// [`IntakeError::UnknownObject`] when the record names another key, or its image was deleted;
    /// repository errors.
    pub async fn expect_upload(&self, key: &ObjectKey) -> Result<(), IntakeError> {
        let Some(record) = self
            .inner
            .repository
            .get_view(&key.image_id(), OcrDetail::Text)
            .await?
        else {
            return Err(IntakeError::UploadTicketLost {
                key: key.to_string(),
            });
        };
        let record = issued(key, Some(record))?;
        if record.is_deleted() {
            return Err(IntakeError::UnknownObject {
                key: key.to_string(),
                reason: "the image was deleted".into(),
            });
        }
        Ok(())
    }

    /// Does the work of a claimed image and returns its terminal record (not yet written).
    async fn run(&self, claimed: &ImageRecord) -> Result<Run, IntakeError> {
        let inner = &self.inner;
        let (ocr, accepted, max_bytes) = self.engine_for(claimed);
        let engine = ocr.capabilities();
        let mut inspection = match self
            .inspect(
                claimed.object_key(),
                // A TIFF is kept whole (within the byte limit) to count its pages.
                !engine.reads_objects || claimed.declared_content_type() == ContentType::Tiff,
            )
            .await
        {
            Ok(inspection) => inspection,
            Err(StoreError::NotFound { .. }) => return Ok(Run::ObjectMissing),
            Err(error) if error.is_retryable() => return Err(error.into()),
            Err(error) => {
                // Denied or refused by the store: retrying the same read will not help.
                let failed = claimed.fail(
                    inner.clock.now(),
                    None,
                    FailureCode::StoreError,
                    error_chain(&error),
                )?;
                return Ok(Run::Finished(Box::new(failed)));
            }
        };
        self.probe_document(&mut inspection).await?;
        let mut measured = inspection.measurements(inner.config.max_pages);
        let facts = match examine(
            claimed,
            &inspection,
            accepted,
            engine,
            max_bytes,
            inner.config.max_pixels,
            inner.config.max_pages,
        ) {
            Ok(facts) => facts,
            Err(rejection) => {
                let rejected = claimed.reject(
                    inner.clock.now(),
                    &measured,
                    rejection.code,
                    rejection.message,
                )?;
                return Ok(Run::Finished(Box::new(rejected)));
            }
        };

        let original = self
            .original_of(claimed.owner(), &facts.sha256, claimed.image_id())
            .await?;
        measured.duplicate_of = original.as_ref().map(ImageRecord::image_id);
        // Listings may omit OCR detail, so the original is read whole before its result is reused.
        // An image processed again (it has a history) is read anew: that is what was asked for.
        let reusable = match &original {
            Some(o)
                if inner.config.reuse_duplicate_ocr
                    && o.ocr_status() == OcrStatus::Completed
                    && claimed.history().is_empty() =>
            {
                inner
                    .repository
                    .get(&o.image_id())
                    .await?
                    .filter(|full| full.ocr_lines().is_some())
            }
            _ => None,
        };
        // The bytes in hand (engines that read bytes get them) also make the preview.
        let drawable = match (&inner.previewer, &inspection.body) {
            (Some(_), Some(bytes)) => Some((bytes.clone(), facts.clone())),
            _ => None,
        };
        let (text, image) = if let Some(original) = reusable {
            (Text::CopiedFrom(Box::new(original)), None)
        } else {
            let input = match inspection.body {
                Some(bytes) if !engine.reads_objects => OcrInput::Bytes { bytes, facts },
                _ => OcrInput::Object {
                    bucket: claimed.bucket().to_owned(),
                    key: claimed.object_key().clone(),
                    version: inspection.version.clone(),
                    facts,
                },
            };
            match ocr.detect(&input).await {
                Ok(result) => (
                    Text::Read(result.in_reading_order(engine.reports_fragments)),
                    Some(input),
                ),
                Err(error) => return self.ocr_failed(claimed, error, measured),
            }
        };
        let preview = self.store_preview(claimed, drawable).await;
        let done = self
            .completed(claimed, &measured, &text, image.as_ref(), preview)
            .await?;
        Ok(Run::Finished(Box::new(done)))
    }

    /// The claimed image's processed record (not yet written): its text, its fields (a copy takes
    /// the original's with its text; a reading is read for them), its preview and its
    /// near-duplicates.
    async fn completed(
        &self,
        claimed: &ImageRecord,
        measured: &Measurements,
        text: &Text,
        image: Option<&OcrInput>,
        preview: Option<ObjectKey>,
    ) -> Result<ImageRecord, IntakeError> {
        let finished = self.inner.clock.now();
        let mut done = match text {
            Text::CopiedFrom(original) => claimed.complete_as_copy(finished, measured, original)?,
            Text::Read(ocr) => claimed.complete(finished, measured, ocr)?,
        };
        if let Text::Read(ocr) = text {
            self.read_fields(&mut done, ocr, image).await?;
        }
        if let Some(key) = preview {
            done.attach_preview(key)?;
        }
        self.flag_near_duplicates(&mut done).await?;
        Ok(done)
    }

    /// What a failed OCR call makes of the run: a failed record, or an interruption to retry.
    fn ocr_failed(
        &self,
        claimed: &ImageRecord,
        error: OcrError,
        measured: Measurements,
    ) -> Result<Run, IntakeError> {
        match ocr_failure(error, claimed.attempts()) {
            Ok((code, message)) => {
                let failed =
                    claimed.fail(self.inner.clock.now(), Some(&measured), code, message)?;
                Ok(Run::Finished(Box::new(failed)))
            }
            Err(error) => Ok(Run::Interrupted { error, measured }),
        }
    }

    /// Makes and stores the preview of the claimed image from its bytes, where the deployment makes
    /// previews; its key, or `None` when there is none. A preview is an extra: an image it cannot
    /// be made or stored for is processed without one.
    async fn store_preview(
        &self,
        claimed: &ImageRecord,
        drawable: Option<(Bytes, ImageFacts)>,
    ) -> Option<ObjectKey> {
        let previewer = self.inner.previewer.as_ref()?;
        let (bytes, facts) = drawable?;
        let id = claimed.image_id();
        let preview = match previewer.preview(&bytes, &facts).await {
            Ok(preview) => preview?,
            Err(error) => {
                tracing::warn!(image_id = %id, error = %error_chain(&error), "no preview: it could not be made");
                return None;
            }
        };
        let key = ObjectKey::for_preview(id);
        match self
            .inner
            .store
            .put(&key, preview.bytes, preview.content_type.as_mime())
            .await
        {
            Ok(()) => Some(key),
            Err(error) => {
                tracing::warn!(image_id = %id, error = %error_chain(&error), "no preview: it could not be stored");
                None
            }
        }
    }
}
