use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

use super::{Failure, FailureKind, PortError};
use crate::model::{ObjectKey, Timestamp};

/// A job leased from a [`JobQueue`]: process the object under `key`.
///
/// At most one job exists per key. The lease `token` proves the holder still owns the job when it
/// reports back; a job whose lease expired may be leased again by another worker, and the first
/// holder's report is then refused with [`QueueError::LeaseLost`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Job {
    /// The object to process.
    pub key: ObjectKey,
    /// How many times the job has been leased, this lease included.
    pub attempts: u32,
    /// The lease's token.
    pub token: u64,
    /// When the lease ends unless reported on.
    pub lease_expires_at: Timestamp,
    /// The error the previous attempt reported, if any.
    pub last_error: Option<String>,
    /// When the job became due (how long it waited for a worker is the lease's start minus this).
    pub due_at: Option<Timestamp>,
}

impl Job {
    /// A leased job (for queue adapters).
    pub fn new(key: ObjectKey, attempts: u32, token: u64, lease_expires_at: Timestamp) -> Self {
        Self {
            key,
            attempts,
            token,
            lease_expires_at,
            last_error: None,
            due_at: None,
        }
    }

    /// With the instant the job became due.
    #[must_use]
    pub fn with_due(mut self, due: Timestamp) -> Self {
        self.due_at = Some(due);
        self
    }

    /// With the previous attempt's error.
    #[must_use]
    pub fn with_last_error(mut self, error: Option<String>) -> Self {
        self.last_error = error;
        self
    }
}

/// A job that was given up on, kept for inspection.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct DeadJob {
    /// The object.
    pub key: ObjectKey,
    /// How many times it was leased.
    pub attempts: u32,
    /// Why it was given up on.
    pub reason: String,
    /// When.
    pub buried_at: Timestamp,
}

impl DeadJob {
    /// A dead job (for queue adapters).
    pub fn new(key: ObjectKey, attempts: u32, reason: String, buried_at: Timestamp) -> Self {
        Self {
            key,
            attempts,
            reason,
            buried_at,
        }
    }
}

/// How many jobs are in each state.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct QueueStats {
    /// Waiting (due now or later), not leased.
    pub waiting: u64,
    /// Leased by a worker (including leases that expired and are not yet taken again).
    pub leased: u64,
    /// Given up on.
    pub dead: u64,
}

impl QueueStats {
    /// Counts (for queue adapters).
    pub fn new(waiting: u64, leased: u64, dead: u64) -> Self {
        Self {
            waiting,
            leased,
            dead,
        }
    }

    /// Jobs that still have to run (waiting or leased).
    pub fn outstanding(&self) -> u64 {
        self.waiting + self.leased
    }
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The job's lease expired and another worker took it (or it was completed): the report was not applied.
    #[error("the lease on the job for {key} was lost")]
    LeaseLost {
        /// The job's key.
        key: String,
    },
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("the job queue {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for QueueError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// A durable queue of processing jobs, one per object key: the local server's replacement for S3
/// event notifications delivered through SQS.
///
/// Jobs are leased, not popped: a worker that dies leaves a lease that expires, and the job runs
/// again. Retries are scheduled by the caller ([`crate::Intake::run_next_job`] holds the policy).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait JobQueue: Send + Sync + Debug {
    /// Schedules processing of `key` at `due`. If a job for `key` is waiting, it becomes due at the
    /// earlier of the two instants; if it is leased, it runs again after the current attempt reports
    /// back (a completed attempt then leaves it waiting, due at `due`, rather than removing it).
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails; nothing was scheduled.
    async fn enqueue(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError>;

    /// Leases the job that has been due longest (due at or before `now`, not leased or with a lease
    /// that ended), until `now + lease`, counting an attempt. `None` when no job is due.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn lease(&self, now: Timestamp, lease: Duration) -> Result<Option<Job>, QueueError>;

    /// Removes a finished job, unless it was enqueued again during the attempt: then it waits again as
    /// a new delivery, its attempts and last error cleared (they counted the finished one's tries, so a
    /// storm of re-deliveries cannot wear out a job that keeps succeeding).
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when `job`'s lease is no longer held.
    async fn complete(&self, job: &Job) -> Result<(), QueueError>;

    /// Ends the lease and makes the job wait until `due`, noting `error`.
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when `job`'s lease is no longer held.
    async fn retry(&self, job: &Job, due: Timestamp, error: &str) -> Result<(), QueueError>;

    /// Gives up on the job: it leaves the queue and is kept as a [`DeadJob`] with `reason`.
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when `job`'s lease is no longer held.
    async fn bury(&self, job: &Job, reason: &str, now: Timestamp) -> Result<(), QueueError>;

    /// Ends every lease, making those jobs due at once. Only for a caller that knows no worker is alive
    /// (a server starting on a data directory it has locked); returns how many leases ended.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn release_all(&self) -> Result<u64, QueueError>;

    /// When the next waiting job becomes due, or when the earliest lease ends, whichever is first;
    /// `None` when the queue is empty. Workers sleep until then.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn next_due(&self) -> Result<Option<Timestamp>, QueueError>;

    /// Counts of jobs by state.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn stats(&self) -> Result<QueueStats, QueueError>;

    /// The most recently buried jobs, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn dead_jobs(&self, limit: u32) -> Result<Vec<DeadJob>, QueueError>;

    /// Takes the dead job of `key` (every burial of it) back into the queue, due at `due`, as a new
    /// job with no attempts counted (as [`enqueue`](Self::enqueue) would, if the key is queued
    /// meanwhile). `false`, changing nothing, when `key` has no dead job.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails; nothing changed.
    async fn revive(&self, key: &ObjectKey, due: Timestamp) -> Result<bool, QueueError>;

    /// Forgets the dead job of `key` (every burial of it); `false` when there was none.
    ///
    /// # Errors
    /// [`QueueError`] when the storage fails.
    async fn forget_dead(&self, key: &ObjectKey) -> Result<bool, QueueError>;
}
