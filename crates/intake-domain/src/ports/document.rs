//! Reading documents (PDF): how many pages a document has, and each page either as the lines of its
//! text layer or as a picture for the OCR engine. The processor probes a document when it inspects
//! the upload (so that an encrypted, damaged or too long one is rejected before any OCR), and
//! [`crate::services::DocumentOcr`] reads it page by page.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use super::{Failure, FailureKind, PortError, Preview};
use crate::model::{ContentType, OcrLine, PageNumber, TextLayerRule};

/// What probing a document found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct DocumentInfo {
    /// Its pages.
    pub page_count: u32,
}

impl DocumentInfo {
    /// A document of `page_count` pages.
    pub fn new(page_count: u32) -> Self {
        Self { page_count }
    }
}

/// How a document's pages are to be read.
#[derive(Clone, Copy, PartialEq, Debug)]
#[non_exhaustive]
pub struct ReadRequest {
    /// The resolution pages are rendered at for OCR, and text-layer boxes are given in, in dots
    /// per inch.
    pub dpi: u32,
    /// The most pixels one rendered page may have: a page larger at [`ReadRequest::dpi`] is
    /// rendered smaller, never past it.
    pub max_page_pixels: u64,
    /// When a page's text layer is used instead of OCR.
    pub text_layer: TextLayerRule,
    /// The longest reading the whole document may take.
    pub time_limit: Duration,
}

impl ReadRequest {
    /// Pages at `dpi` within `max_page_pixels`, the default text-layer rule, within `time_limit`.
    pub fn new(dpi: u32, max_page_pixels: u64, time_limit: Duration) -> Self {
        Self {
            dpi,
            max_page_pixels,
            text_layer: TextLayerRule::default(),
            time_limit,
        }
    }

    /// With another text-layer rule.
    #[must_use]
    pub fn with_text_layer(mut self, rule: TextLayerRule) -> Self {
        self.text_layer = rule;
        self
    }
}

/// One page of a document, as the reader hands it over.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct DocumentPage {
    /// Its number, from 1.
    pub number: PageNumber,
    /// Its width at the request's resolution, in pixels (the picture's, when rendered smaller).
    pub width_px: u32,
    /// Its height, likewise.
    pub height_px: u32,
    /// Its text, or its picture.
    pub content: PageContent,
}

/// What a page holds for the processor.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum PageContent {
    /// The page's text layer covers what is printed ([`TextLayerRule`]): its lines, with their
    /// words and boxes in the page's pixels, in the layer's order.
    TextLayer(Vec<OcrLine>),
    /// The page is to be read from its pixels: a picture of it in a format every engine takes
    /// (PNG or JPEG), `width_px` × `height_px`.
    Picture {
        /// The encoded picture.
        bytes: Bytes,
        /// PNG or JPEG.
        content_type: ContentType,
    },
}

impl DocumentPage {
    /// Page `number` of `width_px` × `height_px` pixels holding `content`.
    pub fn new(number: PageNumber, width_px: u32, height_px: u32, content: PageContent) -> Self {
        Self {
            number,
            width_px,
            height_px,
            content,
        }
    }
}

/// The words read on one page of a document, to lay over it as an invisible text layer.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct PageText {
    /// The page, from 1.
    pub number: PageNumber,
    /// Its lines with their words, boxes relative to the page as it is shown (upright).
    pub lines: Vec<OcrLine>,
}

impl PageText {
    /// The `lines` read on page `number`.
    pub fn new(number: PageNumber, lines: Vec<OcrLine>) -> Self {
        Self { number, lines }
    }
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentReadError {
    /// The document needs a password to open.
    #[error("the document is encrypted: it needs a password to open")]
    Encrypted,
    /// The document is damaged or not what it claims (broken cross-reference table, truncated, a
    /// page that cannot be interpreted).
    #[error("the document is damaged: {reason}")]
    Corrupt {
        /// What the reader said.
        reason: String,
    },
    /// The document has more pages than allowed.
    #[error("the document has {count} pages; the limit is {limit}")]
    TooManyPages {
        /// Its pages (at least `limit + 1`).
        count: u32,
        /// The limit.
        limit: u32,
    },
    /// Reading did not end within the time or memory limits: the document is hostile or beyond
    /// what a deployment reads (a decompression bomb, a content stream without end).
    #[error("the document could not be read within the limits: {reason}")]
    BeyondLimits {
        /// Which limit.
        reason: String,
    },
    /// A failure of a kind every port shares (the reader is not installed, out of space).
    #[error("document reader {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for DocumentReadError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// The pages of a document, in order, as they are read.
pub type PageStream = BoxStream<'static, Result<DocumentPage, DocumentReadError>>;

/// Reads documents: PDF locally and in the function (`intake-pdf`). Optional: a deployment without
/// one accepts documents only if its OCR engine takes them itself.
#[async_trait]
pub trait DocumentReader: Send + Sync + Debug {
    /// The formats it reads.
    fn formats(&self) -> &[ContentType];

    /// Opens the document and counts its pages, without reading any.
    ///
    /// # Errors
    /// [`DocumentReadError::Encrypted`], [`DocumentReadError::Corrupt`],
    /// [`DocumentReadError::TooManyPages`] past `max_pages`, [`DocumentReadError::BeyondLimits`]
    /// for a document that does not open within the limits; [`DocumentReadError::Failed`] when the
    /// reader itself fails (retryable when it is unavailable).
    async fn probe(&self, bytes: &Bytes, max_pages: u32)
    -> Result<DocumentInfo, DocumentReadError>;

    /// Reads every page in order: its text layer when the request's rule trusts it, else a
    /// picture of it rendered at the request's resolution within its pixel budget.
    ///
    /// # Errors
    /// As [`DocumentReader::probe`], before the first page or as an item of the stream; the stream
    /// ends after an error.
    async fn read(
        &self,
        bytes: &Bytes,
        request: &ReadRequest,
    ) -> Result<PageStream, DocumentReadError>;

    /// A picture of page `page` as it is shown (rendered upright, in colour), at most
    /// `longest_side` pixels on its longest side, as a JPEG: what the web app shows of a page.
    /// Within `time_limit`.
    ///
    /// # Errors
    /// As [`DocumentReader::probe`]; [`DocumentReadError::Corrupt`] for a page the document does
    /// not have.
    async fn picture(
        &self,
        bytes: &Bytes,
        page: PageNumber,
        longest_side: u32,
        time_limit: Duration,
    ) -> Result<Preview, DocumentReadError>;

    /// The document with `pages`' words laid over their pages as invisible text, where each word
    /// was read, so that a viewer finds and selects it (a searchable PDF); everything else as it
    /// was. Within `time_limit`.
    ///
    /// # Errors
    /// As [`DocumentReader::probe`]; [`DocumentReadError::Corrupt`] for a page the document does
    /// not have.
    async fn add_text_layer(
        &self,
        bytes: &Bytes,
        pages: &[PageText],
        time_limit: Duration,
    ) -> Result<Bytes, DocumentReadError>;
}
