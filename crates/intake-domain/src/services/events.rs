//! Events: every write of a record commits the events its change reports (one rule, here), and the
//! outbox is drained to a publisher at least once.

use super::Intake;
use crate::error::IntakeError;
use crate::model::{EventId, ImageEvent, ImageRecord};
use crate::ports::{EventOutbox, EventPublisher, PublishError, RepoError};

/// The most events one drain reads and publishes at once.
pub const PUBLISH_BATCH: u32 = 100;

impl Intake {
    /// Writes `next` over `current` (the version it was derived from, or rebased over), with the
    /// events that change reports ([`ImageEvent::changes`]) in the same commit. Every service write of
    /// a record goes through here, so none can forget its events.
    pub(super) async fn commit(
        &self,
        current: &ImageRecord,
        next: &ImageRecord,
    ) -> Result<(), RepoError> {
        self.inner
            .repository
            .replace(
                next,
                current.version(),
                &ImageEvent::changes(current, next, self.inner.links),
            )
            .await
    }

    /// Publishes the oldest pending events of `outbox` (up to [`PUBLISH_BATCH`]) through `publisher`
    /// and acknowledges them; returns how many were published (0: the outbox is empty). Events are
    /// acknowledged only after the publisher took them, so a crash or a failure in between publishes
    /// them again (same ids): delivery is at least once and never of an uncommitted change.
    ///
    /// When the publisher refuses some events, the ones before the first refused are acknowledged
    /// and the error is returned: the rest wait, in order, for the next drain.
    ///
    /// # Errors
    /// [`IntakeError::Publish`] when the publisher failed; [`IntakeError::Repository`] when the outbox
    /// could not be read or acknowledged.
    pub async fn publish_events(
        &self,
        outbox: &dyn EventOutbox,
        publisher: &dyn EventPublisher,
    ) -> Result<usize, IntakeError> {
        let events = outbox.pending(PUBLISH_BATCH).await?;
        if events.is_empty() {
            return Ok(0);
        }
        match publisher.publish(&events).await {
            Ok(()) => {
                let ids: Vec<EventId> = events.iter().map(ImageEvent::id).collect();
                outbox.acknowledge(&ids).await?;
                Ok(events.len())
            }
            Err(error) => {
                if let PublishError::Refused { refused, .. } = &error {
                    let published: Vec<EventId> = events
                        .iter()
                        .map(ImageEvent::id)
                        .take_while(|id| !refused.contains(id))
                        .collect();
                    if !published.is_empty() {
                        outbox.acknowledge(&published).await?;
                    }
                }
                Err(IntakeError::Publish(error))
            }
        }
    }
}
