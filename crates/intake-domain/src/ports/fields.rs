use std::fmt::Debug;

use async_trait::async_trait;

use super::{Failure, FailureKind, OcrInput, PortError};
use crate::model::{DocumentFields, OcrResult};

/// What a field extractor reads: the document's OCR result (its lines in reading order, with their
/// words and boxes, page by page) and, for an engine that reads the document itself (Textract
/// AnalyzeExpense), the image as the OCR engine was handed it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct FieldInput<'a> {
    /// The OCR result, lines in reading order.
    pub ocr: &'a OcrResult,
    /// The image, when the processor has it for an engine that reads documents itself.
    pub image: Option<&'a OcrInput>,
}

impl<'a> FieldInput<'a> {
    /// Input of an OCR result alone.
    pub fn of(ocr: &'a OcrResult) -> Self {
        Self { ocr, image: None }
    }

    /// The same input with the image.
    #[must_use]
    pub fn with_image(mut self, image: &'a OcrInput) -> Self {
        self.image = Some(image);
        self
    }
}

/// Why fields could not be extracted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The extractor needs what the input lacks (the image, for an engine that reads documents
    /// itself); permanent.
    #[error("the field extractor cannot read this input: {reason}")]
    Unsupported {
        /// What is missing.
        reason: String,
    },
    /// A failure of a kind every port shares (unavailable, throttled, other).
    #[error("field extractor {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for FieldError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            Self::Unsupported { .. } => None,
        }
    }
}

/// Reads a document's type and fields (total, date, vendor, cheque number and amount, form pairs),
/// each with its confidence and box, in the vocabulary of [`crate::model::FieldType`]. Every
/// implementation returns fields passed through [`DocumentFields::settled`], so values are
/// normalised and checked by the domain's one rule.
#[async_trait]
pub trait FieldExtractor: Send + Sync + Debug {
    /// The extractor's name as records show it (`rules`, `textract-expense`).
    fn name(&self) -> &str;

    /// The type and fields of the document in `input`.
    ///
    /// # Errors
    /// [`FieldError::Unsupported`] for input the extractor cannot read; [`FieldError::Failed`]
    /// (retryable when the failure is) for a remote engine's failure.
    async fn extract(&self, input: FieldInput<'_>) -> Result<DocumentFields, FieldError>;
}
