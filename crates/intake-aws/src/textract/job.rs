//! Textract's asynchronous text detection (`StartDocumentTextDetection`, then
//! `GetDocumentTextDetection` until the job ends, its results paged by `NextToken`): what reads a
//! document of several pages, which the synchronous API refuses.
//!
//! The job is started with a `ClientRequestToken` derived from the object (bucket, key, version
//! and hash), so starting it again returns the same job: a processor that stops waiting at its time
//! limit reports a retryable failure, and the redelivered notice takes the same job up again
//! instead of paying for a second one.

use std::time::Duration;

use aws_sdk_textract::Client;
use aws_sdk_textract::types::{Block, DocumentLocation, JobStatus, S3Object};
use intake_domain::model::{ContentType, OcrResult, Sha256Digest};
use intake_domain::ports::{Failure, OcrError};
use tokio::time::{Instant, sleep};

use super::blocks::map_document;
use crate::fault::ocr_error;

/// The first wait between two looks at a running job; each wait doubles up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait between two looks.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Blocks per `GetDocumentTextDetection` answer: the most Textract gives.
const MAX_RESULTS: i32 = 1000;

/// The job was still running when the processor's time limit came.
#[derive(Debug, thiserror::Error)]
#[error(
    "the Textract job {job_id} is still running after {seconds} s; the next attempt takes it up again"
)]
pub(crate) struct StillRunning {
    job_id: String,
    seconds: u64,
}

/// The job ended without a result.
#[derive(Debug, thiserror::Error)]
#[error("Textract gave job {job_id} the status {status}")]
pub(crate) struct UnknownStatus {
    job_id: String,
    status: String,
}

/// One document for a job: the object, and what identifies this reading of it.
#[derive(Debug)]
pub(crate) struct JobRequest<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) version: Option<&'a str>,
    pub(crate) sha256: &'a Sha256Digest,
    pub(crate) content_type: ContentType,
    /// Names the job for people (the image id).
    pub(crate) tag: String,
}

impl JobRequest<'_> {
    /// The job's idempotency token: the same object, version and bytes give the same token, so
    /// starting the job again returns the same job (for as long as Textract keeps it, 7 days).
    /// 64 hex digits, the most Textract takes.
    pub(crate) fn token(&self) -> String {
        let identity = format!(
            "{}\n{}\n{}\n{}",
            self.bucket,
            self.key,
            self.version.unwrap_or_default(),
            self.sha256.to_hex()
        );
        Sha256Digest::of(identity.as_bytes()).to_hex()
    }
}

/// A failed call's error, as for the synchronous API.
fn job_error<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
    content_type: ContentType,
) -> OcrError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + std::fmt::Debug
        + 'static,
{
    ocr_error(
        error,
        content_type,
        &["DocumentTooLargeException"],
        &["UnsupportedDocumentException"],
    )
}

/// Starts (or takes up again) the job for `request` and waits for it, looking at it again after
/// 1, 2, 4 and then every 5 seconds, up to `time_limit`.
///
/// # Errors
/// The start's or a look's failure, as [`ocr_error`] maps it; [`OcrError::InvalidImage`] for a
/// job that `FAILED`; a retryable [`StillRunning`] when the job is not done within `time_limit`.
pub(crate) async fn read_document(
    client: &Client,
    request: &JobRequest<'_>,
    time_limit: Duration,
) -> Result<OcrResult, OcrError> {
    let started = Instant::now();
    let deadline = started + time_limit;
    let location = DocumentLocation::builder()
        .s3_object(
            S3Object::builder()
                .bucket(request.bucket)
                .name(request.key)
                .set_version(request.version.map(str::to_owned))
                .build(),
        )
        .build();
    let job_id = client
        .start_document_text_detection()
        .document_location(location)
        .client_request_token(request.token())
        .job_tag(&request.tag)
        .send()
        .await
        .map_err(|e| job_error(&e, request.content_type))?
        .job_id
        .ok_or_else(|| OcrError::from(Failure::other("Textract started a job without an id")))?;
    let mut wait = FIRST_WAIT;
    loop {
        let answer = client
            .get_document_text_detection()
            .job_id(&job_id)
            .max_results(MAX_RESULTS)
            .send()
            .await
            .map_err(|e| job_error(&e, request.content_type))?;
        let truncated = match answer.job_status() {
            Some(JobStatus::InProgress) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(OcrError::from(Failure::unavailable(StillRunning {
                        job_id,
                        seconds: now.duration_since(started).as_secs(),
                    })));
                }
                sleep(wait.min(deadline - now)).await;
                wait = (wait * 2).min(MAX_WAIT);
                continue;
            }
            Some(JobStatus::Succeeded) => false,
            Some(JobStatus::PartialSuccess) => {
                for warning in answer.warnings() {
                    tracing::warn!(
                        job_id,
                        code = warning.error_code().unwrap_or_default(),
                        pages = ?warning.pages(),
                        "Textract could not read some pages: the text is incomplete"
                    );
                }
                true
            }
            Some(JobStatus::Failed) => {
                return Err(OcrError::InvalidImage {
                    reason: format!(
                        "Textract job {job_id} failed: {}",
                        answer.status_message().unwrap_or("no reason given")
                    ),
                });
            }
            other => {
                return Err(OcrError::from(Failure::other(UnknownStatus {
                    job_id,
                    status: other.map_or("none", JobStatus::as_str).to_owned(),
                })));
            }
        };
        let pages = answer
            .document_metadata()
            .and_then(aws_sdk_textract::types::DocumentMetadata::pages);
        let mut blocks: Vec<Block> = answer.blocks.unwrap_or_default();
        let mut next = answer.next_token;
        while let Some(token) = next {
            let more = client
                .get_document_text_detection()
                .job_id(&job_id)
                .max_results(MAX_RESULTS)
                .next_token(token)
                .send()
                .await
                .map_err(|e| job_error(&e, request.content_type))?;
            blocks.extend(more.blocks.unwrap_or_default());
            next = more.next_token;
        }
        return map_document(&blocks, pages, truncated);
    }
}
