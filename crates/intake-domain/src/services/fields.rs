//! A processed document's type and fields (issue 28): the processor hands the OCR result (lines in
//! reading order) to the deployment's [`FieldExtractor`] and notes what it read, settled with the
//! deployment's [`FieldOptions`](crate::model::FieldOptions). Fields are an aid: an extractor's
//! failure is logged and counted and the upload goes on without them (never failed, never hidden).

use std::sync::atomic::{AtomicU64, Ordering};

use super::Intake;
use crate::error::{IntakeError, error_chain};
use crate::model::{DocumentFields, DocumentKind, ImageId, ImageRecord, OcrResult, Owner};
use crate::ports::{FieldError, FieldExtractor, FieldInput, OcrInput};

/// What the field extractor did since the services were built: documents read, by kind, and
/// failures. What the entry points' metrics report.
#[derive(Debug, Default)]
pub(super) struct FieldCounts {
    read: [AtomicU64; DocumentKind::ALL.len()],
    failures: AtomicU64,
}

impl FieldCounts {
    fn count(&self, kind: DocumentKind) {
        if let Some(i) = DocumentKind::ALL.iter().position(|k| *k == kind)
            && let Some(counter) = self.read.get(i)
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Intake {
    /// The name of the extractor that reads documents' fields here (`rules`, ...); `None` where the
    /// deployment reads none.
    pub fn field_extractor_name(&self) -> Option<&str> {
        self.inner.fields.as_deref().map(FieldExtractor::name)
    }

    /// How many documents the field extractor read since these services were built, by kind, in
    /// [`DocumentKind::ALL`]'s order.
    pub fn documents_read(&self) -> Vec<(DocumentKind, u64)> {
        DocumentKind::ALL
            .into_iter()
            .zip(&self.inner.field_counts.read)
            .map(|(kind, count)| (kind, count.load(Ordering::Relaxed)))
            .collect()
    }

    /// How many times the field extractor failed since these services were built. Each failure
    /// is logged too; the image was processed without fields.
    pub fn field_extractor_failures(&self) -> u64 {
        self.inner.field_counts.failures.load(Ordering::Relaxed)
    }

    /// Notes on a processed record (not yet written) the type and fields the deployment reads from
    /// `ocr` (with `image`, for an engine that reads the document itself), settled with the
    /// deployment's options: the field extractor's reading, or for an expense the expense reader's
    /// where there is one ([`crate::IntakeBuilder::expense_field_extractor`]). Without an extractor
    /// nothing is noted; when one fails, the failure is logged and counted and the record goes on
    /// without fields (or with the field extractor's reading, when the expense reader failed).
    pub(super) async fn read_fields(
        &self,
        done: &mut ImageRecord,
        ocr: &OcrResult,
        image: Option<&OcrInput>,
    ) -> Result<(), IntakeError> {
        let Some(general) = self.inner.fields.as_ref() else {
            return Ok(());
        };
        let mut input = FieldInput::of(ocr);
        if let Some(image) = image {
            input = input.with_image(image);
        }
        let id = done.image_id();
        let Some(mut read) = self.extracted(general.as_ref(), input, id).await else {
            return Ok(());
        };
        let mut by = general.name();
        if read.document_type.kind.is_expense()
            && let Some(expense) = self.inner.expense_fields.as_ref()
            && let Some(expensed) = self.extracted(expense.as_ref(), input, id).await
        {
            read = expensed;
            by = expense.name();
        }
        let read = read.settled(self.inner.config.field_options);
        self.inner.field_counts.count(read.document_type.kind);
        done.note_fields(by, read)?;
        Ok(())
    }

    /// What `extractor` reads of `input`; `None` when it failed (logged, and counted unless it only
    /// cannot read this input).
    async fn extracted(
        &self,
        extractor: &dyn FieldExtractor,
        input: FieldInput<'_>,
        id: ImageId,
    ) -> Option<DocumentFields> {
        match extractor.extract(input).await {
            Ok(read) => Some(read),
            Err(error @ FieldError::Unsupported { .. }) => {
                tracing::info!(image_id = %id, extractor = extractor.name(), error = %error_chain(&error), "the extractor cannot read this document");
                None
            }
            Err(error) => {
                self.inner
                    .field_counts
                    .failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(image_id = %id, extractor = extractor.name(), error = %error_chain(&error), "no fields: the extractor failed");
                None
            }
        }
    }

    /// One of `owner`'s images as its fields show it: the record without OCR text or lines, with
    /// its document type, fields, line items and pages (`documentType` absent while not read).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown or deleted image, and for another owner's;
    /// repository errors.
    pub async fn image_fields(
        &self,
        owner: &Owner,
        id: ImageId,
    ) -> Result<ImageRecord, IntakeError> {
        self.inner
            .repository
            .get_view(&id, crate::ports::OcrDetail::Text)
            .await?
            .filter(|r| r.owner() == owner && !r.is_deleted())
            .map(|r| r.metadata_only())
            .ok_or(IntakeError::NotFound { id })
    }
}
