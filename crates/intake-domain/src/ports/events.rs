use std::fmt::Debug;

use async_trait::async_trait;

use super::{Failure, FailureKind, PortError, RepoError};
use crate::model::{EventId, ImageEvent};

/// The events a repository committed with its records (see [`super::ImageRepository::replace`])
/// and not yet handed on: the transactional outbox, drained by [`crate::Intake::publish_events`].
///
/// Implemented by repositories whose writes can hold the events in the same commit (memory, SQLite).
/// DynamoDB's equivalent is the table's stream: the item written carries the write's events, and the
/// stream hands every committed write to the publisher.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventOutbox: Send + Sync + Debug {
    /// The oldest events not yet acknowledged, in commit order, at most `limit`.
    ///
    /// # Errors
    /// [`RepoError`] when the storage fails.
    async fn pending(&self, limit: u32) -> Result<Vec<ImageEvent>, RepoError>;

    /// Forgets the events with these ids: they were published. Ids not pending are ignored, so an
    /// acknowledgement repeated after a crash is harmless.
    ///
    /// # Errors
    /// [`RepoError`] when the storage fails; the events stay pending and are published again.
    async fn acknowledge(&self, ids: &[EventId]) -> Result<(), RepoError>;
}

/// Why events could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The transport refused some events (their ids); the others were published.
    #[error("the event transport refused {} event(s)", refused.len())]
    Refused {
        /// The refused events.
        refused: Vec<EventId>,
        /// Why, as the transport said.
        reason: String,
    },
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("the event transport {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for PublishError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// Hands committed events to their subscribers: webhooks on the local server, an EventBridge bus on
/// AWS, a list in memory.
///
/// Publishing is at least once: after a failure or a crash the same events (same ids) are published
/// again, so an implementation must accept an event it has seen (and may pass it on again).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync + Debug {
    /// Publishes `events`, in order.
    ///
    /// # Errors
    /// [`PublishError`] when some or all were not published; the caller publishes them again.
    async fn publish(&self, events: &[ImageEvent]) -> Result<(), PublishError>;
}
