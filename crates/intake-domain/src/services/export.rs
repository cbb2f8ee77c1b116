//! Exports of what was read on an image (hOCR, ALTO, plain text, searchable PDF): answered inline,
//! or stored and handed out through a short-lived download URL when they are larger than the
//! deployment answers inline. A format made from the original's bytes as well (the PDF) reads the
//! stored original, within the deployment's byte limit, only when it is asked for.

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;

use super::{DOCUMENT_TIME_LIMIT, Intake};
use crate::error::IntakeError;
use crate::model::{
    ExportFormat, FileName, ImageId, ImageRecord, ImageStatus, ObjectKey, Owner, PageSource,
};
use crate::ports::{GetUrlRequest, OcrDetail, PageText, PresignedRequest, RenderError};

/// An export of one image in one format.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct Export {
    /// The format.
    pub format: ExportFormat,
    /// The media type the bytes are served with ([`ExportFormat::media_type`]).
    pub content_type: &'static str,
    /// The name to save it under (`cheque.hocr`).
    pub file_name: FileName,
    /// The bytes, or where to fetch them.
    pub body: ExportBody,
}

/// Where an export's bytes are: here, or stored (the two ways an answer can carry them).
#[derive(Clone, PartialEq, Debug)]
pub enum ExportBody {
    /// Here: within the deployment's inline limit.
    Inline(Bytes),
    /// Stored under `exports/{imageId}/{format}` (larger than the inline limit): a presigned GET
    /// of it, valid for the download URL lifetime, saving under the export's file name. Fetch it
    /// as it is, without the API's credentials.
    Stored(PresignedRequest),
}

impl Intake {
    /// What was read on one of `owner`'s processed images, in `format`: the bytes with their media
    /// type and file name when they are within [`crate::IntakeConfig::export_inline_limit`], else
    /// stored under the image's export key (replacing an earlier export in that format) and handed
    /// out as a presigned GET. A format that [needs the original](ExportFormat::needs_original)
    /// reads the image's stored bytes; an original that [already is a document in the
    /// format](ExportFormat::is_original_format) (a PDF upload exported as PDF) is the export, as
    /// uploaded.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown or deleted image and for another owner's (as
    /// [`Intake::get_image`]); [`IntakeError::NotProcessed`] (409) for an image that is not
    /// `PROCESSED`; [`IntakeError::ExportUnavailable`] on a deployment without a renderer;
    /// [`IntakeError::Render`] when the document cannot be written (among others an original past
    /// the byte limit, [`RenderError::OriginalTooLarge`]); port errors as they occur.
    pub async fn export(
        &self,
        owner: &Owner,
        id: ImageId,
        format: ExportFormat,
    ) -> Result<Export, IntakeError> {
        let inner = &self.inner;
        let record = self.processed(owner, id, OcrDetail::Lines).await?;
        let renderer = inner
            .exports
            .as_ref()
            .ok_or(IntakeError::ExportUnavailable)?;
        let original = if format.needs_original() {
            Some(self.original(&record).await?)
        } else {
            None
        };
        let bytes = match original {
            Some(original)
                if record
                    .content_type()
                    .is_some_and(|t| format.is_original_format(t)) =>
            {
                Vec::from(self.with_text_layer(&record, format, original).await?)
            }
            original => renderer.render(&record, format, original.as_deref())?,
        };
        let file_name = format.file_name(record.file_name());
        let fits = inner
            .config
            .export_inline_limit
            .is_none_or(|limit| u64::try_from(bytes.len()).is_ok_and(|len| len <= limit));
        let body = if fits {
            ExportBody::Inline(Bytes::from(bytes))
        } else {
            ExportBody::Stored(
                self.store_export(&record, format, bytes, &file_name)
                    .await?,
            )
        };
        Ok(Export {
            format,
            content_type: format.media_type(),
            file_name,
            body,
        })
    }

    /// One of `owner`'s processed images, read with `detail`.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown, deleted or another owner's image;
    /// [`IntakeError::NotProcessed`] for one that is not `PROCESSED`; repository errors.
    pub(super) async fn processed(
        &self,
        owner: &Owner,
        id: ImageId,
        detail: OcrDetail,
    ) -> Result<ImageRecord, IntakeError> {
        let record = self
            .inner
            .repository
            .get_view(&id, detail)
            .await?
            .filter(|r| r.owner() == owner && !r.is_deleted())
            .ok_or(IntakeError::NotFound { id })?;
        if record.status() != ImageStatus::Processed {
            return Err(IntakeError::NotProcessed {
                id,
                status: record.status(),
            });
        }
        Ok(record)
    }

    /// Takes back what was just stored under `key` for image `id` (an export, a page picture) if
    /// the image is no longer live: a purge that began meanwhile may have erased the image's
    /// objects before this one was stored (the purge erases them after it marks the image
    /// deleted, so one of the two always removes it).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] when the image is gone; port errors.
    pub(super) async fn keep_if_live(
        &self,
        id: ImageId,
        key: &ObjectKey,
    ) -> Result<(), IntakeError> {
        let live = self
            .inner
            .repository
            .get_view(&id, OcrDetail::Text)
            .await?
            .is_some_and(|r| !r.is_deleted());
        if live {
            return Ok(());
        }
        self.inner.store.purge(key).await?;
        Err(IntakeError::NotFound { id })
    }

    /// A document uploaded in the export's format (a PDF), with the words OCR read on its pages
    /// laid over them as invisible text by the deployment's document reader: what OCRmyPDF does
    /// to a scan. Pages whose text came from the document's own text layer keep it; a document
    /// whose pages all did, or a deployment without a reader, is exported as uploaded.
    async fn with_text_layer(
        &self,
        record: &ImageRecord,
        format: ExportFormat,
        original: Bytes,
    ) -> Result<Bytes, IntakeError> {
        let (Some(reader), Some(pages), Some(lines)) =
            (&self.inner.documents, record.pages(), record.ocr_lines())
        else {
            return Ok(original);
        };
        let read: Vec<PageText> = pages
            .iter()
            .filter(|p| p.source == PageSource::Ocr)
            .map(|p| {
                let on_page = lines.iter().filter(|l| l.page() == p.page).cloned();
                PageText::new(p.page, on_page.collect())
            })
            .filter(|p| !p.lines.is_empty())
            .collect();
        if read.is_empty() {
            return Ok(original);
        }
        reader
            .add_text_layer(&original, &read, DOCUMENT_TIME_LIMIT)
            .await
            .map_err(|e| {
                IntakeError::Render(RenderError::Failed {
                    format,
                    source: Box::new(e),
                })
            })
    }

    /// The stored original of `record`, whole, within the deployment's byte limit (the limit its
    /// upload was accepted under, unless it was lowered since).
    pub(super) async fn original(&self, record: &ImageRecord) -> Result<Bytes, IntakeError> {
        let limit = self.inner.max_bytes;
        let too_large =
            |size: u64| IntakeError::Render(RenderError::OriginalTooLarge { size, limit });
        let got = self.inner.store.get(record.object_key()).await?;
        if got.meta.size > limit {
            return Err(too_large(got.meta.size));
        }
        let mut body = BytesMut::with_capacity(usize::try_from(got.meta.size).unwrap_or(0));
        let mut stream = got.stream;
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk?);
            let size = u64::try_from(body.len()).unwrap_or(u64::MAX);
            if size > limit {
                return Err(too_large(size));
            }
        }
        Ok(body.freeze())
    }

    /// Stores an export of `record` under its key and presigns a GET of it.
    async fn store_export(
        &self,
        record: &ImageRecord,
        format: ExportFormat,
        bytes: Vec<u8>,
        file_name: &FileName,
    ) -> Result<PresignedRequest, IntakeError> {
        let inner = &self.inner;
        let key = ObjectKey::for_export(record.image_id(), format);
        inner
            .store
            .put(&key, Bytes::from(bytes), format.media_type())
            .await?;
        self.keep_if_live(record.image_id(), &key).await?;
        tracing::info!(image_id = %record.image_id(), %format, "export stored for download");
        let request = GetUrlRequest::new(
            key,
            Some(file_name.clone()),
            inner.clock.now(),
            inner.config.download_url_ttl,
        );
        Ok(inner.signer.presign_get(&request).await?)
    }
}

/// The keys an image's stored exports can have: one per format.
pub(super) fn export_keys(id: ImageId) -> impl Iterator<Item = ObjectKey> {
    ExportFormat::ALL
        .into_iter()
        .map(move |format| ObjectKey::for_export(id, format))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::model::{BoundingBox, ContentType, Measurements, OcrLine, OcrResult, OcrWord};
    use crate::ports::{
        ExportRenderer, Failure, MockClock, MockImageRepository, MockObjectStore, MockOcrEngine,
        MockUrlSigner, OcrCapabilities, RenderError,
    };
    use crate::ports::{GetResult, ObjectMeta};
    use crate::services::tests::{awaiting, now};

    /// Writes `len` bytes of the record's text, whatever the format.
    #[derive(Debug)]
    struct Sized(usize);

    impl ExportRenderer for Sized {
        fn render(
            &self,
            record: &ImageRecord,
            format: ExportFormat,
            original: Option<&[u8]>,
        ) -> Result<Vec<u8>, RenderError> {
            if format.needs_original() != original.is_some() {
                return Err(RenderError::NoOriginal(format));
            }
            let text = record.ocr_text().unwrap_or_default().as_bytes();
            let mut out: Vec<u8> = text.iter().copied().cycle().take(self.0).collect();
            out.extend_from_slice(original.unwrap_or_default());
            Ok(out)
        }
    }

    fn processed() -> ImageRecord {
        let word = OcrWord::new("TOTAL", 90.0, BoundingBox::new(0.1, 0.1, 0.2, 0.1).unwrap());
        let line = OcrLine::from_words(vec![word.unwrap()]).unwrap();
        let result = OcrResult::new("e", vec![line], false).unwrap();
        awaiting()
            .claim(now(), Duration::from_secs(60))
            .and_then(|r| r.complete(now(), &Measurements::default(), &result))
            .unwrap()
    }

    /// Intake over `repository` and `store` with a renderer of `len` bytes and an inline limit of
    /// 10 bytes; the signer signs nothing.
    fn intake(repository: MockImageRepository, store: MockObjectStore, len: usize) -> Intake {
        let mut engine = MockOcrEngine::new();
        engine
            .expect_capabilities()
            .return_const(OcrCapabilities::new("e", vec![ContentType::Png], 1024, 16));
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let mut signer = MockUrlSigner::new();
        signer.expect_presign_get().never();
        Intake::builder()
            .store(store)
            .signer(signer)
            .ocr(engine)
            .repository(repository)
            .clock(clock)
            .exports(Sized(len))
            .config(crate::IntakeConfig::default().with_export_inline_limit(Some(10)))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn an_export_stored_while_a_purge_ran_is_taken_back() {
        let record = processed();
        let id = record.image_id();
        let deleted = record.mark_deleted(now()).unwrap();
        let mut repository = MockImageRepository::new();
        let mut reads = vec![deleted, record.clone()];
        repository
            .expect_get_view()
            .times(2)
            .returning(move |_, _| Ok(reads.pop()));
        let mut store = MockObjectStore::new();
        let key = ObjectKey::for_export(id, ExportFormat::Alto);
        let put_key = key.clone();
        store
            .expect_put()
            .withf(move |k, bytes, media| {
                *k == put_key && bytes.len() == 64 && media == ExportFormat::Alto.media_type()
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        store
            .expect_purge()
            .withf(move |k| *k == key)
            .times(1)
            .returning(|_| Ok(()));
        let error = intake(repository, store, 64)
            .export(&Owner::parse("o").unwrap(), id, ExportFormat::Alto)
            .await
            .unwrap_err();
        assert!(
            matches!(error, IntakeError::NotFound { id: i } if i == id),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_export_that_cannot_be_stored_says_why() {
        let record = processed();
        let id = record.image_id();
        let mut repository = MockImageRepository::new();
        repository
            .expect_get_view()
            .returning(move |_, _| Ok(Some(record.clone())));
        let mut store = MockObjectStore::new();
        store
            .expect_put()
            .returning(|_, _, _| Err(Failure::storage_full("disk full").into()));
        let error = intake(repository, store, 11)
            .export(&Owner::parse("o").unwrap(), id, ExportFormat::Hocr)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "INSUFFICIENT_STORAGE");
        // Within the limit, nothing is stored.
        let mut repository = MockImageRepository::new();
        let small = processed();
        let small_id = small.image_id();
        repository
            .expect_get_view()
            .returning(move |_, _| Ok(Some(small.clone())));
        let mut store = MockObjectStore::new();
        store.expect_put().never();
        let export = intake(repository, store, 10)
            .export(&Owner::parse("o").unwrap(), small_id, ExportFormat::Txt)
            .await
            .unwrap();
        assert_eq!(
            export.body,
            ExportBody::Inline(Bytes::from_static(b"TOTALTOTAL"))
        );
        assert_eq!(export.file_name.as_str(), "a.txt");
        assert_eq!(export.content_type, "text/plain; charset=utf-8");
    }

    /// `record` as uploaded in `content_type`.
    fn typed(record: ImageRecord, content_type: ContentType) -> ImageRecord {
        let mut parts = record.into_parts();
        parts.content_type = Some(content_type);
        parts.declared_content_type = content_type;
        ImageRecord::from_parts(parts).unwrap()
    }

    /// A store whose one object (the original) reports `size` bytes and streams `chunks`.
    fn store_of(size: u64, chunks: Vec<&'static [u8]>) -> MockObjectStore {
        let mut store = MockObjectStore::new();
        store.expect_get().times(1).returning(move |_| {
            let stream = futures::stream::iter(
                chunks
                    .clone()
                    .into_iter()
                    .map(|c| Ok(Bytes::from_static(c))),
            );
            Ok(GetResult::new(ObjectMeta::new(size), stream.boxed()))
        });
        store.expect_put().never();
        store
    }

    fn repository_of(record: ImageRecord) -> MockImageRepository {
        let mut repository = MockImageRepository::new();
        repository
            .expect_get_view()
            .returning(move |_, _| Ok(Some(record.clone())));
        repository
    }

    #[tokio::test]
    async fn a_pdf_upload_is_its_own_pdf_export_and_an_image_is_rendered_with_its_original() {
        let owner = Owner::parse("o").unwrap();
        let pdf = typed(processed(), ContentType::Pdf);
        let id = pdf.image_id();
        let original: &'static [u8] = b"%PDF-1.7\n";
        // The renderer would write 4 bytes of text before the original: not asked.
        let export = intake(repository_of(pdf), store_of(9, vec![b"%PDF", b"-1.7\n"]), 4)
            .export(&owner, id, ExportFormat::Pdf)
            .await
            .unwrap();
        assert_eq!(
            export.body,
            ExportBody::Inline(Bytes::from_static(original))
        );
        assert_eq!(export.content_type, "application/pdf");
        assert_eq!(export.file_name.as_str(), "a.pdf");

        // An image's PDF is the renderer's, given the original (the test renderer appends it).
        let png = processed();
        let id = png.image_id();
        let export = intake(repository_of(png), store_of(3, vec![b"P", b"NG"]), 4)
            .export(&owner, id, ExportFormat::Pdf)
            .await
            .unwrap();
        assert_eq!(
            export.body,
            ExportBody::Inline(Bytes::from_static(b"TOTAPNG"))
        );

        // A PDF upload's text formats are still written from its record, without reading it.
        let pdf = typed(processed(), ContentType::Pdf);
        let id = pdf.image_id();
        let mut store = MockObjectStore::new();
        store.expect_get().never();
        let export = intake(repository_of(pdf), store, 5)
            .export(&owner, id, ExportFormat::Txt)
            .await
            .unwrap();
        assert_eq!(
            export.body,
            ExportBody::Inline(Bytes::from_static(b"TOTAL"))
        );
    }

    #[tokio::test]
    async fn an_original_past_the_byte_limit_is_not_read_whole() {
        let owner = Owner::parse("o").unwrap();
        // The engine's limit is 1024 bytes: a larger original is refused on its reported size...
        let record = processed();
        let id = record.image_id();
        let error = intake(repository_of(record), store_of(1025, vec![]), 0)
            .export(&owner, id, ExportFormat::Pdf)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                IntakeError::Render(RenderError::OriginalTooLarge {
                    size: 1025,
                    limit: 1024
                })
            ),
            "{error}"
        );
        // ...and on what it streams, whatever its size said.
        let record = processed();
        let id = record.image_id();
        let chunk: &'static [u8] = &[0; 1000];
        let error = intake(repository_of(record), store_of(10, vec![chunk, chunk]), 0)
            .export(&owner, id, ExportFormat::Pdf)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                IntakeError::Render(RenderError::OriginalTooLarge {
                    size: 2000,
                    limit: 1024
                })
            ),
            "{error}"
        );
        assert_eq!(error.code(), "INTERNAL");
    }
}
