//! Error paths of the services, driven through `mockall` mocks of the ports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream;

use super::*;
use crate::model::{
    BoundingBox, FailureCode, FileName, ImageId, ImageRecord, ImageStatus, NewUpload, OcrLine,
    OcrResult, OcrWord, Timestamp, UrlTtl,
};
use crate::ports::{
    Failure, GetResult, MockClock, MockIdGenerator, MockImageRepository, MockObjectStore,
    MockOcrEngine, MockUrlSigner, ObjectMeta, OcrCapabilities, OcrError, OcrInput, PortError,
    RepoError, SignerError, StoreError,
};

/// The tests' one instant.
pub(super) fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000).unwrap()
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    clock
}

pub(super) fn caps(engine: &str, formats: Vec<ContentType>) -> OcrCapabilities {
    OcrCapabilities::new(engine, formats, 10 * 1024 * 1024, 16).reading_objects()
}

fn engine(name: &str) -> MockOcrEngine {
    let mut e = MockOcrEngine::new();
    e.expect_capabilities()
        .return_const(caps(name, vec![ContentType::Png, ContentType::Jpeg]));
    e
}

pub(super) fn store_with(bytes: Bytes) -> MockObjectStore {
    let mut s = MockObjectStore::new();
    s.expect_bucket().return_const("b".to_owned());
    s.expect_get().returning(move |_| {
        let chunks: Vec<Result<Bytes, StoreError>> = bytes
            .chunks(1000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Ok(GetResult::new(
            ObjectMeta::new(bytes.len() as u64),
            Box::pin(stream::iter(chunks)),
        ))
    });
    s
}

/// A new record awaiting its upload, owned by `o`.
pub(super) fn awaiting() -> ImageRecord {
    ImageRecord::awaiting_upload(NewUpload {
        image_id: ImageId::generate(now()),
        owner: crate::model::Owner::parse("o").unwrap(),
        bucket: "b".into(),
        file_name: FileName::sanitize("a.png").unwrap(),
        content_type: ContentType::Png,
        size_bytes: None,
        sha256: None,
        created_at: now(),
        upload_expires_at: now(),
    })
}

/// An awaiting record claimed for the `attempts`th time, its lease running out at `until`.
fn claimed(attempts: u32, until: Timestamp) -> ImageRecord {
    let mut parts = awaiting().into_parts();
    parts.status = ImageStatus::Processing;
    parts.attempts = attempts;
    parts.lease_expires_at = Some(until);
    ImageRecord::from_parts(parts).unwrap()
}

pub(super) fn build(
    store: MockObjectStore,
    repo: MockImageRepository,
    ocr: MockOcrEngine,
    signer: MockUrlSigner,
) -> Intake {
    Intake::builder()
        .store(store)
        .repository(repo)
        .ocr(ocr)
        .signer(signer)
        .clock(clock())
        .build()
        .unwrap()
}

/// A repository mock that serves `record` and records every replace.
pub(super) fn repo_serving(
    record: &ImageRecord,
    writes: &Arc<Mutex<Vec<ImageRecord>>>,
) -> MockImageRepository {
    let mut repo = MockImageRepository::new();
    let current = Arc::new(Mutex::new(record.clone()));
    let for_get = Arc::clone(&current);
    repo.expect_get()
        .returning(move |_| Ok(Some(for_get.lock().unwrap().clone())));
    let writes = Arc::clone(writes);
    repo.expect_replace()
        .returning(move |r, expected, _events| {
            let mut stored = current.lock().unwrap();
            if stored.version() != expected {
                return Err(RepoError::Precondition {
                    id: r.image_id(),
                    expected,
                });
            }
            *stored = r.clone();
            writes.lock().unwrap().push(r.clone());
            Ok(())
        });
    repo.expect_find_processed_by_sha256()
        .returning(|_, _, _| Ok(vec![]));
    repo
}

pub(super) fn event(record: &ImageRecord) -> ObjectCreated {
    ObjectCreated::new("b", record.object_key().clone())
}

#[tokio::test]
async fn throttled_ocr_is_retryable_and_releases_the_claim() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut ocr = engine("e");
    ocr.expect_detect().times(1).returning(|_| {
        Err(OcrError::from(Failure::throttled(
            "the OCR service throttled the request",
        )))
    });
    let intake = build(
        store_with(crate::testkit_png()),
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    let error = intake
        .process_object_created(&event(&record))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let writes = writes.lock().unwrap();
    assert_eq!(writes.len(), 2, "claim and release");
    assert_eq!(writes[0].status(), ImageStatus::Processing);
    assert!(writes[0].lease_expires_at().is_some());
    assert_eq!(writes[1].status(), ImageStatus::Processing);
    assert_eq!(
        writes[1].lease_expires_at(),
        None,
        "the claim was not released"
    );
    assert_eq!(writes[1].attempts(), 1);
}

#[tokio::test]
async fn permanent_ocr_errors_are_recorded_as_failed() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut ocr = engine("e");
    ocr.expect_detect().returning(|_| {
        Err(OcrError::InvalidImage {
            reason: "cannot decode".into(),
        })
    });
    let intake = build(
        store_with(crate::testkit_png()),
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::OcrInvalidImage));
            assert!(r.failure_message().unwrap().contains("cannot decode"));
            assert_eq!(r.ocr_status(), crate::model::OcrStatus::Failed);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_store_failure_mid_stream_is_retryable_and_releases_the_claim() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().returning(|_| {
        let chunks: Vec<Result<Bytes, StoreError>> = vec![
            Ok(Bytes::from_static(b"\x89PNG")),
            Err(StoreError::from(Failure::unavailable("connection reset"))),
        ];
        Ok(GetResult::new(
            ObjectMeta::new(10_000),
            Box::pin(stream::iter(chunks)),
        ))
    });
    let mut ocr = engine("e");
    ocr.expect_detect().never();
    let intake = build(
        store,
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    let error = intake
        .process_object_created(&event(&record))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(
        writes.lock().unwrap().last().unwrap().lease_expires_at(),
        None
    );
}

#[tokio::test]
async fn a_short_read_is_an_error_not_a_wrong_hash() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().returning(|_| {
        let chunks: Vec<Result<Bytes, StoreError>> = vec![Ok(crate::testkit_png())];
        Ok(GetResult::new(
            ObjectMeta::new(1_000_000),
            Box::pin(stream::iter(chunks)),
        ))
    });
    let mut ocr = engine("e");
    ocr.expect_detect().never();
    let intake = build(
        store,
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    let error = intake
        .process_object_created(&event(&record))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(
        writes.lock().unwrap().iter().all(|r| r.sha256().is_none()),
        "a partial hash was recorded"
    );
}

#[tokio::test]
async fn a_claim_that_keeps_losing_races_gives_up_with_conflict() {
    let record = awaiting();
    let mut repo = MockImageRepository::new();
    let r = record.clone();
    repo.expect_get().returning(move |_| Ok(Some(r.clone())));
    repo.expect_replace()
        .times(8)
        .returning(|r, expected, _events| {
            Err(RepoError::Precondition {
                id: r.image_id(),
                expected,
            })
        });
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().never();
    let intake = build(store, repo, engine("e"), MockUrlSigner::new());
    let error = intake
        .process_object_created(&event(&record))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "CONFLICT");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn retries_run_out_after_max_attempts() {
    let record = claimed(5, Timestamp::from_unix_millis(0).unwrap());
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().never();
    let mut ocr = engine("e");
    ocr.expect_detect().never();
    let intake = build(
        store,
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::RetriesExhausted));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_live_lease_makes_other_deliveries_no_ops() {
    let record = claimed(1, now().saturating_add(Duration::from_secs(60)));
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().never();
    let intake = build(
        store,
        repo_serving(&record, &writes),
        engine("e"),
        MockUrlSigner::new(),
    );
    assert!(matches!(
        intake
            .process_object_created(&event(&record))
            .await
            .unwrap(),
        ProcessOutcome::InProgress { .. }
    ));
    assert!(writes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_signature_writes_no_record() {
    let mut signer = MockUrlSigner::new();
    signer
        .expect_presign_put()
        .returning(|_| Err(SignerError::from(Failure::unavailable("no credentials"))));
    let mut repo = MockImageRepository::new();
    repo.expect_create().never();
    repo.expect_create_relaxed().never();
    let mut ids = MockIdGenerator::new();
    ids.expect_generate().returning(ImageId::generate);
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    let intake = Intake::builder()
        .store(store)
        .repository(repo)
        .ocr(engine("e"))
        .signer(signer)
        .ids(ids)
        .build()
        .unwrap();
    let error = intake
        .request_upload(
            &crate::model::Owner::parse("o").unwrap(),
            UploadRequest::named("a.png", crate::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "UNAVAILABLE");
}

#[test]
fn the_builder_requires_every_port_and_a_valid_config() {
    let missing = Intake::builder().ocr(engine("e")).build().unwrap_err();
    assert!(matches!(missing, BuildError::Missing("object store")));
    // A URL lifetime outside 1 s..7 days cannot even be configured.
    assert!(UrlTtl::new(UrlTtl::MAX.as_duration() + Duration::from_secs(1)).is_err());
    let nothing_left = Intake::builder()
        .ocr(engine("e"))
        .config(IntakeConfig::default().with_allowed_types(vec![ContentType::Pdf]))
        .build()
        .unwrap_err();
    assert!(matches!(
        nothing_left,
        BuildError::Config(ConfigError::NoAcceptedType { .. })
    ));
}

fn result(engine: &str, truncated: bool) -> OcrResult {
    let b = BoundingBox::new(0.0, 0.0, 0.5, 0.1).unwrap();
    let line = OcrLine::from_words(vec![OcrWord::new(engine, 90.0, b).unwrap()]).unwrap();
    OcrResult::new(engine, vec![line], truncated).unwrap()
}

fn png_input() -> OcrInput {
    let facts = crate::ports::ImageFacts::new(
        ContentType::Png,
        100,
        Some((100, 100)),
        crate::model::Sha256Digest::of(b"x"),
    );
    OcrInput::Bytes {
        bytes: Bytes::new(),
        facts,
    }
}

#[tokio::test]
async fn escalation_uses_the_fallback_only_for_truncated_results() {
    let mut primary = engine("primary");
    primary
        .expect_detect()
        .times(2)
        .returning(|i| Ok(result("primary", i.facts().size_bytes == 100)));
    let mut fallback = engine("fallback");
    fallback
        .expect_detect()
        .times(1)
        .returning(|_| Ok(result("fallback", false)));
    let auto = EscalatingOcr::new(Arc::new(primary), Arc::new(fallback));
    assert_eq!(auto.capabilities().engine, "auto(primary>fallback)");
    assert_eq!(
        auto.detect(&png_input()).await.unwrap().engine(),
        "fallback"
    );
    let mut complete = png_input();
    if let OcrInput::Bytes { facts, .. } = &mut complete {
        facts.size_bytes = 101;
    }
    assert_eq!(auto.detect(&complete).await.unwrap().engine(), "primary");
}

#[tokio::test]
async fn escalation_keeps_the_truncated_result_when_the_fallback_fails_permanently() {
    let mut primary = engine("primary");
    primary
        .expect_detect()
        .returning(|_| Ok(result("primary", true)));
    let mut fallback = engine("fallback");
    fallback.expect_detect().times(1).returning(|_| {
        Err(OcrError::InvalidImage {
            reason: "no".into(),
        })
    });
    let auto = EscalatingOcr::new(Arc::new(primary), Arc::new(fallback));
    let kept = auto.detect(&png_input()).await.unwrap();
    assert_eq!(kept.engine(), "primary");
    assert!(kept.truncated());

    let mut primary = engine("primary");
    primary
        .expect_detect()
        .returning(|_| Ok(result("primary", true)));
    let mut fallback = engine("fallback");
    fallback
        .expect_detect()
        .returning(|_| Err(OcrError::Timeout));
    let auto = EscalatingOcr::new(Arc::new(primary), Arc::new(fallback));
    assert!(auto.detect(&png_input()).await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn escalation_sends_formats_only_the_fallback_takes_straight_to_it() {
    let mut primary = engine("primary");
    primary.expect_detect().never();
    let mut fallback = MockOcrEngine::new();
    fallback.expect_capabilities().return_const(caps(
        "fallback",
        vec![ContentType::Png, ContentType::Jpeg, ContentType::Pdf],
    ));
    fallback
        .expect_detect()
        .times(1)
        .returning(|_| Ok(result("fallback", false)));
    let auto = EscalatingOcr::new(Arc::new(primary), Arc::new(fallback));
    assert!(auto.capabilities().formats.contains(&ContentType::Pdf));
    let facts = crate::ports::ImageFacts::new(
        ContentType::Pdf,
        100,
        None,
        crate::model::Sha256Digest::of(b"x"),
    );
    let pdf = OcrInput::Bytes {
        bytes: Bytes::new(),
        facts,
    };
    assert_eq!(auto.detect(&pdf).await.unwrap().engine(), "fallback");
    let facts = crate::ports::ImageFacts::new(
        ContentType::Gif,
        100,
        Some((100, 100)),
        crate::model::Sha256Digest::of(b"x"),
    );
    let gif = OcrInput::Bytes {
        bytes: Bytes::new(),
        facts,
    };
    assert!(matches!(
        auto.detect(&gif).await,
        Err(OcrError::UnsupportedFormat { .. })
    ));
}

#[tokio::test]
async fn a_store_that_refuses_the_read_is_recorded_as_failed() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().returning(|key| {
        Err(StoreError::PermissionDenied {
            key: key.to_string(),
            source: "AccessDenied: bucket policy".into(),
        })
    });
    let mut ocr = engine("e");
    ocr.expect_detect().never();
    let intake = build(
        store,
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::StoreError));
            assert!(r.failure_message().unwrap().contains("bucket policy"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_object_over_the_limit_is_rejected_without_reading_it() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockObjectStore::new();
    store.expect_bucket().return_const("b".to_owned());
    store.expect_get().returning(|_| {
        let never_read =
            stream::once(async { Err(StoreError::from(Failure::other("the body was read"))) });
        Ok(GetResult::new(
            ObjectMeta::new(1 << 40),
            Box::pin(never_read),
        ))
    });
    let intake = build(
        store,
        repo_serving(&record, &writes),
        engine("e"),
        MockUrlSigner::new(),
    );
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Rejected(r) => {
            assert_eq!(
                r.rejection_code(),
                Some(crate::model::RejectionCode::TooLarge)
            );
            assert_eq!((r.size_bytes(), r.sha256()), (Some(1 << 40), None));
        }
        other => panic!("{other:?}"),
    }
}

/// What processing measured on a record: hash, size, type and dimensions.
type Measured = (
    Option<crate::model::Sha256Digest>,
    Option<u64>,
    Option<ContentType>,
    Option<u32>,
    Option<u32>,
);

fn measured(r: &ImageRecord) -> Measured {
    (
        r.sha256(),
        r.size_bytes(),
        r.content_type(),
        r.width_px(),
        r.height_px(),
    )
}

/// The measurements of the 100 × 100 test PNG `png`.
fn measurements_of_png(png: &Bytes) -> Measured {
    (
        Some(crate::model::Sha256Digest::of(png)),
        Some(png.len() as u64),
        Some(ContentType::Png),
        Some(100),
        Some(100),
    )
}

#[tokio::test]
async fn an_ocr_timeout_is_retried_once_and_every_record_keeps_what_was_measured() {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut ocr = engine("e");
    ocr.expect_detect()
        .times(2)
        .returning(|_| Err(OcrError::Timeout));
    let png = crate::testkit_png();
    let intake = build(
        store_with(png.clone()),
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    let expected = measurements_of_png(&png);
    // The first timeout is retryable; the released claim keeps what was measured.
    let error = intake
        .process_object_created(&event(&record))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    {
        let writes = writes.lock().unwrap();
        let released = writes.last().unwrap();
        assert_eq!(
            released.lease_expires_at(),
            None,
            "the claim was not released"
        );
        assert_eq!(measured(released), expected);
    }
    // The retry times out again: final, with the measurements.
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::OcrTimeout));
            assert_eq!(r.attempts(), 2);
            assert_eq!(measured(&r), expected);
            assert!(r.processed_at().is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_last_attempt_failing_keeps_what_was_measured() {
    let record = claimed(4, Timestamp::from_unix_millis(0).unwrap());
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut ocr = engine("e");
    ocr.expect_detect().times(1).returning(|_| {
        Err(OcrError::from(Failure::throttled(
            "the OCR service throttled the request",
        )))
    });
    let png = crate::testkit_png();
    let intake = build(
        store_with(png.clone()),
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    match intake
        .process_object_created(&event(&record))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::RetriesExhausted));
            assert_eq!(measured(&r), measurements_of_png(&png));
        }
        other => panic!("{other:?}"),
    }
}
