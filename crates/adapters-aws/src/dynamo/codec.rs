//! The stored form of a record in DynamoDB: the JSON of the item's `record` attribute (the source of
//! truth when reading) and the OCR sidecar's JSON.
//!
//! The field names are this adapter's schema, apart from the domain model and the API; fields are
//! additive and optional, so items written by older versions still read.

use aws_sdk_dynamodb::types::AttributeValue;
use intake_domain::model::{
    ContentType, EventId, EventKind, FailureCode, FileName, ImageEvent, ImageId, ImageRecord,
    ImageStatus, ObjectKey, OcrLine, OcrStatus, Owner, PastRun, RecordParts, RejectionCode,
    Sha256Digest, Timestamp,
};
use intake_domain::ports::RepoError;
use serde::{Deserialize, Serialize};

use super::other;

/// The `record` attribute: every field of the record but its OCR lines, its text cut to what the
/// item keeps.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredRecord {
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    declared_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    declared_sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<ContentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    processed_at: Option<Timestamp>,
    ocr_status: OcrStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_line_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_avg_confidence_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection_code: Option<RejectionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_code: Option<FailureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<ImageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preview_key: Option<ObjectKey>,
    #[serde(default)]
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purged_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<StoredRun>,
}

/// One earlier run of processing, in the record's `history`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRun {
    status: ImageStatus,
    replaced_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    processed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_line_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_avg_confidence_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ocr_text_sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection_code: Option<RejectionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_code: Option<FailureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<ImageId>,
}

impl StoredRun {
    fn of(run: PastRun) -> Self {
        Self {
            status: run.status,
            replaced_at: run.replaced_at,
            processed_at: run.processed_at,
            ocr_engine: run.ocr_engine,
            ocr_line_count: run.ocr_line_count,
            ocr_avg_confidence_pct: run.ocr_avg_confidence_pct,
            ocr_text_sha256: run.ocr_text_sha256,
            rejection_code: run.rejection_code,
            failure_code: run.failure_code,
            duplicate_of: run.duplicate_of,
        }
    }

    fn into_run(self) -> PastRun {
        let mut run = PastRun::new(self.status, self.replaced_at);
        run.processed_at = self.processed_at;
        run.ocr_engine = self.ocr_engine;
        run.ocr_line_count = self.ocr_line_count;
        run.ocr_avg_confidence_pct = self.ocr_avg_confidence_pct;
        run.ocr_text_sha256 = self.ocr_text_sha256;
        run.rejection_code = self.rejection_code;
        run.failure_code = self.failure_code;
        run.duplicate_of = self.duplicate_of;
        run
    }
}

/// The OCR detail kept outside the item, in the bucket.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Sidecar {
    pub(super) ocr_text: Option<String>,
    pub(super) ocr_lines: Vec<OcrLine>,
}

impl StoredRecord {
    /// The stored form of `record`, and its OCR detail for a sidecar when it has lines.
    pub(super) fn of(record: ImageRecord) -> (Self, Option<Sidecar>) {
        let mut parts = record.into_parts();
        let sidecar = parts.ocr_lines.take().map(|ocr_lines| Sidecar {
            ocr_text: parts.ocr_text.clone(),
            ocr_lines,
        });
        let stored = Self {
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
            history: parts.history.into_iter().map(StoredRun::of).collect(),
        };
        (stored, sidecar)
    }

    /// The OCR text the item keeps, cut to at most `max` bytes on a character boundary.
    pub(super) fn cut_text(&mut self, max: usize) {
        if let Some(text) = self.ocr_text.as_mut() {
            let kept = super::cut(text, max).len();
            text.truncate(kept);
        }
    }

    /// The OCR text this stored form keeps (cut by [`Self::cut_text`]).
    pub(super) fn ocr_text(&self) -> Option<&str> {
        self.ocr_text.as_deref()
    }

    /// The record this stored form and its sidecar (when read) make.
    ///
    /// # Errors
    /// [`RepoError::Other`] when the state is inconsistent.
    pub(super) fn into_record(self, sidecar: Option<Sidecar>) -> Result<ImageRecord, RepoError> {
        let (ocr_text, ocr_lines) = match sidecar {
            Some(sidecar) => (sidecar.ocr_text, Some(sidecar.ocr_lines)),
            None => (self.ocr_text, None),
        };
        ImageRecord::from_parts(RecordParts {
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
            ocr_text,
            ocr_line_count: self.ocr_line_count,
            ocr_avg_confidence_pct: self.ocr_avg_confidence_pct,
            ocr_engine: self.ocr_engine,
            ocr_truncated: self.ocr_truncated,
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
            history: self.history.into_iter().map(StoredRun::into_run).collect(),
            ocr_lines,
        })
        .map_err(other)
    }
}

/// One event in the item's `events` attribute (a JSON array in one string attribute, so that the
/// stream's new image carries it as one value whatever reads it).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvent {
    id: EventId,
    #[serde(rename = "type")]
    kind: EventKind,
    time: Timestamp,
    owner: Owner,
    image_id: ImageId,
    body: String,
}

/// The `events` attribute of a write that reports `events`.
pub(super) fn events_attribute(events: &[ImageEvent]) -> AttributeValue {
    let stored: Vec<StoredEvent> = events
        .iter()
        .map(|event| StoredEvent {
            id: event.id(),
            kind: event.kind(),
            time: event.time(),
            owner: event.owner().clone(),
            image_id: event.image_id(),
            body: event.body().to_owned(),
        })
        .collect();
    // Plain strings and numbers: serializing cannot fail.
    AttributeValue::S(serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned()))
}

/// The events a write reported, from its item's `events` attribute's text (as the table stream's new
/// image holds it); none when the text is empty.
///
/// # Errors
/// [`RepoError::Other`] when the text is not a list of events.
pub fn events_from_text(text: &str) -> Result<Vec<ImageEvent>, RepoError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let stored: Vec<StoredEvent> = serde_json::from_str(text).map_err(other)?;
    stored
        .into_iter()
        .map(|e| {
            ImageEvent::from_stored(e.id, e.kind, e.time, e.owner, e.image_id, e.body)
                .map_err(other)
        })
        .collect()
}
