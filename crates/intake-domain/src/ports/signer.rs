use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use serde::Serialize;

use super::{Failure, FailureKind, PortError};
use crate::model::{ContentType, FileName, ObjectKey, Sha256Digest, Timestamp, UrlTtl};

/// Header names a presigned request may require. Every signer uses S3's names, so one client (the
/// `intake` CLI, curl, a browser) uploads the same way to S3 and to the local server.
pub mod header {
    /// The media type the object is stored with.
    pub const CONTENT_TYPE: &str = "content-type";
    /// The exact body length, when the client declared a size.
    pub const CONTENT_LENGTH: &str = "content-length";
    /// `*`: the upload may create the object but never overwrite one.
    pub const IF_NONE_MATCH: &str = "if-none-match";
    /// Base64 SHA-256 of the body, when the client declared one; the store verifies it.
    pub const CHECKSUM_SHA256: &str = "x-amz-checksum-sha256";
}

/// The HTTP method of a presigned request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum HttpMethod {
    /// Upload.
    Put,
    /// Download.
    Get,
}

/// What an upload URL must bind.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct PutUrlRequest {
    /// The key the object must be written to.
    pub key: ObjectKey,
    /// The content type the client must send.
    pub content_type: ContentType,
    /// The exact length the client must send, if declared.
    pub content_length: Option<u64>,
    /// The SHA-256 the body must have, if declared.
    pub sha256: Option<Sha256Digest>,
    /// When the URL is issued (the service's clock).
    pub issued_at: Timestamp,
    /// How long the URL is valid.
    pub expires_in: UrlTtl,
}

impl PutUrlRequest {
    /// An upload URL request; the URL is always write-once.
    pub fn new(
        key: ObjectKey,
        content_type: ContentType,
        content_length: Option<u64>,
        sha256: Option<Sha256Digest>,
        issued_at: Timestamp,
        expires_in: UrlTtl,
    ) -> Self {
        Self {
            key,
            content_type,
            content_length,
            sha256,
            issued_at,
            expires_in,
        }
    }

    /// The headers a client must send with the PUT, as the domain's security rules require: the content
    /// type, `If-None-Match: *`, and the declared length and checksum when given. A signer's answer
    /// includes at least these, with these values.
    pub fn required_headers(&self) -> BTreeMap<String, String> {
        let mut headers = BTreeMap::new();
        headers.insert(
            header::CONTENT_TYPE.to_owned(),
            self.content_type.as_mime().to_owned(),
        );
        headers.insert(header::IF_NONE_MATCH.to_owned(), "*".to_owned());
        if let Some(len) = self.content_length {
            headers.insert(header::CONTENT_LENGTH.to_owned(), len.to_string());
        }
        if let Some(sha) = self.sha256 {
            headers.insert(header::CHECKSUM_SHA256.to_owned(), sha.to_base64());
        }
        headers
    }

    /// When the URL stops working.
    pub fn expires_at(&self) -> Timestamp {
        self.issued_at.saturating_add(self.expires_in.as_duration())
    }
}

/// What a download URL must bind.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct GetUrlRequest {
    /// The key to read.
    pub key: ObjectKey,
    /// The file name for `Content-Disposition: attachment`, if any.
    pub file_name: Option<FileName>,
    /// When the URL is issued.
    pub issued_at: Timestamp,
    /// How long the URL is valid.
    pub expires_in: UrlTtl,
}

impl GetUrlRequest {
    /// A download URL request.
    pub fn new(
        key: ObjectKey,
        file_name: Option<FileName>,
        issued_at: Timestamp,
        expires_in: UrlTtl,
    ) -> Self {
        Self {
            key,
            file_name,
            issued_at,
            expires_in,
        }
    }

    /// When the URL stops working.
    pub fn expires_at(&self) -> Timestamp {
        self.issued_at.saturating_add(self.expires_in.as_duration())
    }
}

/// A signed request a client performs directly against the store.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PresignedRequest {
    /// The method to use.
    pub method: HttpMethod,
    /// The absolute URL, signature included.
    pub url: String,
    /// Headers the client must send, lowercase names.
    pub headers: BTreeMap<String, String>,
    /// When the URL stops working.
    pub expires_at: Timestamp,
}

impl PresignedRequest {
    /// A presigned request.
    pub fn new(
        method: HttpMethod,
        url: impl Into<String>,
        headers: BTreeMap<String, String>,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            method,
            url: url.into(),
            headers,
            expires_at,
        }
    }

    /// The value of a required header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a URL could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("URL signing {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for SignerError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
        }
    }
}

/// Produces short-lived URLs that let a client write or read one object directly.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait UrlSigner: Send + Sync + Debug {
    /// A write-once PUT URL bound to the key, content type, expiry and, when declared, the exact length
    /// and SHA-256. The returned headers include [`PutUrlRequest::required_headers`].
    ///
    /// # Errors
    /// [`SignerError`] as signing fails.
    async fn presign_put(&self, request: &PutUrlRequest) -> Result<PresignedRequest, SignerError>;

    /// A GET URL for the key with an expiry.
    ///
    /// # Errors
    /// [`SignerError`] as signing fails.
    async fn presign_get(&self, request: &GetUrlRequest) -> Result<PresignedRequest, SignerError>;
}
