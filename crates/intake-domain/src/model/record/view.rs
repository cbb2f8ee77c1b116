//! The public view of an image's metadata, shared by the API's bodies and the domain events.

use serde::Serialize;

use super::{FailureCode, ImageRecord, ImageStatus, OcrStatus, RejectionCode};
use crate::model::{
    ContentType, DocumentType, FieldType, FileName, ImageId, NearDuplicate, ObjectKey, PageSummary,
    Sha256Digest, Timestamp,
};

/// What every public view of an image shows (the API's image bodies and the events' `data.image`):
/// the seed's data model and the facts processing found, without the OCR text and lines and without
/// internal bookkeeping (owner, version, lease, attempts, preview key). One definition, so the API and
/// the events never describe an image differently.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageMetadata<'a> {
    image_id: ImageId,
    status: ImageStatus,
    bucket: &'a str,
    object_key: &'a ObjectKey,
    file_name: &'a FileName,
    created_at: Timestamp,
    updated_at: Timestamp,
    upload_expires_at: Timestamp,
    declared_content_type: ContentType,
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_sha256: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<ContentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width_px: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height_px: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    processed_at: Option<Timestamp>,
    ocr_status: OcrStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_line_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_avg_confidence_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_engine: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_truncated: Option<bool>,
    /// One summary per page read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<&'a [PageSummary]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_code: Option<RejectionCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<FailureCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<ImageId>,
    /// The owner's other images that look like the same document (empty: none; absent: not looked
    /// for).
    #[serde(skip_serializing_if = "Option::is_none")]
    near_duplicates: Option<&'a [NearDuplicate]>,
    /// The document's kind and the extractor's confidence in it (absent: fields not read).
    #[serde(skip_serializing_if = "Option::is_none")]
    document_type: Option<DocumentType>,
    /// The types of the fields read, not their values (absent: not read). The values are in the
    /// image's detail and its fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    field_types: Option<Vec<FieldType>>,
    /// Earlier runs of processing, oldest first (only once the image was processed again).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<PastRunView<'a>>,
}

/// One earlier run of processing, as the public view shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PastRunView<'a> {
    status: ImageStatus,
    replaced_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    processed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_engine: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_line_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_avg_confidence_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_text_sha256: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection_code: Option<RejectionCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<FailureCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<ImageId>,
}

impl<'a> ImageMetadata<'a> {
    /// The public metadata of `record`.
    pub fn of(record: &'a ImageRecord) -> Self {
        Self {
            image_id: record.image_id(),
            status: record.status(),
            bucket: record.bucket(),
            object_key: record.object_key(),
            file_name: record.file_name(),
            created_at: record.created_at(),
            updated_at: record.updated_at(),
            upload_expires_at: record.upload_expires_at(),
            declared_content_type: record.declared_content_type(),
            declared_size_bytes: record.declared_size_bytes(),
            declared_sha256: record.declared_sha256(),
            sha256: record.sha256(),
            size_bytes: record.size_bytes(),
            content_type: record.content_type(),
            width_px: record.width_px(),
            height_px: record.height_px(),
            page_count: record.page_count(),
            processed_at: record.processed_at(),
            ocr_status: record.ocr_status(),
            ocr_line_count: record.ocr_line_count(),
            ocr_avg_confidence_pct: record.ocr_avg_confidence_pct(),
            ocr_engine: record.ocr_engine(),
            ocr_truncated: record.ocr_truncated(),
            pages: record.pages(),
            rejection_code: record.rejection_code(),
            rejection_message: record.rejection_message(),
            failure_code: record.failure_code(),
            failure_message: record.failure_message(),
            duplicate_of: record.duplicate_of(),
            near_duplicates: record.near_duplicates(),
            document_type: record.document_type(),
            field_types: record.field_types(),
            history: record
                .history()
                .iter()
                .map(|run| PastRunView {
                    status: run.status,
                    replaced_at: run.replaced_at,
                    processed_at: run.processed_at,
                    ocr_engine: run.ocr_engine.as_deref(),
                    ocr_line_count: run.ocr_line_count,
                    ocr_avg_confidence_pct: run.ocr_avg_confidence_pct,
                    ocr_text_sha256: run.ocr_text_sha256,
                    rejection_code: run.rejection_code,
                    failure_code: run.failure_code,
                    duplicate_of: run.duplicate_of,
                })
                .collect(),
        }
    }
}
