use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use super::{BoxError, Failure, FailureKind, PortError};
use crate::model::{ObjectKey, Timestamp};

/// What a store knows about an object without reading it.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// Size in bytes.
    pub size: u64,
    /// The `Content-Type` the object was stored with, as stored (not validated).
    pub content_type: Option<String>,
    /// The entity tag, if the store has one.
    pub etag: Option<String>,
    /// The version id, if the store versions objects.
    pub version: Option<String>,
    /// When the object was last written.
    pub last_modified: Option<Timestamp>,
}

impl ObjectMeta {
    /// Metadata of an object of `size` bytes.
    pub fn new(size: u64) -> Self {
        Self {
            size,
            ..Self::default()
        }
    }

    /// With the stored content type.
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// With an entity tag.
    #[must_use]
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// With a version id.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// With the time of the last write.
    #[must_use]
    pub fn with_last_modified(mut self, at: Timestamp) -> Self {
        self.last_modified = Some(at);
        self
    }
}

/// The bytes of an object, as a stream of chunks in order.
pub type ByteStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// An object being read: its metadata and its bytes.
#[non_exhaustive]
pub struct GetResult {
    /// Metadata at the time of the read.
    pub meta: ObjectMeta,
    /// The bytes, chunk by chunk; never the whole object at once.
    pub stream: ByteStream,
}

impl GetResult {
    /// Pairs metadata with its byte stream.
    pub fn new(meta: ObjectMeta, stream: ByteStream) -> Self {
        Self { meta, stream }
    }
}

impl Debug for GetResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetResult")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// Why an object-store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No object under the key.
    #[error("object not found: {key}")]
    NotFound {
        /// The key looked up.
        key: String,
    },
    /// The store refused access (credentials, policy).
    #[error("access to {key} denied")]
    PermissionDenied {
        /// The key.
        key: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("object store {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for StoreError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// Private object storage: S3, a local directory, memory.
///
/// Reads stream: an implementation never holds a whole object in memory to serve it.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ObjectStore: Send + Sync + Debug {
    /// The bucket (or container) name that records carry and events name.
    fn bucket(&self) -> &str;

    /// Metadata of the object under `key`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such object; others as the technology fails.
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError>;

    /// Opens the object under `key` for a streaming read.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such object; errors while streaming arrive in the stream.
    async fn get(&self, key: &ObjectKey) -> Result<GetResult, StoreError>;

    /// Stores `bytes` under `key`, replacing any object there: the objects Intake makes itself (the
    /// previews), never an upload (those arrive through presigned URLs).
    ///
    /// # Errors
    /// a [`StoreError::Failed`] of [`FailureKind::StorageFull`] without space; others as the technology fails. Nothing partial is
    /// left under the key.
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StoreError>;

    /// Deletes the object under `key`. Deleting a missing object succeeds (idempotent).
    ///
    /// # Errors
    /// As the technology fails.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError>;

    /// Erases the object under `key` for good: every version a versioned store keeps, not only the
    /// current one. Erasing a missing object succeeds (idempotent). The default is
    /// [`delete`](Self::delete), right for stores that keep no versions.
    ///
    /// # Errors
    /// As the technology fails; then some versions may remain, and erasing again removes them.
    async fn purge(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.delete(key).await
    }
}
