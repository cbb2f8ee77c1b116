//! A pool of Tokio tasks running [`Intake::run_next_job`] against a [`JobQueue`]: the local server's
//! processors. Each worker takes the next due job; when none is due it sleeps until the queue says the
//! next one is (at most [`IDLE_POLL`]) or until an upload wakes it.
//!
//! When storage runs out, a job's result, the release of its claim and its report to the queue may
//! all fail: the claim and the job's lease would then hold the image for the whole lease (15 minutes)
//! after space comes back. The pool marks such jobs *stranded*, and a recovery task, once no job is
//! running (it holds every worker off meanwhile), ends the stale claims and leases exactly as a
//! start does, so work resumes within [`RECOVERY_POLL`] of the first write that succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use intake_domain::Intake;
use intake_domain::error_chain;
use intake_domain::ports::{Clock, JobQueue, PortError};
use intake_domain::services::{JobPolicy, JobReport};
use tokio::sync::{Notify, RwLock, watch};
use tokio::task::JoinSet;

use crate::metrics::Metrics;

/// The longest an idle worker sleeps before looking at the queue again.
pub const IDLE_POLL: Duration = Duration::from_secs(2);

/// How often stranded work (claims and leases left by writes that failed for lack of space) is
/// tried for recovery.
pub const RECOVERY_POLL: Duration = Duration::from_secs(1);

/// Running workers; [`WorkerPool::shutdown`] stops them.
#[derive(Debug)]
pub struct WorkerPool {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

/// What the workers share.
#[derive(Debug, Clone)]
struct Shared {
    intake: Intake,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    policy: JobPolicy,
    wake: Arc<Notify>,
    /// Held shared by a worker around each job, and exclusively by recovery: while recovery holds
    /// it no job is in flight, so every claim and lease it finds is stale.
    gate: Arc<RwLock<()>>,
    /// A job's writes failed for lack of space: its claim or lease may be stranded.
    stranded: Arc<AtomicBool>,
    /// Where outcomes are counted, if anywhere.
    metrics: Option<Arc<Metrics>>,
}

impl WorkerPool {
    /// Starts `count` workers (at least one) processing jobs from `queue` with `intake` under `policy`;
    /// `wake` is notified when a job is enqueued.
    pub fn start(
        count: usize,
        intake: Intake,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        policy: JobPolicy,
        wake: Arc<Notify>,
    ) -> Self {
        Self::start_observed(count, intake, queue, clock, policy, wake, None)
    }

    /// As [`WorkerPool::start`], counting each job's outcome in `metrics`.
    pub fn start_observed(
        count: usize,
        intake: Intake,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        policy: JobPolicy,
        wake: Arc<Notify>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let shared = Shared {
            intake,
            queue,
            clock,
            policy,
            wake,
            gate: Arc::default(),
            stranded: Arc::default(),
            metrics,
        };
        let mut tasks = JoinSet::new();
        for worker in 0..count.max(1) {
            tasks.spawn(run(worker, shared.clone(), stopped.clone()));
        }
        tasks.spawn(recover_stranded(shared, stopped));
        Self { tasks, stop }
    }

    /// Stops taking jobs and lets jobs in progress finish for up to `grace`; jobs still running then are
    /// abandoned, which is safe: their leases and claims end and the next start runs them again.
    /// Returns how many workers had to be abandoned.
    pub async fn shutdown(mut self, grace: Duration) -> usize {
        let _ = self.stop.send(true);
        let finished = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_ok() {
            return 0;
        }
        let abandoned = self.tasks.len();
        self.tasks.shutdown().await;
        abandoned
    }
}

async fn run(worker: usize, shared: Shared, mut stopped: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *stopped.borrow() {
            return;
        }
        let result = {
            let _running = shared.gate.read().await;
            shared
                .intake
                .run_next_job(shared.queue.as_ref(), &shared.policy)
                .await
        };
        let out_of_space = match &result {
            Err(error) => error.is_storage_full(),
            Ok(Some(JobReport::Retrying { error, .. })) => error.is_storage_full(),
            _ => false,
        };
        if out_of_space && !shared.stranded.swap(true, Ordering::SeqCst) {
            tracing::warn!(
                worker,
                "no space left to record a job's result; its work resumes once space is freed"
            );
        }
        match result {
            Ok(Some(report)) => {
                failures = 0;
                if let Some(metrics) = &shared.metrics {
                    metrics.job_report(&report);
                }
                log(worker, &report);
                // Another job may be due: pass the wake-up on rather than let it wait for a poll.
                shared.wake.notify_one();
            }
            Ok(None) => {
                failures = 0;
                let pause = idle_pause(&shared).await;
                tokio::select! {
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep(pause) => {}
                    _ = stopped.changed() => return,
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let pause = shared.policy.backoff(failures, 1.0).min(IDLE_POLL * 5);
                tracing::error!(worker, error = %error_chain(&error), retry_in_ms = pause.as_millis(), "the job queue failed");
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    }
}

/// Ends stranded claims and leases once storage can be written again: every [`RECOVERY_POLL`] while
/// work is stranded, with every worker held off, it does what a start does
/// ([`Intake::end_stale_claims`], [`JobQueue::release_all`]); a failure (still no space) is tried again
/// at the next poll.
async fn recover_stranded(shared: Shared, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RECOVERY_POLL) => {}
            _ = stopped.changed() => return,
        }
        if !shared.stranded.load(Ordering::SeqCst) {
            continue;
        }
        let _all = shared.gate.write().await;
        let claims = match shared.intake.end_stale_claims().await {
            Ok(claims) => claims,
            Err(error) => {
                tracing::debug!(error = %error_chain(&error), "stranded work not recovered yet");
                continue;
            }
        };
        match shared.queue.release_all().await {
            Ok(leases) => {
                shared.stranded.store(false, Ordering::SeqCst);
                tracing::info!(
                    claims,
                    leases,
                    "storage is writable again; stranded work resumes"
                );
                shared.wake.notify_waiters();
            }
            Err(error) => {
                tracing::debug!(error = %error_chain(&error), "stranded work not recovered yet");
            }
        }
    }
}

/// How long to sleep with nothing due: until the next job is due, within `0..=IDLE_POLL`.
async fn idle_pause(shared: &Shared) -> Duration {
    match shared.queue.next_due().await {
        Ok(Some(due)) => {
            let now = shared.clock.now();
            if due <= now {
                Duration::from_millis(10)
            } else {
                due.duration_since(now).min(IDLE_POLL)
            }
        }
        _ => IDLE_POLL,
    }
}

fn log(worker: usize, report: &JobReport) {
    match report {
        JobReport::Finished { key, outcome } => {
            tracing::info_span!("worker", worker).in_scope(|| outcome.log(key));
        }
        JobReport::Retrying {
            key,
            attempts,
            due,
            error,
        } => {
            tracing::warn!(worker, key = %key, attempts, due = %due, error = %error_chain(error), "will retry");
        }
        JobReport::Deferred { key, due } => {
            tracing::info!(worker, key = %key, due = %due, "held by another processor; deferred");
        }
        JobReport::Buried { key, reason } => {
            tracing::error!(worker, key = %key, reason, "gave up on the job");
        }
        _ => tracing::info!(worker, key = %report.key(), "job done"),
    }
}
