//! Recovery at start: what a previous process left in flight (processing claims, job leases) is
//! ended, so that its work resumes.

use intake_domain::Intake;
use intake_domain::ports::JobQueue;

use super::ServeError;

/// What a start found left over from a previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Recovered {
    /// Processing claims ended.
    pub claims: u64,
    /// Job leases ended.
    pub leases: u64,
    /// Jobs waiting (including those).
    pub waiting: u64,
    /// Webhook delivery leases ended.
    pub deliveries: u64,
}

/// Ends what a previous process left in flight: it held the lock, so nobody else can be working.
pub(super) async fn recover(
    intake: &Intake,
    queue: &dyn JobQueue,
) -> Result<Recovered, ServeError> {
    let claims = intake
        .end_stale_claims()
        .await
        .map_err(ServeError::Recovery)?;
    let leases = queue.release_all().await?;
    let waiting = queue.stats().await?.waiting;
    if claims + leases > 0 || waiting > 0 {
        tracing::info!(
            claims,
            leases,
            waiting,
            "resuming work left by the previous run"
        );
    }
    Ok(Recovered {
        claims,
        leases,
        waiting,
        deliveries: 0,
    })
}
