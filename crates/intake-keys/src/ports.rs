//! The key store port: where API keys are kept (hashed).

use std::fmt::Debug;

use async_trait::async_trait;

use intake_domain::model::Timestamp;
use intake_domain::ports::{Failure, FailureKind, PortError};

use crate::model::{ApiKeyRecord, KeyId};

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
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("key store {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for KeyStoreError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
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
