//! Amazon Textract `DetectDocumentText`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_textract::Client;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types::{Block, BlockType, Document, RelationshipType, S3Object};
use intake_domain::model::{BoundingBox, ContentType, OcrLine, OcrResult, OcrWord};
use intake_domain::ports::{Failure, OcrCapabilities, OcrEngine, OcrError, OcrInput};

use crate::fault::{check_limits, ocr_error};

/// Text in a document with Textract `DetectDocumentText`, reading the object from S3 directly: PNG,
/// JPEG, and single-page TIFF and PDF, up to 10 MB. Dense documents are complete here where Rekognition
/// stops at 100 words.
#[derive(Debug, Clone)]
pub struct TextractOcr {
    client: Client,
    capabilities: OcrCapabilities,
}

const MAX_BYTES: u64 = 10 * 1024 * 1024;

impl TextractOcr {
    /// The engine over `client`.
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
        }
    }
}

fn bounding_box(block: &Block) -> Result<BoundingBox, OcrError> {
    let b = block.geometry().and_then(|g| g.bounding_box());
    BoundingBox::new(
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::left),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::top),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::width),
        b.map_or(0.0, aws_sdk_textract::types::BoundingBox::height),
    )
    .map_err(|e| OcrError::from(Failure::other(e)))
}

/// Maps `DetectDocumentText` blocks: LINE blocks in reading order, each with the WORD blocks its CHILD
/// relationships name.
pub(crate) fn map_blocks(blocks: &[Block]) -> Result<OcrResult, OcrError> {
    let invalid = |e: intake_domain::model::OcrResultError| OcrError::from(Failure::other(e));
    let by_id: HashMap<&str, &Block> = blocks.iter().filter_map(|b| Some((b.id()?, b))).collect();
    let mut lines = Vec::new();
    for line in blocks
        .iter()
        .filter(|b| b.block_type() == Some(&BlockType::Line))
    {
        let mut words = Vec::new();
        let children = line
            .relationships()
            .iter()
            .filter(|r| r.r#type() == Some(&RelationshipType::Child))
            .flat_map(|r| r.ids().iter());
        for id in children {
            if let Some(word) = by_id
                .get(id.as_str())
                .filter(|b| b.block_type() == Some(&BlockType::Word))
            {
                words.push(
                    OcrWord::new(
                        word.text().unwrap_or_default(),
                        word.confidence().unwrap_or(0.0),
                        bounding_box(word)?,
                    )
                    .map_err(invalid)?,
                );
            }
        }
        lines.push(
            OcrLine::new(
                line.text().unwrap_or_default(),
                line.confidence().unwrap_or(0.0),
                bounding_box(line)?,
                words,
            )
            .map_err(invalid)?,
        );
    }
    OcrResult::new("textract", lines, false).map_err(invalid)
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
        let document = match input {
            OcrInput::Object {
                bucket,
                key,
                version,
                ..
            } => Document::builder()
                .s3_object(
                    S3Object::builder()
                        .bucket(bucket)
                        .name(key.as_str())
                        .set_version(version.clone())
                        .build(),
                )
                .build(),
            OcrInput::Bytes { bytes, .. } => {
                Document::builder().bytes(Blob::new(bytes.to_vec())).build()
            }
            _ => {
                return Err(OcrError::UnsupportedFormat {
                    content_type: input.facts().content_type,
                });
            }
        };
        let output = self
            .client
            .detect_document_text()
            .document(document)
            .send()
            .await
            .map_err(|e| {
                ocr_error(
                    &e,
                    input.facts().content_type,
                    &["DocumentTooLargeException"],
                    &["UnsupportedDocumentException"],
                )
            })?;
        map_blocks(output.blocks())
    }
}
