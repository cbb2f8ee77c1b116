use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

use super::{JobQueue, QueueError};
use crate::model::{ObjectKey, Timestamp};

/// Asks for an image's object to be processed, at `due` at the earliest: a job in the local
/// server's queue ([`QueueRequests`]), a message to the processing queue on AWS. Processing is
/// idempotent (an image that needs nothing is left as it is), so a request may be made more than
/// once, and is: see [`crate::Intake::reprocess`].
#[async_trait]
pub trait ProcessingRequests: Send + Sync + Debug {
    /// Requests processing of `key` at `due`.
    ///
    /// # Errors
    /// [`QueueError`] when the request could not be made.
    async fn request(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError>;
}

/// Processing requests as jobs of a [`JobQueue`].
#[derive(Debug, Clone)]
pub struct QueueRequests(pub Arc<dyn JobQueue>);

#[async_trait]
impl ProcessingRequests for QueueRequests {
    async fn request(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        self.0.enqueue(key, due).await
    }
}
