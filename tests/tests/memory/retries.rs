use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{FailureCode, ImageStatus, OcrResult};
use intake_domain::ports::{ImageRepository, OcrCapabilities, OcrEngine, OcrError, OcrInput};
use intake_domain::services::ProcessOutcome;
use intake_domain::{Intake, IntakeConfig};
use intake_memory::{MemoryHarness, Scripted, ScriptedError, ScriptedOcr};

use super::{created, page, process_ok, upload};

#[tokio::test]
async fn a_throttled_engine_is_retried_and_then_succeeds() {
    let h = MemoryHarness::default();
    h.ocr.then(Scripted::Fail(ScriptedError::Throttled));
    let (id, key) = upload(&h, "a.png", &page(1)).await;
    let error = h
        .intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap_err();
    assert!(error.is_retryable());
    let released = h.repository.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            released.status(),
            released.lease_expires_at(),
            released.attempts()
        ),
        (ImageStatus::Processing, None, 1)
    );
    let done = process_ok(&h, &key).await;
    assert_eq!(done.attempts(), 2);
    assert_eq!(h.ocr.call_count(), 2);
}

#[tokio::test]
async fn a_crashed_processor_is_taken_over_once_its_lease_runs_out() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_processing_lease(Duration::from_secs(60)),
        ScriptedOcr::default(),
    );
    let (id, key) = upload(&h, "a.png", &page(2)).await;
    // a processor claimed the image and died before finishing
    let stored = h.repository.get(&id).await.unwrap().unwrap();
    let claimed = stored
        .claim(h.clock_now(), Duration::from_secs(60))
        .unwrap();
    h.repository
        .replace(&claimed, stored.version(), &[])
        .await
        .unwrap();

    let outcome = h
        .intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::InProgress { .. }),
        "{outcome:?}"
    );
    assert_eq!(h.ocr.call_count(), 0);
    h.clock.advance(Duration::from_secs(61));
    let done = process_ok(&h, &key).await;
    assert_eq!(done.attempts(), 2);
    assert_eq!(h.ocr.call_count(), 1);
}

#[tokio::test]
async fn the_last_allowed_attempt_is_recorded_as_failed_at_once() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_attempts(2),
        ScriptedOcr::default(),
    );
    h.ocr
        .set_default(Scripted::Fail(ScriptedError::Unavailable));
    let (_, key) = upload(&h, "a.png", &page(3)).await;
    assert!(
        h.intake
            .process_object_created(&created(&h, &key))
            .await
            .unwrap_err()
            .is_retryable()
    );
    // the second attempt is the last: no further delivery is needed to record the failure
    match h
        .intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::RetriesExhausted));
            assert_eq!(
                (r.status(), r.attempts(), r.lease_expires_at()),
                (ImageStatus::Failed, 2, None)
            );
            assert!(r.failure_message().unwrap().contains("scripted outage"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        h.intake
            .process_object_created(&created(&h, &key))
            .await
            .unwrap(),
        ProcessOutcome::AlreadyDone(_)
    ));
    assert_eq!(h.ocr.call_count(), 2);
}

#[tokio::test]
async fn a_permanent_engine_failure_is_recorded_and_not_retried() {
    let h = MemoryHarness::default();
    h.ocr.then(Scripted::Fail(ScriptedError::InvalidImage));
    let (_, key) = upload(&h, "a.png", &page(4)).await;
    match h
        .intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap()
    {
        ProcessOutcome::Failed(r) => {
            assert_eq!(r.failure_code(), Some(FailureCode::OcrInvalidImage));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        h.intake
            .process_object_created(&created(&h, &key))
            .await
            .unwrap(),
        ProcessOutcome::AlreadyDone(_)
    ));
    assert_eq!(h.ocr.call_count(), 1);
}

/// An engine that deletes the image while "reading" it, to interleave a delete with processing.
#[derive(Debug)]
struct DeletingEngine {
    inner: ScriptedOcr,
    intake: Arc<OnceLock<Intake>>,
}

#[async_trait]
impl OcrEngine for DeletingEngine {
    fn capabilities(&self) -> &OcrCapabilities {
        self.inner.capabilities()
    }
    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        if let (Some(intake), OcrInput::Object { key, .. }) = (self.intake.get(), input) {
            intake
                .delete_image(&intake_domain::testkit::default_owner(), key.image_id())
                .await
                .expect("delete during OCR");
        }
        self.inner.detect(input).await
    }
}

#[tokio::test]
async fn a_delete_during_processing_survives_the_processors_final_write() {
    let h = MemoryHarness::default();
    let cell = Arc::new(OnceLock::new());
    let intake = Intake::builder()
        .store(h.store.clone())
        .signer(intake_memory::MemoryUrlSigner::default())
        .repository(h.repository.clone())
        .ocr(DeletingEngine {
            inner: h.ocr.clone(),
            intake: Arc::clone(&cell),
        })
        .clock(h.clock.clone())
        .build()
        .unwrap();
    cell.set(intake.clone()).unwrap();
    let (id, key) = upload(&h, "a.png", &page(5)).await;
    let outcome = intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap();
    let record = outcome.record().expect("record").clone();
    assert_eq!(record.status(), ImageStatus::Processed);
    assert!(
        record.deleted_at().is_some(),
        "the processor's write undid the delete"
    );
    assert_eq!(
        intake
            .get_image(
                &intake_domain::testkit::default_owner(),
                id,
                intake_domain::ports::OcrDetail::Lines
            )
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );
}

trait ClockNow {
    fn clock_now(&self) -> intake_domain::model::Timestamp;
}

impl ClockNow for MemoryHarness {
    fn clock_now(&self) -> intake_domain::model::Timestamp {
        intake_domain::ports::Clock::now(&self.clock)
    }
}
