//! Exports of what was read on an image (hOCR, ALTO, plain text): answered inline, or stored and
//! handed out through a short-lived download URL when they are larger than the deployment answers
//! inline.

use bytes::Bytes;

use super::Intake;
use crate::error::IntakeError;
use crate::model::{ExportFormat, FileName, ImageId, ImageRecord, ImageStatus, ObjectKey, Owner};
use crate::ports::{GetUrlRequest, OcrDetail, PresignedRequest};

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
    /// out as a presigned GET.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown or deleted image and for another owner's (as
    /// [`Intake::get_image`]); [`IntakeError::NotProcessed`] (409) for an image that is not
    /// `PROCESSED`; [`IntakeError::ExportUnavailable`] on a deployment without a renderer;
    /// [`IntakeError::Render`] when the document cannot be written; port errors as they occur.
    pub async fn export(
        &self,
        owner: &Owner,
        id: ImageId,
        format: ExportFormat,
    ) -> Result<Export, IntakeError> {
        let inner = &self.inner;
        let record = inner
            .repository
            .get_view(&id, OcrDetail::Lines)
            .await?
            .filter(|r| r.owner() == owner && !r.is_deleted())
            .ok_or(IntakeError::NotFound { id })?;
        if record.status() != ImageStatus::Processed {
            return Err(IntakeError::NotProcessed {
                id,
                status: record.status(),
            });
        }
        let renderer = inner
            .exports
            .as_ref()
            .ok_or(IntakeError::ExportUnavailable)?;
        let bytes = renderer.render(&record, format)?;
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
        // A purge that began meanwhile may have erased the image's exports before this one was
        // stored: an export of an image no longer live is taken back (the purge erases exports
        // after it marks the image deleted, so one of the two always removes it).
        let live = inner
            .repository
            .get_view(&record.image_id(), OcrDetail::Text)
            .await?
            .is_some_and(|r| !r.is_deleted());
        if !live {
            inner.store.purge(&key).await?;
            return Err(IntakeError::NotFound {
                id: record.image_id(),
            });
        }
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
