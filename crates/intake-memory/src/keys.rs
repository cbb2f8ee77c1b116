use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::Timestamp;
use intake_keys::{ApiKeyRecord, KeyId};
use intake_keys::{KeyStore, KeyStoreError};

/// API keys in memory. Clones share the keys.
#[derive(Debug, Clone, Default)]
pub struct MemoryKeyStore {
    keys: Arc<Mutex<BTreeMap<KeyId, ApiKeyRecord>>>,
}

impl MemoryKeyStore {
    fn keys(&self) -> MutexGuard<'_, BTreeMap<KeyId, ApiKeyRecord>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), KeyStoreError> {
        let mut keys = self.keys();
        if keys.contains_key(&key.key_id) {
            return Err(KeyStoreError::AlreadyExists { id: key.key_id });
        }
        keys.insert(key.key_id, key.clone());
        Ok(())
    }

    async fn get(&self, id: &KeyId) -> Result<Option<ApiKeyRecord>, KeyStoreError> {
        Ok(self.keys().get(id).cloned())
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, KeyStoreError> {
        let mut all: Vec<ApiKeyRecord> = self.keys().values().cloned().collect();
        all.sort_by_key(|k| (k.created_at, k.key_id));
        Ok(all)
    }

    async fn revoke(&self, id: &KeyId, at: Timestamp) -> Result<ApiKeyRecord, KeyStoreError> {
        let mut keys = self.keys();
        let key = keys
            .get_mut(id)
            .ok_or(KeyStoreError::NotFound { id: *id })?;
        key.revoked_at.get_or_insert(at);
        Ok(key.clone())
    }
}
