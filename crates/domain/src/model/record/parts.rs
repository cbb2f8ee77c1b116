//! The record taken apart and put back together: how repository adapters store it.

use super::{FailureCode, ImageRecord, ImageStatus, OcrStatus, PastRun, RejectionCode};
use crate::model::{
    ContentType, FileName, ImageId, ObjectKey, OcrLine, Owner, Sha256Digest, Timestamp,
};

/// Every field of an [`ImageRecord`], public: what a repository adapter converts into its stored form
/// and back. [`ImageRecord::from_parts`] accepts only parts whose state is consistent.
///
/// The struct is exhaustive on purpose: a new field breaks every codec at compile time, so none of
/// them forgets to store it.
#[derive(Clone, PartialEq, Debug)]
#[allow(missing_docs)]
pub struct RecordParts {
    pub schema_version: u32,
    pub image_id: ImageId,
    pub owner: Owner,
    pub version: u64,
    pub status: ImageStatus,
    pub bucket: String,
    pub object_key: ObjectKey,
    pub file_name: FileName,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub upload_expires_at: Timestamp,
    pub declared_content_type: ContentType,
    pub declared_size_bytes: Option<u64>,
    pub declared_sha256: Option<Sha256Digest>,
    pub sha256: Option<Sha256Digest>,
    pub size_bytes: Option<u64>,
    pub content_type: Option<ContentType>,
    pub width_px: Option<u32>,
    pub height_px: Option<u32>,
    pub page_count: Option<u32>,
    pub processed_at: Option<Timestamp>,
    pub ocr_status: OcrStatus,
    pub ocr_text: Option<String>,
    pub ocr_line_count: Option<u32>,
    pub ocr_avg_confidence_pct: Option<f64>,
    pub ocr_engine: Option<String>,
    pub ocr_truncated: Option<bool>,
    pub ocr_lines: Option<Vec<OcrLine>>,
    pub rejection_code: Option<RejectionCode>,
    pub rejection_message: Option<String>,
    pub failure_code: Option<FailureCode>,
    pub failure_message: Option<String>,
    pub duplicate_of: Option<ImageId>,
    pub preview_key: Option<ObjectKey>,
    pub attempts: u32,
    pub lease_expires_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    pub purged_at: Option<Timestamp>,
    pub purged_by: Option<String>,
    pub requested_engine: Option<String>,
    pub history: Vec<PastRun>,
}

/// Why stored parts do not make a record: their state is inconsistent (a damaged or hand-edited
/// row), so reading them would break the rules every transition keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored record {id} is inconsistent: {reason}")]
pub struct InvalidRecord {
    /// The record's id.
    pub id: ImageId,
    /// Which rule the parts break.
    pub reason: &'static str,
}

impl RecordParts {
    /// The first rule these parts break, if any.
    fn inconsistency(&self) -> Option<&'static str> {
        let status = self.status;
        let expected_ocr = match status {
            ImageStatus::AwaitingUpload | ImageStatus::Processing => OcrStatus::Pending,
            ImageStatus::Processed => OcrStatus::Completed,
            ImageStatus::Failed => OcrStatus::Failed,
            ImageStatus::Rejected => OcrStatus::Skipped,
        };
        if self.version == 0 {
            Some("its version is 0")
        } else if self.ocr_status != expected_ocr {
            Some("its OCR status does not match its status")
        } else if self.rejection_code.is_some() != (status == ImageStatus::Rejected) {
            Some("a rejection code belongs to rejected records only, and every one has it")
        } else if self.failure_code.is_some() != (status == ImageStatus::Failed) {
            Some("a failure code belongs to failed records only, and every one has it")
        } else if self.processed_at.is_some() != status.is_terminal() {
            Some("processedAt belongs to records whose processing ended, and every one has it")
        } else if self.lease_expires_at.is_some() && status != ImageStatus::Processing {
            Some("only a record being processed holds a lease")
        } else if self.preview_key.is_some() && status != ImageStatus::Processed {
            Some("only a processed record has a preview")
        } else if self.object_key.image_id() != self.image_id {
            Some("its object key names another image")
        } else if self.requested_engine.is_some() && status != ImageStatus::Processing {
            Some("only a record being processed asks for an engine")
        } else if self.purged_at.is_some() && self.deleted_at.is_none() {
            Some("only a deleted record is purged")
        } else {
            None
        }
    }
}

impl ImageRecord {
    /// Puts a record back together from stored parts.
    ///
    /// # Errors
    /// [`InvalidRecord`] when the parts' state is inconsistent (see [`RecordParts`]).
    pub fn from_parts(parts: RecordParts) -> Result<Self, InvalidRecord> {
        if let Some(reason) = parts.inconsistency() {
            return Err(InvalidRecord {
                id: parts.image_id,
                reason,
            });
        }
        Ok(Self {
            schema_version: parts.schema_version,
            image_id: parts.image_id,
            owner: parts.owner,
            version: parts.version,
            status: parts.status,
            bucket: parts.bucket,
            object_key: parts.object_key,
            file_name: parts.file_name,
            created_at: parts.created_at,
            updated_at: parts.updated_at,
            upload_expires_at: parts.upload_expires_at,
            declared_content_type: parts.declared_content_type,
            declared_size_bytes: parts.declared_size_bytes,
            declared_sha256: parts.declared_sha256,
            sha256: parts.sha256,
            size_bytes: parts.size_bytes,
            content_type: parts.content_type,
            width_px: parts.width_px,
            height_px: parts.height_px,
            page_count: parts.page_count,
            processed_at: parts.processed_at,
            ocr_status: parts.ocr_status,
            ocr_text: parts.ocr_text,
            ocr_line_count: parts.ocr_line_count,
            ocr_avg_confidence_pct: parts.ocr_avg_confidence_pct,
            ocr_engine: parts.ocr_engine,
            ocr_truncated: parts.ocr_truncated,
            ocr_lines: parts.ocr_lines,
            rejection_code: parts.rejection_code,
            rejection_message: parts.rejection_message,
            failure_code: parts.failure_code,
            failure_message: parts.failure_message,
            duplicate_of: parts.duplicate_of,
            preview_key: parts.preview_key,
            attempts: parts.attempts,
            lease_expires_at: parts.lease_expires_at,
            deleted_at: parts.deleted_at,
            purged_at: parts.purged_at,
            purged_by: parts.purged_by,
            requested_engine: parts.requested_engine,
            history: parts.history,
        })
    }

    /// The record taken apart, for an adapter to store.
    pub fn into_parts(self) -> RecordParts {
        RecordParts {
            schema_version: self.schema_version,
            image_id: self.image_id,
            owner: self.owner,
            version: self.version,
            status: self.status,
            bucket: self.bucket,
            object_key: self.object_key,
            file_name: self.file_name,
            created_at: self.created_at,
            updated_at: self.updated_at,
            upload_expires_at: self.upload_expires_at,
            declared_content_type: self.declared_content_type,
            declared_size_bytes: self.declared_size_bytes,
            declared_sha256: self.declared_sha256,
            sha256: self.sha256,
            size_bytes: self.size_bytes,
            content_type: self.content_type,
            width_px: self.width_px,
            height_px: self.height_px,
            page_count: self.page_count,
            processed_at: self.processed_at,
            ocr_status: self.ocr_status,
            ocr_text: self.ocr_text,
            ocr_line_count: self.ocr_line_count,
            ocr_avg_confidence_pct: self.ocr_avg_confidence_pct,
            ocr_engine: self.ocr_engine,
            ocr_truncated: self.ocr_truncated,
            ocr_lines: self.ocr_lines,
            rejection_code: self.rejection_code,
            rejection_message: self.rejection_message,
            failure_code: self.failure_code,
            failure_message: self.failure_message,
            duplicate_of: self.duplicate_of,
            preview_key: self.preview_key,
            attempts: self.attempts,
            lease_expires_at: self.lease_expires_at,
            deleted_at: self.deleted_at,
            purged_at: self.purged_at,
            purged_by: self.purged_by,
            requested_engine: self.requested_engine,
            history: self.history,
        }
    }
}

impl TryFrom<RecordParts> for ImageRecord {
    type Error = InvalidRecord;
    fn try_from(parts: RecordParts) -> Result<Self, Self::Error> {
        Self::from_parts(parts)
    }
}

impl From<ImageRecord> for RecordParts {
    fn from(record: ImageRecord) -> Self {
        record.into_parts()
    }
}
