//! The event source mappings Lambda runs for the template's functions, against moto: the processing
//! queue's (a batch of up to `BatchSize` messages per invocation, the successful ones deleted after
//! it, only the reported ones kept with `ReportBatchItemFailures`) and the records table stream's
//! (its records from `StartingPosition`, `BatchSize` at a time).

use serde_json::{Value, json};

use super::runtime::{Function, Outcome};
use super::stack::{Stack, call};
use super::template::REGION;

/// The SQS event source of a function.
pub(crate) struct QueueSource {
    endpoint: String,
    pub(crate) url: String,
    arn: String,
    batch_size: u64,
    report_failures: bool,
}

/// One batch delivered to the function.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The messages as SQS returned them.
    pub(crate) messages: Vec<Value>,
    /// The ids the function reported as failed (kept on the queue).
    pub(crate) failed: Vec<String>,
    /// The invocation's outcome.
    pub(crate) outcome: Outcome,
}

impl Batch {
    /// The message ids of the batch.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.messages
            .iter()
            .map(|m| m["MessageId"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl QueueSource {
    /// The SQS event source of `function` as the template declares it.
    pub(crate) fn of(stack: &Stack, function: &str) -> Self {
        let source = stack.event_source(function, "SQS");
        let arn = source["Queue"].as_str().unwrap().to_owned();
        let (url, _) = stack
            .queues
            .values()
            .find(|(_, a)| *a == arn)
            .cloned()
            .expect("the event source's queue is one of the stack's");
        let report_failures = source["FunctionResponseTypes"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "ReportBatchItemFailures"));
        Self {
            endpoint: stack.endpoint.clone(),
            url,
            arn,
            batch_size: source["BatchSize"].as_u64().unwrap_or(10),
            report_failures,
        }
    }

    /// Receives what is visible (waiting up to `wait_seconds`), as Lambda's poller does.
    pub(crate) async fn receive(&self, wait_seconds: u64) -> Vec<Value> {
        receive(&self.endpoint, &self.url, self.batch_size, wait_seconds).await
    }

    /// Delivers `messages` to `function` as one batch; deletes what it did not report as failed
    /// (nothing when the invocation failed as a whole).
    pub(crate) async fn deliver(&self, function: &mut Function, messages: Vec<Value>) -> Batch {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        let outcome = function.invoke(json!({"Records": records})).await;
        let failed: Vec<String> = match &outcome {
            Outcome::Response(response) if self.report_failures => response["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
                .collect(),
            Outcome::Response(_) => Vec::new(),
            Outcome::Error(_) => messages
                .iter()
                .map(|m| m["MessageId"].as_str().unwrap().to_owned())
                .collect(),
        };
        for message in &messages {
            if !failed.iter().any(|id| *id == message["MessageId"]) {
                call(
                    &self.endpoint,
                    "sqs",
                    "AmazonSQS.DeleteMessage",
                    &json!({
                        "QueueUrl": self.url, "ReceiptHandle": message["ReceiptHandle"]
                    }),
                )
                .await;
            }
        }
        Batch {
            messages,
            failed,
            outcome,
        }
    }

    /// Receives and delivers one batch, if anything is visible within `wait_seconds`.
    pub(crate) async fn run_once(
        &self,
        function: &mut Function,
        wait_seconds: u64,
    ) -> Option<Batch> {
        let messages = self.receive(wait_seconds).await;
        if messages.is_empty() {
            return None;
        }
        Some(self.deliver(function, messages).await)
    }

    /// Sends a message to the queue (what a misbehaving producer might put there).
    pub(crate) async fn send(&self, body: &str) -> String {
        call(
            &self.endpoint,
            "sqs",
            "AmazonSQS.SendMessage",
            &json!({"QueueUrl": self.url, "MessageBody": body}),
        )
        .await["MessageId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Up to `max` visible messages of a queue with their system attributes.
pub(crate) async fn receive(endpoint: &str, url: &str, max: u64, wait_seconds: u64) -> Vec<Value> {
    let received = call(
        endpoint,
        "sqs",
        "AmazonSQS.ReceiveMessage",
        &json!({
            "QueueUrl": url,
            "MaxNumberOfMessages": max.min(10),
            "WaitTimeSeconds": wait_seconds,
            "MessageSystemAttributeNames": ["All"],
            "AttributeNames": ["All"],
        }),
    )
    .await;
    received["Messages"].as_array().cloned().unwrap_or_default()
}

/// How many messages of a queue are visible (without receiving any).
pub(crate) async fn visible(endpoint: &str, url: &str) -> u64 {
    let attributes = call(
        endpoint,
        "sqs",
        "AmazonSQS.GetQueueAttributes",
        &json!({
            "QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages"]
        }),
    )
    .await;
    attributes["Attributes"]["ApproximateNumberOfMessages"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The DynamoDB stream event source of a function.
pub(crate) struct StreamSource {
    endpoint: String,
    arn: String,
    batch_size: u64,
    iterators: Vec<String>,
}

impl StreamSource {
    /// The stream source of `function` as the template declares it, positioned at its
    /// `StartingPosition` on every shard.
    pub(crate) async fn of(stack: &Stack, function: &str) -> Self {
        let source = stack.event_source(function, "DynamoDB");
        let arn = source["Stream"].as_str().unwrap().to_owned();
        assert_eq!(
            arn, stack.stream_arn,
            "the source is the records table's stream"
        );
        let position = source["StartingPosition"].as_str().unwrap();
        let described = call(
            &stack.endpoint,
            "dynamodb",
            "DynamoDBStreams_20120810.DescribeStream",
            &json!({"StreamArn": arn}),
        )
        .await;
        let mut iterators = Vec::new();
        for shard in described["StreamDescription"]["Shards"].as_array().unwrap() {
            let iterator = call(
                &stack.endpoint,
                "dynamodb",
                "DynamoDBStreams_20120810.GetShardIterator",
                &json!({
                    "StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": position
                }),
            )
            .await;
            iterators.push(iterator["ShardIterator"].as_str().unwrap().to_owned());
        }
        Self {
            endpoint: stack.endpoint.clone(),
            arn,
            batch_size: source["BatchSize"].as_u64().unwrap_or(100),
            iterators,
        }
    }

    /// Delivers every record written since the last call to `function`, `BatchSize` at a time;
    /// returns how many records there were.
    pub(crate) async fn run(&mut self, function: &mut Function) -> usize {
        let mut records = Vec::new();
        for iterator in &mut self.iterators {
            let got = call(
                &self.endpoint,
                "dynamodb",
                "DynamoDBStreams_20120810.GetRecords",
                &json!({
                    "ShardIterator": iterator, "Limit": 1000
                }),
            )
            .await;
            for mut record in got["Records"].as_array().cloned().unwrap_or_default() {
                record["eventSourceARN"] = json!(self.arn);
                records.push(record);
            }
            if let Some(next) = got["NextShardIterator"].as_str() {
                next.clone_into(iterator);
            }
        }
        let count = records.len();
        for chunk in records.chunks(usize::try_from(self.batch_size).unwrap()) {
            function.call(json!({"Records": chunk})).await;
        }
        count
    }
}
