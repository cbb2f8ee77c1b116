//! # intake-aws
//!
//! Intake's ports on AWS: [`S3ObjectStore`] and [`S3UrlSigner`] (S3, SigV4 presigning),
//! [`DynamoRepository`] (DynamoDB, with OCR detail in an S3 sidecar), Rekognition and Textract OCR.
//!
//! No SDK type leaves this crate: every failure is mapped to the port's error enum, retryable
//! (throttling, unavailability, timeouts) or permanent.

mod dynamo;
mod fault;
mod s3;

pub use dynamo::{DynamoRepository, OCR_TEXT_ITEM_CAP_BYTES, TableSchema};
pub use s3::{S3ObjectStore, S3UrlSigner};
