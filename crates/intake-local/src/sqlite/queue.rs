//! The job queue in SQLite, next to the records: a row per object key, leased by writing a random
//! token and an expiry in one `BEGIN IMMEDIATE` transaction, so two workers (or two processes) never
//! hold the same job. A committed row survives a crash; an expired lease is taken over.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{ObjectKey, Timestamp};
use intake_domain::ports::{DeadJob, Job, JobQueue, QueueError, QueueStats};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Database;

/// The job queue over one SQLite database file (the same file as [`super::SqliteRepository`]'s is fine:
/// the tables differ).
#[derive(Debug, Clone)]
pub struct SqliteJobQueue {
    db: Database,
}

port_errors!(QueueError);

fn lost(key: &ObjectKey) -> QueueError {
    QueueError::LeaseLost {
        key: key.to_string(),
    }
}

fn millis(at: Timestamp) -> i64 {
    at.unix_millis()
}

fn instant(ms: i64) -> Result<Timestamp, QueueError> {
    Timestamp::from_unix_millis(ms).map_err(other)
}

fn key_of(text: &str) -> Result<ObjectKey, QueueError> {
    ObjectKey::parse(text).map_err(other)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A random lease token: tokens never repeat in practice, so a stale holder cannot match a later lease.
fn new_token() -> i64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
    i64::from_le_bytes(first)
}

/// The state of the job `job` leases, if its lease is still the one held: (attempts, again_ms).
fn held(conn: &Connection, job: &Job) -> Result<(u32, Option<i64>), QueueError> {
    let token = i64::from_le_bytes(job.token.to_le_bytes());
    conn.query_row(
        "SELECT attempts, again_ms FROM jobs WHERE object_key = ?1 AND lease_token = ?2",
        params![job.key.as_str(), token],
        |row| Ok((row.get::<_, u32>(0)?, row.get::<_, Option<i64>>(1)?)),
    )
    .optional()
    .map_err(db_error)?
    .ok_or_else(|| lost(&job.key))
}

/// Schedules `key` at `due_ms` (see [`JobQueue::enqueue`]): a new row, or the earlier due time of a
/// waiting one, or a second run after a leased one's attempt.
fn enqueue_row(conn: &Connection, key: &str, due_ms: i64) -> Result<(), QueueError> {
    conn.execute(
        "INSERT INTO jobs (object_key, due_ms, free_at_ms) VALUES (?1, ?2, ?2)
         ON CONFLICT (object_key) DO UPDATE SET
           again_ms   = CASE WHEN lease_token IS NULL THEN again_ms
                             ELSE min(coalesce(again_ms, excluded.due_ms), excluded.due_ms) END,
           due_ms     = CASE WHEN lease_token IS NULL THEN min(due_ms, excluded.due_ms) ELSE due_ms END,
           free_at_ms = CASE WHEN lease_token IS NULL THEN min(due_ms, excluded.due_ms) ELSE free_at_ms END",
        params![key, due_ms],
    )
    .map_err(db_error)?;
    Ok(())
}

impl SqliteJobQueue {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`QueueError`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, QueueError> {
        Ok(Self {
            db: Database::open(path.as_ref(), 0).map_err(db_error)?,
        })
    }

    /// The queue of a database opened with [`super::SqliteDatabase`].
    pub(super) fn on(db: Database) -> Self {
        Self { db }
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`QueueError`] when SQLite cannot start.
    pub fn in_memory() -> Result<Self, QueueError> {
        Ok(Self {
            db: Database::in_memory().map_err(db_error)?,
        })
    }
}

#[async_trait]
impl JobQueue for SqliteJobQueue {
    async fn enqueue(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        let key = key.as_str().to_owned();
        self.db
            .with(move |conn| enqueue_row(conn, &key, millis(due)))
            .await
    }

    async fn lease(&self, now: Timestamp, lease: Duration) -> Result<Option<Job>, QueueError> {
        let until = now.saturating_add(lease);
        self.db.with(move |conn| {
            let found: Option<(i64, String, u32, Option<String>, i64)> = conn
                .query_row(
                    "SELECT seq, object_key, attempts, last_error, due_ms FROM jobs
                     WHERE free_at_ms <= ?1 ORDER BY free_at_ms, seq LIMIT 1",
                    params![millis(now)],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
                )
                .optional()
                .map_err(db_error)?;
            let Some((seq, key, attempts, last_error, due)) = found else {
                return Ok(None);
            };
            let token = new_token();
            let attempts = attempts.saturating_add(1);
            conn.execute(
                "UPDATE jobs SET attempts = ?2, lease_token = ?3, lease_until_ms = ?4, free_at_ms = ?4
                 WHERE seq = ?1",
                params![seq, attempts, token, millis(until)],
            )
            .map_err(db_error)?;
            Ok(Some(
                Job::new(
                    key_of(&key)?,
                    attempts,
                    u64::from_le_bytes(token.to_le_bytes()),
                    until,
                )
                .with_last_error(last_error)
                .with_due(instant(due)?),
            ))
        })
        .await
    }

    async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        let job = job.clone();
        self.db
            .with(move |conn| {
                let (_, again) = held(conn, &job)?;
                match again {
                Some(due) => conn.execute(
                    "UPDATE jobs SET lease_token = NULL, lease_until_ms = NULL, again_ms = NULL,
                       due_ms = ?2, free_at_ms = ?2, attempts = 0, last_error = NULL WHERE object_key = ?1",
                    params![job.key.as_str(), due],
                ),
                None => conn.execute(
                    "DELETE FROM jobs WHERE object_key = ?1",
                    params![job.key.as_str()],
                ),
            }
            .map_err(db_error)?;
                Ok(())
            })
            .await
    }

    async fn retry(&self, job: &Job, due: Timestamp, error: &str) -> Result<(), QueueError> {
        let job = job.clone();
        let error = error.to_owned();
        self.db
            .with(move |conn| {
                let (_, again) = held(conn, &job)?;
                let due = again.map_or(millis(due), |again| again.min(millis(due)));
                conn.execute(
                    "UPDATE jobs SET lease_token = NULL, lease_until_ms = NULL, again_ms = NULL,
                   due_ms = ?2, free_at_ms = ?2, last_error = ?3 WHERE object_key = ?1",
                    params![job.key.as_str(), due, error],
                )
                .map_err(db_error)?;
                Ok(())
            })
            .await
    }

    async fn bury(&self, job: &Job, reason: &str, now: Timestamp) -> Result<(), QueueError> {
        let job = job.clone();
        let reason = reason.to_owned();
        self.db.with(move |conn| {
            let (attempts, _) = held(conn, &job)?;
            conn.execute(
                "DELETE FROM jobs WHERE object_key = ?1",
                params![job.key.as_str()],
            )
            .map_err(db_error)?;
            conn.execute(
                "INSERT INTO dead_jobs (object_key, attempts, reason, buried_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![job.key.as_str(), attempts, reason, millis(now)],
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn release_all(&self) -> Result<u64, QueueError> {
        self.db
            .with(|conn| {
                let released = conn
                    .execute(
                        "UPDATE jobs SET lease_token = NULL, lease_until_ms = NULL,
                       due_ms = min(due_ms, coalesce(again_ms, due_ms)), again_ms = NULL,
                       free_at_ms = min(due_ms, coalesce(again_ms, due_ms))
                     WHERE lease_token IS NOT NULL",
                        [],
                    )
                    .map_err(db_error)?;
                Ok(released as u64)
            })
            .await
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, QueueError> {
        let next: Option<i64> = self
            .db
            .with(|conn| {
                conn.query_row("SELECT min(free_at_ms) FROM jobs", [], |row| row.get(0))
                    .map_err(db_error)
            })
            .await?;
        next.map(instant).transpose()
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.db
            .with(|conn| {
                conn.query_row(
                    "SELECT
                       (SELECT count(*) FROM jobs WHERE lease_token IS NULL),
                       (SELECT count(*) FROM jobs WHERE lease_token IS NOT NULL),
                       (SELECT count(*) FROM dead_jobs)",
                    [],
                    |row| {
                        Ok(QueueStats::new(
                            count(row.get(0)?),
                            count(row.get(1)?),
                            count(row.get(2)?),
                        ))
                    },
                )
                .map_err(db_error)
            })
            .await
    }

    async fn dead_jobs(&self, limit: u32) -> Result<Vec<DeadJob>, QueueError> {
        self.db
            .with(move |conn| {
                let mut statement = conn
                    .prepare(
                        "SELECT object_key, attempts, reason, buried_at_ms FROM dead_jobs
                         ORDER BY seq DESC LIMIT ?1",
                    )
                    .map_err(db_error)?;
                let rows = statement
                    .query_map(params![i64::from(limit)], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, u32>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    })
                    .map_err(db_error)?;
                let mut dead = Vec::new();
                for row in rows {
                    let (key, attempts, reason, at) = row.map_err(db_error)?;
                    dead.push(DeadJob::new(key_of(&key)?, attempts, reason, instant(at)?));
                }
                Ok(dead)
            })
            .await
    }

    async fn revive(&self, key: &ObjectKey, due: Timestamp) -> Result<bool, QueueError> {
        let key = key.as_str().to_owned();
        self.db
            .with(move |conn| {
                let buried = conn
                    .execute("DELETE FROM dead_jobs WHERE object_key = ?1", params![key])
                    .map_err(db_error)?;
                if buried == 0 {
                    return Ok(false);
                }
                // In the same transaction: the job leaves the dead only to wait in the queue.
                enqueue_row(conn, &key, millis(due))?;
                Ok(true)
            })
            .await
    }

    async fn forget_dead(&self, key: &ObjectKey) -> Result<bool, QueueError> {
        let key = key.as_str().to_owned();
        self.db
            .with(move |conn| {
                let buried = conn
                    .execute("DELETE FROM dead_jobs WHERE object_key = ?1", params![key])
                    .map_err(db_error)?;
                Ok(buried > 0)
            })
            .await
    }
}
