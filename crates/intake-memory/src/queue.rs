use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{ObjectKey, Timestamp};
use intake_domain::ports::{DeadJob, Job, JobQueue, QueueError, QueueStats};

/// A job queue in memory: the same leases, retries and dead letters as the durable queues, for
/// embedders who drive processing themselves and for tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryJobQueue {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    jobs: BTreeMap<ObjectKey, Entry>,
    dead: Vec<DeadJob>,
    next_token: u64,
    /// Insertion order, so jobs due at the same instant run first-come first-served.
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    due: Timestamp,
    seq: u64,
    attempts: u32,
    lease: Option<(u64, Timestamp)>,
    /// Enqueued again while leased: when the attempt completes, wait until then instead of leaving.
    again: Option<Timestamp>,
    last_error: Option<String>,
}

impl MemoryJobQueue {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn lost(job: &Job) -> QueueError {
    QueueError::LeaseLost {
        key: job.key.to_string(),
    }
}

impl State {
    /// The entry `job` leases, if its lease is still the one held.
    fn held(&mut self, job: &Job) -> Result<&mut Entry, QueueError> {
        self.jobs
            .get_mut(&job.key)
            .filter(|entry| entry.lease.is_some_and(|(token, _)| token == job.token))
            .ok_or_else(|| lost(job))
    }
}

#[async_trait]
impl JobQueue for MemoryJobQueue {
    async fn enqueue(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        let mut state = self.state();
        state.next_seq += 1;
        let seq = state.next_seq;
        match state.jobs.get_mut(key) {
            Some(entry) if entry.lease.is_some() => {
                entry.again = Some(entry.again.map_or(due, |at| at.min(due)));
            }
            Some(entry) => entry.due = entry.due.min(due),
            None => {
                state.jobs.insert(
                    key.clone(),
                    Entry {
                        due,
                        seq,
                        attempts: 0,
                        lease: None,
                        again: None,
                        last_error: None,
                    },
                );
            }
        }
        Ok(())
    }

    async fn lease(&self, now: Timestamp, lease: Duration) -> Result<Option<Job>, QueueError> {
        let mut state = self.state();
        let free_at = |entry: &Entry| match entry.lease {
            Some((_, until)) => until,
            None => entry.due,
        };
        let Some(key) = state
            .jobs
            .iter()
            .filter(|(_, entry)| free_at(entry) <= now)
            .min_by_key(|(_, entry)| (free_at(entry), entry.seq))
            .map(|(key, _)| key.clone())
        else {
            return Ok(None);
        };
        state.next_token += 1;
        let token = state.next_token;
        let until = now.saturating_add(lease);
        let Some(entry) = state.jobs.get_mut(&key) else {
            return Ok(None);
        };
        entry.attempts += 1;
        entry.lease = Some((token, until));
        Ok(Some(
            Job::new(key, entry.attempts, token, until)
                .with_last_error(entry.last_error.clone())
                .with_due(entry.due),
        ))
    }

    async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        let mut state = self.state();
        let entry = state.held(job)?;
        if let Some(due) = entry.again.take() {
            entry.lease = None;
            entry.due = due;
            entry.attempts = 0;
            entry.last_error = None;
        } else {
            state.jobs.remove(&job.key);
        }
        Ok(())
    }

    async fn retry(&self, job: &Job, due: Timestamp, error: &str) -> Result<(), QueueError> {
        let mut state = self.state();
        let entry = state.held(job)?;
        entry.lease = None;
        entry.due = entry.again.take().map_or(due, |again| again.min(due));
        entry.last_error = Some(error.to_owned());
        Ok(())
    }

    async fn bury(&self, job: &Job, reason: &str, now: Timestamp) -> Result<(), QueueError> {
        let mut state = self.state();
        let attempts = state.held(job)?.attempts;
        state.jobs.remove(&job.key);
        state.dead.push(DeadJob::new(
            job.key.clone(),
            attempts,
            reason.to_owned(),
            now,
        ));
        Ok(())
    }

    async fn release_all(&self) -> Result<u64, QueueError> {
        let mut state = self.state();
        let mut released = 0;
        for entry in state.jobs.values_mut() {
            if entry.lease.take().is_some() {
                // `due` was reached when the job was leased, so the job is due at once.
                entry.due = entry.again.take().map_or(entry.due, |at| at.min(entry.due));
                released += 1;
            }
        }
        Ok(released)
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, QueueError> {
        Ok(self
            .state()
            .jobs
            .values()
            .map(|entry| entry.lease.map_or(entry.due, |(_, until)| until))
            .min())
    }

    async fn stats(&self) -> Result<QueueStats, QueueError> {
        let state = self.state();
        let leased = state.jobs.values().filter(|e| e.lease.is_some()).count() as u64;
        Ok(QueueStats::new(
            state.jobs.len() as u64 - leased,
            leased,
            state.dead.len() as u64,
        ))
    }

    async fn dead_jobs(&self, limit: u32) -> Result<Vec<DeadJob>, QueueError> {
        Ok(self
            .state()
            .dead
            .iter()
            .rev()
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn revive(&self, key: &ObjectKey, due: Timestamp) -> Result<bool, QueueError> {
        if !self.forget_dead(key).await? {
            return Ok(false);
        }
        self.enqueue(key, due).await?;
        Ok(true)
    }

    async fn forget_dead(&self, key: &ObjectKey) -> Result<bool, QueueError> {
        let mut state = self.state();
        let before = state.dead.len();
        state.dead.retain(|dead| dead.key != *key);
        Ok(state.dead.len() < before)
    }
}
