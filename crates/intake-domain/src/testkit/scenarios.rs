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

/// Upload → notification → OCR → record → list → details → presigned download of the same bytes.
pub async fn upload_process_get_download(h: &impl Harness) {
    let side = min_side(h);
    let bytes = png(side * 4, side, 1);
    let (id, key) = upload(
        h,
        png_request("../chèque front +#&;=%20 (1).png", &bytes),
        bytes.clone(),
    )
    .await;
    assert_eq!(
        key.as_str(),
        format!("uploads/{id}/chèque front +#&;=%20 (1).png")
    );
    let record = processed(h, &key).await;
    assert_eq!(record.status(), ImageStatus::Processed);
    assert_eq!(record.ocr_status(), OcrStatus::Completed);
    assert_eq!(
        record.sha256(),
        Some(Sha256Digest::of(&bytes)),
        "sha256 differs from an independent computation"
    );
    assert_eq!(record.size_bytes(), Some(bytes.len() as u64));
    assert_eq!(record.width_px(), Some(side * 4));
    assert!(
        record.processed_at().is_some()
            && record.ocr_engine().is_some()
            && record.ocr_text().is_some()
    );
    assert_eq!(
        record.ocr_line_count(),
        record
            .ocr_lines()
            .as_ref()
            .map(|l| u32::try_from(l.len()).expect("fits"))
    );
    assert_eq!(h.ocr_calls(), 1);

    let page = h
        .intake()
        .list_images(&default_owner(), &ListRequest::default())
        .await
        .expect("list");
    assert_eq!(page.images.len(), 1);
    assert_eq!(page.images[0].image_id(), id);
    assert!(
        page.images[0].ocr_text().is_none() && page.images[0].ocr_lines().is_none(),
        "listing carries OCR text"
    );

    let details = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Lines)
        .await
        .expect("get");
    assert_eq!(details.record, record);
    let text_only = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Text)
        .await
        .expect("get without lines");
    assert_eq!(
        text_only.record,
        record.without_ocr_lines(),
        "the text view differs from the record beyond its lines"
    );
    assert_eq!(
        text_only.download_url.is_some(),
        details.download_url.is_some()
    );
    let download = details.download.expect("download URL");
    assert_eq!(download.method, HttpMethod::Get);
    assert_eq!(details.download_url.as_deref(), Some(download.url.as_str()));
    let fetched = h
        .send(&download, None)
        .await
        .expect("GET through the download URL");
    assert_eq!(fetched, bytes, "downloaded bytes differ");
}

/// The same notification five times in a row: one OCR call, then `AlreadyDone`.
pub async fn replayed_notifications_run_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 2);
    let (_, key) = upload(h, png_request("a.png", &bytes), bytes).await;
    let first = processed(h, &key).await;
    for _ in 0..4 {
        match h.notify(&key).await.expect("replay") {
            ProcessOutcome::AlreadyDone(record) => assert_eq!(*record, first),
            other => panic!("a replay did work: {other:?}"),
        }
    }
    assert_eq!(h.ocr_calls(), 1);
}

/// A hundred concurrent deliveries of one notification: exactly one OCR call and one processed record.
pub async fn concurrent_notifications_run_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 3);
    let (id, key) = upload(h, png_request("a.png", &bytes), bytes).await;
    let outcomes = join_all((0..100).map(|_| h.notify(&key))).await;
    let mut processed = 0;
    for outcome in outcomes {
        match outcome.expect("process") {
            ProcessOutcome::Processed(_) => processed += 1,
            ProcessOutcome::AlreadyDone(_) | ProcessOutcome::InProgress { .. } => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(processed, 1);
    assert_eq!(h.ocr_calls(), 1);
    let record = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Lines)
        .await
        .expect("get")
        .record;
    assert_eq!(record.status(), ImageStatus::Processed);
    assert_eq!(record.attempts(), 1);
}

/// A notification that arrives before its object leaves the record waiting; the real one processes it.
pub async fn notification_before_upload_changes_nothing(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 4);
    let ticket = h
        .intake()
        .request_upload(&default_owner(), png_request("early.png", &bytes))
        .await
        .expect("request");
    match h
        .notify(&ticket.object_key)
        .await
        .expect("early notification")
    {
        ProcessOutcome::Skipped {
            reason: SkipReason::ObjectMissing,
            ..
        } => {}
        other => panic!("expected Skipped(ObjectMissing), got {other:?}"),
    }
    let waiting = h
        .intake()
        .get_image(&default_owner(), ticket.image_id, OcrDetail::Lines)
        .await
        .expect("get")
        .record;
    assert_eq!(waiting.status(), ImageStatus::AwaitingUpload);
    assert_eq!(waiting.attempts(), 0);
    h.send(&ticket.request(), Some(bytes)).await.expect("PUT");
    processed(h, &ticket.object_key).await;
    assert_eq!(h.ocr_calls(), 1);
}

/// A PNG declared as JPEG is `REJECTED` with `TYPE_MISMATCH`, and OCR is never called.
pub async fn mismatched_type_is_rejected_without_ocr(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 5);
    let (_, key) = upload(
        h,
        UploadRequest::named("photo.jpg", crate::model::ContentType::Jpeg).expect("file name"),
        bytes,
    )
    .await;
    let record = rejected(h, &key).await;
    assert_eq!(record.rejection_code(), Some(RejectionCode::TypeMismatch));
    assert_eq!(record.ocr_status(), OcrStatus::Skipped);
    assert!(
        record.sha256().is_some(),
        "a rejected record still carries its hash for audit"
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// Text bytes and a truncated PNG are rejected before OCR.
pub async fn non_image_is_rejected_without_ocr(h: &impl Harness) {
    let (_, key) = upload(
        h,
        UploadRequest::named("notes.png", crate::model::ContentType::Png).expect("file name"),
        Bytes::from_static(b"just some text, honestly"),
    )
    .await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::UnsupportedType)
    );
    let whole = png(min_side(h), min_side(h), 6);
    let truncated = whole.slice(..whole.len() - 100);
    let (_, key) = upload(
        h,
        UploadRequest::named("cut.png", crate::model::ContentType::Png).expect("file name"),
        truncated,
    )
    .await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::Corrupt)
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// An image below the engine's minimum dimensions is `TOO_SMALL`.
pub async fn too_small_image_is_rejected(h: &impl Harness) {
    let min = h.intake().ocr_capabilities().min_dimension_px;
    if min < 2 {
        return;
    }
    let bytes = png(min - 1, min + 10, 7);
    let (_, key) = upload(h, png_request("tiny.png", &bytes), bytes).await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::TooSmall)
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// A body that differs from the declared SHA-256 or size is refused by the store, or rejected by the
/// processor; it is never processed.
pub async fn declared_checksum_and_size_are_enforced(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 8);
    let other = png(min_side(h), min_side(h), 9);
    let wrong_sha = UploadRequest::named("a.png", crate::model::ContentType::Png)
        .expect("file name")
        .with_sha256(Sha256Digest::of(&other));
    let wrong_size = UploadRequest::named("b.png", crate::model::ContentType::Png)
        .expect("file name")
        .with_size(bytes.len() as u64 + 1);
    for (request, code) in [
        (wrong_sha, RejectionCode::ChecksumMismatch),
        (wrong_size, RejectionCode::SizeMismatch),
    ] {
        let ticket = h
            .intake()
            .request_upload(&default_owner(), request)
            .await
            .expect("request");
        match h.send(&ticket.request(), Some(bytes.clone())).await {
            Err(refusal) => {
                assert!(
                    (400..500).contains(&refusal.status),
                    "refusal status {refusal:?}"
                );
                if h.store_enforces_urls() {
                    continue;
                }
            }
            Ok(_) => assert!(
                !h.store_enforces_urls(),
                "the store accepted a body that breaks the URL's {code:?} binding"
            ),
        }
        match h.notify(&ticket.object_key).await.expect("process") {
            ProcessOutcome::Rejected(record) => assert_eq!(record.rejection_code(), Some(code)),
            ProcessOutcome::Skipped {
                reason: SkipReason::ObjectMissing,
                ..
            } => {}
            other => panic!("a body breaking the declared {code:?} was not rejected: {other:?}"),
        }
    }
    assert_eq!(h.ocr_calls(), 0);
}

/// A second PUT through the same URL does not overwrite the object.
pub async fn upload_urls_are_write_once(h: &impl Harness) {
    if !h.store_enforces_urls() {
        return;
    }
    let first = png(min_side(h), min_side(h), 10);
    let second = png(min_side(h), min_side(h), 11);
    let ticket = h
        .intake()
        .request_upload(
            &default_owner(),
            UploadRequest::named("once.png", crate::model::ContentType::Png).expect("file name"),
        )
        .await
        .expect("request");
    h.send(&ticket.request(), Some(first.clone()))
        .await
        .expect("first PUT");
    let refusal = h
        .send(&ticket.request(), Some(second))
        .await
        .expect_err("second PUT overwrote the object");
    assert!((400..500).contains(&refusal.status), "{refusal:?}");
    let record = processed(h, &ticket.object_key).await;
    assert_eq!(record.sha256(), Some(Sha256Digest::of(&first)));
}

/// Bad requests fail with typed errors and leave no record behind.
pub async fn invalid_requests_are_refused_before_anything_is_written(h: &impl Harness) {
    let intake = h.intake();
    let too_big = intake.max_upload_bytes() + 1;
    // What the parsers refuse never becomes a request (the API answers with the same codes).
    let png = crate::model::ContentType::Png;
    let parsed: [(Result<UploadRequest, IntakeError>, &str); 3] = [
        (
            UploadRequest::named("../", png).map_err(IntakeError::from),
            "INVALID_FILE_NAME",
        ),
        (
            crate::model::ContentType::parse("image/svg+xml")
                .map(|svg| UploadRequest::named("a.svg", svg).expect("file name"))
                .map_err(|e| IntakeError::from_content_type(&e, intake.accepted_types())),
            "UNSUPPORTED_CONTENT_TYPE",
        ),
        (
            Sha256Digest::parse("abc")
                .map(|sha| {
                    UploadRequest::named("a.png", png)
                        .expect("file name")
                        .with_sha256(sha)
                })
                .map_err(IntakeError::from),
            "INVALID_SHA256",
        ),
    ];
    for (result, code) in parsed {
        assert_eq!(result.expect_err("parsed a bad request").code(), code);
    }
    let request = UploadRequest::named("a.png", png).expect("file name");
    let cases: Vec<(UploadRequest, &str)> = vec![
        (request.clone().with_size(too_big), "TOO_LARGE"),
        (request.with_size(0), "EMPTY_UPLOAD"),
    ];
    for (request, code) in cases {
        let error = intake
            .request_upload(&default_owner(), request.clone())
            .await
            .expect_err("accepted a bad request");
        assert_eq!(error.code(), code, "{request:?}: {error}");
    }
    let all = intake
        .list_images(
            &default_owner(),
            &ListRequest::default().with_status(ImageStatus::AwaitingUpload),
        )
        .await
        .expect("list");
    assert!(all.images.is_empty(), "a refused request left a record");
}

/// How many times [`replay_storm_runs_ocr_once`] delivers one notification.
pub const STORM_DELIVERIES: usize = 1000;
/// How many processors deliver it at once.
pub const STORM_PROCESSORS: usize = 16;

/// The same notification delivered [`STORM_DELIVERIES`] times by [`STORM_PROCESSORS`] concurrent
/// processors (each delivering its share one after another, as a redelivering queue would): exactly
/// one delivery processes, one OCR call is made, and one record exists for the bytes.
pub async fn replay_storm_runs_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 50);
    let (id, key) = upload(h, png_request("storm.png", &bytes), bytes.clone()).await;
    let processors = (0..STORM_PROCESSORS).map(|p| {
        let key = key.clone();
        async move {
            let mut processed = 0usize;
            for _ in (p..STORM_DELIVERIES).step_by(STORM_PROCESSORS) {
                match h.notify(&key).await.expect("process") {
                    ProcessOutcome::Processed(_) => processed += 1,
                    ProcessOutcome::AlreadyDone(_) | ProcessOutcome::InProgress { .. } => {}
                    other => panic!("unexpected outcome {other:?}"),
                }
            }
            processed
        }
    });
    let processed: usize = join_all(processors).await.into_iter().sum();
    assert_eq!(processed, 1, "deliveries that processed");
    assert_eq!(h.ocr_calls(), 1, "OCR calls");
    let records = h
        .intake()
        .list_images(
            &default_owner(),
            &ListRequest::default().with_sha256(Sha256Digest::of(&bytes)),
        )
        .await
        .expect("list");
    assert_eq!(
        records
            .images
            .iter()
            .map(|r| r.image_id())
            .collect::<Vec<_>>(),
        vec![id],
        "records for the bytes"
    );
    let record = &records.images[0];
    assert_eq!(
        (record.status(), record.attempts()),
        (ImageStatus::Processed, 1)
    );
}

/// A second upload of the same bytes names the first in `duplicateOf`, at request time (declared
/// SHA-256) and after processing, and reuses its OCR result.
pub async fn duplicates_are_linked_and_reuse_ocr(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 12);
    let (first_id, first_key) = upload(h, png_request("first.png", &bytes), bytes.clone()).await;
    let first = processed(h, &first_key).await;
    assert_eq!(first.duplicate_of(), None);
    let ticket = h
        .intake()
        .request_upload(&default_owner(), png_request("second.png", &bytes))
        .await
        .expect("request");
    assert_eq!(
        ticket.duplicate_of,
        Some(first_id),
        "the upload response does not name the original"
    );
    h.send(&ticket.request(), Some(bytes)).await.expect("PUT");
    let second = processed(h, &ticket.object_key).await;
    assert_eq!(second.duplicate_of(), Some(first_id));
    assert_eq!(second.ocr_text(), first.ocr_text());
    assert_eq!(second.ocr_engine(), first.ocr_engine());
    let expected_calls = if h.intake().config().reuse_duplicate_ocr {
        1
    } else {
        2
    };
    assert_eq!(h.ocr_calls(), expected_calls);
    let same = h
        .intake()
        .list_images(
            &default_owner(),
            &ListRequest::default().with_sha256(Sha256Digest::of(&png(
                min_side(h),
                min_side(h),
                12,
            ))),
        )
        .await
        .expect("list by sha");
    assert_eq!(
        same.images.iter().map(|r| r.image_id()).collect::<Vec<_>>(),
        vec![ticket.image_id, first_id]
    );
}

/// A deleted image is gone from details and listings, deleting again succeeds, notifications skip it,
/// and an unknown id is `NOT_FOUND`.
pub async fn deleted_images_disappear(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 13);
    let (id, key) = upload(h, png_request("gone.png", &bytes), bytes).await;
    processed(h, &key).await;
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("second delete");
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), id, OcrDetail::Lines)
            .await
            .expect_err("deleted image visible")
            .code(),
        "NOT_FOUND"
    );
    assert!(
        h.intake()
            .list_images(&default_owner(), &ListRequest::default())
            .await
            .expect("list")
            .images
            .is_empty()
    );
    assert!(matches!(
        h.notify(&key).await.expect("notify"),
        ProcessOutcome::Skipped {
            reason: SkipReason::Deleted,
            ..
        }
    ));

    let unknown = super::id_at(0, 999);
    assert_eq!(
        h.intake()
            .delete_image(&default_owner(), unknown)
            .await
            .expect_err("unknown")
            .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), unknown, OcrDetail::Lines)
            .await
            .expect_err("unknown")
            .code(),
        "NOT_FOUND"
    );
}

/// A word of a processed image's file name or OCR text finds it, with a snippet; a deleted image is
/// found no more; another owner finds nothing. Without search, `SEARCH_UNAVAILABLE`.
pub async fn search_finds_words_or_says_it_is_unavailable(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 17);
    let (id, key) = upload(h, png_request("Quarterly-ACME-receipt.png", &bytes), bytes).await;
    let record = processed(h, &key).await;
    let search = |q: &str| {
        ListRequest::default().with_search(crate::model::SearchText::parse(q).expect("search text"))
    };
    let found = h
        .intake()
        .list_images(&default_owner(), &search("acme"))
        .await;
    if !h.searches() {
        assert_eq!(
            found.expect_err("no search here").code(),
            "SEARCH_UNAVAILABLE"
        );
        return;
    }
    let page = found.expect("search");
    assert_eq!(
        page.images.iter().map(|i| i.image_id()).collect::<Vec<_>>(),
        vec![id]
    );
    let snippet = &page.images[0].search.as_ref().expect("a match").snippet;
    assert!(
        snippet.iter().any(|p| p.matched && p.text == "ACME"),
        "{snippet:?}"
    );
    assert!(
        page.images[0].ocr_text().is_none(),
        "hits carry no OCR text"
    );
    let word = record.ocr_text().and_then(|t| {
        t.split_whitespace()
            .find(|w| w.chars().any(char::is_alphanumeric))
    });
    if let Some(word) = word {
        let page = h
            .intake()
            .list_images(&default_owner(), &search(word))
            .await
            .expect("search the text");
        assert!(page.images.iter().any(|i| i.image_id() == id), "{word}");
    }
    assert!(
        h.intake()
            .list_images(&owner("someone-else"), &search("acme"))
            .await
            .expect("search")
            .images
            .is_empty()
    );
    assert_eq!(
        IntakeError::from(
            crate::model::SearchText::parse(" ;; ").expect_err("a search without words")
        )
        .code(),
        "INVALID_SEARCH"
    );
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    assert!(
        h.intake()
            .list_images(&default_owner(), &search("acme"))
            .await
            .expect("search")
            .images
            .is_empty()
    );
}

/// Five images listed two at a time come back newest first, each once; a bad cursor is `INVALID_CURSOR`.
pub async fn listing_pages_newest_first(h: &impl Harness) {
    let mut ids = Vec::new();
    for seed in 20..25 {
        let bytes = png(min_side(h), min_side(h), seed);
        let (id, key) = upload(h, png_request("p.png", &bytes), bytes).await;
        processed(h, &key).await;
        ids.push(id);
    }
    // one image that never arrives: not listed by default
    h.intake()
        .request_upload(
            &default_owner(),
            UploadRequest::named("never.png", crate::model::ContentType::Png).expect("file name"),
        )
        .await
        .expect("request");
    ids.reverse();
    let mut listed = Vec::new();
    let mut request = ListRequest::default().with_limit(2);
    loop {
        let page = h
            .intake()
            .list_images(&default_owner(), &request)
            .await
            .expect("list");
        assert!(page.images.len() <= 2);
        listed.extend(page.images.iter().map(|r| r.image_id()));
        match page.next_cursor {
            Some(cursor) => {
                request = ListRequest::default()
                    .with_limit(2)
                    .with_cursor(cursor.clone());
            }
            None => break,
        }
    }
    assert_eq!(listed, ids);
    let garbled = match crate::model::Cursor::parse("definitely-not-a-cursor") {
        Err(error) => IntakeError::from(error),
        Ok(cursor) => h
            .intake()
            .list_images(
                &default_owner(),
                &ListRequest::default().with_cursor(cursor),
            )
            .await
            .expect_err("garbled cursor"),
    };
    assert_eq!(garbled.code(), "INVALID_CURSOR");
    let too_many = ListRequest::default().with_limit(1001);
    assert_eq!(
        h.intake()
            .list_images(&default_owner(), &too_many)
            .await
            .expect_err("limit")
            .code(),
        "INVALID_LIMIT"
    );
}

/// Notifications for keys Intake never issued, or for another bucket, are refused.
pub async fn foreign_objects_are_refused(h: &impl Harness) {
    let intake = h.intake();
    for key in ["elsewhere/x.png", "uploads/not-an-id/x.png"] {
        assert!(
            ObjectKey::parse(key).is_err(),
            "{key} is not a key Intake issues"
        );
    }
    let unissued = ObjectKey::parse(&format!("uploads/{}/x.png", super::id_at(0, 77)))
        .expect("a well-formed key");
    let error = intake
        .process_object_created(&ObjectCreated::new(intake.bucket(), unissued.clone()))
        .await
        .expect_err("an unissued key");
    assert_eq!(error.code(), "UNKNOWN_OBJECT", "{unissued}");
    let error = intake
        .process_object_created(&ObjectCreated::new("another-bucket", unissued))
        .await
        .expect_err("foreign bucket");
    assert_eq!(error.code(), "FOREIGN_BUCKET");
    assert_eq!(h.ocr_calls(), 0);
}

/// Another owner's image is `NOT_FOUND` to read and to delete (and stays intact), never listed, never
/// offered as a duplicate (at request time or after processing), and a cursor does not cross owners.
pub async fn owners_are_isolated(h: &impl Harness) {
    let intake = h.intake();
    let (alice, bob) = (default_owner(), owner("bob"));
    let bytes = png(min_side(h), min_side(h), 40);
    let mut alice_ids = Vec::new();
    for name in ["a1.png", "a2.png"] {
        let (id, key) = upload(h, png_request(name, &bytes), bytes.clone()).await;
        processed(h, &key).await;
        alice_ids.push(id);
    }
    let id = alice_ids[0];
    for result in [
        intake
            .get_image(&bob, id, OcrDetail::Text)
            .await
            .map(|_| ()),
        intake.delete_image(&bob, id).await,
    ] {
        assert_eq!(
            result.expect_err("another owner's image").code(),
            "NOT_FOUND"
        );
    }
    assert_eq!(
        intake
            .get_image(&alice, id, OcrDetail::Text)
            .await
            .expect("still there")
            .record
            .image_id(),
        id,
        "another owner's delete touched the image"
    );
    assert!(
        intake
            .list_images(&bob, &ListRequest::default())
            .await
            .expect("list")
            .images
            .is_empty(),
        "another owner's images listed"
    );
    let ticket = intake
        .request_upload(&bob, png_request("b.png", &bytes))
        .await
        .expect("request");
    assert_eq!(
        ticket.duplicate_of, None,
        "another owner's image offered as the original"
    );
    h.send(&ticket.request(), Some(bytes.clone()))
        .await
        .expect("PUT");
    let calls = h.ocr_calls();
    let record = processed(h, &ticket.object_key).await;
    assert_eq!(*record.owner(), bob);
    assert_eq!(
        record.duplicate_of(),
        None,
        "another owner's image named as the original"
    );
    assert_eq!(h.ocr_calls(), calls + 1, "OCR reused across owners");
    let by_sha = intake
        .list_images(
            &bob,
            &ListRequest::default().with_sha256(Sha256Digest::of(&bytes)),
        )
        .await
        .expect("list by sha");
    assert_eq!(
        by_sha
            .images
            .iter()
            .map(|r| r.image_id())
            .collect::<Vec<_>>(),
        vec![ticket.image_id]
    );
    let page = intake
        .list_images(&alice, &ListRequest::default().with_limit(1))
        .await
        .expect("list");
    let cursor = page.next_cursor.expect("two pages");
    assert_eq!(
        intake
            .list_images(
                &bob,
                &ListRequest::default().with_limit(1).with_cursor(cursor)
            )
            .await
            .expect_err("another owner's cursor")
            .code(),
        "INVALID_CURSOR"
    );
}

/// Every committed change reports its events, once: a processed image `image.uploaded` then
/// `image.processed`, a rejected one `image.uploaded` then `image.rejected`, an identical upload
/// `image.duplicate`, a delete `image.deleted`; a replayed notification and a repeated delete report
/// nothing. Each document names its event and image, links to it as the composition's [`EventLinks`]
/// say, and carries no OCR text.
///
/// [`EventLinks`]: crate::model::EventLinks
pub async fn committed_changes_report_their_events(h: &impl Harness) {
    let Some(before) = h.committed_events().await else {
        return;
    };
    let bytes = png(min_side(h), min_side(h), 21);
    let (kept, key) = upload(h, png_request("kept.png", &bytes), bytes.clone()).await;
    processed(h, &key).await;
    processed_again_or_done(h, &key).await;
    let (copy, copy_key) = upload(h, png_request("copy.png", &bytes), bytes).await;
    processed(h, &copy_key).await;
    let (refused, refused_key) = upload(
        h,
        UploadRequest::named("notes.png", crate::model::ContentType::Png).expect("file name"),
        Bytes::from_static(b"just some text, honestly"),
    )
    .await;
    rejected(h, &refused_key).await;
    for _ in 0..2 {
        h.intake()
            .delete_image(&default_owner(), kept)
            .await
            .expect("delete");
    }
    let events = h.committed_events().await.expect("an outbox");
    let events = &events[before.len()..];
    let of = |id: ImageId| -> Vec<EventKind> {
        events
            .iter()
            .filter(|e| e.image_id() == id)
            .map(ImageEvent::kind)
            .collect()
    };
    assert_eq!(
        of(kept),
        [
            EventKind::Uploaded,
            EventKind::Processed,
            EventKind::Deleted
        ]
    );
    assert_eq!(of(copy), [EventKind::Uploaded, EventKind::Duplicate]);
    assert_eq!(of(refused), [EventKind::Uploaded, EventKind::Rejected]);
    for event in events {
        assert_eq!(event.owner(), &default_owner());
        let document: serde_json::Value = serde_json::from_str(event.body()).expect("JSON");
        assert_eq!(document["id"], event.id().to_string());
        assert_eq!(document["type"], event.kind().as_str());
        assert_eq!(
            document["schemaVersion"],
            crate::model::EVENT_SCHEMA_VERSION
        );
        assert_eq!(
            document["data"]["image"]["imageId"],
            event.image_id().to_string()
        );
        assert_eq!(
            document["data"]["links"]["image"],
            serde_json::json!(h.intake().event_links().image(event.image_id())),
            "the document links to the image as the composition says"
        );
        assert!(
            !event.body().contains("ocrText") && !event.body().contains("ORDER OF"),
            "no OCR text in an event: {}",
            event.body()
        );
    }
    let mut ids: Vec<_> = events.iter().map(ImageEvent::id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
}

/// A replayed notification of a processed image changes nothing.
async fn processed_again_or_done(h: &impl Harness, key: &ObjectKey) {
    match h.notify(key).await.expect("replay") {
        ProcessOutcome::AlreadyDone(_) => {}
        other => panic!("a replay must find the image done, got {other:?}"),
    }
}

/// A finished image is processed again on its owner's request, under the claim rules (never twice at
/// once), its earlier result kept in the history; an image rejected for its bytes, another owner's
/// and a deleted one are refused.
pub async fn finished_images_are_processed_again_on_request(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 31);
    let (id, key) = upload(h, png_request("again.png", &bytes), bytes).await;
    let first = processed(h, &key).await;
    let calls = h.ocr_calls();
    let queued = h
        .intake()
        .reprocess(&default_owner(), id, None)
        .await
        .expect("reprocess");
    assert_eq!(queued.status(), ImageStatus::Processing);
    assert_eq!(
        queued.lease_expires_at(),
        None,
        "claimable by the next processor"
    );
    assert_eq!(queued.ocr_text(), None);
    let [run] = queued.history() else {
        panic!("one earlier run: {:?}", queued.history())
    };
    assert_eq!(run.status, ImageStatus::Processed);
    assert_eq!(run.ocr_engine.as_deref(), first.ocr_engine());
    assert_eq!(run.ocr_line_count, first.ocr_line_count());
    for (who, code) in [
        (default_owner(), "INVALID_STATE"),
        (owner("someone-else"), "NOT_FOUND"),
    ] {
        let error = h
            .intake()
            .reprocess(&who, id, None)
            .await
            .expect_err("refused");
        assert_eq!(error.code(), code, "{error}");
    }
    let second = processed(h, &key).await;
    assert_eq!(h.ocr_calls(), calls + 1, "OCR ran again");
    assert_eq!(second.ocr_text(), first.ocr_text());
    assert_eq!(second.history().len(), 1);
    assert_eq!(second.sha256(), first.sha256());

    let whole = png(min_side(h), min_side(h), 32);
    let (cut, cut_key) = upload(
        h,
        UploadRequest::named("cut.png", crate::model::ContentType::Png).expect("file name"),
        whole.slice(..whole.len() - 100),
    )
    .await;
    assert_eq!(
        rejected(h, &cut_key).await.rejection_code(),
        Some(RejectionCode::Corrupt)
    );
    let error = h
        .intake()
        .reprocess(&default_owner(), cut, None)
        .await
        .expect_err("the bytes do not change");
    assert_eq!(error.code(), "INVALID_STATE");
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    let error = h
        .intake()
        .reprocess(&default_owner(), id, None)
        .await
        .expect_err("deleted");
    assert_eq!(error.code(), "NOT_FOUND");
}

/// Purging erases an image's bytes (every version), text and name for good and leaves a tombstone
/// (id, owner, SHA-256, size, type, dates, who); it is idempotent, and another owner cannot do it.
pub async fn purged_images_leave_only_a_tombstone(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 41);
    let (id, key) = upload(h, png_request("secret.png", &bytes), bytes.clone()).await;
    let original = processed(h, &key).await;
    let error = h
        .intake()
        .purge_image(&owner("someone-else"), id, "someone-else")
        .await
        .expect_err("not theirs");
    assert_eq!(error.code(), "NOT_FOUND");
    for _ in 0..2 {
        h.intake()
            .purge_image(&default_owner(), id, "owner-a")
            .await
            .expect("purge (again: idempotent)");
    }
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), id, OcrDetail::Text)
            .await
            .expect_err("purged images are gone")
            .code(),
        "NOT_FOUND"
    );
    if let Some(versions) = h.object_versions(&key).await {
        assert_eq!(versions, 0, "every version of the object is erased");
    }
    if let Some(stored) = h.stored_record(id).await {
        let tombstone = stored.expect("a tombstone stays");
        assert!(tombstone.is_purged() && tombstone.is_deleted());
        assert_eq!(tombstone.purged_by(), Some("owner-a"));
        assert_eq!(tombstone.ocr_text(), None);
        assert_eq!(tombstone.ocr_lines(), None);
        assert_eq!(tombstone.file_name().as_str(), "purged");
        assert_eq!(tombstone.preview_key(), None);
        assert_eq!(tombstone.sha256(), original.sha256());
        assert_eq!(tombstone.size_bytes(), original.size_bytes());
        assert_eq!(tombstone.content_type(), original.content_type());
        assert_eq!(tombstone.created_at(), original.created_at());
        assert_eq!(tombstone.owner(), original.owner());
    }
    if h.searches() {
        let words = original.ocr_text().unwrap_or_default();
        if let Some(word) = words.split_whitespace().find(|w| w.len() > 3) {
            let page = h
                .intake()
                .list_images(
                    &default_owner(),
                    &ListRequest::default()
                        .with_search(crate::model::SearchText::parse(word).expect("search text")),
                )
                .await
                .expect("search");
            assert!(
                page.images.iter().all(|i| i.record.image_id() != id),
                "a purged image's text is in no index"
            );
        }
    }
    if let Some(events) = h.committed_events().await {
        let kinds: Vec<EventKind> = events
            .iter()
            .filter(|e| e.image_id() == id)
            .map(ImageEvent::kind)
            .collect();
        assert_eq!(
            kinds,
            [
                EventKind::Uploaded,
                EventKind::Processed,
                EventKind::Deleted,
                EventKind::Purged
            ]
        );
        let purged = events
            .iter()
            .find(|e| e.image_id() == id && e.kind() == EventKind::Purged)
            .expect("purged");
        assert!(!purged.body().contains("secret.png"), "{}", purged.body());
    }
}
