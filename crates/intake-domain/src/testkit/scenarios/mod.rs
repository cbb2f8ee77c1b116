//! Scenario suites: the services driven end to end over one set of adapters, the way clients and the
//! platform drive them (request a URL, PUT through it, deliver the notification, read back).

use std::future::Future;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::join_all;

use super::images::png;
use super::{default_owner, owner};
use crate::error::IntakeError;
use crate::model::{
    EventKind, ImageEvent, ImageId, ImageRecord, ImageStatus, ObjectKey, OcrStatus, RejectionCode,
    Sha256Digest,
};
use crate::ports::{HttpMethod, OcrDetail, PresignedRequest};
use crate::services::{
    Intake, ListRequest, ObjectCreated, ProcessOutcome, SkipReason, UploadRequest,
};

mod checks;
mod fields;
mod flow;
mod library;
mod lifecycle;
mod similar;

pub use checks::{
    declared_checksum_and_size_are_enforced, foreign_objects_are_refused,
    invalid_requests_are_refused_before_anything_is_written,
    mismatched_type_is_rejected_without_ocr, non_image_is_rejected_without_ocr,
    too_small_image_is_rejected, upload_urls_are_write_once,
};
pub use fields::receipts_are_read_for_their_fields_and_found_by_them;
pub use flow::{
    STORM_DELIVERIES, STORM_PROCESSORS, concurrent_notifications_run_ocr_once,
    notification_before_upload_changes_nothing, replay_storm_runs_ocr_once,
    replayed_notifications_run_ocr_once, upload_process_get_download,
};
pub use library::{
    deleted_images_disappear, duplicates_are_linked_and_reuse_ocr, listing_pages_newest_first,
    owners_are_isolated, search_finds_words_or_says_it_is_unavailable,
};
pub use lifecycle::{
    committed_changes_report_their_events, finished_images_are_processed_again_on_request,
    purged_images_leave_only_a_tombstone,
};
pub use similar::rephotographed_documents_are_flagged_with_their_original;

/// A store's refusal of a presigned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (or the closest equivalent).
    pub status: u16,
    /// What the store said.
    pub reason: String,
}

/// One adapter set, as the scenarios need it.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The services under test.
    fn intake(&self) -> &Intake;

    /// Performs a presigned request as a client would: a PUT with `body`, or a GET returning the body.
    async fn send(&self, request: &PresignedRequest, body: Option<Bytes>)
    -> Result<Bytes, Refusal>;

    /// Delivers the object-created notification for `key` the way the platform would.
    async fn notify(&self, key: &ObjectKey) -> Result<ProcessOutcome, IntakeError> {
        let intake = self.intake();
        intake
            .process_object_created(&ObjectCreated::new(intake.bucket(), key.clone()))
            .await
    }

    /// How many OCR engine calls were made so far.
    fn ocr_calls(&self) -> usize;

    /// Whether the store enforces what presigned URLs bind (length, checksum, write-once). Back-ends
    /// that do not (moto) skip those checks; they are tested against a back-end that does.
    fn store_enforces_urls(&self) -> bool {
        true
    }

    /// The events committed so far and not yet published, oldest first, for adapter sets with an
    /// outbox; `None` where events travel otherwise (DynamoDB's stream), and the event scenario is
    /// skipped.
    async fn committed_events(&self) -> Option<Vec<ImageEvent>> {
        None
    }

    /// The record of `id` as the repository holds it (deleted and purged ones included), for
    /// checks the API cannot make (tombstones); `None` where the harness cannot read it.
    async fn stored_record(&self, id: ImageId) -> Option<Option<ImageRecord>> {
        let _ = id;
        None
    }

    /// How many versions of the object under `key` the store holds (0 when erased); `None` where
    /// the harness cannot tell.
    async fn object_versions(&self, key: &ObjectKey) -> Option<usize> {
        let _ = key;
        None
    }

    /// Has the engine answer `result` for an image of `bytes` (as if it saw the result's pages and
    /// read its lines there), where the harness's engine is scripted; `false` where it is not (a
    /// real engine), and the scenarios that need it are skipped.
    fn script_ocr(&self, bytes: &Bytes, result: crate::model::OcrResult) -> bool {
        let _ = (bytes, result);
        false
    }

    /// Whether the adapter set has full-text search (DynamoDB does not: searches answer
    /// `SEARCH_UNAVAILABLE`).
    fn searches(&self) -> bool {
        true
    }
}

/// Runs every scenario, each on a fresh adapter set from `make`.
pub async fn run_suite<H, F, Fut>(make: F)
where
    H: Harness,
    F: Fn() -> Fut,
    Fut: Future<Output = H>,
{
    upload_process_get_download(&make().await).await;
    replayed_notifications_run_ocr_once(&make().await).await;
    concurrent_notifications_run_ocr_once(&make().await).await;
    replay_storm_runs_ocr_once(&make().await).await;
    notification_before_upload_changes_nothing(&make().await).await;
    mismatched_type_is_rejected_without_ocr(&make().await).await;
    non_image_is_rejected_without_ocr(&make().await).await;
    too_small_image_is_rejected(&make().await).await;
    declared_checksum_and_size_are_enforced(&make().await).await;
    upload_urls_are_write_once(&make().await).await;
    invalid_requests_are_refused_before_anything_is_written(&make().await).await;
    duplicates_are_linked_and_reuse_ocr(&make().await).await;
    deleted_images_disappear(&make().await).await;
    search_finds_words_or_says_it_is_unavailable(&make().await).await;
    listing_pages_newest_first(&make().await).await;
    foreign_objects_are_refused(&make().await).await;
    owners_are_isolated(&make().await).await;
    committed_changes_report_their_events(&make().await).await;
    finished_images_are_processed_again_on_request(&make().await).await;
    purged_images_leave_only_a_tombstone(&make().await).await;
    rephotographed_documents_are_flagged_with_their_original(&make().await).await;
    receipts_are_read_for_their_fields_and_found_by_them(&make().await).await;
}

fn png_request(name: &str, bytes: &Bytes) -> UploadRequest {
    request_for(name, crate::model::ContentType::Png, bytes)
}

/// An upload of `bytes` named `name`, declared as `content_type`, with their size and checksum.
pub fn request_for(
    name: &str,
    content_type: crate::model::ContentType,
    bytes: &Bytes,
) -> UploadRequest {
    UploadRequest::named(name, content_type)
        .expect("file name")
        .with_size(bytes.len() as u64)
        .with_sha256(Sha256Digest::of(bytes))
}

/// Requests a URL, PUTs `bytes` through it and returns the image id and key.
pub async fn upload(
    h: &impl Harness,
    request: UploadRequest,
    bytes: Bytes,
) -> (ImageId, ObjectKey) {
    let ticket = h
        .intake()
        .request_upload(&default_owner(), request)
        .await
        .expect("request upload");
    h.send(&ticket.request(), Some(bytes))
        .await
        .expect("PUT through the upload URL");
    (ticket.image_id, ticket.object_key)
}

async fn processed(h: &impl Harness, key: &ObjectKey) -> ImageRecord {
    match h.notify(key).await.expect("process") {
        ProcessOutcome::Processed(record) => *record,
        other => panic!("expected Processed, got {other:?}"),
    }
}

async fn rejected(h: &impl Harness, key: &ObjectKey) -> ImageRecord {
    match h.notify(key).await.expect("process") {
        ProcessOutcome::Rejected(record) => *record,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

fn min_side(h: &impl Harness) -> u32 {
    h.intake().ocr_capabilities().min_dimension_px.max(64)
}
