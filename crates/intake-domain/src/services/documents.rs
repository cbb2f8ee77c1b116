//! Documents read page by page: an OCR engine that takes images, extended to the formats a
//! [`DocumentReader`] reads (PDF). Each page comes from its text layer where the layer can be
//! trusted, and from the engine otherwise; the result says which, page by page.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;

use crate::model::{ContentType, OcrLine, OcrPage, OcrResult, PageSource, Sha256Digest};
use crate::ports::{
    DocumentPage, DocumentReadError, DocumentReader, Failure, ImageFacts, OcrCapabilities,
    OcrEngine, OcrError, OcrInput, PageContent, ReadRequest,
};

/// The resolution documents' pages are read at: what OCR engines are tuned for (Tesseract's and
/// OCRmyPDF's default), and what text-layer boxes are given in, so that every page of a record
/// has the same scale.
pub const DOCUMENT_DPI: u32 = 300;

/// The most pixels one rendered page may have: an A3 page at 300 DPI has 17.4 million; a larger
/// page is rendered at a lower resolution.
pub const MAX_PAGE_PIXELS: u64 = 36_000_000;

/// The longest a document's reader may work on it (rendering and text, not OCR).
pub const DOCUMENT_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Pages handed to the engine at once: the reader renders the next pages while the engine reads.
const PAGES_IN_FLIGHT: usize = 4;

/// `inner` (an engine that reads images), reading documents too: a [`DocumentReader`] opens them
/// and the engine reads each page the text layer does not cover.
#[derive(Clone)]
pub struct DocumentOcr {
    inner: Arc<dyn OcrEngine>,
    reader: Arc<dyn DocumentReader>,
    request: ReadRequest,
    capabilities: OcrCapabilities,
}

impl DocumentOcr {
    /// `inner`, reading the formats of `reader` as `request` says. A document is read from its
    /// bytes, so the processor hands this engine bytes, even where `inner` reads stored objects
    /// (Rekognition, as an alternative engine of a deployment that reads PDFs in the function).
    pub fn new(
        inner: Arc<dyn OcrEngine>,
        reader: Arc<dyn DocumentReader>,
        request: ReadRequest,
    ) -> Self {
        let mut capabilities = inner.capabilities().clone();
        for format in reader.formats() {
            if !capabilities.formats.contains(format) {
                capabilities.formats.push(*format);
                capabilities.reads_objects = false;
            }
        }
        Self {
            inner,
            reader,
            request,
            capabilities,
        }
    }

    /// Whether `inner` needs a reader for some of `reader`'s formats (an engine that takes PDF
    /// itself, as Textract does, is left as it is).
    pub fn extends(inner: &dyn OcrEngine, reader: &dyn DocumentReader) -> bool {
        reader
            .formats()
            .iter()
            .any(|f| !inner.capabilities().formats.contains(f))
    }

    /// Reads one page: its text layer as it is, or its picture by the engine.
    async fn page(
        inner: Arc<dyn OcrEngine>,
        page: DocumentPage,
    ) -> Result<(OcrPage, Vec<OcrLine>, bool), OcrError> {
        let number = page.number;
        match page.content {
            PageContent::TextLayer(lines) => Ok((
                OcrPage::new(number, page.width_px, page.height_px, PageSource::TextLayer),
                lines.into_iter().map(|l| l.on_page(number)).collect(),
                false,
            )),
            PageContent::Picture {
                bytes,
                content_type,
            } => {
                let facts = ImageFacts::new(
                    content_type,
                    bytes.len() as u64,
                    Some((page.width_px, page.height_px)),
                    Sha256Digest::of(&bytes),
                );
                let read = inner.detect(&OcrInput::Bytes { bytes, facts }).await?;
                let engine_page = read.pages().first().copied();
                let (width, height) = engine_page
                    .as_ref()
                    .and_then(OcrPage::size)
                    .unwrap_or((page.width_px, page.height_px));
                let truncated = read.truncated();
                let mut read_page = OcrPage::new(number, width, height, PageSource::Ocr);
                // The picture's hash, for near-duplicate detection, as the engine made it.
                if let Some(hash) = engine_page.as_ref().and_then(OcrPage::image_hash) {
                    read_page = read_page.with_image_hash(hash);
                }
                Ok((
                    read_page,
                    read.lines()
                        .iter()
                        .cloned()
                        .map(|l| l.on_page(number))
                        .collect(),
                    truncated,
                ))
            }
        }
    }

    async fn read_document(&self, bytes: &Bytes) -> Result<OcrResult, OcrError> {
        let pages = self
            .reader
            .read(bytes, &self.request)
            .await
            .map_err(ocr_error)?;
        let inner = &self.inner;
        let mut read = pages
            .map(|page| {
                let inner = Arc::clone(inner);
                async move { Self::page(inner, page.map_err(ocr_error)?).await }
            })
            .buffered(PAGES_IN_FLIGHT);
        let mut lines = Vec::new();
        let mut pages = Vec::new();
        let mut truncated = false;
        let mut expected: u32 = 1;
        while let Some(page) = read.next().await {
            let (page, page_lines, cut) = page?;
            if page.page().get() != expected {
                return Err(OcrError::from(Failure::other(format!(
                    "the document reader gave page {} where page {expected} was due",
                    page.page()
                ))));
            }
            expected = expected.saturating_add(1);
            truncated |= cut;
            pages.push(page);
            lines.extend(page_lines);
        }
        if pages.is_empty() {
            return Err(OcrError::InvalidImage {
                reason: "the document has no pages".into(),
            });
        }
        Ok(
            OcrResult::new(self.capabilities.engine.clone(), lines, truncated)
                .map_err(|e| OcrError::from(Failure::other(e)))?
                .with_pages(pages),
        )
    }
}

/// What a reader's error means to the processor: a damaged or hostile document is an image the
/// engine cannot read (permanent); a reader that failed is a failure like any port's.
fn ocr_error(error: DocumentReadError) -> OcrError {
    match error {
        DocumentReadError::Encrypted | DocumentReadError::Corrupt { .. } => {
            OcrError::InvalidImage {
                reason: error.to_string(),
            }
        }
        DocumentReadError::TooManyPages { .. } | DocumentReadError::BeyondLimits { .. } => {
            OcrError::TooLarge {
                reason: error.to_string(),
            }
        }
        DocumentReadError::Failed(failure) => OcrError::Failed(failure),
    }
}

impl fmt::Debug for DocumentOcr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentOcr")
            .field("inner", &self.inner)
            .field("reader", &self.reader)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl OcrEngine for DocumentOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let content_type: ContentType = input.facts().content_type;
        if self.inner.capabilities().formats.contains(&content_type)
            || !self.reader.formats().contains(&content_type)
        {
            return self.inner.detect(input).await;
        }
        let bytes = self.capabilities.bytes_of(input)?;
        self.read_document(bytes).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::stream;

    use super::*;
    use crate::model::{BoundingBox, FIRST_PAGE, PageNumber};
    use crate::ports::{DocumentInfo, MockOcrEngine, PageStream};

    /// A reader that hands over the pages it was given.
    #[derive(Debug)]
    struct Pages(Mutex<Option<Vec<Result<DocumentPage, DocumentReadError>>>>);

    #[async_trait]
    impl DocumentReader for Pages {
        fn formats(&self) -> &[ContentType] {
            &[ContentType::Pdf]
        }
        async fn probe(&self, _: &Bytes, _: u32) -> Result<DocumentInfo, DocumentReadError> {
            Ok(DocumentInfo::new(2))
        }
        async fn read(&self, _: &Bytes, _: &ReadRequest) -> Result<PageStream, DocumentReadError> {
            let pages = self.0.lock().unwrap().take().unwrap_or_default();
            Ok(stream::iter(pages).boxed())
        }
        async fn picture(
            &self,
            _: &Bytes,
            _: PageNumber,
            _: u32,
            _: Duration,
        ) -> Result<crate::ports::Preview, DocumentReadError> {
            Err(DocumentReadError::Failed(Failure::other("draws nothing")))
        }
        async fn add_text_layer(
            &self,
            bytes: &Bytes,
            _: &[crate::ports::PageText],
            _: Duration,
        ) -> Result<Bytes, DocumentReadError> {
            Ok(bytes.clone())
        }
    }

    fn line(text: &str) -> OcrLine {
        OcrLine::new(
            text,
            99.0,
            BoundingBox::new(0.1, 0.1, 0.5, 0.05).unwrap(),
            vec![],
        )
        .unwrap()
    }

    #[allow(clippy::unnecessary_wraps)] // a reader's stream item
    fn page(n: u32, content: PageContent) -> Result<DocumentPage, DocumentReadError> {
        Ok(DocumentPage::new(
            PageNumber::new(n).unwrap(),
            2480,
            3508,
            content,
        ))
    }

    fn engine() -> MockOcrEngine {
        let mut engine = MockOcrEngine::new();
        engine
            .expect_capabilities()
            .return_const(OcrCapabilities::new(
                "pp-ocr",
                vec![ContentType::Png, ContentType::Jpeg],
                1 << 20,
                8,
            ));
        engine
    }

    fn pdf() -> OcrInput {
        let bytes = Bytes::from_static(b"%PDF-1.7");
        OcrInput::Bytes {
            facts: ImageFacts::new(ContentType::Pdf, 8, None, Sha256Digest::of(&bytes)),
            bytes,
        }
    }

    async fn read(
        engine: MockOcrEngine,
        pages: Vec<Result<DocumentPage, DocumentReadError>>,
    ) -> Result<OcrResult, OcrError> {
        let ocr = DocumentOcr::new(
            Arc::new(engine),
            Arc::new(Pages(Mutex::new(Some(pages)))),
            ReadRequest::new(300, 1 << 24, Duration::from_secs(5)),
        );
        assert!(ocr.capabilities().formats.contains(&ContentType::Pdf));
        ocr.detect(&pdf()).await
    }

    #[tokio::test]
    async fn text_pages_are_taken_as_they_are_and_pictures_are_read_by_the_engine() {
        let mut engine = engine();
        engine
            .expect_detect()
            .withf(|input| {
                input.facts().content_type == ContentType::Png
                    && input.facts().dimensions() == Some((2480, 3508))
            })
            .times(1)
            .returning(|_| {
                let sketched = OcrPage::new(FIRST_PAGE, 2480, 3508, PageSource::Ocr)
                    .with_image_hash(crate::model::ImageHash(0xD0C));
                Ok(OcrResult::new("pp-ocr", vec![line("scanned")], false)
                    .unwrap()
                    .with_pages(vec![sketched]))
            });
        let result = read(
            engine,
            vec![
                page(
                    1,
                    PageContent::TextLayer(vec![line("born"), line("digital")]),
                ),
                page(
                    2,
                    PageContent::Picture {
                        bytes: Bytes::from_static(b"png"),
                        content_type: ContentType::Png,
                    },
                ),
            ],
        )
        .await
        .unwrap();
        let lines: Vec<_> = result
            .lines()
            .iter()
            .map(|l| (l.text().to_owned(), l.page().get()))
            .collect();
        assert_eq!(
            lines,
            [
                ("born".into(), 1),
                ("digital".into(), 1),
                ("scanned".into(), 2)
            ]
        );
        let sources: Vec<_> = result.pages().iter().map(OcrPage::source).collect();
        assert_eq!(sources, [PageSource::TextLayer, PageSource::Ocr]);
        assert_eq!(result.pages()[0].page(), FIRST_PAGE);
        let hashes: Vec<_> = result.pages().iter().map(OcrPage::image_hash).collect();
        assert_eq!(
            hashes,
            [None, Some(crate::model::ImageHash(0xD0C))],
            "a read picture keeps the engine's image hash"
        );
        assert_eq!(result.text(), "born\ndigital\n\u{c}scanned");
    }

    #[tokio::test]
    async fn a_document_that_breaks_mid_way_fails_whole() {
        let result = read(
            engine(),
            vec![
                page(1, PageContent::TextLayer(vec![line("one")])),
                Err(DocumentReadError::BeyondLimits {
                    reason: "out of memory".into(),
                }),
            ],
        )
        .await;
        assert!(
            matches!(result, Err(OcrError::TooLarge { .. })),
            "{result:?}"
        );
        let empty = read(engine(), vec![]).await;
        assert!(
            matches!(empty, Err(OcrError::InvalidImage { .. })),
            "{empty:?}"
        );
    }

    #[test]
    fn an_engine_reading_objects_is_handed_bytes_once_it_reads_documents() {
        let mut objects = MockOcrEngine::new();
        objects.expect_capabilities().return_const(
            OcrCapabilities::new("rekognition", vec![ContentType::Png], 1 << 20, 8)
                .reading_objects(),
        );
        let reader: Arc<dyn DocumentReader> = Arc::new(Pages(Mutex::new(None)));
        let request = ReadRequest::new(300, 1 << 24, Duration::from_secs(5));
        let ocr = DocumentOcr::new(Arc::new(objects), Arc::clone(&reader), request);
        assert!(!ocr.capabilities().reads_objects);
        // An engine that takes the reader's formats itself is not extended.
        let mut pdf_too = MockOcrEngine::new();
        pdf_too.expect_capabilities().return_const(
            OcrCapabilities::new(
                "textract",
                vec![ContentType::Png, ContentType::Pdf],
                1 << 20,
                8,
            )
            .reading_objects(),
        );
        assert!(!DocumentOcr::extends(&pdf_too, reader.as_ref()));
    }

    #[tokio::test]
    async fn pages_out_of_order_are_a_reader_fault() {
        let result = read(
            engine(),
            vec![page(2, PageContent::TextLayer(vec![line("two")]))],
        )
        .await;
        assert!(matches!(result, Err(OcrError::Failed(_))), "{result:?}");
    }
}
