//! Pictures of a document's pages, for people to read a page with its boxes over it (the web app):
//! drawn from the stored original on first request (by the document reader for a PDF, by the
//! previewer for images and TIFF pages), kept beside the image's preview, and handed out as a
//! short-lived download URL. A purge erases them with the preview.

use super::{DOCUMENT_TIME_LIMIT, Intake};
use crate::error::IntakeError;
use crate::model::{ImageId, ImageRecord, ObjectKey, Owner, PageNumber, PictureSize};
use crate::ports::{GetUrlRequest, ImageFacts, OcrDetail, PresignedRequest, Preview, StoreError};

impl Intake {
    /// A picture of page `page` of one of `owner`'s processed images in `size` (a JPEG, at most
    /// [`PictureSize::longest_side`] pixels on its longest side, upright), as a presigned GET of
    /// its stored copy.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown, deleted or another owner's image;
    /// [`IntakeError::NotProcessed`] for an image that is not `PROCESSED`;
    /// [`IntakeError::NoSuchPage`] past its last page; [`IntakeError::PicturesUnavailable`] where
    /// nothing draws its format; [`IntakeError::PictureFailed`] when the page cannot be drawn;
    /// port errors as they occur.
    pub async fn page_picture(
        &self,
        owner: &Owner,
        id: ImageId,
        page: PageNumber,
        size: PictureSize,
    ) -> Result<PresignedRequest, IntakeError> {
        let inner = &self.inner;
        let record = self.processed(owner, id, OcrDetail::Text).await?;
        let pages = record.page_count().unwrap_or(1);
        if page.get() > pages {
            return Err(IntakeError::NoSuchPage {
                id,
                page: page.get(),
                pages,
            });
        }
        let key = ObjectKey::for_page_picture(id, page, size);
        match inner.store.head(&key).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                let picture = self.draw_page(&record, page, size.longest_side()).await?;
                inner
                    .store
                    .put(&key, picture.bytes, picture.content_type.as_mime())
                    .await?;
                self.keep_if_live(id, &key).await?;
            }
            Err(other) => return Err(other.into()),
        }
        let request =
            GetUrlRequest::new(key, None, inner.clock.now(), inner.config.download_url_ttl);
        Ok(inner.signer.presign_get(&request).await?)
    }

    /// Draws a page from the stored original.
    async fn draw_page(
        &self,
        record: &ImageRecord,
        page: PageNumber,
        side: u32,
    ) -> Result<Preview, IntakeError> {
        let inner = &self.inner;
        let id = record.image_id();
        let (Some(content_type), Some(sha256)) = (record.content_type(), record.sha256()) else {
            return Err(IntakeError::PicturesUnavailable);
        };
        let failed = |source: crate::ports::BoxError| IntakeError::PictureFailed {
            id,
            page: page.get(),
            source,
        };
        if let Some(reader) = inner
            .documents
            .as_ref()
            .filter(|r| r.formats().contains(&content_type))
        {
            let original = self.original(record).await?;
            return reader
                .picture(&original, page, side, DOCUMENT_TIME_LIMIT)
                .await
                .map_err(|e| failed(Box::new(e)));
        }
        let previewer = inner
            .previewer
            .as_ref()
            .ok_or(IntakeError::PicturesUnavailable)?;
        let original = self.original(record).await?;
        let dimensions = record.width_px().zip(record.height_px());
        let facts = ImageFacts::new(content_type, original.len() as u64, dimensions, sha256);
        previewer
            .page_picture(&original, &facts, page, side)
            .await
            .map_err(|e| failed(Box::new(e)))?
            .ok_or(IntakeError::PicturesUnavailable)
    }
}

/// The keys an image's page pictures can have: one per page and size of a record of `pages` pages.
pub(super) fn page_picture_keys(id: ImageId, pages: u32) -> impl Iterator<Item = ObjectKey> {
    (1..=pages.max(1))
        .filter_map(PageNumber::new)
        .flat_map(move |page| {
            PictureSize::ALL.map(|size| ObjectKey::for_page_picture(id, page, size))
        })
}
