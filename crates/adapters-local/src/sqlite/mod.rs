//! Intake's SQLite database (bundled SQLite, WAL, full synchronisation): the image records and the job
//! queue, in one file behind one list of schema migrations.

mod queue;
mod repository;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

pub use queue::SqliteJobQueue;
pub use repository::SqliteRepository;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE images (
        image_id BLOB PRIMARY KEY NOT NULL,
        version  INTEGER NOT NULL,
        status   TEXT NOT NULL,
        sha256   TEXT,
        deleted  INTEGER NOT NULL DEFAULT 0,
        record   TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX images_by_status ON images (status, image_id);
    CREATE INDEX images_by_sha256 ON images (sha256, image_id) WHERE sha256 IS NOT NULL;
    ",
    "
    CREATE TABLE jobs (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        object_key     TEXT NOT NULL UNIQUE,
        due_ms         INTEGER NOT NULL,
        free_at_ms     INTEGER NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        lease_token    INTEGER,
        lease_until_ms INTEGER,
        again_ms       INTEGER,
        last_error     TEXT
    );
    CREATE INDEX jobs_by_free_at ON jobs (free_at_ms, seq);
    CREATE TABLE dead_jobs (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        object_key   TEXT NOT NULL,
        attempts     INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        buried_at_ms INTEGER NOT NULL
    );
    ",
];

/// One connection to the database, used from Tokio's blocking pool.
#[derive(Debug, Clone)]
struct Database {
    conn: Arc<Mutex<Connection>>,
}

/// A blocking task that did not finish (the runtime shut down or the closure panicked).
#[derive(Debug, thiserror::Error)]
#[error("a database task did not finish")]
struct Interrupted(#[source] tokio::task::JoinError);

impl Database {
    fn open(path: &Path) -> rusqlite::Result<Self> {
        Self::configure(Connection::open(path)?)
    }

    fn in_memory() -> rusqlite::Result<Self> {
        Self::configure(Connection::open_in_memory()?)
    }

    fn configure(conn: Connection) -> rusqlite::Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Interrupted> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            f(&mut conn.lock().unwrap_or_else(PoisonError::into_inner))
        })
        .await
        .map_err(|e| E::from(Interrupted(e)))?
    }
}

/// Whether SQLite said the database is busy or locked by another connection: worth retrying.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(applied).unwrap_or(usize::MAX))
    {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}
