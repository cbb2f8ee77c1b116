//! What processing one notification did.

use crate::model::{ImageId, ImageRecord, ImageStatus, ObjectKey, Timestamp};

/// Why a notification was skipped without processing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// The image was deleted before it was processed.
    Deleted,
    /// The object is not in the store (a notification that outran or outlived its object); the record
    /// stays as it was.
    ObjectMissing,
}

/// What processing a notification did.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum ProcessOutcome {
    /// OCR ran (or an identical image's result was reused); the record is `PROCESSED`.
    Processed(Box<ImageRecord>),
    /// The object broke a rule; the record is `REJECTED` and OCR was not called.
    Rejected(Box<ImageRecord>),
    /// OCR failed permanently, or retries ran out; the record is `FAILED`.
    Failed(Box<ImageRecord>),
    /// The image was already in a terminal state: a replayed notification, nothing done.
    AlreadyDone(Box<ImageRecord>),
    /// Another processor holds a live claim on the image; nothing done.
    InProgress {
        /// The image.
        image_id: ImageId,
        /// When the other claim expires.
        lease_expires_at: Option<Timestamp>,
    },
    /// Nothing to do.
    Skipped {
        /// The image.
        image_id: ImageId,
        /// Why.
        reason: SkipReason,
    },
}

impl ProcessOutcome {
    pub(super) fn terminal(record: ImageRecord) -> Self {
        match record.status() {
            ImageStatus::Rejected => Self::Rejected(Box::new(record)),
            ImageStatus::Failed => Self::Failed(Box::new(record)),
            _ => Self::Processed(Box::new(record)),
        }
    }

    /// The record, when the outcome carries one.
    pub fn record(&self) -> Option<&ImageRecord> {
        match self {
            Self::Processed(r) | Self::Rejected(r) | Self::Failed(r) | Self::AlreadyDone(r) => {
                Some(r)
            }
            Self::InProgress { .. } | Self::Skipped { .. } => None,
        }
    }
}

impl ProcessOutcome {
    /// Logs what processing `key` did as one structured event, with the same fields wherever Intake
    /// processes images (the Lambda processor, the local workers): the image, its status, SHA-256,
    /// rejection or failure code and the image it duplicates; or who holds it, or why it was skipped.
    pub fn log(&self, key: &ObjectKey) {
        match self {
            Self::Processed(r) | Self::Rejected(r) | Self::Failed(r) | Self::AlreadyDone(r) => {
                tracing::info!(
                    key = %key,
                    image_id = %r.image_id(),
                    status = r.status().as_str(),
                    sha256 = r.sha256().map(|s| s.to_hex()).unwrap_or_default(),
                    rejection = ?r.rejection_code(),
                    failure = ?r.failure_code(),
                    duplicate_of = r.duplicate_of().map(|d| d.to_string()).unwrap_or_default(),
                    already_done = matches!(self, Self::AlreadyDone(_)),
                    "processed"
                );
            }
            Self::InProgress {
                image_id,
                lease_expires_at,
            } => tracing::info!(
                key = %key,
                image_id = %image_id,
                lease_expires_at = lease_expires_at.map(|t| t.to_string()).unwrap_or_default(),
                "another processor holds the image"
            ),
            Self::Skipped { image_id, reason } => tracing::info!(
                key = %key,
                image_id = %image_id,
                reason = ?reason,
                "skipped"
            ),
        }
    }
}
