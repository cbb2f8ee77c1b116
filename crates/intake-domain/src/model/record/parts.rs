//! The record taken apart and put back together: the stored document both repositories keep.

use serde::{Deserialize, Serialize};

use super::{
    FailureCode, ImageRecord, ImageStatus, OcrStatus, PastRun, RECORD_SCHEMA_VERSION, RejectionCode,
};
use crate::model::{
    ContentType, DocumentType, Field, FileName, ImageId, LineItem, NearDuplicate, ObjectKey,
    OcrLine, Owner, PageFingerprint, PageSummary, Sha256Digest, Timestamp,
};

/// Every field of an [`ImageRecord`], public: the record's **stored document**, the one form both
/// repositories store (SQLite's `record` column, DynamoDB's `record` attribute), so a field is written
/// down once for storage. [`ImageRecord::from_parts`] accepts only parts whose state is consistent.
///
/// Its JSON ([`RecordParts::to_document`], [`RecordParts::from_document`]) is versioned by
/// `schemaVersion` ([`RECORD_SCHEMA_VERSION`]): new fields are additive and optional, unknown fields are
/// ignored, so documents of every earlier version read (the fixtures under `tests/fixtures/` hold
/// what each version wrote). The field names are a storage schema (SQLite's migrations and search
/// triggers read `$.fileName` and `$.ocrText`): they change only with a new schema version, whatever
/// the API does. Each adapter keeps what is its own: where the OCR lines go (`ocrLines` is written
/// only when present) and how long a text it can keep.
///
/// The struct is exhaustive on purpose: a new field is a compile error wherever a record is built
/// field by field.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<Timestamp>,
    pub ocr_status: OcrStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_line_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_avg_confidence_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_lines: Option<Vec<OcrLine>>,
    /// One summary per page read (records processed before pages existed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<PageSummary>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_code: Option<RejectionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<FailureCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<ImageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_key: Option<ObjectKey>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PastRun>,
    /// The pages' fingerprints the processor computed (what the near-duplicate index keeps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<PageFingerprint>,
    /// The owner's other images found to be the same document when it was processed; `None` when
    /// they were not looked for (no index, or the index failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicates: Option<Vec<NearDuplicate>>,
    /// The document's kind as its fields were read; `None` while they were not (no extractor, the
    /// extractor failed, or processed before fields were read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<DocumentType>,
    /// The fields read, settled (normalised and checked by the domain's rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// The item rows of a receipt or an invoice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    /// The name of the extractor that read the fields (`rules`, `textract-expense`); present exactly
    /// when `documentType` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_extractor: Option<String>,
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
        } else if self.pages.is_some() && status != ImageStatus::Processed {
            Some("only a processed record has pages")
        } else if (!self.fingerprints.is_empty() || self.near_duplicates.is_some())
            && status != ImageStatus::Processed
        {
            Some("only a processed record has fingerprints and near-duplicates")
        } else if self.document_type.is_some() != self.fields_extractor.is_some()
            || (self.document_type.is_none()
                && !(self.fields.is_empty() && self.line_items.is_empty()))
        {
            Some("fields, a document type and their extractor go together")
        } else if self.document_type.is_some() && status != ImageStatus::Processed {
            Some("only a processed record has fields")
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
        Ok(Self { parts })
    }

    /// The record taken apart, for an adapter to store.
    pub fn into_parts(self) -> RecordParts {
        self.parts
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

/// Why a stored document does not read as a record's parts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The document is not the JSON of a record (damaged, or a required field is missing).
    #[error("the stored record is not a record document: {0}")]
    Json(#[from] serde_json::Error),
    /// A later schema version, whose fields may mean something this version does not know.
    #[error("the stored record has schema version {found}; this version reads up to {known}")]
    Version {
        /// The document's `schemaVersion`.
        found: u32,
        /// [`RECORD_SCHEMA_VERSION`].
        known: u32,
    },
}

impl RecordParts {
    /// The stored document: the JSON both repositories keep.
    ///
    /// # Errors
    /// [`DocumentError::Json`] when a value cannot be written as JSON (a non-finite confidence).
    pub fn to_document(&self) -> Result<String, DocumentError> {
        Ok(serde_json::to_string(self)?)
    }

    /// The parts a stored document holds, of this schema version or an earlier one.
    ///
    /// # Errors
    /// [`DocumentError::Version`] for a later schema version; [`DocumentError::Json`] when the
    /// document is damaged or lacks a required field.
    pub fn from_document(json: &str) -> Result<Self, DocumentError> {
        /// The version alone, read when the whole document does not parse, to say why.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Versioned {
            schema_version: u32,
        }
        let known = RECORD_SCHEMA_VERSION;
        match serde_json::from_str::<Self>(json) {
            Ok(parts) if parts.schema_version > known => Err(DocumentError::Version {
                found: parts.schema_version,
                known,
            }),
            Ok(parts) => Ok(parts),
            Err(error) => match serde_json::from_str::<Versioned>(json) {
                Ok(Versioned { schema_version }) if schema_version > known => {
                    Err(DocumentError::Version {
                        found: schema_version,
                        known,
                    })
                }
                _ => Err(DocumentError::Json(error)),
            },
        }
    }
}
