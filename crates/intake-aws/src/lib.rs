//! # intake-aws
//!
//! Intake's ports on AWS: [`S3ObjectStore`] and [`S3UrlSigner`] (S3, SigV4 presigning),
//! [`DynamoRepository`] (DynamoDB, with OCR detail in an S3 sidecar), [`RekognitionOcr`] and
//! [`TextractOcr`], [`TextractExpense`] (receipts' and invoices' fields), [`EventBridgePublisher`] (the events, from the table's stream). [`AwsSettings::from_env`] reads the deployment's settings and
//! [`AwsAdapters::load`] builds every adapter from them and the SDK's standard configuration
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials), so the same code runs against AWS and emulators.
//!
//! No SDK type leaves this crate: every failure is mapped to the port's error enum, retryable
//! (throttling, unavailability, timeouts) or permanent.

mod compose;
mod dynamo;
mod eventbridge;
mod fault;
mod fields;
mod rekognition;
mod s3;
mod settings;
mod sqs;
mod textract;

pub use compose::{AwsAdapters, MissingEngine};
pub use dynamo::{
    DynamoFingerprintIndex, DynamoRepository, OCR_TEXT_ITEM_CAP_BYTES, TableSchema,
    events_from_text,
};
pub use eventbridge::{EVENT_SOURCE, EventBridgePublisher};
pub use fields::{FieldsChoice, UnknownFields};
pub use rekognition::{MAX_WORDS as REKOGNITION_MAX_WORDS, RekognitionOcr};
pub use s3::{S3ObjectStore, S3UrlSigner};
pub use settings::{
    AwsSettings, DEFAULT_OCR_TIME_LIMIT, EngineChoice, SettingsError, parse_time_limit,
};
pub use sqs::{
    Delivery, Redelivery, RedeliveryError, SqsProcessingRequests, SqsRedelivery, processing_message,
};
pub use textract::{TextractExpense, TextractOcr};
