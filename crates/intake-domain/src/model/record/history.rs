//! What earlier runs of processing came to, kept when an image is processed again.

use serde::{Deserialize, Serialize};

use super::{FailureCode, ImageRecord, ImageStatus, RejectionCode};
use crate::model::{ImageId, Sha256Digest, Timestamp};

/// The most earlier runs a record keeps (the oldest are dropped first).
pub const MAX_HISTORY: usize = 20;

/// The summary of one earlier run of processing: its outcome, engine and figures, and a fingerprint
/// of its text (not the text). Part of the stored document (see [`super::RecordParts`]).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PastRun {
    /// The outcome (`PROCESSED`, `FAILED` or `REJECTED`).
    pub status: ImageStatus,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<Timestamp>,
    /// The engine that read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_engine: Option<String>,
    /// How many lines it read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_line_count: Option<u32>,
    /// Its mean word confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_avg_confidence_pct: Option<f64>,
    /// The SHA-256 of its text, to tell whether a new run read something else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text_sha256: Option<Sha256Digest>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_code: Option<RejectionCode>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<FailureCode>,
    /// The image whose result it reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
            status: record.parts.status,
            processed_at: record.parts.processed_at,
            ocr_engine: record.parts.ocr_engine.clone(),
            ocr_line_count: record.parts.ocr_line_count,
            ocr_avg_confidence_pct: record.parts.ocr_avg_confidence_pct,
            ocr_text_sha256: record
                .parts
                .ocr_text
                .as_deref()
                .map(|text| Sha256Digest::of(text.as_bytes())),
            rejection_code: record.parts.rejection_code,
            failure_code: record.parts.failure_code,
            duplicate_of: record.parts.duplicate_of,
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
