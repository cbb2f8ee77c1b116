//! The record's lifecycle vocabulary: statuses and the stable rejection and failure codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an image is in its life.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ImageStatus {
    /// An upload URL was issued; no object has been processed yet.
    AwaitingUpload,
    /// A processor has claimed the image (under a lease).
    Processing,
    /// OCR ran and its result is recorded.
    Processed,
    /// OCR failed permanently; the failure code says why.
    Failed,
    /// The object broke a rule (type, size, checksum, ...) and OCR was not attempted.
    Rejected,
}

/// Why a text is not an [`ImageStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown image status {0:?}; expected one of AWAITING_UPLOAD, PROCESSING, PROCESSED, FAILED, REJECTED"
)]
pub struct ImageStatusError(pub String);

impl ImageStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::AwaitingUpload,
        Self::Processing,
        Self::Processed,
        Self::Failed,
        Self::Rejected,
    ];

    /// Whether processing has ended for good.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Processed | Self::Failed | Self::Rejected)
    }

    /// The stable text form (`PROCESSED`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingUpload => "AWAITING_UPLOAD",
            Self::Processing => "PROCESSING",
            Self::Processed => "PROCESSED",
            Self::Failed => "FAILED",
            Self::Rejected => "REJECTED",
        }
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImageStatus {
    type Err = ImageStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ImageStatusError(s.chars().take(40).collect()))
    }
}

/// The seed's `ocrStatus`: what became of OCR for this image.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OcrStatus {
    /// OCR has not run yet.
    Pending,
    /// OCR ran; the text may be empty if the image has none.
    Completed,
    /// OCR failed permanently.
    Failed,
    /// OCR was not attempted because the object was rejected.
    Skipped,
}

/// Why an object was rejected before OCR. Stable codes, part of the API.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RejectionCode {
    /// The object has no bytes.
    Empty,
    /// The bytes are not an image format the configured engine accepts.
    UnsupportedType,
    /// The bytes are a different format from the declared content type.
    TypeMismatch,
    /// Larger than the byte limit, or more pixels than the pixel limit.
    TooLarge,
    /// Smaller than the engine's minimum dimensions.
    TooSmall,
    /// The SHA-256 differs from the one declared when the upload URL was requested.
    ChecksumMismatch,
    /// The size differs from the one declared when the upload URL was requested.
    SizeMismatch,
    /// The header is unreadable, or the file is truncated or carries trailing data.
    Corrupt,
    /// The document is encrypted: it needs a password to open.
    Encrypted,
}

/// Why OCR failed permanently. Stable codes, part of the API.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum FailureCode {
    /// The object named by the event no longer exists.
    ObjectMissing,
    /// The engine could not decode the image.
    OcrInvalidImage,
    /// The engine does not accept this format.
    OcrUnsupportedFormat,
    /// The engine's size limit was exceeded.
    OcrTooLarge,
    /// The engine failed in another permanent way.
    OcrError,
    /// Retryable errors persisted past the attempt limit.
    RetriesExhausted,
    /// OCR ran out of time again when retried: a timeout is retried once, as it is more likely the
    /// image than a passing fault.
    OcrTimeout,
    /// The store refused to give the object (permissions, policy); retrying will not help.
    StoreError,
}
