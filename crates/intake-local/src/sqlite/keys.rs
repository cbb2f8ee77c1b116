//! API keys in SQLite (`api_keys` table, the record as JSON), with every key also held in memory so
//! authenticating a request never waits for the database. The cache is exact as long as this store is
//! the only writer of the table, which the local server's data-directory lock guarantees.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use intake_domain::model::Timestamp;
use intake_keys::{ApiKeyRecord, KeyId};
use intake_keys::{KeyStore, KeyStoreError};
use rusqlite::{ErrorCode, params};

use super::Database;

/// The key store over one SQLite database file (the same file as the records is fine).
#[derive(Debug, Clone)]
pub struct SqliteKeyStore {
    db: Database,
    cache: Arc<RwLock<HashMap<KeyId, ApiKeyRecord>>>,
}

port_errors!(KeyStoreError);

impl SqliteKeyStore {
    /// Opens (creating if needed) the database at `path`, brings its schema up to date and loads the
    /// keys.
    ///
    /// # Errors
    /// [`KeyStoreError`] when the file cannot be opened, migrated or read.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, KeyStoreError> {
        Self::load(Database::open(path.as_ref(), 0).map_err(db_error)?).await
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`KeyStoreError`] when SQLite cannot start.
    pub async fn in_memory() -> Result<Self, KeyStoreError> {
        Self::load(Database::in_memory().map_err(db_error)?).await
    }

    /// The keys of a database opened with [`super::SqliteDatabase`], loaded.
    pub(super) async fn on(db: Database) -> Result<Self, KeyStoreError> {
        Self::load(db).await
    }

    async fn load(db: Database) -> Result<Self, KeyStoreError> {
        let keys = db
            .with(|conn| {
                let mut statement = conn
                    .prepare("SELECT record FROM api_keys")
                    .map_err(db_error)?;
                let rows = statement
                    .query_map([], |row| row.get::<_, String>(0))
                    .map_err(db_error)?;
                let mut keys = HashMap::new();
                for json in rows {
                    let key: ApiKeyRecord =
                        serde_json::from_str(&json.map_err(db_error)?).map_err(other)?;
                    keys.insert(key.key_id, key);
                }
                Ok::<_, KeyStoreError>(keys)
            })
            .await?;
        Ok(Self {
            db,
            cache: Arc::new(RwLock::new(keys)),
        })
    }

    fn cached(&self, id: KeyId) -> Option<ApiKeyRecord> {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    fn remember(&self, key: ApiKeyRecord) {
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.key_id, key);
    }
}

#[async_trait]
impl KeyStore for SqliteKeyStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), KeyStoreError> {
        let json = serde_json::to_string(key).map_err(other)?;
        let id = key.key_id;
        self.db
            .with(move |conn| {
                match conn.execute(
                    "INSERT INTO api_keys (key_id, record) VALUES (?1, ?2)",
                    params![id.to_string(), json],
                ) {
                    Ok(_) => Ok(()),
                    Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                        Err(KeyStoreError::AlreadyExists { id })
                    }
                    Err(e) => Err(db_error(e)),
                }
            })
            .await?;
        self.remember(key.clone());
        Ok(())
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, KeyStoreError> {
        Ok(self.cached(*id))
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, KeyStoreError> {
        let mut all: Vec<ApiKeyRecord> = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        all.sort_by_key(|k| (k.created_at, k.key_id));
        Ok(all)
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<ApiKeyRecord, KeyStoreError> {
        let mut key = self
            .cached(*id)
            .ok_or(KeyStoreError::NotFound { id: *id })?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        key.revoked_at = Some(at);
        let json = serde_json::to_string(&key).map_err(other)?;
        let id = *id;
        self.db
            .with(move |conn| {
                conn.execute(
                    "UPDATE api_keys SET record = ?2 WHERE key_id = ?1",
                    params![id.to_string(), json],
                )
                .map_err(db_error)
            })
            .await?;
        self.remember(key.clone());
        Ok(key)
    }
}
