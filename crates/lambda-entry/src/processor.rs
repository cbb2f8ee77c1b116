//! The processor's handler: one notice at a time through [`Intake::process_object_created`].

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use futures::future::join_all;
use intake_domain::services::{ObjectCreated, ProcessOutcome};
use intake_domain::{Intake, IntakeError};
use serde_json::Value;
use tracing::{Instrument, error, info, info_span, warn};

use crate::events::{Delivery, EventError, Notice, parse};

/// Why an invocation must be retried as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessorError {
    /// The payload is not an event the processor handles.
    #[error(transparent)]
    Event(#[from] EventError),
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
    Retry(IntakeError),
}

async fn process(intake: &Intake, created: ObjectCreated) -> Verdict {
    let span = info_span!("record", key = %created.key, image_id = tracing::field::Empty);
    if let Some(id) = intake_domain::model::ObjectKey::parse(&created.key)
        .ok()
        .map(|k| k.image_id())
    {
        span.record("image_id", tracing::field::display(id));
    }
    async move {
        match intake.process_object_created(&created).await {
            Ok(outcome) => {
                match &outcome {
                    ProcessOutcome::Processed(r) | ProcessOutcome::Rejected(r) | ProcessOutcome::Failed(r) => info!(
                        status = %r.status,
                        sha256 = r.sha256.map(|s| s.to_hex()).unwrap_or_default(),
                        rejection = ?r.rejection_code,
                        failure = ?r.failure_code,
                        duplicate_of = r.duplicate_of.map(|d| d.to_string()).unwrap_or_default(),
                        "processed"
                    ),
                    other => info!(outcome = ?other, "nothing to do"),
                }
                Verdict::Done
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

async fn process_all(intake: &Intake, notices: Vec<Notice>) -> Option<(String, IntakeError)> {
    for notice in notices {
        match notice {
            Notice::Skip(reason) => info!(%reason, "skipped"),
            Notice::Created(created) => {
                let key = created.key.clone();
                if let Verdict::Retry(e) = process(intake, created).await {
                    return Some((key, e));
                }
            }
        }
    }
    None
}

/// Handles one invocation.
///
/// - S3 delivered directly: each notice is processed; a retryable failure fails the invocation so
///   Lambda retries it (the processing is idempotent, so replays of finished notices are no-ops).
/// - An SQS batch: messages are processed concurrently; those with a retryable failure, or whose body
///   cannot be read (so they end in the dead-letter queue), are reported in `batchItemFailures`, and
///   only they are delivered again.
///
/// Non-`ObjectCreated` records, S3's `s3:TestEvent`, and keys outside `uploads/` are skipped with a log
/// line. Permanent failures are recorded on the image by the service and not retried.
///
/// # Errors
/// [`ProcessorError`] for an unreadable payload or a retryable failure of a direct delivery.
pub async fn handle(intake: &Intake, payload: Value) -> Result<Value, ProcessorError> {
    match parse(payload)? {
        Delivery::Direct(notices) => match process_all(intake, notices).await {
            Some((key, source)) => Err(ProcessorError::Retryable { key, source }),
            None => Ok(Value::Null),
        },
        Delivery::Queue(messages) => {
            let results = process_batch(intake, messages).await;
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
    }
}

async fn process_batch(
    intake: &Intake,
    messages: Vec<crate::events::QueuedMessage>,
) -> Vec<(String, bool)> {
    join_all(messages.into_iter().map(|message| async move {
        let retry = match message.notices {
            Ok(notices) => process_all(intake, notices).await.is_some(),
            Err(e) => {
                error!(message_id = %message.message_id, error = %e, "unreadable message; returned to the queue");
                true
            }
        };
        (message.message_id, retry)
    }))
    .await
}
