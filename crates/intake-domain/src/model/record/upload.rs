//! What a client declares when it asks for an upload URL.

use crate::model::{ContentType, FileName, ImageId, Owner, Sha256Digest, Timestamp};

/// What a client declared when asking for an upload URL, validated by the upload service; the first
/// record of an image is made from it ([`super::ImageRecord::awaiting_upload`]). Named fields, so no
/// call site can swap two of them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewUpload {
    /// The new image's id.
    pub image_id: ImageId,
    /// Who asked for the upload.
    pub owner: Owner,
    /// The bucket (or local container) the object goes to.
    pub bucket: String,
    /// The sanitized file name.
    pub file_name: FileName,
    /// The declared content type.
    pub content_type: ContentType,
    /// The declared size, if any.
    pub size_bytes: Option<u64>,
    /// The declared SHA-256, if any.
    pub sha256: Option<Sha256Digest>,
    /// When the URL was issued.
    pub created_at: Timestamp,
    /// When the upload URL expires.
    pub upload_expires_at: Timestamp,
}
