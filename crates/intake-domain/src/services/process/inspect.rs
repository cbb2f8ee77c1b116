//! One streaming pass over an object: hash, size, format, dimensions, pages, and the bytes when
//! needed.

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};

use crate::error::IntakeError;
use crate::model::{ContentType, Measurements, ObjectKey, Sha256Digest};
use crate::ports::{DocumentInfo, DocumentReadError, Failure, OcrError, StoreError};
use crate::services::Intake;
use crate::sniff::{PNG_TRAILER, Pages, PagesError, Sniffed, Sniffer, tiff_pages};

/// What one streaming pass over an object established.
#[derive(Debug)]
pub(super) struct Inspection {
    /// Bytes read; one chunk past the limit at most when `oversize`.
    pub(super) size: u64,
    /// The size the store reported.
    pub(super) stored_size: u64,
    /// The object version the store reported, so OCR by reference reads the same bytes.
    pub(super) version: Option<String>,
    /// `None` when reading stopped at the limit.
    pub(super) sha256: Option<Sha256Digest>,
    pub(super) sniffed: Sniffed,
    /// The last bytes of the object (up to 12).
    pub(super) tail: Vec<u8>,
    /// The whole object, when the engine needs bytes or the image may have several pages.
    pub(super) body: Option<Bytes>,
    pub(super) oversize: bool,
    /// A multi-page image's pages from its headers (TIFF), or why they cannot be read.
    pub(super) pages: Option<Result<Pages, PagesError>>,
    /// A document's pages, as its reader found them (PDF), or why it cannot be opened.
    pub(super) document: Option<Result<DocumentInfo, DocumentReadError>>,
}

impl Inspection {
    /// What this pass measured of the object: size, hash, type, dimensions and pages (1 for
    /// single-image formats; a multi-page image's count when it is within `max_pages`).
    pub(super) fn measurements(&self, max_pages: u32) -> Measurements {
        Measurements {
            size_bytes: Some(if self.oversize {
                self.stored_size.max(self.size)
            } else {
                self.size
            }),
            sha256: self.sha256,
            content_type: self.sniffed.content_type,
            dimensions: self.sniffed.dimensions,
            page_count: match (&self.pages, self.sniffed.content_type) {
                (Some(Ok(pages)), _) if pages.count <= max_pages => Some(pages.count),
                (None, _) if self.document.is_some() => match &self.document {
                    Some(Ok(info)) if info.page_count <= max_pages => Some(info.page_count),
                    _ => None,
                },
                (Some(_), _) | (None, None | Some(ContentType::Pdf | ContentType::Tiff)) => None,
                (None, Some(_)) => Some(1),
            },
            duplicate_of: None,
        }
    }
}

impl Intake {
    /// Streams the object once: hash, size, format and dimensions (wherever the format keeps them),
    /// last bytes for trailer checks, and the whole body only when it is asked for (`keep_body`: the
    /// engine needs bytes, or a TIFF's pages are to be counted). Stops reading past the byte limit.
    pub(super) async fn inspect(
        &self,
        key: &ObjectKey,
        keep_body: bool,
    ) -> Result<Inspection, StoreError> {
        let limit = self.inner.max_bytes;
        let got = self.inner.store.get(key).await?;
        let stored_size = got.meta.size;
        let version = got.meta.version.clone();
        if stored_size > limit {
            // Larger than allowed: rejected without reading a byte of it.
            return Ok(Inspection {
                size: stored_size,
                stored_size,
                version,
                sha256: None,
                sniffed: Sniffed {
                    content_type: None,
                    dimensions: None,
                },
                tail: Vec::new(),
                body: None,
                oversize: true,
                pages: None,
                document: None,
            });
        }
        let mut stream = got.stream;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut sniffer = Sniffer::default();
        let mut tail: Vec<u8> = Vec::with_capacity(PNG_TRAILER.len() * 2);
        let mut body = keep_body
            .then(|| BytesMut::with_capacity(usize::try_from(stored_size.min(limit)).unwrap_or(0)));
        let mut oversize = false;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                oversize = true;
                break;
            }
            hasher.update(&chunk);
            sniffer.feed(&chunk);
            tail.extend_from_slice(
                chunk
                    .get(chunk.len().saturating_sub(PNG_TRAILER.len())..)
                    .unwrap_or_default(),
            );
            let excess = tail.len().saturating_sub(PNG_TRAILER.len());
            tail.drain(..excess);
            if let Some(body) = body.as_mut() {
                body.extend_from_slice(&chunk);
            }
        }
        if !oversize && size != stored_size {
            return Err(StoreError::from(Failure::unavailable(format!(
                "read {size} bytes of {key}, but the store reports {stored_size}"
            ))));
        }
        let sniffed = sniffer.finish();
        let body = body.map(BytesMut::freeze);
        // A TIFF's pages are counted from its whole directory chain, wherever its directories are,
        // never decoding a pixel.
        let pages = match (&body, sniffed.content_type) {
            (Some(bytes), Some(ContentType::Tiff)) if !oversize => {
                Some(tiff_pages(bytes, self.inner.config.max_pages))
            }
            _ => None,
        };
        Ok(Inspection {
            size,
            stored_size,
            version,
            sha256: (!oversize).then(|| Sha256Digest::from_bytes(hasher.finalize().into())),
            sniffed,
            tail,
            body,
            oversize,
            pages,
            document: None,
        })
    }

    /// Opens a document the deployment reads page by page (PDF) and counts its pages, when its
    /// bytes are in hand: what [`rules::examine`](super::rules) rejects an encrypted, damaged or
    /// too long document on.
    ///
    /// # Errors
    /// A retryable error when the reader itself failed (not the document).
    pub(super) async fn probe_document(
        &self,
        inspection: &mut Inspection,
    ) -> Result<(), IntakeError> {
        let Some(reader) = &self.inner.documents else {
            return Ok(());
        };
        let (Some(body), Some(content_type)) = (&inspection.body, inspection.sniffed.content_type)
        else {
            return Ok(());
        };
        if inspection.oversize || !reader.formats().contains(&content_type) {
            return Ok(());
        }
        match reader.probe(body, self.inner.config.max_pages).await {
            Err(DocumentReadError::Failed(failure)) => {
                Err(IntakeError::Ocr(OcrError::Failed(failure)))
            }
            probed => {
                inspection.document = Some(probed);
                Ok(())
            }
        }
    }
}
