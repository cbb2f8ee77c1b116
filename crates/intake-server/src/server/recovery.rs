//! Recovery at start: what a previous process left in flight (processing claims, job leases) is
//! ended, so that its work resumes.

use intake_domain::ports::JobQueue;
use intake_domain::{Intake, IntakeError};

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

/// Fills the fingerprint index from the records stored before it existed, once (a database that
/// has done it says so): before the workers start, so that nothing processes an image meanwhile.
/// Idempotent, so a start cut off half-way does it again.
pub(super) async fn backfill_fingerprints(
    intake: &Intake,
    database: &intake_local::SqliteDatabase,
) -> Result<(), ServeError> {
    let index = database.fingerprints();
    if index
        .backfilled()
        .await
        .map_err(IntakeError::from)
        .map_err(ServeError::Recovery)?
    {
        return Ok(());
    }
    let images = intake
        .index_stored_records()
        .await
        .map_err(ServeError::Recovery)?;
    index
        .mark_backfilled(images)
        .await
        .map_err(IntakeError::from)
        .map_err(ServeError::Recovery)?;
    tracing::info!(
        images,
        "the fingerprint index was filled from the stored records"
    );
    Ok(())
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
