//! Rendering what was read on an image in an export format: a pure transformation of the record
//! (and, for a format that embeds the pages, of the original's bytes), behind a port so that the
//! formats' writers (XML, PDF) and the image codecs stay out of the domain, as the previewer's do.

use std::fmt::Debug;

use super::BoxError;
use crate::model::{ExportFormat, ImageRecord};

/// Why an export could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The renderer does not write this format.
    #[error("the renderer does not write {0}")]
    Unsupported(ExportFormat),
    /// The format embeds the original (see [`ExportFormat::needs_original`]), and none was given.
    #[error("the {0} export needs the image's original bytes")]
    NoOriginal(ExportFormat),
    /// The original is larger than the deployment reads (its byte limit was lowered after the
    /// image was processed).
    #[error("the original has {size} bytes, more than the limit of {limit} an export reads")]
    OriginalTooLarge {
        /// The original's size in bytes.
        size: u64,
        /// The deployment's byte limit.
        limit: u64,
    },
    /// The original's bytes cannot be read as the image the record describes (its pixels do not
    /// decode, or its pages are in a layout the writer does not embed).
    #[error("the original cannot be embedded in the {format} export")]
    Undecodable {
        /// The format being written.
        format: ExportFormat,
        /// What the decoder said.
        #[source]
        source: BoxError,
    },
    /// Writing the document failed.
    #[error("rendering the {format} export failed")]
    Failed {
        /// The format being written.
        format: ExportFormat,
        /// What the writer said.
        #[source]
        source: BoxError,
    },
}

/// Writes a processed record's OCR result (its pages, lines, words, boxes and confidences) in an
/// export format. Optional: without one, exports answer
/// [`crate::IntakeError::ExportUnavailable`].
pub trait ExportRenderer: Send + Sync + Debug {
    /// The bytes of `record` in `format`, served and stored with [`ExportFormat::media_type`].
    /// `record` is processed and carries its OCR lines. `original` is the image's uploaded bytes,
    /// given for the formats that [need them](ExportFormat::needs_original) and `None` for the
    /// others.
    ///
    /// # Errors
    /// [`RenderError`] when the document cannot be written: [`RenderError::NoOriginal`] for a
    /// format that needs the original without one, [`RenderError::Undecodable`] for an original
    /// that cannot be embedded.
    fn render(
        &self,
        record: &ImageRecord,
        format: ExportFormat,
        original: Option<&[u8]>,
    ) -> Result<Vec<u8>, RenderError>;
}
