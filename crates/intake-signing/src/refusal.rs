//! How a storage endpoint answers a request through a presigned URL that it refuses: the HTTP status
//! S3 answers and a stable code. One table for every endpoint that stands in for S3 (the local
//! server's object endpoint, the in-memory gateway), so they refuse alike.

use intake_domain::model::BodyRefusal;

use crate::UrlRefusal;

/// Why a storage endpoint refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageRefusal {
    /// The URL is not valid for this request.
    #[error("refused: {0}")]
    Refused(#[from] UrlRefusal),
    /// The body is not what the URL binds.
    #[error(transparent)]
    Body(#[from] BodyRefusal),
    /// An object exists already and uploads are write-once.
    #[error("an object already exists under this key")]
    AlreadyExists,
    /// A PUT without a body.
    #[error("a PUT needs a body")]
    MissingBody,
    /// No object under the key.
    #[error("no such object")]
    NotFound,
}

impl StorageRefusal {
    /// The HTTP status S3 answers.
    pub fn status(&self) -> u16 {
        match self {
            Self::Refused(_) => 403,
            Self::Body(BodyRefusal::TooLarge { .. }) => 413,
            Self::Body(_) | Self::MissingBody => 400,
            Self::AlreadyExists => 412,
            Self::NotFound => 404,
        }
    }

    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(UrlRefusal::BadSignature) => "SIGNATURE_MISMATCH",
            Self::Refused(UrlRefusal::Expired) => "URL_EXPIRED",
            Self::Refused(UrlRefusal::WrongMethod) => "METHOD_MISMATCH",
            Self::Refused(UrlRefusal::Header(_)) => "HEADER_MISMATCH",
            Self::Refused(_) => "URL_INVALID",
            Self::Body(BodyRefusal::LengthMismatch { .. }) => "LENGTH_MISMATCH",
            Self::Body(BodyRefusal::TooLarge { .. }) => "TOO_LARGE",
            Self::Body(_) => "CHECKSUM_MISMATCH",
            Self::AlreadyExists => "OBJECT_EXISTS",
            Self::MissingBody => "BODY_MISSING",
            Self::NotFound => "OBJECT_NOT_FOUND",
        }
    }
}
