//! The group-commit writer: one connection on one thread runs every write in order and commits the
//! writes that arrive together under one `COMMIT` (one fsync), with read-only connections beside it.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::schema::{migrate, register_functions};
use super::{is_busy, is_full};

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
pub(super) struct Database {
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
pub(super) struct Interrupted;

/// The commit of a group of calls failed; every call of the group gets this.
#[derive(Debug, Clone, thiserror::Error)]
#[error("commit failed: {message}")]
pub(super) struct CommitFailed {
    message: String,
    pub(super) busy: bool,
    /// The disk (or the file's quota) has no space left.
    pub(super) full: bool,
}

/// Delivers a call's result once its group's commit is known (`Some` when the commit failed).
type Deliver = Box<dyn FnOnce(Option<&CommitFailed>) + Send>;

/// A call: runs on the connection (or, given `None`, does not run at all), says whether to keep its
/// changes, and how to deliver its result.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Deliver) + Send>;

/// The most calls one commit groups.
const MAX_GROUP: usize = 256;

impl Database {
    pub(super) fn open(path: &Path, readers: usize) -> rusqlite::Result<Self> {
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

    pub(super) fn in_memory() -> rusqlite::Result<Self> {
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
    pub(super) async fn read<T, E, F>(&self, f: F) -> Result<T, E>
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
    pub(super) async fn read_now<T, E, F>(&self, f: F) -> Result<T, E>
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
    pub(super) async fn with<T, E, F>(&self, f: F) -> Result<T, E>
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
    pub(super) async fn settle(&self) -> Result<(), Interrupted> {
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
    pub(super) fn submit(&self, job: Job, relaxed: bool) -> Result<(), Interrupted> {
        self.jobs
            .send(Call { job, relaxed })
            .map_err(|_| Interrupted)
    }

    /// Whether the last commit failed for lack of space: writes that would otherwise be answered
    /// before they are durable (upload tickets) wait for their commit instead, so that they are
    /// refused rather than lost.
    pub(super) fn is_out_of_space(&self) -> bool {
        self.out_of_space.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether [`read_inline`](Self::read_inline) can run (a file database; in memory there are no
    /// read-only connections).
    pub(super) fn reads_inline(&self) -> bool {
        !self.readers.shared.is_empty()
    }

    /// Runs a point read on this thread, on a shared read-only connection, waiting for one if all are
    /// busy (they are held for microseconds). `f` must not write and must be quick.
    pub(super) fn read_inline<T>(
        &self,
        f: impl FnOnce(&Connection) -> T,
    ) -> Result<T, Interrupted> {
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
pub(super) fn call_then<T, E, F, A>(
    f: F,
    then: A,
) -> (Job, tokio::sync::oneshot::Receiver<Result<T, E>>)
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
