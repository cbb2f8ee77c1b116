//! The image record: the seed's data model plus what a production system needs.
//!
//! Its fields are private: the record changes state only through the transition methods in
//! [`transitions`](self) (claim, complete, reject, fail, release, unclaim, delete), each of which
//! keeps the status, the OCR status, the codes and messages, `processedAt`, the lease and the
//! attempts consistent. Repository adapters store it through [`RecordParts`], which they convert
//! from and into their own stored form; [`ImageRecord::from_parts`] checks the same consistency on
//! the way back in.

mod history;
mod parts;
mod status;
mod transitions;
mod upload;
mod view;

pub use history::{MAX_HISTORY, PastRun};
pub use parts::{InvalidRecord, RecordParts};
pub use status::{FailureCode, ImageStatus, ImageStatusError, OcrStatus, RejectionCode};
pub use transitions::{Measurements, Transition, TransitionError};
pub use upload::NewUpload;
pub use view::ImageMetadata;

use super::{
    ContentType, FileName, ImageId, ObjectKey, OcrLine, OcrResult, Owner, Sha256Digest, Timestamp,
};

/// The schema version written into every record (2 added the required `owner`). New fields are
/// additive and optional, so readers of an older version keep working; the number changes only if a
/// field changes meaning.
pub const RECORD_SCHEMA_VERSION: u32 = 2;

/// The metadata record of one image.
///
/// `version` increases by one on every write and is the basis of the repositories' conditional
/// writes: every transition returns the next version, and repositories accept it only over the
/// current one.
#[derive(Clone, PartialEq, Debug)]
pub struct ImageRecord {
    schema_version: u32,
    image_id: ImageId,
    owner: Owner,
    version: u64,
    status: ImageStatus,
    bucket: String,
    object_key: ObjectKey,
    file_name: FileName,
    created_at: Timestamp,
    updated_at: Timestamp,
    upload_expires_at: Timestamp,
    declared_content_type: ContentType,
    declared_size_bytes: Option<u64>,
    declared_sha256: Option<Sha256Digest>,
    sha256: Option<Sha256Digest>,
    size_bytes: Option<u64>,
    content_type: Option<ContentType>,
    width_px: Option<u32>,
    height_px: Option<u32>,
    page_count: Option<u32>,
    processed_at: Option<Timestamp>,
    ocr_status: OcrStatus,
    ocr_text: Option<String>,
    ocr_line_count: Option<u32>,
    ocr_avg_confidence_pct: Option<f64>,
    ocr_engine: Option<String>,
    ocr_truncated: Option<bool>,
    ocr_lines: Option<Vec<OcrLine>>,
    rejection_code: Option<RejectionCode>,
    rejection_message: Option<String>,
    failure_code: Option<FailureCode>,
    failure_message: Option<String>,
    duplicate_of: Option<ImageId>,
    preview_key: Option<ObjectKey>,
    attempts: u32,
    lease_expires_at: Option<Timestamp>,
    deleted_at: Option<Timestamp>,
    purged_at: Option<Timestamp>,
    purged_by: Option<String>,
    requested_engine: Option<String>,
    history: Vec<PastRun>,
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
            purged_at: None,
            purged_by: None,
            requested_engine: None,
            history: Vec::new(),
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

    /// The next version of this record with no change of state, written at `now`: the version is
    /// bumped and `updatedAt` set. Every transition starts from it.
    #[must_use]
    pub fn next(&self, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.version = self.version.saturating_add(1);
        next.updated_at = now;
        next
    }

    /// The record as listings show it: metadata only, without OCR text and lines.
    #[must_use]
    pub fn metadata_only(&self) -> Self {
        let mut meta = self.without_ocr_lines();
        meta.ocr_text = None;
        meta
    }

    /// The record without its OCR lines (a view that shows the text, not the geometry).
    #[must_use]
    pub fn without_ocr_lines(&self) -> Self {
        let mut meta = self.clone();
        meta.ocr_lines = None;
        meta
    }

    /// Schema version of this record ([`RECORD_SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }
    /// The image id (partition key).
    pub fn image_id(&self) -> ImageId {
        self.image_id
    }
    /// Who the image belongs to; only they can see it.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }
    /// Optimistic-concurrency version, starting at 1.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Lifecycle status.
    pub fn status(&self) -> ImageStatus {
        self.status
    }
    /// The bucket (or local container) of the object.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
    /// The object's key.
    pub fn object_key(&self) -> &ObjectKey {
        &self.object_key
    }
    /// The sanitized original file name.
    pub fn file_name(&self) -> &FileName {
        &self.file_name
    }
    /// When the upload URL was issued.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When the last write happened.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// When the upload URL expires.
    pub fn upload_expires_at(&self) -> Timestamp {
        self.upload_expires_at
    }
    /// The content type the client declared.
    pub fn declared_content_type(&self) -> ContentType {
        self.declared_content_type
    }
    /// The size the client declared, if any.
    pub fn declared_size_bytes(&self) -> Option<u64> {
        self.declared_size_bytes
    }
    /// The SHA-256 the client declared, if any.
    pub fn declared_sha256(&self) -> Option<Sha256Digest> {
        self.declared_sha256
    }
    /// SHA-256 of the stored bytes, computed by the processor.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        self.sha256
    }
    /// Size of the stored object in bytes.
    pub fn size_bytes(&self) -> Option<u64> {
        self.size_bytes
    }
    /// The content type found in the bytes (magic numbers), not the declared one.
    pub fn content_type(&self) -> Option<ContentType> {
        self.content_type
    }
    /// Image width from the header.
    pub fn width_px(&self) -> Option<u32> {
        self.width_px
    }
    /// Image height from the header.
    pub fn height_px(&self) -> Option<u32> {
        self.height_px
    }
    /// How many pages the image has (a multi-page TIFF; 1 for single-image formats).
    pub fn page_count(&self) -> Option<u32> {
        self.page_count
    }
    /// When processing reached a terminal status.
    pub fn processed_at(&self) -> Option<Timestamp> {
        self.processed_at
    }
    /// What became of OCR.
    pub fn ocr_status(&self) -> OcrStatus {
        self.ocr_status
    }
    /// The recognised text, lines joined by `\n` (absent from listings).
    pub fn ocr_text(&self) -> Option<&str> {
        self.ocr_text.as_deref()
    }
    /// Number of lines recognised.
    pub fn ocr_line_count(&self) -> Option<u32> {
        self.ocr_line_count
    }
    /// Mean word confidence in percent (see [`OcrResult::avg_confidence_pct`]).
    pub fn ocr_avg_confidence_pct(&self) -> Option<f64> {
        self.ocr_avg_confidence_pct
    }
    /// The engine that produced the text.
    pub fn ocr_engine(&self) -> Option<&str> {
        self.ocr_engine.as_deref()
    }
    /// Whether the engine stopped at a limit.
    pub fn ocr_truncated(&self) -> Option<bool> {
        self.ocr_truncated
    }
    /// Lines with words, confidences and boxes (absent from listings and text-only views).
    pub fn ocr_lines(&self) -> Option<&[OcrLine]> {
        self.ocr_lines.as_deref()
    }
    /// Why the object was rejected.
    pub fn rejection_code(&self) -> Option<RejectionCode> {
        self.rejection_code
    }
    /// Human-readable detail of the rejection.
    pub fn rejection_message(&self) -> Option<&str> {
        self.rejection_message.as_deref()
    }
    /// Why OCR failed.
    pub fn failure_code(&self) -> Option<FailureCode> {
        self.failure_code
    }
    /// Human-readable detail of the failure.
    pub fn failure_message(&self) -> Option<&str> {
        self.failure_message.as_deref()
    }
    /// The earliest live image with the same SHA-256.
    pub fn duplicate_of(&self) -> Option<ImageId> {
        self.duplicate_of
    }
    /// Where the small preview Intake made of the image is stored, if it made one.
    pub fn preview_key(&self) -> Option<&ObjectKey> {
        self.preview_key.as_ref()
    }
    /// How many times a processor has claimed the image.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Until when the current processor's claim holds.
    pub fn lease_expires_at(&self) -> Option<Timestamp> {
        self.lease_expires_at
    }
    /// When the image was soft-deleted.
    pub fn deleted_at(&self) -> Option<Timestamp> {
        self.deleted_at
    }

    /// When the image's bytes and text were erased (see [`Self::purge`]); the record is then a
    /// tombstone.
    pub fn purged_at(&self) -> Option<Timestamp> {
        self.purged_at
    }

    /// Who erased it (an owner, or `retention`).
    pub fn purged_by(&self) -> Option<&str> {
        self.purged_by.as_deref()
    }

    /// The rejection or failure code in its stable text (`CORRUPT`, `OCR_TIMEOUT`, ...), if the
    /// record has one: what metrics label outcomes with.
    pub fn outcome_code(&self) -> Option<String> {
        let value = match (self.rejection_code, self.failure_code) {
            (Some(code), _) => serde_json::to_value(code),
            (None, Some(code)) => serde_json::to_value(code),
            (None, None) => return None,
        };
        value.ok().and_then(|v| v.as_str().map(str::to_owned))
    }

    /// The engine a reprocessing run asked for (until the run ends; `None`: the deployment's).
    pub fn requested_engine(&self) -> Option<&str> {
        self.requested_engine.as_deref()
    }

    /// Whether the record is a tombstone.
    pub fn is_purged(&self) -> bool {
        self.purged_at.is_some()
    }

    /// What earlier runs of processing came to, oldest first (see [`Self::reprocess`]).
    pub fn history(&self) -> &[PastRun] {
        &self.history
    }

    /// Copies an OCR result into the record's OCR fields.
    fn set_ocr(&mut self, result: &OcrResult) {
        self.ocr_status = OcrStatus::Completed;
        self.ocr_text = Some(result.text());
        self.ocr_line_count = Some(result.line_count());
        self.ocr_avg_confidence_pct = result.avg_confidence_pct();
        self.ocr_engine = Some(result.engine().to_owned());
        self.ocr_truncated = Some(result.truncated());
        self.ocr_lines = Some(result.lines().to_vec());
    }

    /// Copies the OCR fields of `original` (an earlier image with the same bytes) into this record.
    fn copy_ocr_from(&mut self, original: &Self) {
        self.ocr_status = OcrStatus::Completed;
        self.ocr_text.clone_from(&original.ocr_text);
        self.ocr_line_count = original.ocr_line_count;
        self.ocr_avg_confidence_pct = original.ocr_avg_confidence_pct;
        self.ocr_engine.clone_from(&original.ocr_engine);
        self.ocr_truncated = original.ocr_truncated;
        self.ocr_lines.clone_from(&original.ocr_lines);
    }
}

#[cfg(test)]
mod tests;
