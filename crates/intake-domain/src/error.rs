//! The services' error type, with stable codes and a coarse kind that entry points map to their
//! protocol (HTTP status, Lambda retry, CLI exit code).

use crate::model::{
    ContentType, ContentTypeError, CursorError, DigestError, ExportFormatError, FieldFilterError,
    FileNameError, ImageId, ImageIdError, ImageStatus, ImageStatusError, SearchTextError,
    TransitionError,
};
use crate::ports::{
    FailureKind, FingerprintIndexError, OcrError, PortError, PublishError, QueueError, RenderError,
    RepoError, SignerError, StoreError,
};

/// The broad class of an [`IntakeError`]; entry points map it to their protocol.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input is malformed (HTTP 400).
    InvalidInput,
    /// The thing asked for does not exist, or is not the caller's to see (HTTP 404).
    NotFound,
    /// The state changed under the caller (HTTP 409).
    Conflict,
    /// The declared or actual size is over a limit (HTTP 413).
    PayloadTooLarge,
    /// The media type is not accepted (HTTP 415).
    UnsupportedMediaType,
    /// Well-formed but not processable, e.g. an event for an object Intake did not issue (HTTP 422).
    Unprocessable,
    /// A dependency is throttling; back off and retry (HTTP 429).
    Throttled,
    /// A dependency is unavailable; retry later (HTTP 503).
    Unavailable,
    /// Storage has no space left to keep what the call would write; retry once space is freed
    /// (HTTP 507).
    InsufficientStorage,
    /// What the call refers to was lost (an upload URL whose ticket was never stored); start over
    /// (HTTP 410).
    Gone,
    /// The deployment does not offer what was asked (HTTP 501).
    NotImplemented,
    /// A fault on our side (HTTP 500).
    Internal,
}

/// What every service error tells an entry point: its class, which the entry point maps to its
/// protocol once (HTTP: the API's `status_of`), and its stable code.
pub trait ServiceError: std::error::Error {
    /// The class of the error.
    fn kind(&self) -> ErrorKind;
    /// The stable, machine-readable code.
    fn code(&self) -> &'static str;
}

impl ServiceError for IntakeError {
    fn kind(&self) -> ErrorKind {
        IntakeError::kind(self)
    }
    fn code(&self) -> &'static str {
        IntakeError::code(self)
    }
}

/// Everything a service call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The file name is empty once made safe.
    #[error("invalid file name: {0}")]
    InvalidFileName(#[from] FileNameError),
    /// The content type is not accepted by this deployment.
    #[error(
        "content type {content_type:?} is not accepted; accepted: {}",
        list(allowed)
    )]
    UnsupportedContentType {
        /// What the client sent.
        content_type: String,
        /// What is accepted.
        allowed: Vec<ContentType>,
    },
    /// The declared size is zero.
    #[error("declared size must be at least 1 byte")]
    EmptyUpload,
    /// The declared size is over the limit.
    #[error("declared size {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The declared SHA-256 is malformed.
    #[error("invalid sha256: {0}")]
    InvalidSha256(#[from] DigestError),
    /// The image id is malformed.
    #[error("invalid image id: {0}")]
    InvalidImageId(#[from] ImageIdError),
    /// The status filter is unknown.
    #[error("{0}")]
    InvalidStatus(#[from] ImageStatusError),
    /// The page size is outside `1..=max`.
    #[error("limit must be between 1 and {max}, got {limit}")]
    InvalidLimit {
        /// What was asked.
        limit: u64,
        /// The largest page.
        max: u32,
    },
    /// The cursor is malformed, altered, or from another query.
    #[error("invalid cursor: {0}")]
    InvalidCursor(#[from] CursorError),
    /// The search text cannot be searched for.
    #[error("invalid search: {0}")]
    InvalidSearch(#[from] SearchTextError),
    /// A field filter (`field=TOTAL:31.00`) names no field type or a value its type cannot read.
    #[error("invalid field filter: {0}")]
    InvalidFieldFilter(#[from] FieldFilterError),
    /// A document type filter names no document type.
    #[error("unknown document type {0:?}; expected one of receipt, invoice, cheque, form, other")]
    InvalidDocumentType(String),
    /// This deployment has no full-text search (DynamoDB cannot search text).
    #[error("full-text search is not available on this deployment")]
    SearchUnavailable,
    /// This deployment keeps no near-duplicate fingerprint index.
    #[error("similar-image lookups are not available on this deployment")]
    SimilarUnavailable,
    /// A reprocessing run asked for an engine this deployment does not have.
    #[error("no OCR engine {engine:?} here; the engines are: {known}")]
    UnknownEngine {
        /// What was asked for.
        engine: String,
        /// The engines there are.
        known: String,
    },
    /// This deployment cannot request processing again (no processing queue was given).
    #[error("reprocessing is not available on this deployment")]
    ReprocessUnavailable,
    /// An export asked for a format there is none of.
    #[error("{0}")]
    UnknownExportFormat(#[from] ExportFormatError),
    /// This deployment has no writer of the export formats.
    #[error("exports are not available on this deployment")]
    ExportUnavailable,
    /// What was asked needs a processed image, and the image is not (yet) processed.
    #[error("image {id} is {status}; only a PROCESSED image has a result to export")]
    NotProcessed {
        /// The image.
        id: ImageId,
        /// Its status.
        status: ImageStatus,
    },
    /// An export could not be written.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A page picture was asked for a page the image does not have.
    #[error("image {id} has {pages} page(s); there is no page {page}")]
    NoSuchPage {
        /// The image.
        id: ImageId,
        /// The page asked for.
        page: u32,
        /// Its pages.
        pages: u32,
    },
    /// This deployment draws no pictures of this image's pages (no previewer for its format, no
    /// document reader for a PDF).
    #[error("pictures of this image's pages are not available on this deployment")]
    PicturesUnavailable,
    /// A page picture could not be drawn.
    #[error("page {page} of image {id} could not be drawn")]
    PictureFailed {
        /// The image.
        id: ImageId,
        /// The page.
        page: u32,
        /// Why.
        #[source]
        source: crate::ports::BoxError,
    },
    /// No (visible) image with this id.
    #[error("image {id} not found")]
    NotFound {
        /// The id.
        id: ImageId,
    },
    /// An event names an object Intake did not issue an upload URL for.
    #[error("object {key:?} was not issued by Intake: {reason}")]
    UnknownObject {
        /// The key as received.
        key: String,
        /// Why it is refused.
        reason: String,
    },
    /// An upload URL Intake signed has no record: its ticket was lost before it was stored (the
    /// database could not write, or the machine stopped first). The client asks for a new URL.
    #[error("the upload ticket for {key:?} was not stored; ask for a new upload URL")]
    UploadTicketLost {
        /// The key the URL names.
        key: String,
    },
    /// An event names a bucket other than the store's.
    #[error("event for bucket {bucket:?}, but this deployment stores in {expected:?}")]
    ForeignBucket {
        /// The event's bucket.
        bucket: String,
        /// The store's bucket.
        expected: String,
    },
    /// Concurrent writers kept winning; retry.
    #[error("image {id} is being modified concurrently; retry")]
    Conflict {
        /// The id.
        id: ImageId,
    },
    /// A change of state the image's current state does not allow (a terminal image claimed, ...).
    #[error(transparent)]
    InvalidState(#[from] TransitionError),
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Events could not be published (they stay in the outbox and are published again).
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// URL signing failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// OCR failed with an error worth retrying (permanent OCR errors are recorded on the image).
    #[error(transparent)]
    Ocr(#[from] OcrError),
    /// The repository failed.
    #[error(transparent)]
    Repository(RepoError),
    /// The near-duplicate fingerprint index failed.
    #[error(transparent)]
    Fingerprints(#[from] FingerprintIndexError),
}

/// An error and its sources as one line (`outer: inner: innermost`), for logs and failure messages.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn list(types: &[ContentType]) -> String {
    types
        .iter()
        .map(|t| t.as_mime())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<RepoError> for IntakeError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::InvalidCursor(e) => Self::InvalidCursor(e),
            RepoError::NotFound { id } => Self::NotFound { id },
            RepoError::Precondition { id, .. } | RepoError::AlreadyExists { id } => {
                Self::Conflict { id }
            }
            other => Self::Repository(other),
        }
    }
}

impl IntakeError {
    /// The error for a content type outside the allowed set.
    pub(crate) fn unsupported(content_type: &str, allowed: &[ContentType]) -> Self {
        Self::UnsupportedContentType {
            content_type: content_type.chars().take(100).collect(),
            allowed: allowed.to_vec(),
        }
    }

    /// The error for a media type that is not an image type Intake knows, naming `allowed`.
    pub fn from_content_type(error: &ContentTypeError, allowed: &[ContentType]) -> Self {
        match error {
            ContentTypeError::Unsupported(text) => Self::unsupported(text, allowed),
        }
    }

    /// The broad class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidFileName(_)
            | Self::EmptyUpload
            | Self::InvalidSha256(_)
            | Self::InvalidImageId(_)
            | Self::InvalidStatus(_)
            | Self::InvalidLimit { .. }
            | Self::InvalidCursor(_)
            | Self::InvalidSearch(_)
            | Self::InvalidFieldFilter(_)
            | Self::InvalidDocumentType(_)
            | Self::UnknownEngine { .. }
            | Self::UnknownExportFormat(_) => ErrorKind::InvalidInput,
            Self::SearchUnavailable
            | Self::SimilarUnavailable
            | Self::ReprocessUnavailable
            | Self::ExportUnavailable
            | Self::PicturesUnavailable => ErrorKind::NotImplemented,
            Self::Render(_) | Self::PictureFailed { .. } => ErrorKind::Internal,
            Self::UnsupportedContentType { .. } => ErrorKind::UnsupportedMediaType,
            Self::TooLarge { .. } => ErrorKind::PayloadTooLarge,
            Self::NotFound { .. } | Self::NoSuchPage { .. } => ErrorKind::NotFound,
            Self::UnknownObject { .. } | Self::ForeignBucket { .. } => ErrorKind::Unprocessable,
            Self::Conflict { .. } | Self::InvalidState(_) | Self::NotProcessed { .. } => {
                ErrorKind::Conflict
            }
            Self::UploadTicketLost { .. } => ErrorKind::Gone,
            Self::Store(_)
            | Self::Queue(_)
            | Self::Publish(_)
            | Self::Signer(_)
            | Self::Ocr(_)
            | Self::Repository(_)
            | Self::Fingerprints(_) => self
                .port_failure()
                .map_or(ErrorKind::Internal, FailureKind::error_kind),
        }
    }

    /// A stable, machine-readable code (`INVALID_FILE_NAME`, `NOT_FOUND`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidFileName(_) => "INVALID_FILE_NAME",
            Self::UnsupportedContentType { .. } => "UNSUPPORTED_CONTENT_TYPE",
            Self::EmptyUpload => "EMPTY_UPLOAD",
            Self::TooLarge { .. } => "TOO_LARGE",
            Self::InvalidSha256(_) => "INVALID_SHA256",
            Self::InvalidImageId(_) => "INVALID_IMAGE_ID",
            Self::InvalidStatus(_) => "INVALID_STATUS",
            Self::InvalidLimit { .. } => "INVALID_LIMIT",
            Self::InvalidCursor(_) => "INVALID_CURSOR",
            Self::InvalidSearch(_) => "INVALID_SEARCH",
            Self::InvalidFieldFilter(_) => "INVALID_FIELD_FILTER",
            Self::InvalidDocumentType(_) => "INVALID_DOCUMENT_TYPE",
            Self::UnknownEngine { .. } => "UNKNOWN_ENGINE",
            Self::SearchUnavailable => "SEARCH_UNAVAILABLE",
            Self::SimilarUnavailable => "SIMILAR_UNAVAILABLE",
            Self::ReprocessUnavailable => "REPROCESS_UNAVAILABLE",
            Self::UnknownExportFormat(_) => "UNKNOWN_FORMAT",
            Self::ExportUnavailable => "EXPORT_UNAVAILABLE",
            Self::Render(_) | Self::PictureFailed { .. } => "INTERNAL",
            Self::NoSuchPage { .. } => "PAGE_NOT_FOUND",
            Self::PicturesUnavailable => "PICTURES_UNAVAILABLE",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::UnknownObject { .. } => "UNKNOWN_OBJECT",
            Self::ForeignBucket { .. } => "FOREIGN_BUCKET",
            Self::Conflict { .. } => "CONFLICT",
            Self::InvalidState(_) | Self::NotProcessed { .. } => "INVALID_STATE",
            Self::UploadTicketLost { .. } => "UPLOAD_TICKET_LOST",
            Self::Store(_)
            | Self::Queue(_)
            | Self::Publish(_)
            | Self::Signer(_)
            | Self::Ocr(_)
            | Self::Repository(_)
            | Self::Fingerprints(_) => self.port_failure().map_or("INTERNAL", FailureKind::code),
        }
    }

    /// The shared failure of the port behind this error, if a port failed with one.
    pub fn port_failure(&self) -> Option<FailureKind> {
        match self {
            Self::Store(e) => e.failure(),
            Self::Repository(e) => e.failure(),
            Self::Queue(e) => e.failure(),
            Self::Signer(e) => e.failure(),
            Self::Ocr(e) => e.failure(),
            Self::Publish(e) => e.failure(),
            Self::Fingerprints(e) => e.failure(),
            _ => None,
        }
    }

    /// Whether storage ran out of space for what the call would write.
    pub fn is_storage_full(&self) -> bool {
        self.port_failure() == Some(FailureKind::StorageFull)
    }

    /// Whether a dependency throttled the call: the caller should back off before retrying.
    pub fn is_throttled(&self) -> bool {
        self.port_failure() == Some(FailureKind::Throttled)
    }

    /// Whether the same call may succeed later (the Lambda processor fails the record so it is
    /// retried): a port's retryable failure, or a write that lost a race.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict { .. })
            || self.port_failure().is_some_and(FailureKind::is_retryable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use crate::ports::Failure;

    #[test]
    fn codes_and_kinds_are_stable() {
        let id = ImageId::generate(Timestamp::now_utc());
        assert_eq!(IntakeError::NotFound { id }.code(), "NOT_FOUND");
        assert_eq!(IntakeError::NotFound { id }.kind(), ErrorKind::NotFound);
        let queue_full = IntakeError::Queue(QueueError::from(Failure::storage_full("disk full")));
        assert_eq!(queue_full.code(), "INSUFFICIENT_STORAGE");
        assert_eq!(queue_full.kind(), ErrorKind::InsufficientStorage);
        let queue_down = IntakeError::Queue(QueueError::from(Failure::unavailable("locked")));
        assert_eq!(queue_down.kind(), ErrorKind::Unavailable);
        assert!(queue_down.is_retryable());
        let throttled = IntakeError::Ocr(OcrError::from(Failure::throttled(
            "the OCR service throttled the request",
        )));
        assert!(throttled.is_retryable());
        assert_eq!(throttled.kind(), ErrorKind::Throttled);
        assert_eq!(throttled.code(), "THROTTLED");
        let down =
            IntakeError::Repository(RepoError::from(Failure::unavailable("connection refused")));
        assert_eq!(
            (down.kind(), down.code(), down.is_retryable()),
            (ErrorKind::Unavailable, "UNAVAILABLE", true)
        );
        let slow = IntakeError::Store(StoreError::from(Failure::throttled("SlowDown")));
        assert_eq!(
            (slow.kind(), slow.code(), slow.is_retryable()),
            (ErrorKind::Throttled, "THROTTLED", true)
        );
        let broken = IntakeError::Store(StoreError::from(Failure::other("disk on fire")));
        assert_eq!(
            (broken.kind(), broken.code()),
            (ErrorKind::Internal, "INTERNAL")
        );
        let cursor: IntakeError = RepoError::InvalidCursor(CursorError::Tampered).into();
        assert_eq!(cursor.code(), "INVALID_CURSOR");
        let raced: IntakeError = RepoError::Precondition { id, expected: 1 }.into();
        assert_eq!((raced.code(), raced.is_retryable()), ("CONFLICT", true));
    }
}
