use std::collections::BTreeMap;

use super::Intake;
use crate::error::IntakeError;
use crate::model::{
    ContentType, FileName, FileNameError, ImageId, ImageRecord, ImageStatus, NewUpload, ObjectKey,
    Owner, Sha256Digest, Timestamp,
};
use crate::ports::{HttpMethod, PresignedRequest, PutUrlRequest};

/// A client's request for an upload URL, validated: the file name made safe, the media type
/// recognised, the digest parsed. The service checks what depends on the deployment (accepted types,
/// the size limit).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct UploadRequest {
    /// The file name, made safe.
    pub file_name: FileName,
    /// The media type the client will upload.
    pub content_type: ContentType,
    /// The exact size, if the client knows it; the URL then accepts only that length.
    pub size_bytes: Option<u64>,
    /// The SHA-256, if the client knows it; the store then verifies the body.
    pub sha256: Option<Sha256Digest>,
}

impl UploadRequest {
    /// A request for `file_name` of `content_type`.
    pub fn new(file_name: FileName, content_type: ContentType) -> Self {
        Self {
            file_name,
            content_type,
            size_bytes: None,
            sha256: None,
        }
    }
    /// A request for a file named `name`, made safe ([`FileName::sanitize`]), of `content_type`.
    ///
    /// # Errors
    /// [`FileNameError`] when nothing of the name is left once made safe.
    pub fn named(name: &str, content_type: ContentType) -> Result<Self, FileNameError> {
        Ok(Self::new(FileName::sanitize(name)?, content_type))
    }
    /// Declaring the exact size.
    #[must_use]
    pub fn with_size(mut self, size_bytes: u64) -> Self {
        self.size_bytes = Some(size_bytes);
        self
    }
    /// Declaring the SHA-256.
    #[must_use]
    pub fn with_sha256(mut self, sha256: Sha256Digest) -> Self {
        self.sha256 = Some(sha256);
        self
    }
}

/// The answer to an upload request: the seed's fields plus the headers the client must send.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct UploadTicket {
    /// The presigned URL to PUT the bytes to.
    pub upload_url: String,
    /// The HTTP method (`PUT`).
    pub method: HttpMethod,
    /// The bucket the object goes to.
    pub bucket: String,
    /// The object's key.
    pub object_key: ObjectKey,
    /// The new image's id.
    pub image_id: ImageId,
    /// Seconds until the URL expires.
    pub expires_in_seconds: u64,
    /// When the URL expires.
    pub expires_at: Timestamp,
    /// Headers the PUT must carry, exactly.
    pub required_headers: BTreeMap<String, String>,
    /// An already processed image of the same owner with the declared SHA-256, if any.
    pub duplicate_of: Option<ImageId>,
}

impl UploadTicket {
    /// The upload as a presigned request (method, URL, headers) for a client to perform.
    pub fn request(&self) -> PresignedRequest {
        PresignedRequest::new(
            self.method,
            self.upload_url.clone(),
            self.required_headers.clone(),
            self.expires_at,
        )
    }
}

impl Intake {
    /// Issues a write-once upload URL and records the image as `AWAITING_UPLOAD`, owned by `owner`.
    ///
    /// # Errors
    /// Typed validation errors (file name, content type, size, checksum) before anything is written;
    /// port errors as they occur (the record is written only after the URL was signed).
    pub async fn request_upload(
        &self,
        owner: &Owner,
        request: UploadRequest,
    ) -> Result<UploadTicket, IntakeError> {
        let inner = &self.inner;
        let UploadRequest {
            file_name,
            content_type,
            size_bytes,
            sha256,
        } = request;
        if !inner.accepted.contains(&content_type) {
            return Err(IntakeError::unsupported(
                content_type.as_mime(),
                &inner.accepted,
            ));
        }
        match size_bytes {
            Some(0) => return Err(IntakeError::EmptyUpload),
            Some(size) if size > inner.max_bytes => {
                return Err(IntakeError::TooLarge {
                    size,
                    limit: inner.max_bytes,
                });
            }
            _ => {}
        }

        let now = inner.clock.now();
        let image_id = inner.ids.generate(now);
        let key = ObjectKey::for_upload(image_id, &file_name);
        let put = PutUrlRequest::new(
            key.clone(),
            content_type,
            size_bytes,
            sha256,
            now,
            inner.config.upload_url_ttl,
        );
        let presigned = inner.signer.presign_put(&put).await?;

        let record = ImageRecord::awaiting_upload(NewUpload {
            image_id,
            owner: owner.clone(),
            bucket: inner.store.bucket().to_owned(),
            file_name,
            content_type,
            size_bytes,
            sha256,
            created_at: now,
            upload_expires_at: put.expires_at(),
        });
        // A ticket may be made durable a moment after it is answered: losing it loses no bytes, as
        // an upload without its record is refused (`expect_upload`).
        inner.repository.create_relaxed(&record).await?;

        let duplicate_of = match sha256 {
            Some(sha) => self
                .original_of(owner, &sha, image_id)
                .await?
                .map(|r| r.image_id()),
            None => None,
        };
        Ok(UploadTicket {
            upload_url: presigned.url,
            method: presigned.method,
            bucket: record.bucket().to_owned(),
            object_key: key,
            image_id,
            expires_in_seconds: inner.config.upload_url_ttl.as_secs(),
            expires_at: presigned.expires_at,
            required_headers: presigned.headers,
            duplicate_of,
        })
    }

    /// The earliest live, processed image of `owner` with these bytes, other than `except`.
    pub(crate) async fn original_of(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        except: ImageId,
    ) -> Result<Option<ImageRecord>, IntakeError> {
        // Two candidates suffice: the oldest, or the next one when the oldest is `except` itself.
        let candidates = self
            .inner
            .repository
            .find_processed_by_sha256(owner, sha256, 2)
            .await?;
        Ok(candidates.into_iter().find(|r| {
            r.image_id() != except
                && r.owner() == owner
                && !r.is_deleted()
                && r.status() == ImageStatus::Processed
        }))
    }
}
