//! Concurrency: taking an image for processing, writing its result over the claim, and giving the
//! claim up. Every write is conditional on the version read, so two processors never both win.

use super::outcome::{ProcessOutcome, SkipReason};
use super::rules::exhausted_message;
use super::{Intake, MAX_RACES};
use crate::error::IntakeError;
use crate::model::{FailureCode, ImageRecord, Measurements, ObjectKey, TransitionError};
use crate::ports::RepoError;

/// Whether this processor took the image, or what the notification comes to without it.
pub(super) enum Claim {
    /// The claimed record.
    Won(Box<ImageRecord>),
    /// Nothing to process.
    Settled(ProcessOutcome),
}

impl Intake {
    /// Takes the image for processing with a conditional write, or says why not. An image that has
    /// used every attempt fails instead.
    pub(super) async fn claim(&self, key: &ObjectKey) -> Result<Claim, IntakeError> {
        let inner = &self.inner;
        let id = key.image_id();
        for _ in 0..MAX_RACES {
            let stored = inner.repository.get(&id).await?;
            if stored.as_ref().is_some_and(ImageRecord::is_purged) {
                // An upload that arrived after its image was purged (its URL was still valid) goes
                // the way of the rest.
                inner.store.purge(key).await?;
                return Ok(Claim::Settled(ProcessOutcome::Skipped {
                    image_id: id,
                    reason: SkipReason::Deleted,
                }));
            }
            let current = super::issued(key, stored)?;
            let now = inner.clock.now();
            let next = match current.claimable(now) {
                Err(TransitionError::Deleted { .. }) => {
                    return Ok(Claim::Settled(ProcessOutcome::Skipped {
                        image_id: id,
                        reason: SkipReason::Deleted,
                    }));
                }
                Err(TransitionError::Claimed { until, .. }) => {
                    return Ok(Claim::Settled(ProcessOutcome::InProgress {
                        image_id: id,
                        lease_expires_at: Some(until),
                    }));
                }
                Err(_) => {
                    return Ok(Claim::Settled(ProcessOutcome::AlreadyDone(Box::new(
                        current,
                    ))));
                }
                Ok(()) if current.attempts() >= inner.config.max_attempts => current.fail(
                    now,
                    None,
                    FailureCode::RetriesExhausted,
                    exhausted_message(current.attempts(), None),
                )?,
                Ok(()) => current.claim(now, inner.config.processing_lease)?,
            };
            match self.commit(&current, &next).await {
                Ok(()) if next.is_terminal() => {
                    return Ok(Claim::Settled(ProcessOutcome::Failed(Box::new(next))));
                }
                Ok(()) => return Ok(Claim::Won(Box::new(next))),
                Err(RepoError::Precondition { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict { id })
    }

    /// Writes the result over the claim. If the record changed meanwhile (a delete, or a processor
    /// that reclaimed after the lease ran out) the result is rebased over the newer version unless
    /// that one is already terminal.
    pub(super) async fn finish(
        &self,
        claimed: &ImageRecord,
        mut done: ImageRecord,
    ) -> Result<ProcessOutcome, IntakeError> {
        let repository = &self.inner.repository;
        let mut before = claimed.clone();
        for _ in 0..MAX_RACES {
            match self.commit(&before, &done).await {
                Ok(()) => {
                    // Deleted while it was being processed: what processing stored since (the
                    // preview) goes the way the delete sent the rest. Best effort, as a delete is.
                    if done.is_deleted() {
                        let _ = self.delete_object(&done).await;
                    }
                    self.index_record(&done).await;
                    return Ok(ProcessOutcome::terminal(done));
                }
                Err(RepoError::Precondition { .. }) => {
                    let current = repository.get(&claimed.image_id()).await?.ok_or(
                        IntakeError::NotFound {
                            id: claimed.image_id(),
                        },
                    )?;
                    if current.is_purged() {
                        // Purged while it was being processed: nothing of this run may stay.
                        self.erase_bytes(&current).await?;
                        return Ok(ProcessOutcome::Skipped {
                            image_id: current.image_id(),
                            reason: SkipReason::Deleted,
                        });
                    }
                    // Finished, or set aside to be processed again since this run began: this
                    // run's result is stale.
                    if current.is_terminal() || current.history().len() != claimed.history().len() {
                        return Ok(ProcessOutcome::AlreadyDone(Box::new(current)));
                    }
                    done = done.rebased_over(&current);
                    before = current;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict {
            id: claimed.image_id(),
        })
    }

    /// Gives up a claim after a failure so that a retry can take the image at once, keeping what was
    /// measured of the object. Best effort: if the write fails, the lease runs out on its own.
    pub(in crate::services) async fn release(
        &self,
        claimed: &ImageRecord,
        measured: Option<&Measurements>,
    ) {
        if let Ok(released) = claimed.release(self.inner.clock.now(), measured) {
            let _ignored = self.commit(claimed, &released).await;
        }
    }
}
