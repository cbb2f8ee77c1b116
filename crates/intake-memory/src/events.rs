use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use intake_domain::model::ImageEvent;
use intake_domain::ports::{EventPublisher, Failure, PublishError};

/// A publisher that keeps every event it is given, in order: for tests, and for embedders that hand
/// events on themselves. It can be told to fail the next calls, to exercise redelivery.
#[derive(Debug, Clone, Default)]
pub struct MemoryPublisher {
    published: Arc<Mutex<Vec<ImageEvent>>>,
    failures: Arc<AtomicU32>,
}

/// The fault a [`MemoryPublisher`] reports when told to fail.
#[derive(Debug, thiserror::Error)]
#[error("the memory publisher was told to fail")]
pub struct PublisherDown;

impl MemoryPublisher {
    /// Every event published so far (a redelivered event appears again), oldest first.
    pub fn published(&self) -> Vec<ImageEvent> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes the next `calls` publishes fail as unavailable, publishing nothing.
    pub fn fail_next(&self, calls: u32) {
        self.failures.store(calls, Ordering::SeqCst);
    }
}

#[async_trait]
impl EventPublisher for MemoryPublisher {
    async fn publish(&self, events: &[ImageEvent]) -> Result<(), PublishError> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(PublishError::from(Failure::unavailable(PublisherDown)));
        }
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(events.iter().cloned());
        Ok(())
    }
}
