use super::Intake;
use crate::error::IntakeError;
use crate::model::{
    Cursor, DocumentKind, FieldFilter, FieldFilterError, FieldOptions, ImageId, ImageRecord,
    ImageStatus, MAX_FIELD_FILTERS, ObjectKey, Owner, SearchMatch, SearchText, Sha256Digest,
};
use crate::ports::{
    GetUrlRequest, ListQuery, MAX_PAGE_LIMIT, OcrDetail, PresignedRequest, SearchQuery,
};

/// The default page size of listings.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

/// A listing request, validated (the query of `GET /images`). The service checks the page size.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct ListRequest {
    /// Page size, `1..=1000`, default 50.
    pub limit: Option<u64>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<Cursor>,
    /// Only this status. Default: every status but `AWAITING_UPLOAD` (images that reached processing).
    pub status: Option<ImageStatus>,
    /// Only images with this SHA-256.
    pub sha256: Option<Sha256Digest>,
    /// Full-text search over the OCR text and file names: only matching images, best first, each
    /// with where it matched.
    pub search: Option<SearchText>,
    /// Field filters as given (`TOTAL:31.00`), every one to match: read by the service with the
    /// deployment's [`crate::IntakeConfig::field_options`] ([`FieldFilter::parse`]).
    pub fields: Vec<String>,
    /// Only documents read as this kind.
    pub document_kind: Option<DocumentKind>,
}

impl ListRequest {
    /// With a page size.
    #[must_use]
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Continuing after a cursor.
    #[must_use]
    pub fn with_cursor(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }
    /// Only one status.
    #[must_use]
    pub fn with_status(mut self, status: ImageStatus) -> Self {
        self.status = Some(status);
        self
    }
    /// Only one SHA-256.
    #[must_use]
    pub fn with_sha256(mut self, sha256: Sha256Digest) -> Self {
        self.sha256 = Some(sha256);
        self
    }
    /// Only images matching a full-text search, best first.
    #[must_use]
    pub fn with_search(mut self, search: SearchText) -> Self {
        self.search = Some(search);
        self
    }

    /// Only documents with a field matching `filter` (`TOTAL:31.00`); repeatable, every one must
    /// match.
    #[must_use]
    pub fn with_field(mut self, filter: impl Into<String>) -> Self {
        self.fields.push(filter.into());
        self
    }
    /// Only documents read as `kind`.
    #[must_use]
    pub fn with_document_kind(mut self, kind: DocumentKind) -> Self {
        self.document_kind = Some(kind);
        self
    }

    fn to_query(&self, owner: &Owner, options: FieldOptions) -> Result<ListQuery, IntakeError> {
        if self.fields.len() > MAX_FIELD_FILTERS {
            return Err(FieldFilterError::TooMany.into());
        }
        let fields = self
            .fields
            .iter()
            .map(|text| FieldFilter::parse(text, options))
            .collect::<Result<Vec<_>, _>>()?;
        let limit = match self.limit {
            None => DEFAULT_PAGE_LIMIT,
            Some(l) if (1..=u64::from(MAX_PAGE_LIMIT)).contains(&l) => {
                u32::try_from(l).unwrap_or(MAX_PAGE_LIMIT)
            }
            Some(l) => {
                return Err(IntakeError::InvalidLimit {
                    limit: l,
                    max: MAX_PAGE_LIMIT,
                });
            }
        };
        let statuses: Vec<ImageStatus> = match self.status {
            Some(status) => vec![status],
            None => ImageStatus::ALL
                .into_iter()
                .filter(|s| *s != ImageStatus::AwaitingUpload)
                .collect(),
        };
        Ok(ListQuery::new(statuses, limit)
            .for_owner(owner.clone())
            .with_sha256(self.sha256)
            .with_fields(fields)
            .with_document_kind(self.document_kind)
            .after(self.cursor.clone()))
    }
}

/// A page of image metadata (no OCR text): newest first, or best first for a search.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct ImagePage {
    /// The images.
    pub images: Vec<ListedImage>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Cursor>,
}

/// One image of a page: its metadata, and for a search where it matched.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct ListedImage {
    /// The record without OCR text.
    pub record: ImageRecord,
    /// Where a search matched: a snippet with the matched words marked, and the OCR lines that
    /// matched.
    pub search: Option<SearchMatch>,
    /// A short-lived presigned GET of the image's preview, when it has one.
    pub thumbnail_url: Option<String>,
}

impl std::ops::Deref for ListedImage {
    type Target = ImageRecord;
    fn deref(&self) -> &ImageRecord {
        &self.record
    }
}

/// One image in full, with a short-lived download URL.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct ImageDetails {
    /// The record with its full OCR text, and its OCR lines when they were asked for.
    pub record: ImageRecord,
    /// A presigned GET for the object; absent while no object has been received.
    pub download_url: Option<String>,
    /// When the download URL expires.
    pub download_url_expires_at: Option<crate::model::Timestamp>,
    /// The full presigned request (method, URL, headers).
    pub download: Option<PresignedRequest>,
    /// A short-lived presigned GET of the image's preview, when it has one.
    pub thumbnail_url: Option<String>,
}

impl Intake {
    /// Lists `owner`'s image metadata, newest first, without OCR text; soft-deleted images and other
    /// owners' images never appear. With a search text (`q`), only the images whose OCR text or file
    /// name match it, best first, each with a snippet and its matched lines.
    ///
    /// # Errors
    /// Typed validation errors for the limit, status, SHA-256, search text and cursor (a cursor from
    /// another query or another owner is refused); [`IntakeError::SearchUnavailable`] for a search on
    /// a deployment without a search adapter; repository errors as they occur.
    pub async fn list_images(
        &self,
        owner: &Owner,
        request: &ListRequest,
    ) -> Result<ImagePage, IntakeError> {
        let query = request.to_query(owner, self.inner.config.field_options)?;
        if let Some(text) = &request.search {
            return self.search_images(text.clone(), query).await;
        }
        query.cursor_payload()?;
        let page = self.inner.repository.list(&query).await?;
        let mut images = Vec::with_capacity(page.records.len());
        for record in &page.records {
            images.push(self.listed(record, None).await?);
        }
        Ok(ImagePage {
            images,
            next_cursor: page.next_cursor,
        })
    }

    /// `record` as a page lists it: metadata only, a presigned GET of its preview if it has one, and
    /// where a search matched it.
    async fn listed(
        &self,
        record: &ImageRecord,
        search: Option<SearchMatch>,
    ) -> Result<ListedImage, IntakeError> {
        Ok(ListedImage {
            record: record.metadata_only(),
            search,
            thumbnail_url: self.thumbnail_url(record).await?,
        })
    }

    /// A presigned GET of `record`'s preview, when it has one.
    async fn thumbnail_url(&self, record: &ImageRecord) -> Result<Option<String>, IntakeError> {
        let Some(key) = record.preview_key() else {
            return Ok(None);
        };
        let inner = &self.inner;
        let request = GetUrlRequest::new(
            key.clone(),
            None,
            inner.clock.now(),
            inner.config.download_url_ttl,
        );
        Ok(Some(inner.signer.presign_get(&request).await?.url))
    }

    /// The images `filter` lets through that match `text`, best first, each with its snippet and
    /// matched lines.
    async fn search_images(
        &self,
        text: SearchText,
        filter: ListQuery,
    ) -> Result<ImagePage, IntakeError> {
        let search = self
            .inner
            .search
            .as_ref()
            .ok_or(IntakeError::SearchUnavailable)?;
        let query = SearchQuery::new(text, filter);
        query.offset()?;
        let page = search.search(&query).await?;
        let mut images = Vec::with_capacity(page.hits.len());
        for hit in &page.hits {
            let found = query
                .text
                .highlight(hit.record.ocr_text(), hit.record.file_name().as_str());
            images.push(self.listed(&hit.record, Some(found)).await?);
        }
        Ok(ImagePage {
            images,
            next_cursor: page.next_cursor,
        })
    }

    /// One of `owner`'s images with its full OCR text and a presigned download URL, and with
    /// [`OcrDetail::Lines`] also its OCR lines, words, confidences and boxes (without them whatever
    /// the store keeps: a status poll does not pay for a dense document's geometry).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown or deleted image, and for another owner's (so ids
    /// reveal nothing); port errors as they occur.
    pub async fn get_image(
        &self,
        owner: &Owner,
        id: ImageId,
        detail: OcrDetail,
    ) -> Result<ImageDetails, IntakeError> {
        let inner = &self.inner;
        let mut record = inner
            .repository
            .get_view(&id, detail)
            .await?
            .filter(|r| r.owner() == owner && !r.is_deleted())
            .ok_or(IntakeError::NotFound { id })?;
        if detail == OcrDetail::Text {
            record = record.without_ocr_lines();
        }
        let download = if record.status() == ImageStatus::AwaitingUpload {
            None
        } else {
            let request = GetUrlRequest::new(
                record.object_key().clone(),
                Some(record.file_name().clone()),
                inner.clock.now(),
                inner.config.download_url_ttl,
            );
            Some(inner.signer.presign_get(&request).await?)
        };
        Ok(ImageDetails {
            thumbnail_url: self.thumbnail_url(&record).await?,
            download_url: download.as_ref().map(|d| d.url.clone()),
            download_url_expires_at: download.as_ref().map(|d| d.expires_at),
            download,
            record,
        })
    }

    /// Whether the bytes under `key` (the image's, its preview's or one of its exports') may still be
    /// served to a download URL's holder: the image exists and is not deleted. A download URL outlives nothing: deleting an image revokes the URLs already
    /// handed out for it on stores that ask (the local server does; S3 cannot, so there the URL's short
    /// lifetime is the bound).
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an unknown or deleted image; repository errors.
    pub async fn expect_download(&self, key: &ObjectKey) -> Result<(), IntakeError> {
        let id = key.image_id();
        self.inner
            .repository
            .get_view(&id, OcrDetail::Text)
            .await?
            .filter(|r| {
                (r.object_key() == key
                    || r.preview_key() == Some(key)
                    || key.is_export()
                    || key.is_page_picture())
                    && !r.is_deleted()
            })
            .map(drop)
            .ok_or(IntakeError::NotFound { id })
    }

    /// Soft-deletes one of `owner`'s images: it disappears from listings and lookups, its metadata
    /// stays for audit. Deleting a deleted image succeeds again (idempotent). With
    /// [`crate::IntakeConfig::delete_objects`] the object is deleted too.
    ///
    /// # Errors
    /// [`IntakeError::NotFound`] for an id that never existed or is another owner's; port errors as
    /// they occur.
    pub async fn delete_image(&self, owner: &Owner, id: ImageId) -> Result<(), IntakeError> {
        let inner = &self.inner;
        for _ in 0..8 {
            let current = self
                .owned_record(owner, id)
                .await?
                .ok_or(IntakeError::NotFound { id })?;
            if current.is_deleted() {
                return self.delete_object(&current).await;
            }
            let next = current.mark_deleted(inner.clock.now())?;
            match self.commit(&current, &next).await {
                Ok(()) => {
                    self.forget_fingerprints(owner, id).await;
                    return self.delete_object(&next).await;
                }
                Err(crate::ports::RepoError::Precondition { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict { id })
    }

    /// The record with `id` if `owner` owns it: another owner's record is treated as absent.
    async fn owned_record(
        &self,
        owner: &Owner,
        id: ImageId,
    ) -> Result<Option<ImageRecord>, IntakeError> {
        Ok(self
            .inner
            .repository
            .get(&id)
            .await?
            .filter(|r| r.owner() == owner))
    }

    /// Deletes `record`'s object, preview and stored exports when the deployment deletes objects
    /// with their images.
    pub(super) async fn delete_object(&self, record: &ImageRecord) -> Result<(), IntakeError> {
        if self.inner.config.delete_objects {
            self.inner.store.delete(record.object_key()).await?;
            if let Some(preview) = &record.preview_key() {
                self.inner.store.delete(preview).await?;
            }
            for key in super::export::export_keys(record.image_id()) {
                self.inner.store.delete(&key).await?;
            }
        }
        Ok(())
    }
}
