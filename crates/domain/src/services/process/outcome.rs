//! What processing one notification did.

use crate::model::{ImageId, ImageRecord, ImageStatus, Timestamp};

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
