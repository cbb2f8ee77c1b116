//! API keys: issuing, authenticating and revoking the keys the local server accepts.

use std::sync::Arc;

use intake_domain::model::{Owner, OwnerError};
use intake_domain::ports::{Clock, Failure, FailureKind, PortError, SystemClock};
use intake_domain::{ErrorKind, ServiceError};

use crate::model::{ApiKeyError, ApiKeyRecord, ApiKeySecret, KeyId};
use crate::ports::{KeyStore, KeyStoreError};

/// The owner of the admin key created on first start.
pub const ADMIN_OWNER: &str = "admin";

/// Who an authenticated request speaks for.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Principal {
    /// The owner whose images the request may see.
    pub owner: Owner,
    /// The key that authenticated it (for audit logs).
    pub key_id: KeyId,
    /// Whether the key may manage keys.
    pub admin: bool,
}

/// Why a request is not authenticated. Every variant but `Unavailable` is the caller's fault and
/// answers 401; none says whether a key id exists.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials were presented.
    #[error("no API key was presented")]
    Missing,
    /// The credentials are not an API key, or the key is unknown or wrong.
    #[error("the API key is not valid")]
    Invalid,
    /// The key was revoked.
    #[error("the API key was revoked")]
    Revoked,
    /// The key store could not be reached; retrying may succeed.
    #[error("cannot check the API key now")]
    Unavailable(#[source] KeyStoreError),
}

/// Why a key could not be created, listed or revoked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key's name or owner is not valid.
    #[error(transparent)]
    InvalidName(#[from] ApiKeyError),
    /// The owner is not valid.
    #[error("invalid owner: {0}")]
    InvalidOwner(#[from] OwnerError),
    /// No key with this id.
    #[error("API key {id} not found")]
    NotFound {
        /// The id.
        id: KeyId,
    },
    /// Revoking this key would leave no active admin key.
    #[error("API key {id} is the last active admin key; create another admin key first")]
    LastAdmin {
        /// The id.
        id: KeyId,
    },
    /// The key store failed.
    #[error("key store: {0}")]
    Store(#[source] KeyStoreError),
}

impl ServiceError for KeyError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidName(_) | Self::InvalidOwner(_) => ErrorKind::InvalidInput,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::LastAdmin { .. } => ErrorKind::Conflict,
            Self::Store(e) => e
                .failure()
                .map_or(ErrorKind::Internal, FailureKind::error_kind),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidName(_) => "INVALID_KEY_NAME",
            Self::InvalidOwner(_) => "INVALID_OWNER",
            Self::NotFound { .. } => "KEY_NOT_FOUND",
            Self::LastAdmin { .. } => "LAST_ADMIN_KEY",
            Self::Store(e) => e.failure().map_or("INTERNAL", FailureKind::code),
        }
    }
}

impl From<KeyStoreError> for KeyError {
    fn from(error: KeyStoreError) -> Self {
        match error {
            KeyStoreError::NotFound { id } => Self::NotFound { id },
            other => Self::Store(other),
        }
    }
}

/// A key just created: its record and the only copy of its secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedKey {
    /// The stored record.
    pub record: ApiKeyRecord,
    /// The key to hand to the client once.
    pub secret: ApiKeySecret,
}

/// The API key rules over a [`KeyStore`]: keys are 256-bit random secrets stored as SHA-256 hashes,
/// bound to an owner, revocable (revoked keys are kept for audit), and there is always an active
/// admin key.
#[derive(Clone, Debug)]
pub struct ApiKeys {
    store: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    /// Serialises revocations, so two admins revoking each other cannot leave none.
    revoking: Arc<futures::lock::Mutex<()>>,
}

fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        KeyError::Store(KeyStoreError::from(Failure::other(format!(
            "no randomness from the operating system: {e}"
        ))))
    })?;
    Ok(bytes)
}

impl ApiKeys {
    /// The rules over `store`, with the system clock.
    pub fn new(store: Arc<dyn KeyStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            revoking: Arc::default(),
        }
    }

    /// With another clock (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Who `presented` (the key as sent by a client, if any) speaks for.
    ///
    /// # Errors
    /// [`AuthError`]: missing, malformed, unknown, wrong or revoked keys; an unreachable store.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Principal, AuthError> {
        let presented = presented.ok_or(AuthError::Missing)?;
        let secret = ApiKeySecret::parse(presented.trim()).map_err(|_| AuthError::Invalid)?;
        let record = self
            .store
            .get(&secret.key_id())
            .await
            .map_err(AuthError::Unavailable)?
            .filter(|record| record.matches(&secret))
            .ok_or(AuthError::Invalid)?;
        if !record.is_active() {
            return Err(AuthError::Revoked);
        }
        Ok(Principal {
            owner: record.owner,
            key_id: record.key_id,
            admin: record.admin,
        })
    }

    /// A new random key (id and secret from the operating system's generator), not yet stored.
    ///
    /// # Errors
    /// [`KeyError::Store`] when the operating system gives no randomness.
    pub fn new_secret() -> Result<ApiKeySecret, KeyError> {
        Ok(ApiKeySecret::new(KeyId::from_bytes(random()?), random()?))
    }

    /// Stores `secret` as a key of `owner`: for callers that must keep the key somewhere before it
    /// works (the local server writes its admin key to a file first, so no stored key is unknown).
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] for a bad name; [`KeyError::Store`] (with
    /// [`KeyStoreError::AlreadyExists`] when the id is taken) and other store errors.
    pub async fn register(
        &self,
        secret: &ApiKeySecret,
        owner: Owner,
        name: &str,
        admin: bool,
    ) -> Result<ApiKeyRecord, KeyError> {
        let record = ApiKeyRecord::new(secret, owner, name, admin, self.clock.now())?;
        self.store.create(&record).await.map_err(KeyError::Store)?;
        Ok(record)
    }

    /// Creates a key for `owner`.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] for a bad name; store errors.
    pub async fn create(
        &self,
        owner: Owner,
        name: &str,
        admin: bool,
    ) -> Result<IssuedKey, KeyError> {
        loop {
            let secret = Self::new_secret()?;
            match self.register(&secret, owner.clone(), name, admin).await {
                Ok(record) => return Ok(IssuedKey { record, secret }),
                // 64 random bits collided with an existing id: draw again.
                Err(KeyError::Store(KeyStoreError::AlreadyExists { .. })) => {}
                Err(other) => return Err(other),
            }
        }
    }

    /// Whether no admin key is active (a first start, or every admin key revoked or lost).
    ///
    /// # Errors
    /// Store errors.
    pub async fn needs_admin(&self) -> Result<bool, KeyError> {
        Ok(!self
            .store
            .list()
            .await?
            .iter()
            .any(|k| k.admin && k.is_active()))
    }

    /// Every key, revoked ones included, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, KeyError> {
        Ok(self.store.list().await?)
    }

    /// Revokes a key (again: no change). The last active admin key cannot be revoked.
    ///
    /// # Errors
    /// [`KeyError::NotFound`], [`KeyError::LastAdmin`], store errors.
    pub async fn revoke(&self, id: KeyId) -> Result<ApiKeyRecord, KeyError> {
        let _one_at_a_time = self.revoking.lock().await;
        let key = self
            .store
            .get(&id)
            .await?
            .ok_or(KeyError::NotFound { id })?;
        if key.admin && key.is_active() {
            let other_admins = self
                .store
                .list()
                .await?
                .iter()
                .filter(|k| k.admin && k.is_active() && k.key_id != id)
                .count();
            if other_admins == 0 {
                return Err(KeyError::LastAdmin { id });
            }
        }
        Ok(self.store.revoke(&id, self.clock.now()).await?)
    }

    /// Creates an admin key (owner [`ADMIN_OWNER`]) when there is no active one: on first start, or
    /// after every admin key was lost. Returns the new key, or `None` when one exists.
    ///
    /// # Errors
    /// Store errors.
    pub async fn ensure_admin(&self) -> Result<Option<IssuedKey>, KeyError> {
        if !self.needs_admin().await? {
            return Ok(None);
        }
        let owner = Owner::parse(ADMIN_OWNER)?;
        Ok(Some(self.create(owner, "admin", true).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockKeyStore;
    use intake_domain::model::Owner;

    #[tokio::test]
    async fn an_unreachable_store_is_unavailable_not_unauthenticated() {
        let mut store = MockKeyStore::new();
        store
            .expect_get()
            .returning(|_| Err(KeyStoreError::from(Failure::unavailable("down"))));
        let keys = ApiKeys::new(Arc::new(store));
        let key = ApiKeySecret::new(KeyId::from_bytes([1; 8]), [2; 32]).expose();
        assert!(matches!(
            keys.authenticate(Some(&key)).await,
            Err(AuthError::Unavailable(_))
        ));
        assert!(matches!(
            keys.authenticate(None).await,
            Err(AuthError::Missing)
        ));
        assert!(matches!(
            keys.authenticate(Some("Bearer x")).await,
            Err(AuthError::Invalid)
        ));
    }

    #[tokio::test]
    async fn a_colliding_key_id_is_drawn_again() {
        let mut store = MockKeyStore::new();
        let mut seq = mockall::Sequence::new();
        store
            .expect_create()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|k| Err(KeyStoreError::AlreadyExists { id: k.key_id }));
        store
            .expect_create()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        let keys = ApiKeys::new(Arc::new(store));
        let issued = keys
            .create(Owner::parse("a").expect("valid"), "k", false)
            .await
            .expect("second draw");
        assert_eq!(issued.record.key_id, issued.secret.key_id());
    }
}
