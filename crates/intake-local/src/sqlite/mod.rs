//! Intake's SQLite database (bundled SQLite, WAL, full synchronisation, relaxed for new upload tickets):
//! the image records, the job queue and the API keys, in one file behind one list of schema migrations.
//! The schema and its migrations (`migrations/*.sql`) are `schema.rs`'s, the group-commit writer is
//! `writer.rs`'s.

/// Maps SQLite's errors into a port's error enum, which must convert from the shared
/// [`Failure`](intake_domain::ports::Failure) (busy or locked: unavailable, worth retrying; no space
/// left: storage full; anything else: other): defines `other`, `db_error` and the conversions the
/// database thread's errors need. One mapping for the repository, the queue, the keys and the
/// webhooks.
macro_rules! port_errors {
    ($error:ident) => {
        fn other(error: impl std::error::Error + Send + Sync + 'static) -> $error {
            $error::from(intake_domain::ports::Failure::other(error))
        }

        fn db_error(error: rusqlite::Error) -> $error {
            if super::is_busy(&error) {
                $error::from(intake_domain::ports::Failure::unavailable(error))
            } else if super::is_full(&error) {
                $error::from(intake_domain::ports::Failure::storage_full(error))
            } else {
                other(error)
            }
        }

        impl From<super::Interrupted> for $error {
            fn from(error: super::Interrupted) -> Self {
                other(error)
            }
        }

        impl From<super::CommitFailed> for $error {
            fn from(error: super::CommitFailed) -> Self {
                if error.busy {
                    $error::from(intake_domain::ports::Failure::unavailable(error))
                } else if error.full {
                    $error::from(intake_domain::ports::Failure::storage_full(error))
                } else {
                    other(error)
                }
            }
        }
    };
}

mod fingerprints;
mod keys;
mod queue;
mod repository;
mod schema;
mod webhooks;
mod writer;

use std::path::Path;

use rusqlite::ErrorCode;

pub use fingerprints::SqliteFingerprintIndex;
pub use keys::SqliteKeyStore;
pub use queue::SqliteJobQueue;
pub use repository::SqliteRepository;
pub use webhooks::SqliteWebhookStore;
use writer::{CommitFailed, Database, Interrupted, call_then};

/// One database file for the records, the job queue and the API keys behind one database thread, as
/// the local server uses it: calls of all three share group commits (a record and its job are made
/// durable by one sync), and they never wait on one another's write lock, as separate connections
/// writing the same file would (SQLite's busy handler sleeps for milliseconds).
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    db: Database,
    /// Records being created, shared by every repository of this database.
    creating: std::sync::Arc<repository::Creating>,
}

/// The database file could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the SQLite database {path}")]
pub struct OpenError {
    path: std::path::PathBuf,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`OpenError`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        Ok(Self {
            db: Database::open(path, READERS).map_err(|e| OpenError {
                path: path.to_owned(),
                source: Box::new(e),
            })?,
            creating: std::sync::Arc::default(),
        })
    }

    /// The image records in this database.
    pub fn repository(&self) -> SqliteRepository {
        SqliteRepository::on(self.db.clone(), std::sync::Arc::clone(&self.creating))
    }

    /// The job queue in this database.
    pub fn queue(&self) -> SqliteJobQueue {
        SqliteJobQueue::on(self.db.clone())
    }

    /// The near-duplicate fingerprint index in this database.
    pub fn fingerprints(&self) -> SqliteFingerprintIndex {
        SqliteFingerprintIndex::on(self.db.clone())
    }

    /// The webhook subscriptions and deliveries in this database.
    pub fn webhooks(&self) -> SqliteWebhookStore {
        SqliteWebhookStore::on(self.db.clone())
    }

    /// Waits until every write so far is committed and on disk, upload tickets written behind
    /// included (they are otherwise synced within 50 ms). A server calls it last, before it stops;
    /// a stopped database thread has nothing left to write.
    pub async fn settle(&self) {
        if self.db.settle().await.is_err() {
            tracing::warn!("the database thread stopped before it settled");
        }
    }

    /// The API keys in this database, loaded. Take one key store per database: its cache is exact
    /// only while it is the only writer of the keys.
    ///
    /// # Errors
    /// [`intake_keys::KeyStoreError`] when the keys cannot be read.
    pub async fn keys(&self) -> Result<SqliteKeyStore, intake_keys::KeyStoreError> {
        SqliteKeyStore::on(self.db.clone()).await
    }
}

/// How many read-only connections the records get (the queue and the keys read through the writer).
const READERS: usize = 2;

/// Whether SQLite could not write for lack of space (the disk or the file's quota is full).
fn is_full(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(ErrorCode::DiskFull)
}

/// Whether SQLite said the database is busy or locked by another connection: worth retrying.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
