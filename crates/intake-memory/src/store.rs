use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream;
use intake_domain::model::{ObjectKey, Sha256Digest, Timestamp};
use intake_domain::ports::{GetResult, ObjectMeta, ObjectStore, StoreError};

#[derive(Debug, Clone)]
struct Stored {
    bytes: Bytes,
    meta: ObjectMeta,
}

/// Objects in a map, read back as a stream of chunks (64 KiB by default) that share the stored buffer.
#[derive(Debug, Clone)]
pub struct MemoryObjectStore {
    bucket: Arc<str>,
    chunk_size: usize,
    objects: Arc<Mutex<HashMap<String, Stored>>>,
}

impl Default for MemoryObjectStore {
    fn default() -> Self {
        Self::new("intake-memory")
    }
}

impl MemoryObjectStore {
    /// An empty store for `bucket`.
    pub fn new(bucket: &str) -> Self {
        Self {
            bucket: Arc::from(bucket),
            chunk_size: 64 * 1024,
            objects: Arc::default(),
        }
    }

    /// With reads split into chunks of `bytes` (at least 1).
    #[must_use]
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stored(bytes: Bytes, content_type: &str, at: Option<Timestamp>) -> Stored {
        let hex = Sha256Digest::of(&bytes).to_hex();
        let etag = format!("\"{}\"", hex.get(..32).unwrap_or(&hex));
        let mut meta = ObjectMeta::new(bytes.len() as u64)
            .with_content_type(content_type)
            .with_etag(etag);
        if let Some(at) = at {
            meta = meta.with_last_modified(at);
        }
        Stored { bytes, meta }
    }

    /// Stores (or overwrites) an object, as a test fixture would.
    pub fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) -> ObjectMeta {
        let stored = Self::stored(bytes, content_type, None);
        let meta = stored.meta.clone();
        self.objects().insert(key.as_str().to_owned(), stored);
        meta
    }

    /// Stores an object only if the key is free (the `If-None-Match: *` semantics); returns `None`
    /// when an object is already there, which is left untouched.
    pub fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
        at: Timestamp,
    ) -> Option<ObjectMeta> {
        let mut objects = self.objects();
        if objects.contains_key(key.as_str()) {
            return None;
        }
        let stored = Self::stored(bytes, content_type, Some(at));
        let meta = stored.meta.clone();
        objects.insert(key.as_str().to_owned(), stored);
        Some(meta)
    }

    /// The bytes under `key`, if any.
    pub fn bytes(&self, key: &ObjectKey) -> Option<Bytes> {
        self.objects().get(key.as_str()).map(|s| s.bytes.clone())
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.objects().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.objects().is_empty()
    }
}

fn not_found(key: &ObjectKey) -> StoreError {
    StoreError::NotFound {
        key: key.to_string(),
    }
}

#[async_trait]
impl ObjectStore for MemoryObjectStore {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        self.objects()
            .get(key.as_str())
            .map(|s| s.meta.clone())
            .ok_or_else(|| not_found(key))
    }

    async fn get(&self, key: &ObjectKey) -> Result<GetResult, StoreError> {
        let stored = self
            .objects()
            .get(key.as_str())
            .cloned()
            .ok_or_else(|| not_found(key))?;
        let size = stored.bytes.len();
        let chunk = self.chunk_size;
        let bytes = stored.bytes;
        let chunks = (0..size.div_ceil(chunk))
            .map(move |i| Ok(bytes.slice(i * chunk..((i + 1) * chunk).min(size))));
        Ok(GetResult::new(stored.meta, Box::pin(stream::iter(chunks))))
    }

    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        MemoryObjectStore::put(self, key, bytes, content_type);
        Ok(())
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.objects().remove(key.as_str());
        Ok(())
    }
}
