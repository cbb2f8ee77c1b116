//! Rendering what was read on an image in an export format: a pure transformation of the record,
//! behind a port so that the formats' writers (XML) stay out of the domain, as the previewer's
//! image codecs do.

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
    /// `record` is processed and carries its OCR lines.
    ///
    /// # Errors
    /// [`RenderError`] when the document cannot be written.
    fn render(&self, record: &ImageRecord, format: ExportFormat) -> Result<Vec<u8>, RenderError>;
}
