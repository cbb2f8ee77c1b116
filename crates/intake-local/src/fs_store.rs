//! Objects in a directory: `objects/{key}` holds the bytes, `meta/{key}` a small JSON document with the
//! content type. Writes stream into a temporary file that is hashed and counted on the way, fsynced,
//! and then hard-linked into place, which fails if the key exists: an object appears whole or not at
//! all, and a key is written once.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt as _, TryStreamExt as _};
use intake_domain::model::{BodyCheck, BodyRefusal, ObjectKey, Sha256Digest, Timestamp};
use intake_domain::ports::{ByteStream, Failure, GetResult, ObjectMeta, ObjectStore, StoreError};
use serde::{Deserialize, Serialize};
use tokio::fs;
use tokio::io::AsyncWriteExt as _;
use tokio_util::io::ReaderStream;

/// Objects under a data directory.
#[derive(Debug, Clone)]
pub struct FsObjectStore {
    root: PathBuf,
    bucket: String,
}

/// How a written object takes its key.
#[derive(Clone, Copy)]
enum Placing {
    /// Only if the key is free (uploads are write-once).
    New,
    /// Over whatever is there (the objects Intake makes, such as previews).
    Replace,
}

/// Why a write was refused. Nothing is left under the key when a write fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PutError {
    /// An object exists under the key (writes are write-once).
    #[error("an object already exists under {0}")]
    AlreadyExists(String),
    /// The body is not what the write requires (length, size, checksum).
    #[error(transparent)]
    Refused(#[from] BodyRefusal),
    /// The body stream failed.
    #[error("reading the body failed")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The file system failed.
    #[error("writing the object failed")]
    Io(#[from] std::io::Error),
}

/// What a write must match.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct PutChecks {
    /// The exact length, if bound.
    pub length: Option<u64>,
    /// The SHA-256, if bound.
    pub sha256: Option<Sha256Digest>,
    /// The largest body accepted.
    pub max_bytes: Option<u64>,
}

impl PutChecks {
    /// Checks for a write.
    pub fn new(length: Option<u64>, sha256: Option<Sha256Digest>, max_bytes: Option<u64>) -> Self {
        Self {
            length,
            sha256,
            max_bytes,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    content_type: String,
    sha256: String,
    written_at: Timestamp,
}

/// Whether an I/O error is the disk (or a quota) being full (the server answers 507 for it).
pub fn is_no_space(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded
    )
}

fn io_error(key: &ObjectKey, error: std::io::Error) -> StoreError {
    if is_no_space(&error) {
        return StoreError::from(Failure::storage_full(error));
    }
    match error.kind() {
        ErrorKind::NotFound => StoreError::NotFound {
            key: key.to_string(),
        },
        ErrorKind::PermissionDenied => StoreError::PermissionDenied {
            key: key.to_string(),
            source: Box::new(error),
        },
        _ => StoreError::from(Failure::other(error)),
    }
}

impl FsObjectStore {
    /// A store under `root` (created if missing), reporting `bucket` as its name.
    ///
    /// # Errors
    /// The directories cannot be created.
    pub async fn open(
        root: impl Into<PathBuf>,
        bucket: impl Into<String>,
    ) -> std::io::Result<Self> {
        let root = root.into();
        for dir in ["objects", "meta", "tmp"] {
            fs::create_dir_all(root.join(dir)).await?;
        }
        Ok(Self {
            root,
            bucket: bucket.into(),
        })
    }

    fn object_path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join("objects").join(key.as_str())
    }

    /// A fresh file name in the temporary folder, on the same file system as the objects so that
    /// linking and renaming into place are atomic.
    fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(uuid::Uuid::new_v4().to_string())
    }

    fn meta_path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join("meta").join(key.as_str())
    }

    /// Streams `body` into the store under `key` if no object is there, enforcing `checks`.
    ///
    /// # Errors
    /// [`PutError`]; on any error nothing is left under the key.
    pub async fn put_stream<S, E>(
        &self,
        key: &ObjectKey,
        content_type: &str,
        checks: PutChecks,
        body: S,
    ) -> Result<ObjectMeta, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::error::Error + Send + Sync + 'static,
    {
        if fs::try_exists(&self.object_path(key)).await? {
            return Err(PutError::AlreadyExists(key.to_string()));
        }
        self.place(key, content_type, checks, body, Placing::New)
            .await?;
        self.head(key)
            .await
            .map_err(|e| PutError::Io(std::io::Error::other(e)))
    }

    /// Writes `body` aside (enforcing `checks`), moves it under `key` as `placing` says, and writes
    /// its metadata. A reader sees the previous object or the new one, never a part; on any error
    /// before the move nothing is left.
    async fn place<S, E>(
        &self,
        key: &ObjectKey,
        content_type: &str,
        checks: PutChecks,
        body: S,
        placing: Placing,
    ) -> Result<(), PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::error::Error + Send + Sync + 'static,
    {
        let temp = self.temp_path();
        let result = self.write_temp(&temp, checks, body).await;
        let sha256 = match result {
            Ok(sha) => sha,
            Err(e) => {
                let _ = fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        let destination = self.object_path(key);
        let moved = async {
            if let Some(parent) = destination.parent() {
                fs::create_dir_all(parent).await?;
            }
            match placing {
                Placing::New => fs::hard_link(&temp, &destination).await,
                Placing::Replace => fs::rename(&temp, &destination).await,
            }
        }
        .await;
        let _ = fs::remove_file(&temp).await;
        match moved {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(PutError::AlreadyExists(key.to_string()));
            }
            Err(e) => return Err(PutError::Io(e)),
        }
        sync_dir(destination.parent()).await;
        let meta = Meta {
            content_type: content_type.to_owned(),
            sha256: sha256.to_hex(),
            written_at: Timestamp::now_utc(),
        };
        self.write_meta(key, &meta).await?;
        Ok(())
    }

    /// Writes a whole new object, write-once like an upload (fixtures, tests); the port's `put`
    /// replaces instead.
    ///
    /// # Errors
    /// [`PutError`] as [`FsObjectStore::put_stream`].
    pub async fn put_new(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<ObjectMeta, PutError> {
        self.put_stream(
            key,
            content_type,
            PutChecks::default(),
            futures::stream::once(async move { Ok::<_, std::io::Error>(bytes) }),
        )
        .await
    }

    async fn write_temp<S, E>(
        &self,
        temp: &Path,
        checks: PutChecks,
        body: S,
    ) -> Result<Sha256Digest, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut file = fs::File::create(temp).await?;
        let mut check = BodyCheck::new(checks.length, checks.sha256, checks.max_bytes);
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| PutError::Body(Box::new(e)))?;
            check.update(&chunk)?;
            file.write_all(&chunk).await?;
        }
        let sha256 = check.finish()?;
        file.sync_all().await?;
        Ok(sha256)
    }

    async fn write_meta(&self, key: &ObjectKey, meta: &Meta) -> std::io::Result<()> {
        let path = self.meta_path(key);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).await?;
        }
        let temp = self.temp_path();
        fs::write(
            &temp,
            serde_json::to_vec(meta).map_err(std::io::Error::other)?,
        )
        .await?;
        fs::File::open(&temp).await?.sync_all().await?;
        fs::rename(&temp, &path).await?;
        sync_dir(path.parent()).await;
        Ok(())
    }

    async fn read_meta(&self, key: &ObjectKey) -> Option<Meta> {
        let bytes = fs::read(self.meta_path(key)).await.ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Removes files left in the temporary folder by writes that a crash interrupted. Only for the
    /// owner of the directory while no write is running (a server at start, holding its lock).
    ///
    /// # Errors
    /// The folder cannot be read.
    pub async fn remove_temporary_files(&self) -> std::io::Result<u64> {
        let mut removed = 0;
        let mut entries = fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            if fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// `len` bytes of an object's content from byte `start` (an HTTP range; `u64::MAX` for the rest),
    /// streamed from the file.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a missing object; I/O errors otherwise.
    pub async fn read_range(
        &self,
        key: &ObjectKey,
        start: u64,
        len: u64,
    ) -> Result<ByteStream, StoreError> {
        use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
        let mut file = fs::File::open(self.object_path(key))
            .await
            .map_err(|e| io_error(key, e))?;
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| io_error(key, e))?;
        }
        let stream = ReaderStream::with_capacity(file.take(len), 256 * 1024)
            .map_err(|e| StoreError::from(Failure::other(e)));
        Ok(Box::pin(stream))
    }

    /// The path of an object's bytes, for engines that read files directly (Tesseract).
    pub fn path_of(&self, key: &ObjectKey) -> PathBuf {
        self.object_path(key)
    }
}

/// Makes a rename or link durable (best effort: not every platform can fsync a directory).
async fn sync_dir(dir: Option<&Path>) {
    if let Some(dir) = dir
        && let Ok(handle) = fs::File::open(dir).await
    {
        let _ = handle.sync_all().await;
    }
}

#[async_trait]
impl ObjectStore for FsObjectStore {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let stat = fs::metadata(self.object_path(key))
            .await
            .map_err(|e| io_error(key, e))?;
        let mut meta = ObjectMeta::new(stat.len());
        if let Some(stored) = self.read_meta(key).await {
            meta = meta
                .with_content_type(stored.content_type)
                .with_etag(format!("\"{}\"", stored.sha256))
                .with_last_modified(stored.written_at);
        }
        Ok(meta)
    }

    async fn get(&self, key: &ObjectKey) -> Result<GetResult, StoreError> {
        let stream = self.read_range(key, 0, u64::MAX).await?;
        let meta = self.head(key).await?;
        Ok(GetResult::new(meta, stream))
    }

    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        let body = futures::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
        self.place(
            key,
            content_type,
            PutChecks::default(),
            body,
            Placing::Replace,
        )
        .await
        .map_err(|e| match e {
            PutError::Io(e) => io_error(key, e),
            other => StoreError::from(Failure::other(other)),
        })
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        for path in [self.object_path(key), self.meta_path(key)] {
            match fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(key, e)),
            }
        }
        Ok(())
    }
}
