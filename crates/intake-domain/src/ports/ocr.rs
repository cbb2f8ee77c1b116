use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Failure, FailureKind, PortError};
use crate::model::{ContentType, ObjectKey, OcrResult, Sha256Digest};

/// What an engine can take, declared by the engine and enforced by the processor before calling it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct OcrCapabilities {
    /// The engine's name as records show it.
    pub engine: String,
    /// Accepted formats; always includes PNG and JPEG.
    pub formats: Vec<ContentType>,
    /// The largest object, in bytes.
    pub max_bytes: u64,
    /// The smallest width and height, in pixels.
    pub min_dimension_px: u32,
    /// The largest width or height, in pixels, if limited.
    pub max_dimension_px: Option<u32>,
    /// Whether the engine reads objects from the store itself ([`OcrInput::Object`]); if not, the
    /// processor hands it the bytes ([`OcrInput::Bytes`]).
    pub reads_objects: bool,
    /// Whether the engine reports text *fragments* (PP-OCR: one box per run of text, a label and
    /// its amount apart, columns interleaved) rather than lines in reading order: the processor
    /// then arranges them into visual lines ([`OcrResult::in_reading_order`]) before they are
    /// stored.
    pub reports_fragments: bool,
}

impl OcrCapabilities {
    /// Capabilities of an engine named `engine` accepting `formats`.
    pub fn new(
        engine: impl Into<String>,
        formats: Vec<ContentType>,
        max_bytes: u64,
        min_dimension_px: u32,
    ) -> Self {
        Self {
            engine: engine.into(),
            formats,
            max_bytes,
            min_dimension_px,
            max_dimension_px: None,
            reads_objects: false,
            reports_fragments: false,
        }
    }

    /// With a largest dimension.
    #[must_use]
    pub fn with_max_dimension(mut self, px: u32) -> Self {
        self.max_dimension_px = Some(px);
        self
    }

    /// Declares that the engine reads objects by reference.
    #[must_use]
    pub fn reading_objects(mut self) -> Self {
        self.reads_objects = true;
        self
    }

    /// Declares that the engine reports text fragments, which the processor arranges into lines.
    #[must_use]
    pub fn reporting_fragments(mut self) -> Self {
        self.reports_fragments = true;
        self
    }

    /// The bytes of `input` for an engine that reads bytes (every local engine): refuses a format the
    /// engine does not declare, and an object reference it cannot read.
    ///
    /// # Errors
    /// [`OcrError::UnsupportedFormat`] for an undeclared format; [`OcrError::Failed`] for an
    /// [`OcrInput::Object`].
    pub fn bytes_of<'a>(&self, input: &'a OcrInput) -> Result<&'a Bytes, OcrError> {
        let content_type = input.facts().content_type;
        if !self.formats.contains(&content_type) {
            return Err(OcrError::UnsupportedFormat { content_type });
        }
        match input {
            OcrInput::Bytes { bytes, .. } => Ok(bytes),
            OcrInput::Object { .. } => Err(OcrError::from(Failure::other(format!(
                "the {} engine reads image bytes, not stored objects",
                self.engine
            )))),
        }
    }

    /// Whether an image with these facts is within the engine's limits.
    pub fn accepts(&self, facts: &ImageFacts) -> bool {
        self.formats.contains(&facts.content_type)
            && facts.size_bytes <= self.max_bytes
            && facts.dimensions().is_none_or(|(w, h)| {
                w >= self.min_dimension_px
                    && h >= self.min_dimension_px
                    && self.max_dimension_px.is_none_or(|max| w <= max && h <= max)
            })
    }
}

/// What the processor learned about an image before OCR.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ImageFacts {
    /// The format found in the bytes.
    pub content_type: ContentType,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Width from the header (absent for PDF).
    pub width_px: Option<u32>,
    /// Height from the header (absent for PDF).
    pub height_px: Option<u32>,
    /// SHA-256 of the bytes.
    pub sha256: Sha256Digest,
}

impl ImageFacts {
    /// Facts about one image.
    pub fn new(
        content_type: ContentType,
        size_bytes: u64,
        dimensions: Option<(u32, u32)>,
        sha256: Sha256Digest,
    ) -> Self {
        Self {
            content_type,
            size_bytes,
            width_px: dimensions.map(|d| d.0),
            height_px: dimensions.map(|d| d.1),
            sha256,
        }
    }

    /// Width and height, when known.
    pub fn dimensions(&self) -> Option<(u32, u32)> {
        self.width_px.zip(self.height_px)
    }
}

/// The image handed to an engine.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum OcrInput {
    /// An object the engine reads itself (Rekognition and Textract read S3 directly).
    Object {
        /// The bucket.
        bucket: String,
        /// The key.
        key: ObjectKey,
        /// The object version the processor read, when the store versions objects: the engine reads
        /// that version, so it sees the bytes that were hashed and checked.
        version: Option<String>,
        /// What the processor found.
        facts: ImageFacts,
    },
    /// The image's bytes.
    Bytes {
        /// The whole image.
        bytes: Bytes,
        /// What the processor found.
        facts: ImageFacts,
    },
}

impl OcrInput {
    /// What the processor found about the image.
    pub fn facts(&self) -> &ImageFacts {
        match self {
            Self::Object { facts, .. } | Self::Bytes { facts, .. } => facts,
        }
    }
}

/// Why OCR failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcrError {
    /// The engine did not answer in time; retry later.
    #[error("OCR engine timed out")]
    Timeout,
    /// The engine cannot decode the image; permanent.
    #[error("OCR engine could not read the image: {reason}")]
    InvalidImage {
        /// What the engine said.
        reason: String,
    },
    /// The engine does not take this format; permanent.
    #[error("OCR engine does not accept {content_type}")]
    UnsupportedFormat {
        /// The format.
        content_type: ContentType,
    },
    /// The image exceeds the engine's limits; permanent.
    #[error("image exceeds the OCR engine's limits: {reason}")]
    TooLarge {
        /// Which limit.
        reason: String,
    },
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("OCR engine {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for OcrError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            // Slow, not broken: retried like an engine that is unavailable.
            Self::Timeout => Some(FailureKind::Unavailable),
            _ => None,
        }
    }
}

/// Finds text in an image.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OcrEngine: Send + Sync + Debug {
    /// What the engine accepts.
    fn capabilities(&self) -> &OcrCapabilities;

    /// Recognises the text of `input`.
    ///
    /// # Errors
    /// Retryable ([`OcrError::is_retryable`]) for throttling, unavailability and timeouts; permanent for
    /// images the engine cannot take.
    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError>;
}
