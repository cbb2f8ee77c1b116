//! What earlier runs of processing came to, kept when an image is processed again.

use super::{FailureCode, ImageRecord, ImageStatus, RejectionCode};
use crate::model::{ImageId, Sha256Digest, Timestamp};

/// The most earlier runs a record keeps (the oldest are dropped first).
pub const MAX_HISTORY: usize = 20;

/// The summary of one earlier run of processing: its outcome, engine and figures, and a fingerprint
/// of its text (not the text).
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct PastRun {
    /// The outcome (`PROCESSED`, `FAILED` or `REJECTED`).
    pub status: ImageStatus,
    /// When it ended.
    pub processed_at: Option<Timestamp>,
    /// The engine that read it.
    pub ocr_engine: Option<String>,
    /// How many lines it read.
    pub ocr_line_count: Option<u32>,
    /// Its mean word confidence.
    pub ocr_avg_confidence_pct: Option<f64>,
    /// The SHA-256 of its text, to tell whether a new run read something else.
    pub ocr_text_sha256: Option<Sha256Digest>,
    /// Why it was rejected.
    pub rejection_code: Option<RejectionCode>,
    /// Why it failed.
    pub failure_code: Option<FailureCode>,
    /// The image whose result it reused.
    pub duplicate_of: Option<ImageId>,
    /// When it was set aside for a new run.
    pub replaced_at: Timestamp,
}

impl PastRun {
    /// A past run as stored (for repository adapters).
    #[allow(clippy::too_many_arguments)]
    pub fn new(status: ImageStatus, replaced_at: Timestamp) -> Self {
        Self {
            status,
            processed_at: None,
            ocr_engine: None,
            ocr_line_count: None,
            ocr_avg_confidence_pct: None,
            ocr_text_sha256: None,
            rejection_code: None,
            failure_code: None,
            duplicate_of: None,
            replaced_at,
        }
    }

    /// The summary of `record`'s finished run, set aside at `now`.
    pub(super) fn of(record: &ImageRecord, now: Timestamp) -> Self {
        Self {
            status: record.status,
            processed_at: record.processed_at,
            ocr_engine: record.ocr_engine.clone(),
            ocr_line_count: record.ocr_line_count,
            ocr_avg_confidence_pct: record.ocr_avg_confidence_pct,
            ocr_text_sha256: record
                .ocr_text
                .as_deref()
                .map(|text| Sha256Digest::of(text.as_bytes())),
            rejection_code: record.rejection_code,
            failure_code: record.failure_code,
            duplicate_of: record.duplicate_of,
            replaced_at: now,
        }
    }
}

impl RejectionCode {
    /// Whether the rejection depends on the OCR engine's limits (formats, sizes), so that processing
    /// again, with another engine or settings, may end otherwise. A rejection for what the bytes are
    /// (empty, corrupt, not what was declared) never changes.
    pub const fn depends_on_engine(self) -> bool {
        matches!(
            self,
            Self::UnsupportedType | Self::TooLarge | Self::TooSmall
        )
    }
}
