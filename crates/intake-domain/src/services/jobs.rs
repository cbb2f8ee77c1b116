//! Running jobs from a [`JobQueue`]: the retry and give-up rules of queue-driven processing, so that
//! every queue (SQLite on the local server, memory for embedders) behaves the same.

use std::time::Duration;

use super::{Intake, IntakeConfig, ObjectCreated, ProcessOutcome};
use crate::error::{IntakeError, error_chain};
use crate::model::{ImageStatus, ObjectKey, Timestamp};
use crate::ports::{Job, JobQueue, ListQuery, MAX_PAGE_LIMIT, QueueError};

/// How queued jobs are leased, retried and given up on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct JobPolicy {
    /// How long a worker holds a job before another may take it: longer than the processing lease,
    /// so a live worker is never overtaken.
    pub lease: Duration,
    /// The delay before the first retry; it doubles with each attempt.
    pub backoff_base: Duration,
    /// The longest delay between retries.
    pub backoff_max: Duration,
    /// After this many leases the job is given up on (buried). The record's own attempt limit
    /// ([`IntakeConfig::max_attempts`]) normally ends retries first; this bounds failures that happen
    /// before a claim, such as an unreachable database.
    pub max_attempts: u32,
}

impl JobPolicy {
    /// The policy that fits `config`: a lease one minute longer than the processing lease, retries
    /// after 1 s, 2 s, 4 s ... up to 5 minutes, and four times the record's attempt limit.
    pub fn for_config(config: &IntakeConfig) -> Self {
        Self {
            lease: config.processing_lease + Duration::from_secs(60),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            max_attempts: config.max_attempts.saturating_mul(4).max(1),
        }
    }

    /// With retry delays starting at `base` and capped at `max`.
    #[must_use]
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max.max(base);
        self
    }

    /// With a lease length.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// With a lease limit.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay after the `attempts`-th failure: exponential, capped, with "equal jitter" (half the
    /// delay fixed, half scaled by `jitter` in `0.0..=1.0`) so retries of a burst spread out.
    pub fn backoff(&self, attempts: u32, jitter: f64) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let full = self
            .backoff_base
            .saturating_mul(1u32 << exponent)
            .min(self.backoff_max);
        let half = full / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// What running one job did.
#[derive(Debug)]
#[non_exhaustive]
pub enum JobReport {
    /// Processing reached an outcome; the job left the queue.
    Finished {
        /// The object.
        key: ObjectKey,
        /// What processing did.
        outcome: ProcessOutcome,
    },
    /// A retryable error; the job waits until `due`.
    Retrying {
        /// The object.
        key: ObjectKey,
        /// Leases so far.
        attempts: u32,
        /// When it runs again.
        due: Timestamp,
        /// What failed.
        error: IntakeError,
    },
    /// Another processor holds the image; the job waits until its claim ends.
    Deferred {
        /// The object.
        key: ObjectKey,
        /// When it runs again.
        due: Timestamp,
    },
    /// The job was given up on and buried.
    Buried {
        /// The object.
        key: ObjectKey,
        /// Why.
        reason: String,
    },
}

impl JobReport {
    /// The job's object.
    pub fn key(&self) -> &ObjectKey {
        match self {
            Self::Finished { key, .. }
            | Self::Retrying { key, .. }
            | Self::Deferred { key, .. }
            | Self::Buried { key, .. } => key,
        }
    }
}

/// How long a queue that redelivers messages itself (SQS) should wait before the next delivery of a
/// notification whose processing failed for the `receives`-th time: 10 s, 20 s, 40 s ... up to 15
/// minutes, with the same jitter as [`JobPolicy::backoff`], so that an outage is not hammered and a
/// passing fault is retried within seconds.
pub fn redelivery_delay(receives: u32) -> Duration {
    JobPolicy {
        lease: Duration::ZERO,
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_mins(15),
        max_attempts: 1,
    }
    .backoff(receives, jitter())
}

/// How long a queue that redelivers messages itself should wait before delivering again a notification
/// for an image another processor holds until `until`: until that lease has ended (with a second's
/// margin), at least a second. The redelivery then finds the image done, or takes over a processor
/// that died.
pub fn redelivery_after_lease(now: Timestamp, until: Timestamp) -> Duration {
    let millis = until
        .unix_millis()
        .saturating_sub(now.unix_millis())
        .saturating_add(1000);
    Duration::from_millis(u64::try_from(millis).unwrap_or(1000).max(1000))
}

/// A random number in `0.0..1.0` for jitter ([`JobPolicy::backoff`]), from the operating system's
/// generator.
pub fn jitter() -> f64 {
    let bits = u64::from_le_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or([0; 8]),
    );
    #[allow(clippy::cast_precision_loss)]
    let fraction = (bits >> 11) as f64 / (1u64 << 53) as f64;
    fraction
}

/// A lease lost while reporting means another worker took the job over; it will see the record's
/// state, so the report is dropped rather than treated as a failure.
fn tolerate_lost(result: Result<(), QueueError>) -> Result<(), QueueError> {
    match result {
        Err(QueueError::LeaseLost { .. }) => Ok(()),
        other => other,
    }
}

impl Intake {
    /// Leases the next due job from `queue`, processes its object, and reports back to the queue:
    /// done (any processing outcome), retry later with backoff (retryable errors), wait for another
    /// processor's claim to end, or bury (errors that no retry can fix, or too many attempts).
    ///
    /// Returns `None` when no job is due. Safe to call from many workers at once.
    ///
    /// # Errors
    /// [`QueueError`] when the queue itself fails; processing errors are reported to the queue, not
    /// returned.
    pub async fn run_next_job(
        &self,
        queue: &dyn JobQueue,
        policy: &JobPolicy,
    ) -> Result<Option<JobReport>, QueueError> {
        let now = self.inner.clock.now();
        let Some(job) = queue.lease(now, policy.lease).await? else {
            return Ok(None);
        };
        if job.attempts > policy.max_attempts {
            let reason = format!(
                "gave up after {} attempts; last error: {}",
                job.attempts - 1,
                job.last_error.as_deref().unwrap_or("none recorded")
            );
            tolerate_lost(queue.bury(&job, &reason, now).await)?;
            return Ok(Some(JobReport::Buried {
                key: job.key,
                reason,
            }));
        }
        let event = ObjectCreated::new(self.bucket(), job.key.clone());
        let result = self.process_object_created(&event).await;
        self.report(queue, policy, job, result).await.map(Some)
    }

    async fn report(
        &self,
        queue: &dyn JobQueue,
        policy: &JobPolicy,
        job: Job,
        result: Result<ProcessOutcome, IntakeError>,
    ) -> Result<JobReport, QueueError> {
        let now = self.inner.clock.now();
        match result {
            Ok(ProcessOutcome::InProgress {
                lease_expires_at, ..
            }) => {
                let due = lease_expires_at
                    .filter(|&at| at > now)
                    .unwrap_or_else(|| now.saturating_add(policy.backoff_base));
                tolerate_lost(
                    queue
                        .retry(&job, due, "another processor holds the image")
                        .await,
                )?;
                Ok(JobReport::Deferred { key: job.key, due })
            }
            Ok(outcome) => {
                tolerate_lost(queue.complete(&job).await)?;
                Ok(JobReport::Finished {
                    key: job.key,
                    outcome,
                })
            }
            Err(error) if error.is_retryable() => {
                let due = now.saturating_add(policy.backoff(job.attempts, jitter()));
                tolerate_lost(queue.retry(&job, due, &error_chain(&error)).await)?;
                Ok(JobReport::Retrying {
                    key: job.key,
                    attempts: job.attempts,
                    due,
                    error,
                })
            }
            Err(error) => {
                let reason = format!("{}: {}", error.code(), error_chain(&error));
                tolerate_lost(queue.bury(&job, &reason, now).await)?;
                Ok(JobReport::Buried {
                    key: job.key,
                    reason,
                })
            }
        }
    }

    /// Ends every processing claim, returning how many there were. For a server starting on data it
    /// owns alone (its data directory locked): claims left by a process that died are stale, and
    /// without this their images would wait for the processing lease to run out.
    ///
    /// Never call it while another processor may be working on the same repository.
    ///
    /// # Errors
    /// [`IntakeError`] when the repository fails.
    pub async fn end_stale_claims(&self) -> Result<u64, IntakeError> {
        let mut ended = 0;
        let mut query = ListQuery::new([ImageStatus::Processing], MAX_PAGE_LIMIT);
        loop {
            let page = self.inner.repository.list(&query).await?;
            for record in &page.records {
                if record.lease_expires_at().is_some() {
                    self.release(record, None).await;
                    ended += 1;
                }
            }
            match page.next_cursor {
                Some(cursor) => query = query.after(Some(cursor)),
                None => return Ok(ended),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_image_is_redelivered_just_after_its_lease() {
        let now = Timestamp::from_unix_millis(1_000_000).unwrap();
        let until = now.saturating_add(Duration::from_secs(90));
        assert_eq!(redelivery_after_lease(now, until), Duration::from_secs(91));
        assert_eq!(redelivery_after_lease(until, now), Duration::from_secs(1));
    }

    #[test]
    fn redeliveries_back_off_from_seconds_to_a_quarter_hour() {
        let first = redelivery_delay(1);
        assert!(first >= Duration::from_secs(5) && first <= Duration::from_secs(10));
        let third = redelivery_delay(3);
        assert!(third >= Duration::from_secs(20) && third <= Duration::from_secs(40));
        let late = redelivery_delay(50);
        assert!(late >= Duration::from_secs(450) && late <= Duration::from_mins(15));
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_within_bounds() {
        let policy = JobPolicy::for_config(&IntakeConfig::default())
            .with_backoff(Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(policy.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(policy.backoff(30, 1.0), Duration::from_secs(60));
        assert_eq!(policy.backoff(u32::MAX, 0.0), Duration::from_secs(30));
        for _ in 0..100 {
            let delay = policy.backoff(2, jitter());
            assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2));
        }
    }

    #[test]
    fn default_lease_outlasts_the_processing_lease() {
        let config = IntakeConfig::default();
        let policy = JobPolicy::for_config(&config);
        assert!(policy.lease > config.processing_lease);
        assert_eq!(policy.max_attempts, config.max_attempts * 4);
    }
}
