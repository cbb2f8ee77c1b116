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
pub use parts::{DocumentError, InvalidRecord, RecordParts};
pub use status::{FailureCode, ImageStatus, ImageStatusError, OcrStatus, RejectionCode};
pub use transitions::{Measurements, Transition, TransitionError};
pub use upload::NewUpload;
pub use view::ImageMetadata;

use super::{
    ContentType, DocumentType, Field, FieldType, FileName, ImageId, LineItem, NearDuplicate,
    ObjectKey, OcrLine, OcrResult, Owner, PageFingerprint, PageSummary, Sha256Digest, Timestamp,
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
    /// Every field, as the stored document holds them; private, so that only the transitions change
    /// them.
    parts: RecordParts,
}

impl ImageRecord {
    /// A new record in `AWAITING_UPLOAD`, version 1.
    pub fn awaiting_upload(upload: NewUpload) -> Self {
        let parts = RecordParts {
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
            pages: None,
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
            fingerprints: Vec::new(),
            near_duplicates: None,
            document_type: None,
            fields: Vec::new(),
            line_items: Vec::new(),
            fields_extractor: None,
        };
        Self { parts }
    }

    /// Whether processing has ended for good.
    pub fn is_terminal(&self) -> bool {
        self.parts.status.is_terminal()
    }

    /// Whether the record is soft-deleted.
    pub fn is_deleted(&self) -> bool {
        self.parts.deleted_at.is_some()
    }

    /// The next version of this record with no change of state, written at `now`: the version is
    /// bumped and `updatedAt` set. Every transition starts from it.
    #[must_use]
    pub fn next(&self, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.parts.version = self.parts.version.saturating_add(1);
        next.parts.updated_at = now;
        next
    }

    /// The record as listings show it: metadata only, without OCR text and lines.
    #[must_use]
    pub fn metadata_only(&self) -> Self {
        let mut meta = self.without_ocr_lines();
        meta.parts.ocr_text = None;
        meta
    }

    /// The record without its OCR lines (a view that shows the text, not the geometry).
    #[must_use]
    pub fn without_ocr_lines(&self) -> Self {
        let mut meta = self.clone();
        meta.parts.ocr_lines = None;
        meta
    }

    /// Schema version of this record ([`RECORD_SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> u32 {
        self.parts.schema_version
    }
    /// The image id (partition key).
    pub fn image_id(&self) -> ImageId {
        self.parts.image_id
    }
    /// Who the image belongs to; only they can see it.
    pub fn owner(&self) -> &Owner {
        &self.parts.owner
    }
    /// Optimistic-concurrency version, starting at 1.
    pub fn version(&self) -> u64 {
        self.parts.version
    }
    /// Lifecycle status.
    pub fn status(&self) -> ImageStatus {
        self.parts.status
    }
    /// The bucket (or local container) of the object.
    pub fn bucket(&self) -> &str {
        &self.parts.bucket
    }
    /// The object's key.
    pub fn object_key(&self) -> &ObjectKey {
        &self.parts.object_key
    }
    /// The sanitized original file name.
    pub fn file_name(&self) -> &FileName {
        &self.parts.file_name
    }
    /// When the upload URL was issued.
    pub fn created_at(&self) -> Timestamp {
        self.parts.created_at
    }
    /// When the last write happened.
    pub fn updated_at(&self) -> Timestamp {
        self.parts.updated_at
    }
    /// When the upload URL expires.
    pub fn upload_expires_at(&self) -> Timestamp {
        self.parts.upload_expires_at
    }
    /// The content type the client declared.
    pub fn declared_content_type(&self) -> ContentType {
        self.parts.declared_content_type
    }
    /// The size the client declared, if any.
    pub fn declared_size_bytes(&self) -> Option<u64> {
        self.parts.declared_size_bytes
    }
    /// The SHA-256 the client declared, if any.
    pub fn declared_sha256(&self) -> Option<Sha256Digest> {
        self.parts.declared_sha256
    }
    /// SHA-256 of the stored bytes, computed by the processor.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        self.parts.sha256
    }
    /// Size of the stored object in bytes.
    pub fn size_bytes(&self) -> Option<u64> {
        self.parts.size_bytes
    }
    /// The content type found in the bytes (magic numbers), not the declared one.
    pub fn content_type(&self) -> Option<ContentType> {
        self.parts.content_type
    }
    /// Image width from the header.
    pub fn width_px(&self) -> Option<u32> {
        self.parts.width_px
    }
    /// Image height from the header.
    pub fn height_px(&self) -> Option<u32> {
        self.parts.height_px
    }
    /// How many pages the image has (a multi-page TIFF; 1 for single-image formats).
    pub fn page_count(&self) -> Option<u32> {
        self.parts.page_count
    }
    /// When processing reached a terminal status.
    pub fn processed_at(&self) -> Option<Timestamp> {
        self.parts.processed_at
    }
    /// What became of OCR.
    pub fn ocr_status(&self) -> OcrStatus {
        self.parts.ocr_status
    }
    /// The recognised text, lines joined by `\n` (absent from listings).
    pub fn ocr_text(&self) -> Option<&str> {
        self.parts.ocr_text.as_deref()
    }
    /// Number of lines recognised.
    pub fn ocr_line_count(&self) -> Option<u32> {
        self.parts.ocr_line_count
    }
    /// Mean word confidence in percent (see [`OcrResult::avg_confidence_pct`]).
    pub fn ocr_avg_confidence_pct(&self) -> Option<f64> {
        self.parts.ocr_avg_confidence_pct
    }
    /// The engine that produced the text.
    pub fn ocr_engine(&self) -> Option<&str> {
        self.parts.ocr_engine.as_deref()
    }
    /// Whether the engine stopped at a limit.
    pub fn ocr_truncated(&self) -> Option<bool> {
        self.parts.ocr_truncated
    }
    /// Lines with words, confidences and boxes (absent from listings and text-only views).
    pub fn ocr_lines(&self) -> Option<&[OcrLine]> {
        self.parts.ocr_lines.as_deref()
    }
    /// One summary per page read, once processed (none for records processed before pages
    /// existed).
    pub fn pages(&self) -> Option<&[PageSummary]> {
        self.parts.pages.as_deref()
    }
    /// Why the object was rejected.
    pub fn rejection_code(&self) -> Option<RejectionCode> {
        self.parts.rejection_code
    }
    /// Human-readable detail of the rejection.
    pub fn rejection_message(&self) -> Option<&str> {
        self.parts.rejection_message.as_deref()
    }
    /// Why OCR failed.
    pub fn failure_code(&self) -> Option<FailureCode> {
        self.parts.failure_code
    }
    /// Human-readable detail of the failure.
    pub fn failure_message(&self) -> Option<&str> {
        self.parts.failure_message.as_deref()
    }
    /// The earliest live image with the same SHA-256.
    pub fn duplicate_of(&self) -> Option<ImageId> {
        self.parts.duplicate_of
    }
    /// Where the small preview Intake made of the image is stored, if it made one.
    pub fn preview_key(&self) -> Option<&ObjectKey> {
        self.parts.preview_key.as_ref()
    }
    /// How many times a processor has claimed the image.
    pub fn attempts(&self) -> u32 {
        self.parts.attempts
    }
    /// Until when the current processor's claim holds.
    pub fn lease_expires_at(&self) -> Option<Timestamp> {
        self.parts.lease_expires_at
    }
    /// When the image was soft-deleted.
    pub fn deleted_at(&self) -> Option<Timestamp> {
        self.parts.deleted_at
    }

    /// When the image's bytes and text were erased (see [`Self::purge`]); the record is then a
    /// tombstone.
    pub fn purged_at(&self) -> Option<Timestamp> {
        self.parts.purged_at
    }

    /// Who erased it (an owner, or `retention`).
    pub fn purged_by(&self) -> Option<&str> {
        self.parts.purged_by.as_deref()
    }

    /// The rejection or failure code in its stable text (`CORRUPT`, `OCR_TIMEOUT`, ...), if the
    /// record has one: what metrics label outcomes with.
    pub fn outcome_code(&self) -> Option<String> {
        let value = match (self.parts.rejection_code, self.parts.failure_code) {
            (Some(code), _) => serde_json::to_value(code),
            (None, Some(code)) => serde_json::to_value(code),
            (None, None) => return None,
        };
        value.ok().and_then(|v| v.as_str().map(str::to_owned))
    }

    /// The engine a reprocessing run asked for (until the run ends; `None`: the deployment's).
    pub fn requested_engine(&self) -> Option<&str> {
        self.parts.requested_engine.as_deref()
    }

    /// Whether the record is a tombstone.
    pub fn is_purged(&self) -> bool {
        self.parts.purged_at.is_some()
    }

    /// What earlier runs of processing came to, oldest first (see [`Self::reprocess`]).
    pub fn history(&self) -> &[PastRun] {
        &self.parts.history
    }

    /// The pages' fingerprints, once processed (none for records processed before fingerprints
    /// existed, or with neither pixels seen nor words read).
    pub fn fingerprints(&self) -> &[PageFingerprint] {
        &self.parts.fingerprints
    }

    /// The owner's other images found to be the same document when this one was processed (the
    /// most alike first); `None` when they were not looked for.
    pub fn near_duplicates(&self) -> Option<&[NearDuplicate]> {
        self.parts.near_duplicates.as_deref()
    }

    /// The document's kind as its fields were read; `None` while they were not (no extractor, the
    /// extractor failed, or processed before fields were read).
    pub fn document_type(&self) -> Option<DocumentType> {
        self.parts.document_type
    }

    /// The fields read from the document, settled (none while not read).
    pub fn fields(&self) -> &[Field] {
        &self.parts.fields
    }

    /// The item rows of a receipt or an invoice (none while not read).
    pub fn line_items(&self) -> &[LineItem] {
        &self.parts.line_items
    }

    /// The name of the extractor that read the fields; `None` while they were not read.
    pub fn fields_extractor(&self) -> Option<&str> {
        self.parts.fields_extractor.as_deref()
    }

    /// The types of the fields found, sorted, without repeats (what events report: the types, not
    /// the values); `None` while the fields were not read.
    pub fn field_types(&self) -> Option<Vec<FieldType>> {
        self.parts.document_type?;
        let mut types: Vec<FieldType> = self.parts.fields.iter().map(|f| f.field_type).collect();
        types.sort();
        types.dedup();
        Some(types)
    }

    /// The fingerprints a processed record's pages have: those stored, or, for a record processed
    /// before they were (or copied from one), the text fingerprints of its stored OCR lines (or
    /// of its text, as page 1). Pictures are not stored, so such pages have no image hash.
    pub fn computed_fingerprints(&self) -> Vec<PageFingerprint> {
        if !self.parts.fingerprints.is_empty() || self.parts.status != ImageStatus::Processed {
            return self.parts.fingerprints.clone();
        }
        match (&self.parts.ocr_lines, &self.parts.ocr_text) {
            (Some(lines), _) if !lines.is_empty() => {
                let mut pages: Vec<crate::model::PageNumber> =
                    lines.iter().map(OcrLine::page).collect();
                pages.dedup();
                pages
                    .into_iter()
                    .map(|page| {
                        let text: Vec<&str> = lines
                            .iter()
                            .filter(|l| l.page() == page)
                            .map(OcrLine::text)
                            .collect();
                        PageFingerprint::new(page, None, &text.join("\n"))
                    })
                    .filter(|print| !print.is_empty())
                    .collect()
            }
            (_, Some(text)) => {
                let print = PageFingerprint::new(crate::model::FIRST_PAGE, None, text);
                if print.is_empty() {
                    Vec::new()
                } else {
                    vec![print]
                }
            }
            _ => Vec::new(),
        }
    }

    /// Copies an OCR result into the record's OCR fields.
    fn set_ocr(&mut self, result: &OcrResult) {
        self.parts.ocr_status = OcrStatus::Completed;
        self.parts.ocr_text = Some(result.text());
        self.parts.ocr_line_count = Some(result.line_count());
        self.parts.ocr_avg_confidence_pct = result.avg_confidence_pct();
        self.parts.ocr_engine = Some(result.engine().to_owned());
        self.parts.ocr_truncated = Some(result.truncated());
        self.parts.ocr_lines = Some(result.lines().to_vec());
        let image_size = self.parts.width_px.zip(self.parts.height_px);
        self.parts.pages = Some(result.page_summaries(image_size));
        self.parts.fingerprints = PageFingerprint::of_result(result);
    }

    /// Copies the OCR fields of `original` (an earlier image with the same bytes) into this record.
    fn copy_ocr_from(&mut self, original: &Self) {
        self.parts.ocr_status = OcrStatus::Completed;
        self.parts.ocr_text.clone_from(&original.parts.ocr_text);
        self.parts.ocr_line_count = original.parts.ocr_line_count;
        self.parts.ocr_avg_confidence_pct = original.parts.ocr_avg_confidence_pct;
        self.parts.ocr_engine.clone_from(&original.parts.ocr_engine);
        self.parts.ocr_truncated = original.parts.ocr_truncated;
        self.parts.ocr_lines.clone_from(&original.parts.ocr_lines);
        self.parts.pages.clone_from(&original.parts.pages);
        self.parts.fingerprints = original.computed_fingerprints();
        self.parts.document_type = original.parts.document_type;
        self.parts.fields.clone_from(&original.parts.fields);
        self.parts.line_items.clone_from(&original.parts.line_items);
        self.parts
            .fields_extractor
            .clone_from(&original.parts.fields_extractor);
    }
}

#[cfg(test)]
mod tests;
