//! Every change of an image's state, as methods of the record.
//!
//! Each transition checks that it is allowed from the record's current state, returns the next
//! version (see [`ImageRecord::next`]) and keeps the status, the OCR status, the rejection or failure
//! code and message, `processedAt`, the lease and the attempts consistent. An illegal transition is a
//! [`TransitionError`] and changes nothing.
//!
//! ```text
//! AWAITING_UPLOAD ──claim──▶ PROCESSING ──complete──▶ PROCESSED
//!        ▲                    │  │  │ └──reject───▶ REJECTED
//!        └──────unclaim───────┘  │  └────fail─────▶ FAILED   (fail also from AWAITING_UPLOAD)
//!                                └─release (lease ended, claimable again)
//! any state ──mark_deleted──▶ deleted (soft)
//! PROCESSED, FAILED, REJECTED (for the engine) ──reprocess──▶ PROCESSING (claimable; the result
//!                                                             kept as a summary in the history)
//! ```

use std::fmt;
use std::time::Duration;

use super::{FailureCode, ImageRecord, ImageStatus, OcrStatus, RejectionCode};
use crate::model::{ContentType, ImageId, ObjectKey, OcrResult, Sha256Digest, Timestamp};

/// A change of state, named in [`TransitionError`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Transition {
    /// Noting that the upload's bytes are stored, before a processor takes them.
    Receive,
    /// Taking the image for processing under a lease.
    Claim,
    /// Recording the OCR result.
    Complete,
    /// Recording a rejection of the object.
    Reject,
    /// Recording a permanent failure.
    Fail,
    /// Giving up a claim so that another attempt can take the image at once.
    Release,
    /// Undoing a claim: the object was not there, so the image waits for its upload again.
    Unclaim,
    /// Attaching the preview made of a processed image.
    AttachPreview,
    /// Noting the near-duplicates found for a processed image.
    NoteNearDuplicates,
    /// Noting the document type and fields read from a processed image.
    NoteFields,
    /// Soft-deleting the image.
    Delete,
    /// Setting a finished result aside to process the image again.
    Reprocess,
    /// Erasing a deleted image's text and name, leaving a tombstone.
    Purge,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Receive => "received",
            Self::Claim => "claimed",
            Self::Complete => "completed",
            Self::Reject => "rejected",
            Self::Fail => "failed",
            Self::Release => "released",
            Self::Unclaim => "unclaimed",
            Self::AttachPreview => "given a preview",
            Self::NoteNearDuplicates => "flagged with near-duplicates",
            Self::NoteFields => "given its fields",
            Self::Delete => "deleted",
            Self::Reprocess => "reprocessed",
            Self::Purge => "purged",
        })
    }
}

/// Why a transition is not allowed from the record's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The image is soft-deleted.
    #[error("image {id} is deleted; it cannot be {transition}")]
    Deleted {
        /// The image.
        id: ImageId,
        /// What was attempted.
        transition: Transition,
    },
    /// The status does not allow it (a terminal image claimed, an unclaimed one completed, ...).
    #[error("image {id} is {status}; it cannot be {transition}")]
    Status {
        /// The image.
        id: ImageId,
        /// Its status.
        status: ImageStatus,
        /// What was attempted.
        transition: Transition,
    },
    /// Another processor's claim holds until `until`.
    #[error("image {id} is being processed under a claim held until {until}")]
    Claimed {
        /// The image.
        id: ImageId,
        /// When the claim runs out.
        until: Timestamp,
    },
}

/// What one read of the object established: the facts a processed, rejected, failed or released
/// record keeps, whatever became of OCR.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Measurements {
    /// Size of the stored object in bytes.
    pub size_bytes: Option<u64>,
    /// SHA-256 of the bytes (absent when the object was too large to read whole).
    pub sha256: Option<Sha256Digest>,
    /// The content type found in the bytes.
    pub content_type: Option<ContentType>,
    /// Width and height from the header.
    pub dimensions: Option<(u32, u32)>,
    /// How many pages the image has.
    pub page_count: Option<u32>,
    /// The earliest live image of the owner with the same bytes, once the hash was looked up.
    pub duplicate_of: Option<ImageId>,
}

impl ImageRecord {
    fn refuse(&self, transition: Transition) -> TransitionError {
        TransitionError::Status {
            id: self.parts.image_id,
            status: self.parts.status,
            transition,
        }
    }

    /// Refuses `transition` on a deleted record.
    fn not_deleted(&self, transition: Transition) -> Result<(), TransitionError> {
        if self.is_deleted() {
            return Err(TransitionError::Deleted {
                id: self.parts.image_id,
                transition,
            });
        }
        Ok(())
    }

    /// Refuses `transition` unless the record is claimed (`PROCESSING`) and not deleted.
    fn claimed(&self, transition: Transition) -> Result<(), TransitionError> {
        self.not_deleted(transition)?;
        if self.parts.status != ImageStatus::Processing {
            return Err(self.refuse(transition));
        }
        Ok(())
    }

    /// Whether a processor may take the image at `now`: it is neither deleted nor finished, and no
    /// other claim holds.
    ///
    /// # Errors
    /// [`TransitionError::Deleted`], [`TransitionError::Status`] for a terminal image,
    /// [`TransitionError::Claimed`] while another claim holds.
    pub fn claimable(&self, now: Timestamp) -> Result<(), TransitionError> {
        self.not_deleted(Transition::Claim)?;
        if self.is_terminal() {
            return Err(self.refuse(Transition::Claim));
        }
        match self.parts.lease_expires_at {
            Some(until) if self.parts.status == ImageStatus::Processing && until > now => {
                Err(TransitionError::Claimed {
                    id: self.parts.image_id,
                    until,
                })
            }
            _ => Ok(()),
        }
    }

    /// Notes at `now` that the upload's bytes are stored and its processing scheduled: `PROCESSING`
    /// with no claim held (the next processor takes it) and no attempt counted, so the image is
    /// listed from the moment its upload ends instead of when a processor gets to it.
    ///
    /// # Errors
    /// [`TransitionError::Deleted`]; [`TransitionError::Status`] unless the image awaits its upload.
    pub fn receive(&self, now: Timestamp) -> Result<Self, TransitionError> {
        self.not_deleted(Transition::Receive)?;
        if self.parts.status != ImageStatus::AwaitingUpload {
            return Err(self.refuse(Transition::Receive));
        }
        let mut next = self.next(now);
        next.parts.status = ImageStatus::Processing;
        Ok(next)
    }

    /// Takes the image for processing until `now + lease`: `PROCESSING`, one more attempt.
    ///
    /// # Errors
    /// As [`Self::claimable`].
    pub fn claim(&self, now: Timestamp, lease: Duration) -> Result<Self, TransitionError> {
        self.claimable(now)?;
        let mut next = self.next(now);
        next.parts.status = ImageStatus::Processing;
        next.parts.attempts = self.parts.attempts.saturating_add(1);
        next.parts.lease_expires_at = Some(now.saturating_add(lease));
        Ok(next)
    }

    /// Records the OCR result of a claimed image: `PROCESSED`, with what was measured of the object
    /// (and, when the same bytes were uploaded before, the earliest such image).
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is claimed and not deleted.
    pub fn complete(
        &self,
        now: Timestamp,
        measured: &Measurements,
        result: &OcrResult,
    ) -> Result<Self, TransitionError> {
        self.claimed(Transition::Complete)?;
        let mut next = self.finished(now, measured);
        next.parts.status = ImageStatus::Processed;
        next.set_ocr(result);
        Ok(next)
    }

    /// Records a claimed image as processed with the OCR result of `original`, an earlier image with
    /// the same bytes: `PROCESSED`, a duplicate of it.
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is claimed and not deleted, and `original` is processed.
    pub fn complete_as_copy(
        &self,
        now: Timestamp,
        measured: &Measurements,
        original: &Self,
    ) -> Result<Self, TransitionError> {
        self.claimed(Transition::Complete)?;
        if original.parts.status != ImageStatus::Processed {
            return Err(original.refuse(Transition::Complete));
        }
        let mut next = self.finished(now, measured);
        next.parts.status = ImageStatus::Processed;
        next.copy_ocr_from(original);
        next.parts.duplicate_of = Some(original.parts.image_id);
        Ok(next)
    }

    /// Records that a claimed image's object broke a rule: `REJECTED`, OCR skipped.
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is claimed and not deleted.
    pub fn reject(
        &self,
        now: Timestamp,
        measured: &Measurements,
        code: RejectionCode,
        message: impl Into<String>,
    ) -> Result<Self, TransitionError> {
        self.claimed(Transition::Reject)?;
        let mut next = self.finished(now, measured);
        next.parts.status = ImageStatus::Rejected;
        next.parts.ocr_status = OcrStatus::Skipped;
        next.parts.rejection_code = Some(code);
        next.parts.rejection_message = Some(message.into());
        Ok(next)
    }

    /// Records a permanent failure: `FAILED`, with what was measured of the object if it was read.
    /// The one way a record fails, from a claim or (retries ran out before a claim) from waiting.
    ///
    /// # Errors
    /// [`TransitionError`] for a deleted or terminal image.
    pub fn fail(
        &self,
        now: Timestamp,
        measured: Option<&Measurements>,
        code: FailureCode,
        message: impl Into<String>,
    ) -> Result<Self, TransitionError> {
        self.not_deleted(Transition::Fail)?;
        if self.is_terminal() {
            return Err(self.refuse(Transition::Fail));
        }
        let mut next = if let Some(measured) = measured {
            self.finished(now, measured)
        } else {
            let mut next = self.next(now);
            next.parts.lease_expires_at = None;
            next.parts.processed_at = Some(now);
            next
        };
        next.parts.status = ImageStatus::Failed;
        next.parts.ocr_status = OcrStatus::Failed;
        next.parts.failure_code = Some(code);
        next.parts.failure_message = Some(message.into());
        Ok(next)
    }

    /// Gives up a claim (after a retryable failure, or a claim left by a process that died) so that
    /// the next attempt can take the image at once. What was measured of the object stays on the
    /// record, so that even a record that later fails without another read reports it.
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is `PROCESSING`.
    pub fn release(
        &self,
        now: Timestamp,
        measured: Option<&Measurements>,
    ) -> Result<Self, TransitionError> {
        if self.parts.status != ImageStatus::Processing {
            return Err(self.refuse(Transition::Release));
        }
        let mut next = self.next(now);
        next.parts.lease_expires_at = None;
        if let Some(measured) = measured {
            next.measured(measured);
        }
        Ok(next)
    }

    /// Undoes a claim whose object was not in the store (a notification that outran its object): the
    /// image waits for its upload again, and the attempt does not count.
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is `PROCESSING`.
    pub fn unclaim(&self, now: Timestamp) -> Result<Self, TransitionError> {
        if self.parts.status != ImageStatus::Processing {
            return Err(self.refuse(Transition::Unclaim));
        }
        let mut next = self.next(now);
        next.parts.status = ImageStatus::AwaitingUpload;
        next.parts.requested_engine = None;
        next.parts.attempts = self.parts.attempts.saturating_sub(1);
        next.parts.lease_expires_at = None;
        Ok(next)
    }

    /// Names the stored preview of a processed image, in the same write as its result.
    ///
    /// # Errors
    /// [`TransitionError`] unless the image is `PROCESSED`.
    pub fn attach_preview(&mut self, key: ObjectKey) -> Result<(), TransitionError> {
        if self.parts.status != ImageStatus::Processed {
            return Err(self.refuse(Transition::AttachPreview));
        }
        self.parts.preview_key = Some(key);
        Ok(())
    }

    /// Notes the owner's other images found to be the same document as this processed one (the
    /// most alike first; empty: looked for, none found). A flag never changes the record's status:
    /// people decide.
    ///
    /// # Errors
    /// [`TransitionError::Status`] unless the image is processed.
    pub fn note_near_duplicates(
        &mut self,
        found: Vec<crate::model::NearDuplicate>,
    ) -> Result<(), TransitionError> {
        if self.parts.status != ImageStatus::Processed {
            return Err(self.refuse(Transition::NoteNearDuplicates));
        }
        self.parts.near_duplicates = Some(found);
        Ok(())
    }

    /// Notes the document type, fields and line items `extractor` read from this processed image
    /// (replacing any read before). The fields are stored as given: the processor settles them.
    ///
    /// # Errors
    /// [`TransitionError::Status`] unless the image is processed.
    pub fn note_fields(
        &mut self,
        extractor: &str,
        found: crate::model::DocumentFields,
    ) -> Result<(), TransitionError> {
        if self.parts.status != ImageStatus::Processed {
            return Err(self.refuse(Transition::NoteFields));
        }
        self.parts.document_type = Some(found.document_type);
        self.parts.fields = found.fields;
        self.parts.line_items = found.line_items;
        self.parts.fields_extractor = Some(extractor.to_owned());
        Ok(())
    }

    /// Sets a finished result aside at `now` so that the image is processed again, by `engine` when
    /// named (else the deployment's), under the usual claim rules: `PROCESSING` with no claim held (the next processor takes it), no attempts
    /// counted, the result's summary added to the history (at most [`super::MAX_HISTORY`] runs),
    /// what was measured of the bytes kept. Allowed for `PROCESSED` and `FAILED` images, and for
    /// `REJECTED` ones whose rejection depends on the engine ([`RejectionCode::depends_on_engine`]);
    /// a rejection for what the bytes are never changes.
    ///
    /// # Errors
    /// [`TransitionError::Deleted`]; [`TransitionError::Status`] for an image being processed or
    /// awaiting its upload, or rejected for its bytes.
    pub fn reprocess(&self, now: Timestamp, engine: Option<&str>) -> Result<Self, TransitionError> {
        self.not_deleted(Transition::Reprocess)?;
        let allowed = match self.parts.status {
            ImageStatus::Processed | ImageStatus::Failed => true,
            ImageStatus::Rejected => self
                .parts
                .rejection_code
                .is_some_and(RejectionCode::depends_on_engine),
            _ => false,
        };
        if !allowed {
            return Err(self.refuse(Transition::Reprocess));
        }
        let mut next = self.next(now);
        next.parts.history.push(super::PastRun::of(self, now));
        if next.parts.history.len() > super::MAX_HISTORY {
            let excess = next.parts.history.len() - super::MAX_HISTORY;
            next.parts.history.drain(..excess);
        }
        next.parts.status = ImageStatus::Processing;
        next.parts.ocr_status = OcrStatus::Pending;
        next.parts.processed_at = None;
        next.parts.lease_expires_at = None;
        next.parts.attempts = 0;
        next.parts.ocr_text = None;
        next.parts.ocr_line_count = None;
        next.parts.ocr_avg_confidence_pct = None;
        next.parts.ocr_engine = None;
        next.parts.ocr_truncated = None;
        next.parts.ocr_lines = None;
        next.parts.pages = None;
        next.parts.rejection_code = None;
        next.parts.rejection_message = None;
        next.parts.failure_code = None;
        next.parts.failure_message = None;
        next.parts.duplicate_of = None;
        next.parts.preview_key = None;
        next.parts.fingerprints.clear();
        next.parts.near_duplicates = None;
        next.parts.document_type = None;
        next.parts.fields.clear();
        next.parts.line_items.clear();
        next.parts.fields_extractor = None;
        next.parts.requested_engine = engine.map(str::to_owned);
        Ok(next)
    }

    /// Makes a soft-deleted image's record a tombstone at `now`, erased by `by` (an owner, or
    /// `retention`): its OCR text, lines and engine figures, its file name (now `purged`, in its
    /// object key too), its
    /// rejection or failure message, its preview and its history go; what an audit needs stays (id,
    /// owner, SHA-256, size, type, status and codes, `createdAt`, `deletedAt`, `purgedAt`, who). The
    /// caller has erased the bytes first.
    ///
    /// # Errors
    /// [`TransitionError::Status`] unless the image is deleted and not yet purged.
    pub fn purge(&self, now: Timestamp, by: &str) -> Result<Self, TransitionError> {
        if !self.is_deleted() || self.parts.purged_at.is_some() {
            return Err(self.refuse(Transition::Purge));
        }
        let mut next = self.next(now);
        next.parts.purged_at = Some(now);
        next.parts.purged_by = Some(by.chars().take(256).collect());
        next.parts.file_name = crate::model::FileName::sanitize("purged")
            .unwrap_or_else(|_| self.parts.file_name.clone());
        // The key named the file too; its object is gone, so the tombstone names none.
        next.parts.object_key = ObjectKey::for_upload(self.parts.image_id, &next.parts.file_name);
        next.parts.ocr_text = None;
        next.parts.ocr_lines = None;
        next.parts.pages = None;
        next.parts.ocr_line_count = None;
        next.parts.ocr_avg_confidence_pct = None;
        next.parts.ocr_truncated = None;
        next.parts.rejection_message = None;
        next.parts.failure_message = None;
        next.parts.preview_key = None;
        next.parts.fingerprints.clear();
        next.parts.near_duplicates = None;
        next.parts.document_type = None;
        next.parts.fields.clear();
        next.parts.line_items.clear();
        next.parts.fields_extractor = None;
        next.parts.history.clear();
        Ok(next)
    }

    /// Soft-deletes the image at `now`: it leaves listings and lookups, its metadata stays.
    ///
    /// # Errors
    /// [`TransitionError::Deleted`] when it is deleted already.
    pub fn mark_deleted(&self, now: Timestamp) -> Result<Self, TransitionError> {
        self.not_deleted(Transition::Delete)?;
        let mut next = self.next(now);
        next.parts.deleted_at = Some(now);
        Ok(next)
    }

    /// This result (derived from an earlier version) rebased over `current`, the version another
    /// writer stored meanwhile: it takes that version's place, keeps its deletion, and counts the
    /// attempts of both.
    #[must_use]
    pub fn rebased_over(mut self, current: &Self) -> Self {
        self.parts.version = current.parts.version.saturating_add(1);
        self.parts.updated_at = self.parts.updated_at.max(current.parts.updated_at);
        self.parts.deleted_at = current.parts.deleted_at;
        self.parts.attempts = self.parts.attempts.max(current.parts.attempts);
        self
    }

    /// The next version with processing ended at `now` and the measurements recorded.
    fn finished(&self, now: Timestamp, measured: &Measurements) -> Self {
        let mut next = self.next(now);
        next.parts.lease_expires_at = None;
        next.parts.requested_engine = None;
        next.parts.processed_at = Some(now);
        next.measured(measured);
        next
    }

    fn measured(&mut self, measured: &Measurements) {
        self.parts.size_bytes = measured.size_bytes;
        self.parts.sha256 = measured.sha256;
        self.parts.content_type = measured.content_type;
        self.parts.width_px = measured.dimensions.map(|d| d.0);
        self.parts.height_px = measured.dimensions.map(|d| d.1);
        self.parts.page_count = measured.page_count;
        if measured.duplicate_of.is_some() {
            self.parts.duplicate_of = measured.duplicate_of;
        }
    }
}
