use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{
    ContentType, FileName, ImageId, ObjectKey, OcrLine, OcrResult, Owner, Sha256Digest, Timestamp,
};

/// The schema version written into every record (2 added the required `owner`). New fields are additive and optional, so readers of an
/// older version keep working; the number changes only if a field changes meaning.
pub const RECORD_SCHEMA_VERSION: u32 = 2;

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

/// What a client declared when asking for an upload URL; validated by the upload service.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct NewUpload {
    /// The new image's id.
    pub image_id: ImageId,
    /// Who asked for the upload.
    pub owner: Owner,
    /// The bucket (or local container) the object goes to.
    pub bucket: String,
    /// The sanitized file name.
    pub file_name: FileName,
    /// The declared content type.
    pub content_type: ContentType,
    /// The declared size, if any.
    pub size_bytes: Option<u64>,
    /// The declared SHA-256, if any.
    pub sha256: Option<Sha256Digest>,
    /// When the URL was issued.
    pub created_at: Timestamp,
    /// When the upload URL expires.
    pub upload_expires_at: Timestamp,
}

impl NewUpload {
    /// Groups the declared facts of a new upload.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        image_id: ImageId,
        owner: Owner,
        bucket: impl Into<String>,
        file_name: FileName,
        content_type: ContentType,
        size_bytes: Option<u64>,
        sha256: Option<Sha256Digest>,
        created_at: Timestamp,
        upload_expires_at: Timestamp,
    ) -> Self {
        Self {
            image_id,
            owner,
            bucket: bucket.into(),
            file_name,
            content_type,
            size_bytes,
            sha256,
            created_at,
            upload_expires_at,
        }
    }
}

/// The metadata record of one image: the seed's data model plus what a production system needs.
///
/// JSON names are the seed's (camelCase). Optional fields are omitted when empty. `version` increases by
/// one on every write and is the basis of the repositories' conditional writes.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImageRecord {
    /// Schema version of this record ([`RECORD_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The image id (partition key).
    pub image_id: ImageId,
    /// Who the image belongs to; only they can see it.
    pub owner: Owner,
    /// Optimistic-concurrency version, starting at 1.
    pub version: u64,
    /// Lifecycle status.
    pub status: ImageStatus,
    /// The bucket (or local container) of the object.
    pub bucket: String,
    /// The object's key.
    pub object_key: ObjectKey,
    /// The sanitized original file name.
    pub file_name: FileName,
    /// When the upload URL was issued.
    pub created_at: Timestamp,
    /// When the last write happened.
    pub updated_at: Timestamp,
    /// When the upload URL expires.
    pub upload_expires_at: Timestamp,
    /// The content type the client declared.
    pub declared_content_type: ContentType,
    /// The size the client declared, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_size_bytes: Option<u64>,
    /// The SHA-256 the client declared, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_sha256: Option<Sha256Digest>,
    /// SHA-256 of the stored bytes, computed by the processor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    /// Size of the stored object in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// The content type found in the bytes (magic numbers), not the declared one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    /// Image width from the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_px: Option<u32>,
    /// Image height from the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_px: Option<u32>,
    /// How many pages the image has (a multi-page TIFF; 1 for single-image formats), from the headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
    /// When processing reached a terminal status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<Timestamp>,
    /// What became of OCR.
    pub ocr_status: OcrStatus,
    /// The recognised text, lines joined by `\n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    /// Number of lines recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_line_count: Option<u32>,
    /// Mean word confidence in percent (see [`OcrResult::avg_confidence_pct`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_avg_confidence_pct: Option<f64>,
    /// The engine that produced the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_engine: Option<String>,
    /// Whether the engine stopped at a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_truncated: Option<bool>,
    /// Lines with words, confidences and boxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_lines: Option<Vec<OcrLine>>,
    /// Why the object was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_code: Option<RejectionCode>,
    /// Human-readable detail of the rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_message: Option<String>,
    /// Why OCR failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<FailureCode>,
    /// Human-readable detail of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// The earliest live image with the same SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<ImageId>,
    /// Where the small preview Intake made of the image when it processed it is stored, if it made
    /// one (lists show it instead of the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_key: Option<ObjectKey>,
    /// How many times a processor has claimed the image.
    #[serde(default)]
    pub attempts: u32,
    /// Until when the current processor's claim holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<Timestamp>,
    /// When the image was soft-deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
}

impl ImageRecord {
    /// A new record in `AWAITING_UPLOAD`, version 1.
    pub fn awaiting_upload(upload: NewUpload) -> Self {
        Self {
            schema_version: RECORD_SCHEMA_VERSION,
            image_id: upload.image_id,
            owner: upload.owner,
            version: 1,
            status: ImageStatus::AwaitingUpload,
            bucket: upload.bucket,
            object_key: ObjectKey::for_upload(upload.image_id, &upload.file_name),
            file_name: upload.file_name,
            created_at: upload.created_at,
            updated_at: upload.created_at,
            upload_expires_at: upload.upload_expires_at,
            declared_content_type: upload.content_type,
            declared_size_bytes: upload.size_bytes,
            declared_sha256: upload.sha256,
            sha256: None,
            size_bytes: None,
            content_type: None,
            width_px: None,
            height_px: None,
            page_count: None,
            processed_at: None,
            ocr_status: OcrStatus::Pending,
            ocr_text: None,
            ocr_line_count: None,
            ocr_avg_confidence_pct: None,
            ocr_engine: None,
            ocr_truncated: None,
            ocr_lines: None,
            rejection_code: None,
            rejection_message: None,
            failure_code: None,
            failure_message: None,
            duplicate_of: None,
            preview_key: None,
            attempts: 0,
            lease_expires_at: None,
            deleted_at: None,
        }
    }

    /// Whether processing has ended for good.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Whether the record is soft-deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The next version of this record, written at `now`: the version is bumped and `updatedAt` set.
    /// Services derive every write from this, and repositories accept it only over the current version.
    #[must_use]
    pub fn next(&self, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        next
    }

    /// Copies an OCR result into the record's OCR fields.
    pub fn set_ocr(&mut self, result: &OcrResult) {
        self.ocr_status = OcrStatus::Completed;
        self.ocr_text = Some(result.text());
        self.ocr_line_count = Some(result.line_count());
        self.ocr_avg_confidence_pct = result.avg_confidence_pct();
        self.ocr_engine = Some(result.engine().to_owned());
        self.ocr_truncated = Some(result.truncated());
        self.ocr_lines = Some(result.lines().to_vec());
    }

    /// Copies the OCR fields of `original` (an earlier image with the same bytes) into this record.
    pub fn copy_ocr_from(&mut self, original: &Self) {
        self.ocr_status = original.ocr_status;
        self.ocr_text.clone_from(&original.ocr_text);
        self.ocr_line_count = original.ocr_line_count;
        self.ocr_avg_confidence_pct = original.ocr_avg_confidence_pct;
        self.ocr_engine.clone_from(&original.ocr_engine);
        self.ocr_truncated = original.ocr_truncated;
        self.ocr_lines.clone_from(&original.ocr_lines);
    }

    /// The record as listings show it: metadata only, without OCR text and lines.
    #[must_use]
    pub fn metadata_only(&self) -> Self {
        let mut meta = self.clone();
        meta.ocr_text = None;
        meta.ocr_lines = None;
        meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImageRecord {
        let now = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        ImageRecord::awaiting_upload(NewUpload::new(
            ImageId::generate(now),
            crate::model::Owner::parse("o").unwrap(),
            "bucket",
            FileName::sanitize("a.png").unwrap(),
            ContentType::Png,
            Some(10),
            None,
            now,
            now,
        ))
    }

    #[test]
    fn json_uses_the_seed_names_and_round_trips() {
        let record = sample();
        let json = serde_json::to_value(&record).unwrap();
        for field in [
            "imageId",
            "bucket",
            "objectKey",
            "ocrStatus",
            "status",
            "createdAt",
            "declaredContentType",
            "schemaVersion",
        ] {
            assert!(json.get(field).is_some(), "{field} missing in {json}");
        }
        assert_eq!(json["status"], "AWAITING_UPLOAD");
        assert_eq!(json["ocrStatus"], "PENDING");
        assert!(json.get("ocrText").is_none());
        let back: ImageRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn unknown_fields_from_a_newer_writer_are_tolerated() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["someFutureField"] = serde_json::json!({"x": 1});
        assert!(serde_json::from_value::<ImageRecord>(json).is_ok());
    }

    #[test]
    fn statuses_parse_from_their_stable_text() {
        for s in ImageStatus::ALL {
            assert_eq!(s.as_str().parse::<ImageStatus>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("DONE".parse::<ImageStatus>().is_err());
        assert!(ImageStatus::Rejected.is_terminal() && !ImageStatus::Processing.is_terminal());
    }

    #[test]
    fn next_bumps_version_and_metadata_only_drops_text() {
        let mut r = sample();
        r.ocr_text = Some("x".into());
        let later = Timestamp::from_unix_millis(1_700_000_001_000).unwrap();
        let n = r.next(later);
        assert_eq!(n.version, 2);
        assert_eq!(n.updated_at, later);
        assert!(n.metadata_only().ocr_text.is_none());
    }
}
