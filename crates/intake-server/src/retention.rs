//! The retention rule, scheduled: soft-deleted images are purged once they have been deleted longer
//! than the configured time (`--retention-days`; off by default), looked at a minute after start and
//! then every hour.

use std::time::Duration;

use intake_domain::{Intake, error_chain};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often retention runs.
pub const RETENTION_PERIOD: Duration = Duration::from_secs(3600);

/// The most images one run purges (the next run goes on).
const PER_RUN: usize = 10_000;

/// The running retention task; [`Retention::stop`] ends it.
#[derive(Debug)]
pub struct Retention {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Retention {
    /// Purges images deleted more than `after` ago, a minute after start and then every
    /// [`RETENTION_PERIOD`].
    pub fn start(intake: Intake, after: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut wait = Duration::from_secs(60);
            loop {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => return,
                }
                wait = RETENTION_PERIOD;
                match intake.purge_expired(after, PER_RUN).await {
                    Ok(0) => tracing::debug!("retention: nothing to purge"),
                    Ok(purged) => {
                        tracing::info!(purged, "retention purged images deleted long enough ago");
                    }
                    Err(error) => {
                        tracing::warn!(error = %error_chain(&error), "retention could not run; it runs again in an hour");
                    }
                }
            }
        });
        Self { task, stop }
    }

    /// Stops the task (a purge in progress is cut off: it is finished by the next run).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.abort();
        let _ = self.task.await;
    }
}
