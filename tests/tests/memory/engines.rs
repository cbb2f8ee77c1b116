//! A reprocessing run may ask for another of the deployment's engines by name.

use std::sync::Arc;

use intake_domain::model::ContentType;
use intake_domain::ports::{OcrCapabilities, QueueRequests};
use intake_domain::services::ProcessOutcome;
use intake_domain::{Intake, IntakeConfig};
use intake_memory::{MemoryHarness, Scripted, ScriptedOcr};

use crate::{created, page, process_ok, upload};

#[tokio::test]
async fn a_reprocessing_run_reads_with_the_engine_it_asked_for() {
    let mut h = MemoryHarness::default();
    let other = ScriptedOcr::new(OcrCapabilities::new(
        "other-engine",
        vec![ContentType::Png, ContentType::Jpeg],
        50 * 1024 * 1024,
        16,
    ));
    other.set_default(Scripted::Text(
        ScriptedOcr::text("other-engine", &["READ BY THE OTHER ENGINE"], 88.0).unwrap(),
    ));
    // Uploaded through the harness's own services (whose signer its gateway trusts), then read by
    // services that also have the other engine.
    let owner = intake_domain::testkit::default_owner();
    let (id, key) = upload(&h, "cheque.png", &page(3)).await;
    h.intake = Intake::builder()
        .store(h.store.clone())
        .signer(intake_memory::MemoryUrlSigner::default())
        .repository(h.repository.clone())
        .ocr(h.ocr.clone())
        .alternative_ocr(Arc::new(other.clone()))
        .processing_requests(Arc::new(QueueRequests(Arc::new(h.queue.clone()))))
        .clock(h.clock.clone())
        .config(IntakeConfig::default())
        .build()
        .unwrap();
    let first = process_ok(&h, &key).await;
    assert_eq!(first.ocr_engine(), Some(h.ocr.capabilities_name().as_str()));
    assert_eq!(
        h.intake.engine_names(),
        [h.ocr.capabilities_name().as_str(), "other-engine"]
    );
    let unknown = h
        .intake
        .reprocess(&owner, id, Some("no-such-engine"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "UNKNOWN_ENGINE");
    assert!(unknown.to_string().contains("other-engine"), "{unknown}");

    let queued = h
        .intake
        .reprocess(&owner, id, Some("other-engine"))
        .await
        .unwrap();
    assert_eq!(queued.requested_engine(), Some("other-engine"));
    let again = match h
        .intake
        .process_object_created(&created(&h, &key))
        .await
        .unwrap()
    {
        ProcessOutcome::Processed(record) => *record,
        outcome => panic!("{outcome:?}"),
    };
    assert_eq!(again.ocr_engine(), Some("other-engine"));
    assert_eq!(again.ocr_text(), Some("READ BY THE OTHER ENGINE"));
    assert_eq!(
        again.requested_engine(),
        None,
        "the request ends with the run"
    );
    assert_eq!(other.call_count(), 1);
    assert_eq!(
        again.history()[0].ocr_engine,
        first.ocr_engine().map(str::to_owned)
    );

    // A plain reprocessing reads with the deployment's engine again.
    h.intake.reprocess(&owner, id, None).await.unwrap();
    let third = process_ok(&h, &key).await;
    assert_eq!(third.ocr_engine(), first.ocr_engine());
}
