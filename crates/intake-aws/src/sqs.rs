//! Putting off an SQS message's next delivery (`ChangeMessageVisibility`), so that a notification
//! whose processing failed for a passing reason is retried after a back-off rather than after the
//! queue's whole visibility timeout; and asking for an image to be processed again (a message to the
//! processing queue).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{ObjectKey, Timestamp};
use intake_domain::ports::{Failure, ProcessingRequests, QueueError};

use crate::fault::describe;

/// The longest SQS lets a message stay invisible.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// One delivery of a queued message: the queue's ARN and the delivery's receipt handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The queue's ARN (`eventSourceARN` of the Lambda event).
    pub queue_arn: String,
    /// The receipt handle of this delivery.
    pub receipt_handle: String,
}

/// Why a message's next delivery could not be put off (it then comes back after the queue's own
/// visibility timeout: later, but nothing is lost).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedeliveryError {
    /// The ARN is not an SQS queue's.
    #[error("{0:?} is not an SQS queue ARN")]
    Arn(String),
    /// SQS refused or failed the call.
    #[error("SQS: {0}")]
    Sqs(String),
}

/// Puts off a message's next delivery.
#[async_trait]
pub trait Redelivery: Send + Sync + std::fmt::Debug {
    /// Makes `delivery`'s message visible again only after `delay` (capped at SQS's 12 hours).
    ///
    /// # Errors
    /// [`RedeliveryError`] when the queue cannot be found or the call fails.
    async fn postpone(&self, delivery: &Delivery, delay: Duration) -> Result<(), RedeliveryError>;
}

/// [`Redelivery`] on SQS; queue URLs are looked up once per queue.
#[derive(Debug, Clone)]
pub struct SqsRedelivery {
    client: aws_sdk_sqs::Client,
    urls: Arc<Mutex<HashMap<String, String>>>,
}

impl SqsRedelivery {
    /// Over `client`.
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self {
            client,
            urls: Arc::default(),
        }
    }

    async fn url_of(&self, arn: &str) -> Result<String, RedeliveryError> {
        if let Some(url) = self
            .urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(arn)
        {
            return Ok(url.clone());
        }
        // arn:PARTITION:sqs:REGION:ACCOUNT:NAME
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(&"sqs"), Some(account), Some(name)) = (parts.get(2), parts.get(4), parts.get(5))
        else {
            return Err(RedeliveryError::Arn(arn.to_owned()));
        };
        let url = self
            .client
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| RedeliveryError::Sqs(describe(&e)))?
            .queue_url
            .ok_or_else(|| RedeliveryError::Sqs("GetQueueUrl answered no URL".to_owned()))?;
        self.urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(arn.to_owned(), url.clone());
        Ok(url)
    }
}

#[async_trait]
impl Redelivery for SqsRedelivery {
    async fn postpone(&self, delivery: &Delivery, delay: Duration) -> Result<(), RedeliveryError> {
        let url = self.url_of(&delivery.queue_arn).await?;
        let seconds = i32::try_from(delay.min(MAX_VISIBILITY).as_secs()).unwrap_or(i32::MAX);
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(&delivery.receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| RedeliveryError::Sqs(describe(&e)))?;
        Ok(())
    }
}

/// The processing queue's message that asks for `key` in `bucket` to be processed: an S3
/// notification document of one `ObjectCreated:Reprocess` record, which the processor reads like S3's
/// own (the key form-encoded as S3 encodes it).
pub fn processing_message(bucket: &str, key: &ObjectKey) -> String {
    /// What S3 leaves unescaped in a notification's key, besides letters and digits.
    const KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "intake:reprocess",
            "eventName": "ObjectCreated:Reprocess",
            "s3": {
                "bucket": { "name": bucket },
                "object": { "key": percent_encoding::utf8_percent_encode(key.as_str(), KEY).to_string() },
            },
        }],
    })
    .to_string()
}

/// [`ProcessingRequests`] as messages to the processing queue (the API function's way of asking the
/// processor to run an image again). A request due later is sent with a delay (at most SQS's
/// 15 minutes).
#[derive(Debug, Clone)]
pub struct SqsProcessingRequests {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    bucket: String,
}

impl SqsProcessingRequests {
    /// Requests to the queue at `queue_url` for objects of `bucket`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: &str, bucket: &str) -> Self {
        Self {
            client,
            queue_url: queue_url.to_owned(),
            bucket: bucket.to_owned(),
        }
    }
}

/// SQS's longest message delay.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

#[async_trait]
impl ProcessingRequests for SqsProcessingRequests {
    async fn request(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        let delay = due.duration_since(Timestamp::now_utc()).min(MAX_DELAY);
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(processing_message(&self.bucket, key))
            .delay_seconds(i32::try_from(delay.as_secs()).unwrap_or(0))
            .send()
            .await
            .map(drop)
            .map_err(|e| QueueError::from(Failure::unavailable(describe(&e))))
    }
}
