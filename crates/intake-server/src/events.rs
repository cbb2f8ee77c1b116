//! The local server's events: one task drains the records' outbox into webhook deliveries
//! ([`Intake::publish_events`] with [`Webhooks`] as the publisher), and a few tasks make the delivery
//! attempts ([`Webhooks::deliver_next`]). Both are durable: the outbox and the deliveries live in the
//! database, so a crash at any point leaves every committed event to be delivered after the restart
//! (at least once, with the same `webhook-id`).

use std::sync::Arc;
use std::time::Duration;

use intake_domain::ports::{Clock, EventOutbox};
use intake_domain::services::JobPolicy;
use intake_domain::{Intake, IntakeConfig, error_chain};
use intake_webhooks::{AttemptOutcome, Webhooks};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::metrics::Metrics;

/// How often the outbox is looked at when nothing woke the pump.
pub const OUTBOX_POLL: Duration = Duration::from_millis(200);

/// The longest an idle delivery worker sleeps before looking again.
const DELIVERY_POLL: Duration = Duration::from_secs(1);

/// Running event tasks; [`EventPump::shutdown`] stops them.
#[derive(Debug)]
pub struct EventPump {
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

/// What the tasks share.
#[derive(Debug, Clone)]
struct Shared {
    intake: Intake,
    outbox: Arc<dyn EventOutbox>,
    webhooks: Webhooks,
    clock: Arc<dyn Clock>,
    /// Deliveries were queued: a worker should look now.
    queued: Arc<Notify>,
    /// Where attempts are counted.
    metrics: Arc<Metrics>,
}

impl EventPump {
    /// Starts the outbox drain and `senders` delivery workers (at least one), counting attempts in
    /// `metrics`.
    pub fn start(
        intake: Intake,
        outbox: Arc<dyn EventOutbox>,
        webhooks: Webhooks,
        clock: Arc<dyn Clock>,
        senders: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let shared = Shared {
            intake,
            outbox,
            webhooks,
            clock,
            queued: Arc::new(Notify::new()),
            metrics,
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(drain(shared.clone(), stopped.clone()));
        for worker in 0..senders.max(1) {
            tasks.spawn(deliver(worker, shared.clone(), stopped.clone()));
        }
        Self { tasks, stop }
    }

    /// Stops the tasks, letting attempts in progress finish for up to `grace` (an attempt cut off is
    /// made again after the next start: its lease is released then).
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let finished = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            self.tasks.shutdown().await;
        }
    }
}

/// Waits `pause`, or less if `stopped` changes; `false` when stopping.
async fn pause(pause: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => !*stopped.borrow(),
        _ = stopped.changed() => false,
    }
}

/// The back-off after `failures` failures in a row: 1 s, 2 s, 4 s ... at most 30 s.
fn backoff(failures: u32) -> Duration {
    JobPolicy::for_config(&IntakeConfig::default())
        .with_backoff(Duration::from_secs(1), Duration::from_secs(30))
        .backoff(failures, 1.0)
}

/// Moves committed events from the outbox into deliveries, batch after batch.
async fn drain(shared: Shared, mut stopped: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *stopped.borrow() {
            return;
        }
        let wait = match shared
            .intake
            .publish_events(shared.outbox.as_ref(), &shared.webhooks)
            .await
        {
            Ok(0) => {
                failures = 0;
                OUTBOX_POLL
            }
            Ok(published) => {
                failures = 0;
                tracing::debug!(published, "events handed to webhooks");
                shared.queued.notify_waiters();
                Duration::ZERO
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let wait = backoff(failures);
                tracing::warn!(error = %error_chain(&error), retry_in_ms = wait.as_millis(), "publishing events failed; they stay in the outbox");
                wait
            }
        };
        if !wait.is_zero() && !pause(wait, &mut stopped).await {
            return;
        }
    }
}

/// Makes delivery attempts as they come due.
async fn deliver(worker: usize, shared: Shared, mut stopped: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *stopped.borrow() {
            return;
        }
        match shared.webhooks.deliver_next().await {
            Ok(Some(outcome)) => {
                failures = 0;
                shared.metrics.delivery(&outcome);
                if let AttemptOutcome::Delivered { webhook, status } = &outcome {
                    tracing::debug!(worker, webhook = %webhook, status, "webhook delivered");
                }
            }
            Ok(None) => {
                failures = 0;
                let wait = match shared.webhooks.next_due().await {
                    Ok(Some(due)) => due
                        .duration_since(shared.clock.now())
                        .clamp(Duration::from_millis(10), DELIVERY_POLL),
                    _ => DELIVERY_POLL,
                };
                tokio::select! {
                    () = shared.queued.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => return,
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let wait = backoff(failures);
                tracing::error!(worker, error = %error_chain(&error), retry_in_ms = wait.as_millis(), "the webhook store failed");
                if !pause(wait, &mut stopped).await {
                    return;
                }
            }
        }
    }
}
