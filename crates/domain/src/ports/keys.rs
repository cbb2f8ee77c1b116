use std::fmt::Debug;

use async_trait::async_trait;

use super::BoxError;
use crate::model::{ApiKeyRecord, KeyId, Timestamp};

/// Why a key store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// A key with this id exists already.
    #[error("API key {id} already exists")]
    AlreadyExists {
        /// The id.
        id: KeyId,
    },
    /// No key with this id.
    #[error("API key {id} not found")]
    NotFound {
        /// The id.
        id: KeyId,
    },
    /// The store is unreachable or busy; retrying may succeed.
    #[error("key store unavailable")]
    Unavailable {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The store has no space left to write; retry once space is freed.
    #[error("key store has no space left")]
    StorageFull {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// Any other failure (including records that cannot be decoded).
    #[error("key store error")]
    Other {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

/// Persistence of API keys (hashed; the secret itself is never given to the store).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait KeyStore: Send + Sync + Debug {
    /// Stores a new key.
    ///
    /// # Errors
    /// [`KeyStoreError::AlreadyExists`] when the id is taken (the stored key is left as it was).
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), KeyStoreError>;

    /// The key with `id`, revoked or not; `None` if there is none.
    ///
    /// # Errors
    /// As the technology fails.
    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, KeyStoreError>;

    /// Every key, revoked ones included, oldest first.
    ///
    /// # Errors
    /// As the technology fails.
    async fn list(&self) -> Result<Vec<ApiKeyRecord>, KeyStoreError>;

    /// Marks the key revoked at `at` and returns it; a key revoked before keeps its first time.
    ///
    /// # Errors
    /// [`KeyStoreError::NotFound`] when there is no such key.
    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<ApiKeyRecord, KeyStoreError>;
}
