//! Amazon EventBridge: the events' transport on AWS. Each event goes to the deployment's custom bus
//! with `source` `intake`, `detail-type` its type (`image.processed`, ...) and `detail` its document,
//! so rules route them by type, owner or anything in the document.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use intake_domain::model::{EventId, ImageEvent};
use intake_domain::ports::{EventPublisher, Failure, PublishError};

use crate::fault::{Fault, classify, describe};

/// The `source` of every event Intake puts on a bus.
pub const EVENT_SOURCE: &str = "intake";

/// The most entries one `PutEvents` call takes.
const BATCH: usize = 10;

/// Publishes events to one EventBridge bus.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    /// Events to `bus` (its name or ARN).
    pub fn new(client: Client, bus: &str) -> Self {
        Self {
            client,
            bus: bus.to_owned(),
        }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[ImageEvent]) -> Result<(), PublishError> {
        for batch in events.chunks(BATCH) {
            let entries = batch
                .iter()
                .map(|event| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(event.kind().as_str())
                        .detail(event.body())
                        .time(DateTime::from_millis(event.time().unix_millis()))
                        .build()
                })
                .collect::<Vec<_>>();
            let output = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| match classify(&e) {
                    Fault::Throttled | Fault::Unavailable | Fault::Timeout => {
                        PublishError::from(Failure::unavailable(describe(&e)))
                    }
                    _ => PublishError::from(Failure::other(describe(&e))),
                })?;
            if output.failed_entry_count() > 0 {
                // Entries answer in order: the failed ones carry an error code.
                let mut reason = String::new();
                let refused: Vec<EventId> = batch
                    .iter()
                    .zip(output.entries())
                    .filter(|(_, entry)| entry.error_code().is_some())
                    .map(|(event, entry)| {
                        if reason.is_empty() {
                            reason = format!(
                                "{}: {}",
                                entry.error_code().unwrap_or_default(),
                                entry.error_message().unwrap_or_default()
                            );
                        }
                        event.id()
                    })
                    .collect();
                return Err(PublishError::Refused { refused, reason });
            }
        }
        Ok(())
    }
}
