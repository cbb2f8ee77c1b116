//! Amazon Textract `AnalyzeExpense` behind the [`FieldExtractor`] port: a receipt's or an invoice's
//! fields as Textract's expense model reads them from the image itself ([`expense_fields`] maps
//! them to the domain's vocabulary).
//!
//! [`expense_fields`]: super::expense_fields

use async_trait::async_trait;
use aws_sdk_textract::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use intake_domain::model::{ContentType, DocumentFields, FieldOptions};
use intake_domain::ports::{Failure, FieldError, FieldExtractor, FieldInput};

use super::{MAX_BYTES, document_of, expense_fields};
use crate::fault::{Fault, classify, describe};
use crate::fields::FieldsChoice;

/// What the synchronous `AnalyzeExpense` takes: PNG, JPEG, and PDF or TIFF of one page.
const FORMATS: [ContentType; 4] = [
    ContentType::Png,
    ContentType::Jpeg,
    ContentType::Tiff,
    ContentType::Pdf,
];

/// Codes with which Textract refuses the document itself: retrying will not help.
const REFUSED_DOCUMENT: &[&str] = &[
    "UnsupportedDocumentException",
    "BadDocumentException",
    "DocumentTooLargeException",
    "InvalidParameterException",
    "InvalidS3ObjectException",
];

/// The fields of receipts and invoices read by Textract `AnalyzeExpense` (synchronous), from the
/// image the OCR engine was handed: the stored S3 object by reference (the version the processor
/// read) or the bytes. PNG, JPEG, and PDF or TIFF of **one page**, up to 10 MB: Textract refuses a
/// document of more pages (`UnsupportedDocumentException`), which is a permanent
/// [`FieldError::Unsupported`]; its asynchronous expense analysis is not used here.
///
/// Textract's summary fields keep their type names (the domain's [`FieldType`] spells them the
/// same way), their printed label and their value's box and page; its line item groups become
/// line items. Every expense Textract finds on the page (two receipts on one scan) adds its fields
/// to the one result. The values are normalised and checked by [`DocumentFields::settled`] with
/// the deployment's options, as for every extractor.
///
/// [`FieldType`]: intake_domain::model::FieldType
#[derive(Debug, Clone)]
pub struct TextractExpense {
    client: Client,
    options: FieldOptions,
}

impl TextractExpense {
    /// The extractor over `client`, reading dates day first.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            options: FieldOptions::default(),
        }
    }

    /// Reading with the deployment's options (the day/month order of ambiguous dates).
    #[must_use]
    pub fn with_options(mut self, options: FieldOptions) -> Self {
        self.options = options;
        self
    }
}

/// Maps a failed `AnalyzeExpense` call to the port's error: throttling, outages and timeouts are
/// retryable; a document Textract refuses is [`FieldError::Unsupported`]; anything else (access
/// denied) a permanent failure.
fn field_error<E>(error: &SdkError<E, Response>) -> FieldError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + std::fmt::Debug + 'static,
{
    let detail = describe(error);
    match classify(error) {
        Fault::Throttled => Failure::throttled(detail).into(),
        Fault::Unavailable | Fault::Timeout => Failure::unavailable(detail).into(),
        Fault::Denied => Failure::other(detail).into(),
        Fault::NotFound | Fault::ConditionFailed | Fault::Rejected => match error.code() {
            Some(code) if REFUSED_DOCUMENT.contains(&code) => {
                FieldError::Unsupported { reason: detail }
            }
            _ => Failure::other(detail).into(),
        },
    }
}

#[async_trait]
impl FieldExtractor for TextractExpense {
    fn name(&self) -> &str {
        FieldsChoice::TextractExpense.name()
    }

    async fn extract(&self, input: FieldInput<'_>) -> Result<DocumentFields, FieldError> {
        let image = input.image.ok_or_else(|| FieldError::Unsupported {
            reason: "Textract AnalyzeExpense reads the image, and none was given".into(),
        })?;
        let facts = image.facts();
        if !FORMATS.contains(&facts.content_type) {
            return Err(FieldError::Unsupported {
                reason: format!(
                    "Textract AnalyzeExpense does not read {}",
                    facts.content_type.as_mime()
                ),
            });
        }
        if facts.size_bytes > MAX_BYTES {
            return Err(FieldError::Unsupported {
                reason: format!(
                    "{} bytes exceed Textract's {MAX_BYTES}-byte limit",
                    facts.size_bytes
                ),
            });
        }
        let document = document_of(image).ok_or_else(|| FieldError::Unsupported {
            reason: "Textract reads an S3 object or bytes".into(),
        })?;
        let output = self
            .client
            .analyze_expense()
            .document(document)
            .send()
            .await
            .map_err(|e| field_error(&e))?;
        Ok(expense_fields::map_documents(output.expense_documents())?.settled(self.options))
    }
}
