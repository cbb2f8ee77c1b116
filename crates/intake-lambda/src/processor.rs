//! The processor's handler: one notice at a time through [`Intake::process_object_created`].

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use futures::StreamExt as _;
use intake_aws::Redelivery;
use intake_domain::model::Timestamp;
use intake_domain::ports::EventPublisher;
use intake_domain::services::{
    ObjectCreated, ProcessOutcome, redelivery_after_lease, redelivery_delay,
};
use intake_domain::{Intake, IntakeError};
use serde_json::Value;
use tracing::{Instrument, error, info, info_span, warn};

use crate::events::{Delivery, EventError, Notice, QueuedMessage, parse};

/// How an SQS batch is run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchOptions {
    /// The most messages of a batch processed at once (so at most this many OCR calls per function
    /// instance, times the event source's maximum concurrency in all).
    pub concurrency: usize,
    /// Puts off the next delivery of a message to retry; without it the queue's visibility timeout
    /// decides when it comes back.
    pub redelivery: Option<Arc<dyn Redelivery>>,
    /// Soft-deleted images are purged once deleted this long, on each scheduled tick
    /// (`INTAKE_RETENTION_DAYS`; `None`: never).
    pub retention: Option<std::time::Duration>,
    /// Where the table stream's events are published (EventBridge).
    pub publisher: Option<Arc<dyn EventPublisher>>,
}

impl BatchOptions {
    /// `concurrency` messages at once, with `redelivery` when given.
    pub fn new(concurrency: usize, redelivery: Option<Arc<dyn Redelivery>>) -> Self {
        Self {
            concurrency: concurrency.max(1),
            redelivery,
            retention: None,
            publisher: None,
        }
    }

    /// With a publisher for the table stream's events.
    #[must_use]
    pub fn with_publisher(mut self, publisher: Option<Arc<dyn EventPublisher>>) -> Self {
        self.publisher = publisher;
        self
    }

    /// With a retention time (`None` or zero: never).
    #[must_use]
    pub fn with_retention(mut self, retention: Option<std::time::Duration>) -> Self {
        self.retention = retention.filter(|r| !r.is_zero());
        self
    }
}

/// The most images one scheduled tick purges (the next tick goes on).
const PURGES_PER_TICK: usize = 1000;

/// Why an invocation must be retried as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessorError {
    /// The payload is not an event the processor handles.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The table stream's events could not be published; the stream delivers the batch again.
    #[error("publishing the stream's events failed")]
    Publish(#[source] intake_domain::ports::PublishError),
    /// A stream batch arrived, but no event bus is configured (`INTAKE_EVENT_BUS`).
    #[error("a stream batch arrived, but INTAKE_EVENT_BUS names no bus to publish its events to")]
    NoPublisher,
    /// A directly delivered notification hit a retryable failure; Lambda retries the invocation.
    #[error("retryable failure for {key}: {source}")]
    Retryable {
        /// The object key.
        key: String,
        /// The failure.
        #[source]
        source: IntakeError,
    },
}

/// Whether a notice needs another delivery.
enum Verdict {
    Done,
    /// A retryable failure.
    Retry(IntakeError),
    /// Another processor holds the image until this instant: a queued notice comes back after it
    /// (and then finds the image done, or takes over a processor that died), rather than being
    /// dropped while the claim might never be finished.
    Busy(Timestamp),
}

async fn process(intake: &Intake, created: ObjectCreated) -> Verdict {
    let span = info_span!("record", key = %created.key, image_id = tracing::field::Empty);
    span.record("image_id", tracing::field::display(created.key.image_id()));
    async move {
        match intake.process_object_created(&created).await {
            Ok(outcome) => {
                outcome.log(&created.key);
                crate::emf::processed(&outcome);
                crate::emf::documents_read(&outcome);
                crate::emf::field_failures(intake);
                match outcome {
                    ProcessOutcome::InProgress {
                        lease_expires_at: Some(until),
                        ..
                    } => Verdict::Busy(until),
                    _ => Verdict::Done,
                }
            }
            Err(e) if e.is_retryable() => {
                warn!(code = e.code(), error = %e, "retryable failure; the notification will be delivered again");
                Verdict::Retry(e)
            }
            Err(e) => {
                error!(code = e.code(), error = %e, "notification refused");
                Verdict::Done
            }
        }
    }
    .instrument(span)
    .await
}

/// Processes the notices in order; stops at the first that needs another delivery.
async fn process_all(intake: &Intake, notices: Vec<Notice>) -> Option<(String, Verdict)> {
    for notice in notices {
        match notice {
            Notice::Skip(reason) => info!(%reason, "skipped"),
            Notice::Created(created) => {
                let key = created.key.clone();
                match process(intake, created).await {
                    Verdict::Done => {}
                    again => return Some((key.to_string(), again)),
                }
            }
        }
    }
    None
}

/// Handles one invocation. Every image a delivery names is listed first
/// ([`Intake::note_stored`]), before any is processed.
///
/// - S3 delivered directly: each notice is processed; a retryable failure fails the invocation so
///   Lambda retries it (the processing is idempotent, so replays of finished notices are no-ops).
/// - An SQS batch: up to ten messages at once ([`handle_with`] bounds it); those with a retryable
///   failure, those whose image another processor holds, and those whose body cannot be read (so they
///   end in the dead-letter queue) are reported in `batchItemFailures`, and only they are delivered
///   again.
///
/// Non-`ObjectCreated` records, S3's `s3:TestEvent`, and keys outside `uploads/` are skipped with a log
/// line. Permanent failures are recorded on the image by the service and not retried.
///
/// # Errors
/// [`ProcessorError`] for an unreadable payload or a retryable failure of a direct delivery.
pub async fn handle(intake: &Intake, payload: Value) -> Result<Value, ProcessorError> {
    handle_with(intake, payload, &BatchOptions::new(10, None)).await
}

/// As [`handle`], running an SQS batch with `options`: at most `options.concurrency` messages at
/// once, and a message to retry is put off by a back-off that grows with its deliveries
/// ([`redelivery_delay`]), or until the lease of the processor that holds its image runs out.
///
/// # Errors
/// As [`handle`].
pub async fn handle_with(
    intake: &Intake,
    payload: Value,
    options: &BatchOptions,
) -> Result<Value, ProcessorError> {
    match parse(payload)? {
        Delivery::Direct(notices) => {
            note_stored(intake, notices.iter()).await;
            match process_all(intake, notices).await {
                Some((key, Verdict::Retry(source))) => {
                    Err(ProcessorError::Retryable { key, source })
                }
                // Lambda's own retries of a direct delivery are not worth waiting for: the processor
                // holding the image finishes it, or its lease runs out and the next event takes over.
                Some((_, Verdict::Busy(_) | Verdict::Done)) | None => Ok(Value::Null),
            }
        }
        Delivery::Queue(messages) => {
            note_stored(
                intake,
                messages
                    .iter()
                    .filter_map(|message| message.notices.as_ref().ok())
                    .flatten(),
            )
            .await;
            let results = process_batch(intake, messages, options).await;
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = results
                .into_iter()
                .filter_map(|(id, retry)| {
                    retry.then(|| {
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = id;
                        failure
                    })
                })
                .collect();
            Ok(serde_json::to_value(response).unwrap_or(Value::Null))
        }
        Delivery::Stream(events) => {
            let publisher = options
                .publisher
                .as_ref()
                .ok_or(ProcessorError::NoPublisher)?;
            publisher
                .publish(&events)
                .await
                .map_err(ProcessorError::Publish)?;
            info!(events = events.len(), "stream events published");
            Ok(Value::Null)
        }
        Delivery::Scheduled => {
            if let Some(after) = options.retention {
                match intake.purge_expired(after, PURGES_PER_TICK).await {
                    Ok(purged) => info!(purged, "retention purged images deleted long enough ago"),
                    Err(e) => {
                        warn!(code = e.code(), error = %e, "retention could not run; the next tick tries again");
                    }
                }
            } else {
                info!("scheduled tick without a retention setting; nothing to do");
            }
            Ok(Value::Null)
        }
    }
}

/// The most records [`note_stored`] writes at once.
const NOTES_AT_ONCE: usize = 10;

/// Lists every image a delivery names before any of them is processed
/// ([`Intake::note_stored`]): a batch processes a few messages at a time, and an upload is listed
/// from when its notice arrives rather than from when the batch gets to it.
async fn note_stored<'a>(intake: &Intake, notices: impl Iterator<Item = &'a Notice>) {
    let keys = notices.filter_map(|notice| match notice {
        Notice::Created(created) => Some(&created.key),
        Notice::Skip(_) => None,
    });
    futures::stream::iter(keys)
        .for_each_concurrent(NOTES_AT_ONCE, |key| intake.note_stored(key))
        .await;
}

async fn process_batch(
    intake: &Intake,
    messages: Vec<QueuedMessage>,
    options: &BatchOptions,
) -> Vec<(String, bool)> {
    futures::stream::iter(messages)
        .map(|message| async move {
            let QueuedMessage {
                message_id,
                handle,
                receive_count,
                sent_at,
                notices,
            } = message;
            if let Some(sent) = sent_at {
                crate::emf::queue_wait(&intake.ocr_capabilities().engine, sent, intake.now());
            }
            let (retry, delay) = match notices {
                Ok(notices) => match process_all(intake, notices).await {
                    None | Some((_, Verdict::Done)) => (false, None),
                    Some((_, Verdict::Retry(_))) => (true, Some(redelivery_delay(receive_count))),
                    Some((_, Verdict::Busy(until))) => {
                        (true, Some(redelivery_after_lease(intake.now(), until)))
                    }
                },
                Err(e) => {
                    // Back to the queue as it is, until it ends in the dead-letter queue.
                    error!(message_id = %message_id, error = %e, "unreadable message; returned to the queue");
                    (true, None)
                }
            };
            if let (Some(delay), Some((queue_arn, receipt_handle)), Some(redelivery)) =
                (delay, handle, options.redelivery.as_ref())
            {
                let delivery = intake_aws::Delivery {
                    queue_arn,
                    receipt_handle,
                };
                match redelivery.postpone(&delivery, delay).await {
                    Ok(()) => info!(message_id = %message_id, delay_seconds = delay.as_secs(), "next delivery put off"),
                    Err(e) => warn!(message_id = %message_id, error = %e, "could not put off the next delivery; the queue's visibility timeout applies"),
                }
            }
            (message_id, retry)
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await
}
