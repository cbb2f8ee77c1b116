//! A pool of Tokio tasks running [`Intake::run_next_job`] against a [`JobQueue`]: the local server's
//! processors. Each worker takes the next due job; when none is due it sleeps until the queue says the
//! next one is (at most [`IDLE_POLL`]) or until an upload wakes it.

use std::sync::Arc;
use std::time::Duration;

use intake_domain::Intake;
use intake_domain::error_chain;
use intake_domain::ports::{Clock, JobQueue};
use intake_domain::services::{JobPolicy, JobReport, ProcessOutcome};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// The longest an idle worker sleeps before looking at the queue again.
pub const IDLE_POLL: Duration = Duration::from_secs(2);

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
        let (stop, stopped) = watch::channel(false);
        let shared = Shared {
            intake,
            queue,
            clock,
            policy,
            wake,
        };
        let mut tasks = JoinSet::new();
        for worker in 0..count.max(1) {
            tasks.spawn(run(worker, shared.clone(), stopped.clone()));
        }
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
        match shared
            .intake
            .run_next_job(shared.queue.as_ref(), &shared.policy)
            .await
        {
            Ok(Some(report)) => {
                failures = 0;
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
            if let Some(record) = outcome.record() {
                tracing::info!(
                    worker,
                    image_id = %record.image_id,
                    status = record.status.as_str(),
                    sha256 = record.sha256.map(|s| s.to_hex()).unwrap_or_default(),
                    "processed {key}"
                );
            } else {
                let what = match outcome {
                    ProcessOutcome::Skipped { reason, .. } => format!("skipped ({reason:?})"),
                    other => format!("{other:?}"),
                };
                tracing::info!(worker, key = %key, "{what}");
            }
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
