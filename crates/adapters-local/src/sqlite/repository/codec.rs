//! The stored form of a record in SQLite: the JSON of the `record` column, and the OCR lines of the
//! `ocr_lines` column.
//!
//! The JSON's field names are this adapter's schema (migrations and the search index's triggers read
//! `$.fileName` and `$.ocrText`), so they change only with a migration, whatever the domain model or
//! the API do. Fields are additive and optional, so rows written by older versions still read.

use intake_domain::model::{
    ContentType, FailureCode, FileName, ImageId, ImageRecord, ImageStatus, ObjectKey, OcrLine,
    OcrStatus, Owner, PastRun, RecordParts, RejectionCode, Sha256Digest, Timestamp,
};
use intake_domain::ports::RepoError;
use serde::{Deserialize, Serialize};

use super::other;

/// The `record` column: every field of the record but its OCR lines.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRecord {
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

impl StoredRecord {
    fn of(parts: RecordParts) -> Self {
        Self {
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
        }
    }

    fn into_parts(self, ocr_lines: Option<Vec<OcrLine>>) -> RecordParts {
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
        }
    }
}

/// A record as its row stores it: the `record` column's JSON and the `ocr_lines` column's, if any.
///
/// # Errors
/// [`RepoError::Other`] when the record cannot be written as JSON.
pub(super) fn encode(record: ImageRecord) -> Result<(String, Option<String>), RepoError> {
    let mut parts = record.into_parts();
    let lines = parts
        .ocr_lines
        .take()
        .map(|lines| serde_json::to_string(&lines))
        .transpose()
        .map_err(other)?;
    let json = serde_json::to_string(&StoredRecord::of(parts)).map_err(other)?;
    Ok((json, lines))
}

/// The record a row stores, with its lines when they were read.
///
/// # Errors
/// [`RepoError::Other`] when the JSON is damaged or its state inconsistent.
pub(super) fn decode(json: &str, lines: Option<&str>) -> Result<ImageRecord, RepoError> {
    let stored: StoredRecord = serde_json::from_str(json).map_err(other)?;
    let lines = lines
        .map(serde_json::from_str::<Vec<OcrLine>>)
        .transpose()
        .map_err(other)?;
    ImageRecord::from_parts(stored.into_parts(lines)).map_err(other)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use intake_domain::model::ImageStatus;
    use intake_domain::testkit::{advanced, epoch, id_at, record};

    use super::*;

    #[test]
    fn rows_use_the_schema_names_and_round_trip_with_their_lines() {
        let processed = advanced(&record(id_at(0, 1)), ImageStatus::Processed, None, epoch());
        let (json, lines) = encode(processed.clone()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for field in [
            "imageId",
            "owner",
            "version",
            "bucket",
            "objectKey",
            "fileName",
            "ocrStatus",
            "status",
            "createdAt",
            "declaredContentType",
            "schemaVersion",
        ] {
            assert!(value.get(field).is_some(), "{field} missing in {json}");
        }
        assert!(
            value.get("ocrLines").is_none(),
            "lines are in their own column"
        );
        assert_eq!(decode(&json, lines.as_deref()).unwrap(), processed);
        assert_eq!(
            decode(&json, None).unwrap(),
            processed.without_ocr_lines(),
            "a row read without its lines"
        );
    }

    #[test]
    fn fields_from_a_newer_writer_are_tolerated_and_inconsistent_rows_refused() {
        let (json, _) = encode(record(id_at(0, 2))).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["someFutureField"] = serde_json::json!({"x": 1});
        assert!(decode(&value.to_string(), None).is_ok());
        value["status"] = serde_json::json!("PROCESSED");
        assert!(matches!(
            decode(&value.to_string(), None),
            Err(RepoError::Other { .. })
        ));
    }
}
