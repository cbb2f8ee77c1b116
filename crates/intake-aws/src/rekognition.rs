//! Amazon Rekognition `DetectText`.

use async_trait::async_trait;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{Image, S3Object, TextDetection, TextTypes};
use intake_domain::model::{BoundingBox, ContentType, OcrLine, OcrResult, OcrWord};
use intake_domain::ports::{Failure, OcrCapabilities, OcrEngine, OcrError, OcrInput};

use crate::fault::{check_limits, ocr_error};

/// Text in an image with Rekognition `DetectText`, reading the object from S3 directly (no image bytes
/// pass through the function). PNG and JPEG, up to 15 MB from S3 (5 MB inline), at least 80 px on each
/// side (smaller images are refused before the call). Rekognition stops at 100 words: a result with
/// 100 words is marked truncated, which the `auto` policy escalates to Textract.
#[derive(Debug, Clone)]
pub struct RekognitionOcr {
    client: Client,
    capabilities: OcrCapabilities,
}

/// The most words `DetectText` returns.
pub const MAX_WORDS: usize = 100;
const MAX_INLINE_BYTES: usize = 5 * 1024 * 1024;

impl RekognitionOcr {
    /// The engine over `client`.
    pub fn new(client: Client) -> Self {
        let capabilities = OcrCapabilities::new(
            "rekognition",
            vec![ContentType::Png, ContentType::Jpeg],
            15 * 1024 * 1024,
            80,
        )
        .reading_objects();
        Self {
            client,
            capabilities,
        }
    }
}

fn bounding_box(d: &TextDetection) -> Result<BoundingBox, OcrError> {
    let b = d.geometry().and_then(|g| g.bounding_box());
    let value = |v: Option<f32>| v.unwrap_or(0.0);
    BoundingBox::new(
        value(b.and_then(aws_sdk_rekognition::types::BoundingBox::left)),
        value(b.and_then(aws_sdk_rekognition::types::BoundingBox::top)),
        value(b.and_then(aws_sdk_rekognition::types::BoundingBox::width)),
        value(b.and_then(aws_sdk_rekognition::types::BoundingBox::height)),
    )
    .map_err(|e| OcrError::from(Failure::other(e)))
}

/// Maps `DetectText` detections: LINE detections in order, each with the WORD detections whose parent
/// it is.
pub(crate) fn map_detections(detections: &[TextDetection]) -> Result<OcrResult, OcrError> {
    let invalid = |e: intake_domain::model::OcrResultError| OcrError::from(Failure::other(e));
    let mut word_count = 0;
    let mut lines = Vec::new();
    for line in detections
        .iter()
        .filter(|d| d.r#type() == Some(&TextTypes::Line))
    {
        let mut words = Vec::new();
        for word in detections
            .iter()
            .filter(|d| d.r#type() == Some(&TextTypes::Word) && d.parent_id() == line.id())
        {
            words.push(
                OcrWord::new(
                    word.detected_text().unwrap_or_default(),
                    word.confidence().unwrap_or(0.0),
                    bounding_box(word)?,
                )
                .map_err(invalid)?,
            );
        }
        word_count += words.len();
        lines.push(
            OcrLine::new(
                line.detected_text().unwrap_or_default(),
                line.confidence().unwrap_or(0.0),
                bounding_box(line)?,
                words,
            )
            .map_err(invalid)?,
        );
    }
    let all_words = detections
        .iter()
        .filter(|d| d.r#type() == Some(&TextTypes::Word))
        .count()
        .max(word_count);
    OcrResult::new("rekognition", lines, all_words >= MAX_WORDS).map_err(invalid)
}

#[async_trait]
impl OcrEngine for RekognitionOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        check_limits(&self.capabilities, input, MAX_INLINE_BYTES)?;
        let image = match input {
            OcrInput::Object {
                bucket,
                key,
                version,
                ..
            } => Image::builder()
                .s3_object(
                    S3Object::builder()
                        .bucket(bucket)
                        .name(key.as_str())
                        .set_version(version.clone())
                        .build(),
                )
                .build(),
            OcrInput::Bytes { bytes, .. } => {
                Image::builder().bytes(Blob::new(bytes.to_vec())).build()
            }
            _ => {
                return Err(OcrError::UnsupportedFormat {
                    content_type: input.facts().content_type,
                });
            }
        };
        let output = self
            .client
            .detect_text()
            .image(image)
            .send()
            .await
            .map_err(|e| {
                ocr_error(
                    &e,
                    input.facts().content_type,
                    &["ImageTooLargeException"],
                    &["InvalidImageFormatException"],
                )
            })?;
        map_detections(output.text_detections())
    }
}
