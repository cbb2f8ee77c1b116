//! Intake's SQLite database (bundled SQLite, WAL, full synchronisation, relaxed for new upload tickets):
//! the image records, the job queue and the API keys, in one file behind one list of schema migrations.

/// Maps SQLite's errors into a port's error enum, which must have `Unavailable { source }` (busy or
/// locked: worth retrying), `StorageFull { source }` (no space left) and `Other { source }`: defines
/// `other`, `db_error` and the conversions the database thread's errors need. One mapping for the
/// repository, the queue and the keys.
macro_rules! port_errors {
    ($error:ident) => {
        fn other(error: impl std::error::Error + Send + Sync + 'static) -> $error {
            $error::Other {
                source: Box::new(error),
            }
        }

        fn db_error(error: rusqlite::Error) -> $error {
            if super::is_busy(&error) {
                $error::Unavailable {
                    source: Box::new(error),
                }
            } else if super::is_full(&error) {
                $error::StorageFull {
                    source: Box::new(error),
                }
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
                    $error::Unavailable {
                        source: Box::new(error),
                    }
                } else if error.full {
                    $error::StorageFull {
                        source: Box::new(error),
                    }
                } else {
                    other(error)
                }
            }
        }
    };
}

mod keys;
mod queue;
mod repository;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

pub use keys::SqliteKeyStore;
pub use queue::SqliteJobQueue;
pub use repository::SqliteRepository;
pub use webhooks::SqliteWebhookStore;

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
    /// [`intake_domain::ports::KeyStoreError`] when the keys cannot be read.
    pub async fn keys(&self) -> Result<SqliteKeyStore, intake_domain::ports::KeyStoreError> {
        SqliteKeyStore::on(self.db.clone()).await
    }
}

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
    // Owners (record schema 2). Records from before owners existed go to the local admin owner.
    "
    ALTER TABLE images ADD COLUMN owner TEXT NOT NULL DEFAULT 'admin';
    UPDATE images SET record = json_set(record, '$.owner', 'admin', '$.schemaVersion', 2)
        WHERE json_extract(record, '$.owner') IS NULL;
    CREATE INDEX images_by_owner ON images (owner, image_id);
    CREATE INDEX images_by_owner_sha256 ON images (owner, sha256, image_id) WHERE sha256 IS NOT NULL;
    DROP INDEX images_by_sha256;
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY NOT NULL,
        record TEXT NOT NULL
    ) WITHOUT ROWID;
    ",
    // OCR lines (most of a processed record's size) apart from the record, so that listings and reads
    // without them neither load nor decode them.
    "
    ALTER TABLE images ADD COLUMN ocr_lines TEXT;
    UPDATE images SET ocr_lines = json_extract(record, '$.ocrLines'), record = json_remove(record, '$.ocrLines')
        WHERE json_type(record, '$.ocrLines') IS NOT NULL;
    ",
    // Full-text search (see `repository/search.rs`; the index is rebuilt on the domain's words by the
    // next migration): file names and OCR text in an FTS5 index that
    // triggers keep in step with the records, in the same transaction as every write. The index stores
    // no text of its own (contentless); its integer rows map to image ids through `image_text_rows`,
    // which also keeps the owner, status and SHA-256 a search filters on, so that ranking the hits
    // never reads a record. Deleted records are taken out of the index.
    "
    CREATE TABLE image_text_rows (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        image_id BLOB NOT NULL UNIQUE,
        owner    TEXT NOT NULL,
        status   TEXT NOT NULL,
        sha256   TEXT
    );
    CREATE VIRTUAL TABLE image_text USING fts5(
        file_name, ocr_text,
        content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER image_text_insert AFTER INSERT ON images BEGIN
        INSERT INTO image_text_rows (image_id, owner, status, sha256)
            VALUES (new.image_id, new.owner, new.status, new.sha256);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, json_extract(new.record, '$.fileName'),
                   coalesce(json_extract(new.record, '$.ocrText'), '')
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    CREATE TRIGGER image_text_facts AFTER UPDATE OF owner, status, sha256 ON images
    WHEN old.owner IS NOT new.owner OR old.status IS NOT new.status OR old.sha256 IS NOT new.sha256
    BEGIN
        UPDATE image_text_rows SET owner = new.owner, status = new.status, sha256 = new.sha256
            WHERE image_id = new.image_id;
    END;
    CREATE TRIGGER image_text_update AFTER UPDATE OF record, deleted ON images
    WHEN old.deleted IS NOT new.deleted
      OR json_extract(old.record, '$.ocrText') IS NOT json_extract(new.record, '$.ocrText')
      OR json_extract(old.record, '$.fileName') IS NOT json_extract(new.record, '$.fileName')
    BEGIN
        DELETE FROM image_text
            WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = new.image_id);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, json_extract(new.record, '$.fileName'),
                   coalesce(json_extract(new.record, '$.ocrText'), '')
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    CREATE TRIGGER image_text_delete AFTER DELETE ON images BEGIN
        DELETE FROM image_text
            WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = old.image_id);
        DELETE FROM image_text_rows WHERE image_id = old.image_id;
    END;
    INSERT INTO image_text_rows (image_id, owner, status, sha256)
        SELECT image_id, owner, status, sha256 FROM images ORDER BY image_id;
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT t.seq, json_extract(i.record, '$.fileName'),
               coalesce(json_extract(i.record, '$.ocrText'), '')
        FROM images i JOIN image_text_rows t ON t.image_id = i.image_id
        WHERE i.deleted = 0;
    ",
    // The index holds the domain's words (`intake_words`, see `register_functions`), cut apart at
    // spaces only, so that SQLite finds exactly what the domain's word rule says (ligatures,
    // full-width letters, every script's combining marks) and a search's words are its terms' words.
    "
    DROP TRIGGER image_text_insert;
    DROP TRIGGER image_text_update;
    DROP TRIGGER image_text_delete;
    DROP TABLE image_text;
    CREATE VIRTUAL TABLE image_text USING fts5(
        file_name, ocr_text,
        content = '', contentless_delete = 1,
        tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co'\"
    );
    CREATE TRIGGER image_text_insert AFTER INSERT ON images BEGIN
        INSERT INTO image_text_rows (image_id, owner, status, sha256)
            VALUES (new.image_id, new.owner, new.status, new.sha256);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
                   intake_words(json_extract(new.record, '$.ocrText'))
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    CREATE TRIGGER image_text_update AFTER UPDATE OF record, deleted ON images
    WHEN old.deleted IS NOT new.deleted
      OR json_extract(old.record, '$.ocrText') IS NOT json_extract(new.record, '$.ocrText')
      OR json_extract(old.record, '$.fileName') IS NOT json_extract(new.record, '$.fileName')
    BEGIN
        DELETE FROM image_text
            WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = new.image_id);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
                   intake_words(json_extract(new.record, '$.ocrText'))
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    CREATE TRIGGER image_text_delete AFTER DELETE ON images BEGIN
        DELETE FROM image_text
            WHERE rowid = (SELECT seq FROM image_text_rows WHERE image_id = old.image_id);
        DELETE FROM image_text_rows WHERE image_id = old.image_id;
    END;
    INSERT INTO image_text (rowid, file_name, ocr_text)
        SELECT t.seq, intake_words(json_extract(i.record, '$.fileName')),
               intake_words(json_extract(i.record, '$.ocrText'))
        FROM images i JOIN image_text_rows t ON t.image_id = i.image_id
        WHERE i.deleted = 0;
    ",
    // The outbox (see `repository/outbox.rs`): the events each write of a record reports, inserted in
    // the same transaction as the write, in commit order, until they are published.
    "
    CREATE TABLE outbox (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        type     TEXT NOT NULL,
        time_ms  INTEGER NOT NULL,
        owner    TEXT NOT NULL,
        image_id BLOB NOT NULL,
        body     TEXT NOT NULL
    );
    ",
    // Webhook subscriptions and their deliveries (see `webhooks.rs`): a delivery is pending while
    // `free_at_ms` (when it may be leased: its due time, or its lease's end) is set.
    "
    CREATE TABLE webhooks (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id        TEXT NOT NULL UNIQUE,
        owner             TEXT NOT NULL,
        url               TEXT NOT NULL,
        events            TEXT NOT NULL,
        secret            TEXT NOT NULL,
        description       TEXT,
        created_ms        INTEGER NOT NULL,
        disabled_ms       INTEGER,
        disabled_reason   TEXT,
        failures_in_a_row INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX webhooks_by_owner ON webhooks (owner, seq);
    CREATE TABLE webhook_deliveries (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id      TEXT NOT NULL,
        event_id        TEXT NOT NULL,
        event_type      TEXT NOT NULL,
        body            TEXT NOT NULL,
        created_ms      INTEGER NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        due_ms          INTEGER,
        free_at_ms      INTEGER,
        lease_token     INTEGER,
        last_attempt_ms INTEGER,
        last_status     INTEGER,
        last_error      TEXT,
        UNIQUE (webhook_id, event_id)
    );
    CREATE INDEX webhook_deliveries_by_free_at ON webhook_deliveries (free_at_ms, seq)
        WHERE free_at_ms IS NOT NULL;
    CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
    ",
    // Upload tickets (records awaiting their upload) are indexed only once processing takes them, not
    // when `POST /uploads` writes them: most of a ticket's insert was its index work, and a ticket's
    // bytes may never come. `image_text_admit` indexes a record as it leaves `AWAITING_UPLOAD`.
    "
    DROP TRIGGER image_text_insert;
    CREATE TRIGGER image_text_insert AFTER INSERT ON images WHEN new.status != 'AWAITING_UPLOAD' BEGIN
        INSERT INTO image_text_rows (image_id, owner, status, sha256)
            VALUES (new.image_id, new.owner, new.status, new.sha256);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
                   intake_words(json_extract(new.record, '$.ocrText'))
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    CREATE TRIGGER image_text_admit AFTER UPDATE OF status ON images
    WHEN old.status = 'AWAITING_UPLOAD' AND new.status != 'AWAITING_UPLOAD'
      AND NOT EXISTS (SELECT 1 FROM image_text_rows WHERE image_id = new.image_id)
    BEGIN
        INSERT INTO image_text_rows (image_id, owner, status, sha256)
            VALUES (new.image_id, new.owner, new.status, new.sha256);
        INSERT INTO image_text (rowid, file_name, ocr_text)
            SELECT seq, intake_words(json_extract(new.record, '$.fileName')),
                   intake_words(json_extract(new.record, '$.ocrText'))
            FROM image_text_rows WHERE image_id = new.image_id AND new.deleted = 0;
    END;
    DELETE FROM image_text WHERE rowid IN
        (SELECT seq FROM image_text_rows WHERE status = 'AWAITING_UPLOAD');
    DELETE FROM image_text_rows WHERE status = 'AWAITING_UPLOAD';
    ",
];

/// Registers the SQL functions the schema's triggers call: `intake_words(text)`, the domain's
/// normalised words of `text` separated by spaces (empty for NULL), which the search index holds.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "intake_words",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            Ok(text
                .map(|t| intake_domain::model::index_words(&t))
                .unwrap_or_default())
        },
    )
}

/// One connection owned by one thread, which runs every write in order and commits writes in groups:
/// whatever calls arrive while a commit is in progress are applied together, each in its own savepoint
/// (so one failing call does not undo the others), under one `COMMIT`, so many concurrent writers share
/// one fsync (`synchronous=FULL` keeps every acknowledged write on disk). Results are delivered only
/// after the commit that makes them durable.
///
/// Relaxed writes (new upload tickets, see `ImageRepository::create_relaxed`) are the one exception: a
/// group of nothing but relaxed calls commits without waiting for the disk (`synchronous=NORMAL`),
/// visible to every read at once, and the thread makes it durable within [`RELAXED_SYNC`] (an fsync of
/// the log), or sooner with any durable commit after it.
///
/// Reads that need no transaction of their own go to read-only connections, one thread each (WAL
/// lets them read beside the writer), so they neither queue behind a commit's fsync nor pay for a
/// write transaction. They see every write whose result was delivered.
#[derive(Debug, Clone)]
struct Database {
    jobs: std::sync::mpsc::Sender<Call>,
    readers: std::sync::Arc<Readers>,
    /// The write-ahead log of a file database.
    log: Option<std::sync::Arc<Path>>,
    /// Whether the last commit failed for lack of space (until one succeeds again).
    out_of_space: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How soon a relaxed write is durable at the latest.
const RELAXED_SYNC: Duration = Duration::from_millis(50);

/// How long the database thread gathers relaxed calls before committing them (none waits for them).
const RELAXED_GATHER: Duration = Duration::from_millis(1);

/// A call for the database thread, and whether it may be relaxed.
struct Call {
    job: Job,
    relaxed: bool,
}

/// A read: runs on a read-only connection (or, given `None`, does not run at all).
type Read = Box<dyn FnOnce(Option<&Connection>) + Send>;

/// The read-only connections: some owned by threads (for scans), used in turn, and some shared
/// behind locks (for point reads, run on the caller's thread).
#[derive(Debug, Default)]
struct Readers {
    senders: Vec<std::sync::mpsc::Sender<Read>>,
    next: std::sync::atomic::AtomicUsize,
    shared: Vec<std::sync::Mutex<Connection>>,
}

/// How many read-only connections the records get (the queue and the keys read through the writer).
const READERS: usize = 2;

/// Why [`Database::settle`] did not finish.
#[derive(Debug)]
struct Settle;

impl From<Interrupted> for Settle {
    fn from(_: Interrupted) -> Self {
        Self
    }
}

impl From<CommitFailed> for Settle {
    fn from(_: CommitFailed) -> Self {
        Self
    }
}

/// A call that did not finish: the database thread stopped.
#[derive(Debug, thiserror::Error)]
#[error("the database thread stopped")]
struct Interrupted;

/// The commit of a group of calls failed; every call of the group gets this.
#[derive(Debug, Clone, thiserror::Error)]
#[error("commit failed: {message}")]
struct CommitFailed {
    message: String,
    busy: bool,
    /// The disk (or the file's quota) has no space left.
    full: bool,
}

/// Delivers a call's result once its group's commit is known (`Some` when the commit failed).
type Deliver = Box<dyn FnOnce(Option<&CommitFailed>) + Send>;

/// A call: runs on the connection (or, given `None`, does not run at all), says whether to keep its
/// changes, and how to deliver its result.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Deliver) + Send>;

/// The most calls one commit groups.
const MAX_GROUP: usize = 256;

impl Database {
    fn open(path: &Path, readers: usize) -> rusqlite::Result<Self> {
        let mut db = Self::start(Connection::open(path)?)?;
        let read_only = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(conn)
        };
        let shared = (0..readers)
            .map(|_| read_only().map(std::sync::Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut senders = Vec::with_capacity(readers);
        for _ in 0..readers {
            let conn = read_only()?;
            let (sender, received) = std::sync::mpsc::channel::<Read>();
            std::thread::Builder::new()
                .name("intake-sqlite-read".into())
                .spawn(move || {
                    while let Ok(read) = received.recv() {
                        read(Some(&conn));
                    }
                })
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            senders.push(sender);
        }
        db.readers = std::sync::Arc::new(Readers {
            senders,
            next: std::sync::atomic::AtomicUsize::new(0),
            shared,
        });
        Ok(db)
    }

    fn in_memory() -> rusqlite::Result<Self> {
        Self::start(Connection::open_in_memory()?)
    }

    fn start(conn: Connection) -> rusqlite::Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        register_functions(&conn)?;
        migrate(&conn)?;
        // A file's log, which relaxed commits leave for this thread to sync (in memory, every write is
        // as durable as it gets).
        let log: Option<std::sync::Arc<Path>> = conn
            .path()
            .filter(|p| !p.is_empty())
            .map(|p| Path::new(&format!("{p}-wal")).into());
        let (jobs, received) = std::sync::mpsc::channel::<Call>();
        let served = log.clone();
        let out_of_space = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let full = std::sync::Arc::clone(&out_of_space);
        std::thread::Builder::new()
            .name("intake-sqlite".into())
            .spawn(move || serve(&conn, served.as_deref(), &received, &full))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Self {
            jobs,
            readers: std::sync::Arc::default(),
            log,
            out_of_space,
        })
    }

    /// Runs a read on a read-only connection (on the database thread when there is none: in-memory
    /// databases, which other connections cannot see). `f` must not write.
    async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Interrupted> + From<CommitFailed> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let count = self.readers.senders.len();
        if count == 0 {
            return self.with(f).await;
        }
        let turn = self
            .readers
            .next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % count;
        let (sender, receiver) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let read: Read = Box::new(move |conn: Option<&Connection>| {
            let result = conn.map_or_else(|| Err(E::from(Interrupted)), f);
            let _ = sender.send(result);
        });
        let sent = self
            .readers
            .senders
            .get(turn)
            .ok_or(Interrupted)?
            .send(read);
        sent.map_err(|_| E::from(Interrupted))?;
        receiver.await.map_err(|_| E::from(Interrupted))?
    }

    /// Runs a point read (a few B-tree pages, microseconds) at once on the caller's thread, on a free
    /// shared read-only connection, instead of handing it to a reader thread and waiting for it: two
    /// thread wake-ups cost more than such a read. With every shared connection busy, or none (an
    /// in-memory database), it goes to a reader thread. `f` must not write and must be quick.
    async fn read_now<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Interrupted> + From<CommitFailed> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        for conn in &self.readers.shared {
            if let Ok(conn) = conn.try_lock() {
                return f(&conn);
            }
        }
        self.read(f).await
    }

    /// Runs `f` on the database thread. Its changes are kept if it returns `Ok` (and rolled back if
    /// not); the result arrives after the commit, or as the commit's error.
    async fn with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Interrupted> + From<CommitFailed> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (job, receiver) = call(f);
        self.submit(job, false).map_err(E::from)?;
        receiver.await.map_err(|_| E::from(Interrupted))?
    }

    /// Waits until every write handed to the database thread so far is committed and on disk
    /// (relaxed ones included): the last thing a server does before it stops.
    async fn settle(&self) -> Result<(), Interrupted> {
        let log = self.log.clone();
        self.with(move |_| {
            // Earlier relaxed groups are committed (the thread runs calls in order); sync what they
            // wrote.
            if let Some(log) = log {
                let synced = std::fs::File::open(&*log).and_then(|file| file.sync_data());
                if let Err(error) = synced {
                    tracing::warn!(%error, "could not sync the SQLite log");
                }
            }
            Ok::<(), Settle>(())
        })
        .await
        .map_err(|_| Interrupted)
    }

    /// Hands `job` to the database thread without waiting for it; a `relaxed` job commits without
    /// waiting for the disk if its whole group is relaxed (durable within [`RELAXED_SYNC`]).
    fn submit(&self, job: Job, relaxed: bool) -> Result<(), Interrupted> {
        self.jobs
            .send(Call { job, relaxed })
            .map_err(|_| Interrupted)
    }

    /// Whether the last commit failed for lack of space: writes that would otherwise be answered
    /// before they are durable (upload tickets) wait for their commit instead, so that they are
    /// refused rather than lost.
    fn is_out_of_space(&self) -> bool {
        self.out_of_space.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether [`read_inline`](Self::read_inline) can run (a file database; in memory there are no
    /// read-only connections).
    fn reads_inline(&self) -> bool {
        !self.readers.shared.is_empty()
    }

    /// Runs a point read on this thread, on a shared read-only connection, waiting for one if all are
    /// busy (they are held for microseconds). `f` must not write and must be quick.
    fn read_inline<T>(&self, f: impl FnOnce(&Connection) -> T) -> Result<T, Interrupted> {
        for conn in &self.readers.shared {
            if let Ok(conn) = conn.try_lock() {
                return Ok(f(&conn));
            }
        }
        let conn = self.readers.shared.first().ok_or(Interrupted)?;
        Ok(f(&conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)))
    }
}

/// `f` as a call for a group, and where its result will arrive.
fn call<T, E, F>(f: F) -> (Job, tokio::sync::oneshot::Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: From<Interrupted> + From<CommitFailed> + Send + 'static,
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
{
    call_then(f, |_| {})
}

/// As [`call`], with `then` run on the call's final result (after its commit, or as it failed) just
/// before the result is sent, whether or not anyone still waits for it.
fn call_then<T, E, F, A>(f: F, then: A) -> (Job, tokio::sync::oneshot::Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: From<Interrupted> + From<CommitFailed> + Send + 'static,
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    A: FnOnce(&Result<T, E>) + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel::<Result<T, E>>();
    let job: Job = Box::new(move |conn: Option<&Connection>| {
        let result = conn.map(f);
        let keep = matches!(result, Some(Ok(_)));
        let deliver: Deliver = Box::new(move |failed| {
            let result = match (failed, result) {
                (Some(failed), _) => Err(E::from(failed.clone())),
                (None, Some(result)) => result,
                (None, None) => Err(E::from(Interrupted)),
            };
            then(&result);
            let _ = sender.send(result);
        });
        (keep, deliver)
    });
    (job, receiver)
}

/// The database thread: takes a call, then whatever else is waiting, and runs them as one group; a
/// group of relaxed calls only is committed without waiting for the disk, and the log is synced within
/// [`RELAXED_SYNC`] after it.
fn serve(
    conn: &Connection,
    log: Option<&Path>,
    calls: &std::sync::mpsc::Receiver<Call>,
    out_of_space: &std::sync::atomic::AtomicBool,
) {
    let mut full = true;
    let mut unsynced: Option<std::time::Instant> = None;
    let mut log_file: Option<std::fs::File> = None;
    loop {
        let wait = unsynced.map_or(Duration::from_secs(3600), |since| {
            RELAXED_SYNC.saturating_sub(since.elapsed())
        });
        match calls.recv_timeout(wait) {
            Ok(first) => {
                let mut relaxed = first.relaxed && log.is_some();
                if relaxed {
                    // Nobody waits for a relaxed call: gather more of them for one commit, sleeping
                    // (not waiting on the channel, whose every send would wake this thread).
                    std::thread::sleep(RELAXED_GATHER);
                }
                let mut group = vec![first.job];
                while group.len() < MAX_GROUP {
                    match calls.try_recv() {
                        Ok(call) => {
                            relaxed &= call.relaxed;
                            group.push(call.job);
                        }
                        Err(_) => break,
                    }
                }
                if full == relaxed {
                    let sql = if relaxed {
                        "PRAGMA synchronous = NORMAL"
                    } else {
                        "PRAGMA synchronous = FULL"
                    };
                    if run(conn, sql).is_ok() {
                        full = !relaxed;
                    }
                }
                if let Some(committed) = run_group(conn, group) {
                    let was = out_of_space.swap(
                        committed == Committed::NoSpace,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    if was != (committed == Committed::NoSpace) {
                        if was {
                            tracing::info!("the database can write again");
                        } else {
                            tracing::error!("the database has no space left to write");
                        }
                    }
                }
                if !full {
                    unsynced.get_or_insert_with(std::time::Instant::now);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if unsynced.is_some_and(|since| since.elapsed() >= RELAXED_SYNC)
            && let Some(log) = log
        {
            unsynced = sync_log(log, &mut log_file).err();
        }
    }
    if unsynced.is_some()
        && let Some(log) = log
    {
        let _ = sync_log(log, &mut log_file);
    }
}

/// Syncs the write-ahead log (what relaxed commits wrote); on failure, says since when it is due again.
fn sync_log(path: &Path, file: &mut Option<std::fs::File>) -> Result<(), std::time::Instant> {
    if file.is_none() {
        *file = std::fs::File::open(path).ok();
    }
    if let Some(Ok(())) = file.as_ref().map(std::fs::File::sync_data) {
        Ok(())
    } else {
        tracing::warn!(path = %path.display(), "could not sync the SQLite log; trying again");
        *file = None;
        Err(std::time::Instant::now())
    }
}

/// Runs one statement without results through the statement cache (the group commit runs these for
/// every call: parsing them each time would cost more than the calls).
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How a group's commit ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Committed {
    Yes,
    NoSpace,
    Failed,
}

/// Runs a group of calls in one transaction; answers how its commit ended (`None`: no transaction).
fn run_group(conn: &Connection, group: Vec<Job>) -> Option<Committed> {
    // Outside a transaction (BEGIN failed), each savepoint is its own transaction, committed on release.
    let in_transaction = run(conn, "BEGIN IMMEDIATE").is_ok();
    let mut delivers = Vec::with_capacity(group.len());
    for job in group {
        let deliver = match run(conn, "SAVEPOINT call") {
            Ok(()) => {
                let (keep, deliver) = job(Some(conn));
                let end = if keep {
                    run(conn, "RELEASE call")
                } else {
                    run(conn, "ROLLBACK TO call").and_then(|()| run(conn, "RELEASE call"))
                };
                match end {
                    Ok(()) => deliver,
                    Err(error) => {
                        deliver(Some(&failure(&error)));
                        continue;
                    }
                }
            }
            Err(error) => {
                let (_, deliver) = job(None);
                deliver(Some(&failure(&error)));
                continue;
            }
        };
        if in_transaction {
            delivers.push(deliver);
        } else {
            deliver(None);
        }
    }
    if !in_transaction {
        return None;
    }
    let failed = run(conn, "COMMIT").err().map(|error| {
        let _ = run(conn, "ROLLBACK");
        failure(&error)
    });
    let committed = match &failed {
        None => Committed::Yes,
        Some(f) if f.full => Committed::NoSpace,
        Some(_) => Committed::Failed,
    };
    for deliver in delivers {
        deliver(failed.as_ref());
    }
    Some(committed)
}

fn failure(error: &rusqlite::Error) -> CommitFailed {
    CommitFailed {
        message: error.to_string(),
        busy: is_busy(error),
        full: is_full(error),
    }
}

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
