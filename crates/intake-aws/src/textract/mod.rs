//! Amazon Textract: `DetectDocumentText` for an image or a one-page document, and the asynchronous
//! text detection for a document of several pages ([`job`]); `AnalyzeExpense` for the fields of
//! receipts and invoices ([`expense`]).

mod blocks;
mod expense;
mod expense_fields;
mod job;

pub use expense::TextractExpense;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_textract::Client;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types::{Document, S3Object};
use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
use intake_domain::model::{ContentType, OcrResult};
use intake_domain::ports::{OcrCapabilities, OcrEngine, OcrError, OcrInput};

use crate::fault::{check_limits, ocr_error};
use crate::settings::DEFAULT_OCR_TIME_LIMIT;

/// Text in a document with Textract, reading the object from S3 directly: PNG, JPEG, TIFF and PDF,
/// up to 10 MB. Dense documents are complete here where Rekognition stops at 100 words.
///
/// An image and a one-page document are read with `DetectDocumentText`. A PDF or TIFF stored in S3
/// that it refuses as unsupported, which is what it answers for more than one page, is read with
/// the asynchronous API (`StartDocumentTextDetection`, then `GetDocumentTextDetection`), each line
/// on its page and every page reported (of unknown size in pixels: Textract's geometry is relative).
/// The engine waits for such a job up to its time limit; a job still running then is a retryable
/// failure, and the next attempt takes up the same job (its `ClientRequestToken` comes from the
/// object: bucket, key, version and hash).
#[derive(Debug, Clone)]
pub struct TextractOcr {
    client: Client,
    capabilities: OcrCapabilities,
    time_limit: Duration,
}

const MAX_BYTES: u64 = 10 * 1024 * 1024;

impl TextractOcr {
    /// The engine over `client`, waiting for a document's job up to
    /// [`DEFAULT_OCR_TIME_LIMIT`](crate::DEFAULT_OCR_TIME_LIMIT).
    pub fn new(client: Client) -> Self {
        let capabilities = OcrCapabilities::new(
            "textract",
            vec![
                ContentType::Png,
                ContentType::Jpeg,
                ContentType::Tiff,
                ContentType::Pdf,
            ],
            MAX_BYTES,
            15,
        )
        .with_max_dimension(10_000)
        .reading_objects();
        Self {
            client,
            capabilities,
            time_limit: DEFAULT_OCR_TIME_LIMIT,
        }
    }

    /// Waiting for a document's job up to `limit` (the deployment's OCR time limit).
    #[must_use]
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }
}

/// The document Textract reads for `input`: the S3 object by reference (the version the processor
/// read), or the bytes.
fn document_of(input: &OcrInput) -> Option<Document> {
    match input {
        OcrInput::Object {
            bucket,
            key,
            version,
            ..
        } => Some(
            Document::builder()
                .s3_object(
                    S3Object::builder()
                        .bucket(bucket)
                        .name(key.as_str())
                        .set_version(version.clone())
                        .build(),
                )
                .build(),
        ),
        OcrInput::Bytes { bytes, .. } => {
            Some(Document::builder().bytes(Blob::new(bytes.to_vec())).build())
        }
        _ => None,
    }
}

/// Whether Textract's asynchronous API may read what its synchronous API refused: a document
/// format with pages.
fn has_pages(content_type: ContentType) -> bool {
    matches!(content_type, ContentType::Pdf | ContentType::Tiff)
}

#[async_trait]
impl OcrEngine for TextractOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        check_limits(
            &self.capabilities,
            input,
            usize::try_from(MAX_BYTES).unwrap_or(usize::MAX),
        )?;
        let facts = input.facts();
        let Some(document) = document_of(input) else {
            return Err(OcrError::UnsupportedFormat {
                content_type: facts.content_type,
            });
        };
        let answer = self
            .client
            .detect_document_text()
            .document(document)
            .send()
            .await;
        match (answer, input) {
            (Ok(output), _) => blocks::map_blocks(output.blocks()),
            (
                Err(error),
                OcrInput::Object {
                    bucket,
                    key,
                    version,
                    facts,
                },
            ) if has_pages(facts.content_type)
                && error.code() == Some("UnsupportedDocumentException") =>
            {
                let request = job::JobRequest {
                    bucket,
                    key: key.as_str(),
                    version: version.as_deref(),
                    sha256: &facts.sha256,
                    content_type: facts.content_type,
                    tag: key.image_id().to_string(),
                };
                job::read_document(&self.client, &request, self.time_limit).await
            }
            (Err(error), _) => Err(ocr_error(
                &error,
                facts.content_type,
                &["DocumentTooLargeException"],
                &["UnsupportedDocumentException"],
            )),
        }
    }
}
