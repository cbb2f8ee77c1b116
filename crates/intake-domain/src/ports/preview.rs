use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;

use super::{BoxError, ImageFacts};
use crate::model::{ContentType, PageNumber};

/// The longest side of a preview, in pixels: enough for a grid of thumbnails on a dense screen.
pub const PREVIEW_SIDE: u32 = 320;

/// A small picture of an image, for lists: the grid shows these instead of the originals.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Preview {
    /// The encoded picture.
    pub bytes: Bytes,
    /// Its format.
    pub content_type: ContentType,
    /// Its width, in pixels.
    pub width_px: u32,
    /// Its height, in pixels.
    pub height_px: u32,
}

impl Preview {
    /// A preview of `width_px` × `height_px` in `content_type`.
    pub fn new(bytes: Bytes, content_type: ContentType, width_px: u32, height_px: u32) -> Self {
        Self {
            bytes,
            content_type,
            width_px,
            height_px,
        }
    }
}

/// Why a preview could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The pixels do not decode.
    #[error("cannot decode the image for a preview: {reason}")]
    Undecodable {
        /// What the decoder said.
        reason: String,
    },
    /// Any other failure.
    #[error("preview failed")]
    Other {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

/// Makes previews of images. Optional: without one, records have no preview and lists no thumbnail.
#[async_trait]
pub trait Previewer: Send + Sync + Debug {
    /// A preview of the image in `bytes` (whose facts the processor found), at most [`PREVIEW_SIDE`]
    /// pixels on its longest side and in proportion, upright and flattened on white; `None` for a
    /// format it does not draw (PDF).
    ///
    /// # Errors
    /// [`PreviewError::Undecodable`] when the pixels do not decode.
    async fn preview(
        &self,
        bytes: &Bytes,
        facts: &ImageFacts,
    ) -> Result<Option<Preview>, PreviewError>;

    /// A picture of page `page` of the image in `bytes` (the first of a single image; any page of
    /// a multi-page TIFF), at most `longest_side` pixels on its longest side, upright and flattened
    /// on white like a preview; `None` for a format it does not draw (PDF) or a page it does not
    /// have.
    ///
    /// # Errors
    /// [`PreviewError::Undecodable`] when the page does not decode.
    async fn page_picture(
        &self,
        bytes: &Bytes,
        facts: &ImageFacts,
        page: PageNumber,
        longest_side: u32,
    ) -> Result<Option<Preview>, PreviewError>;
}
