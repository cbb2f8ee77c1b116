//! The notification that starts processing.

use crate::model::ObjectKey;

/// An object-created notification, decoded from whatever carried it (S3 event, SQS message, local
/// queue). The key is parsed where the notification is decoded, once.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ObjectCreated {
    /// The bucket.
    pub bucket: String,
    /// The object's key.
    pub key: ObjectKey,
    /// The size the notification reports, if any (informational; the processor measures).
    pub size: Option<u64>,
    /// The entity tag the notification reports, if any.
    pub etag: Option<String>,
    /// S3's sequencer, if any (orders events for one key).
    pub sequencer: Option<String>,
}

impl ObjectCreated {
    /// A notification for `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: ObjectKey) -> Self {
        Self {
            bucket: bucket.into(),
            key,
            size: None,
            etag: None,
            sequencer: None,
        }
    }
    /// With the reported size.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
    /// With the reported entity tag.
    #[must_use]
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }
    /// With S3's sequencer.
    #[must_use]
    pub fn with_sequencer(mut self, sequencer: impl Into<String>) -> Self {
        self.sequencer = Some(sequencer.into());
        self
    }
}
