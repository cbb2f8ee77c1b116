//! The memory adapters against every conformance suite and every scenario.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::IntakeConfig;
use intake_domain::model::ObjectKey;
use intake_domain::testkit::{ocr, queue, repository, scenarios, signer, store};
use intake_keys::testkit as keys;
use intake_memory::{
    MemoryHarness, MemoryJobQueue, MemoryKeyStore, MemoryObjectStore, MemoryRepository,
    MemoryUrlSigner, ScriptedOcr,
};

#[tokio::test]
async fn repository_conforms() {
    repository::run_suite(|| async { MemoryRepository::default() }).await;
}

#[tokio::test]
async fn fingerprint_index_conforms() {
    intake_domain::testkit::fingerprints::run_suite(|| async {
        intake_memory::MemoryFingerprintIndex::default()
    })
    .await;
}

#[tokio::test]
async fn outbox_conforms() {
    intake_domain::testkit::events::run_outbox_suite(|| async { MemoryRepository::default() })
        .await;
}

#[tokio::test]
async fn publisher_conforms() {
    let publisher = intake_memory::MemoryPublisher::default();
    let received = |_| {
        let published = publisher.published();
        Box::pin(async move {
            published
                .iter()
                .map(|e| (e.id().to_string(), e.body().to_owned()))
                .collect()
        }) as intake_domain::testkit::events::Received<'_>
    };
    intake_domain::testkit::events::run_publisher_suite(&publisher, received).await;
}

#[tokio::test]
async fn webhook_store_conforms() {
    intake_webhooks::testkit::run_suite(|| async { intake_memory::MemoryWebhookStore::default() })
        .await;
}

#[tokio::test]
async fn search_conforms() {
    intake_domain::testkit::search::run_suite(|| async { MemoryRepository::default() }).await;
}

#[tokio::test]
async fn key_store_conforms() {
    keys::run_suite(|| async { MemoryKeyStore::default() }).await;
}

#[tokio::test]
async fn job_queue_conforms() {
    queue::run_suite(|| async { MemoryJobQueue::default() }).await;
}

struct Seed(MemoryObjectStore);

#[async_trait]
impl store::Seeder for Seed {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) {
        self.0.put(key, bytes, content_type);
    }
}

#[tokio::test]
async fn object_store_conforms() {
    let store = MemoryObjectStore::default();
    store::run_suite(&store, &Seed(store.clone()), 1).await;
}

#[tokio::test]
async fn object_store_conforms_with_tiny_chunks() {
    let store = MemoryObjectStore::new("tiny").with_chunk_size(7);
    store::run_suite(&store, &Seed(store.clone()), 2).await;
}

#[tokio::test]
async fn url_signer_conforms() {
    signer::run_suite(&MemoryUrlSigner::default()).await;
}

#[tokio::test]
async fn scripted_ocr_conforms() {
    let engine = ScriptedOcr::default();
    let png = intake_domain::testkit::images::png(100, 40, 1);
    let facts = intake_domain::ports::ImageFacts::new(
        intake_domain::model::ContentType::Png,
        png.len() as u64,
        Some((100, 40)),
        intake_domain::model::Sha256Digest::of(&png),
    );
    engine.respond_to(
        facts.sha256,
        intake_memory::Scripted::Text(
            ScriptedOcr::text("scripted", &["Pay to the order of", "Jane Doe"], 88.0).unwrap(),
        ),
    );
    let sample = ocr::Sample::new(
        intake_domain::ports::OcrInput::Bytes {
            bytes: png,
            facts: facts.clone(),
        },
        &["order", "jane"],
    );
    let refused_facts = intake_domain::ports::ImageFacts::new(
        intake_domain::model::ContentType::Png,
        3,
        Some((100, 40)),
        intake_domain::model::Sha256Digest::of(b"bad"),
    );
    engine.respond_to(
        refused_facts.sha256,
        intake_memory::Scripted::Fail(intake_memory::ScriptedError::InvalidImage),
    );
    let refused = intake_domain::ports::OcrInput::Bytes {
        bytes: Bytes::from_static(b"bad"),
        facts: refused_facts,
    };
    ocr::run_suite(&engine, &[sample], &[refused]).await;
}

#[tokio::test]
async fn scenarios_pass_over_memory_adapters() {
    // Exports stored whatever their size, so that the purge scenario sees them erased.
    scenarios::run_suite(|| async {
        MemoryHarness::with_exports(
            intake_domain::IntakeConfig::default().with_export_inline_limit(Some(0)),
            intake_memory::ScriptedOcr::default(),
            std::sync::Arc::new(intake_export::Renderer),
        )
    })
    .await;
}

#[tokio::test]
async fn scenarios_pass_without_duplicate_ocr_reuse() {
    scenarios::run_suite(|| async {
        MemoryHarness::new(
            IntakeConfig::default().with_reuse_duplicate_ocr(false),
            ScriptedOcr::default(),
        )
    })
    .await;
}

#[tokio::test]
async fn scenarios_pass_when_the_engine_needs_bytes() {
    let caps = intake_domain::ports::OcrCapabilities::new(
        "bytes-only",
        intake_domain::model::ContentType::ALL.to_vec(),
        20 * 1024 * 1024,
        40,
    );
    scenarios::run_suite(|| async {
        MemoryHarness::new(IntakeConfig::default(), ScriptedOcr::new(caps.clone()))
    })
    .await;
}

/// Draws every image as the same few bytes, or fails when told to; with `gate`, says it started and
/// waits to be let go before answering.
#[derive(Debug, Clone, Default)]
struct FakePreviewer {
    fail: bool,
    gate: Option<std::sync::Arc<(tokio::sync::Notify, tokio::sync::Notify)>>,
}

#[async_trait]
impl intake_domain::ports::Previewer for FakePreviewer {
    async fn preview(
        &self,
        _bytes: &Bytes,
        _facts: &intake_domain::ports::ImageFacts,
    ) -> Result<Option<intake_domain::ports::Preview>, intake_domain::ports::PreviewError> {
        if let Some(gate) = &self.gate {
            gate.0.notify_one();
            gate.1.notified().await;
        }
        if self.fail {
            return Err(intake_domain::ports::PreviewError::Undecodable {
                reason: "told to fail".into(),
            });
        }
        Ok(Some(intake_domain::ports::Preview::new(
            Bytes::from_static(b"\xFF\xD8\xFFpreview"),
            intake_domain::model::ContentType::Jpeg,
            32,
            16,
        )))
    }

    async fn page_picture(
        &self,
        bytes: &Bytes,
        facts: &intake_domain::ports::ImageFacts,
        _page: intake_domain::model::PageNumber,
        _longest_side: u32,
    ) -> Result<Option<intake_domain::ports::Preview>, intake_domain::ports::PreviewError> {
        self.preview(bytes, facts).await
    }
}

/// Processes one uploaded PNG with `previewer` on engines that read bytes; the services, the store and
/// the record.
async fn processed_with(
    previewer: FakePreviewer,
) -> (
    intake_domain::Intake,
    MemoryObjectStore,
    intake_domain::model::ImageRecord,
) {
    use intake_domain::services::ProcessOutcome;
    let (intake, store, key) = uploaded_with(previewer).await;
    let outcome = intake
        .process_object_created(&intake_domain::services::ObjectCreated::new(
            intake.bucket(),
            key.clone(),
        ))
        .await
        .unwrap();
    let ProcessOutcome::Processed(record) = outcome else {
        panic!("not processed: {outcome:?}");
    };
    (intake, store, *record)
}

/// Services over memory adapters with `previewer` and an engine that reads bytes, that delete objects
/// with their images, and one PNG uploaded: the services, the store and the upload's key.
async fn uploaded_with(
    previewer: FakePreviewer,
) -> (intake_domain::Intake, MemoryObjectStore, ObjectKey) {
    use intake_domain::services::UploadRequest;
    let caps = intake_domain::ports::OcrCapabilities::new(
        "bytes-only",
        intake_domain::model::ContentType::ALL.to_vec(),
        20 * 1024 * 1024,
        16,
    );
    let store = MemoryObjectStore::default();
    let signer = MemoryUrlSigner::default();
    let ocr = ScriptedOcr::new(caps);
    ocr.set_default(intake_memory::Scripted::Text(
        ScriptedOcr::text("bytes-only", &["HELLO"], 90.0).unwrap(),
    ));
    let intake = intake_domain::Intake::builder()
        .store(store.clone())
        .signer(signer.clone())
        .repository(MemoryRepository::default())
        .ocr(ocr)
        .previews(previewer)
        .config(IntakeConfig::default().with_delete_objects(true))
        .build()
        .unwrap();
    let png = intake_domain::testkit::images::png(64, 64, 3);
    let owner = intake_domain::testkit::default_owner();
    let ticket = intake
        .request_upload(
            &owner,
            UploadRequest::named("a.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    intake_memory::MemoryGateway::new(signer, store.clone())
        .perform(&ticket.request(), Some(png))
        .unwrap();
    (intake, store, ticket.object_key)
}

#[tokio::test]
async fn an_image_deleted_while_its_preview_is_made_keeps_no_preview() {
    let gate = std::sync::Arc::new((tokio::sync::Notify::new(), tokio::sync::Notify::new()));
    let (intake, store, key) = uploaded_with(FakePreviewer {
        gate: Some(std::sync::Arc::clone(&gate)),
        ..FakePreviewer::default()
    })
    .await;
    let processing = tokio::spawn({
        let intake = intake.clone();
        let key = key.clone();
        async move {
            intake
                .process_object_created(&intake_domain::services::ObjectCreated::new(
                    intake.bucket(),
                    key.clone(),
                ))
                .await
        }
    });
    // The preview is being made: the owner deletes the image, then the preview is finished.
    gate.0.notified().await;
    let owner = intake_domain::testkit::default_owner();
    let id = key.image_id();
    intake.delete_image(&owner, id).await.unwrap();
    gate.1.notify_one();
    processing.await.unwrap().unwrap();
    assert!(
        store.bytes(&ObjectKey::for_preview(id)).is_none(),
        "a preview outlived its deleted image"
    );
    assert!(store.bytes(&key).is_none());
}

#[tokio::test]
async fn processing_stores_a_preview_that_lists_link_and_deletes_remove() {
    let (intake, store, record) = processed_with(FakePreviewer::default()).await;
    let key = record.preview_key().cloned().expect("a preview key");
    assert_eq!(key, ObjectKey::for_preview(record.image_id()));
    assert_eq!(
        store.bytes(&key).as_deref(),
        Some(&b"\xFF\xD8\xFFpreview"[..])
    );
    let owner = intake_domain::testkit::default_owner();
    let page = intake
        .list_images(&owner, &intake_domain::services::ListRequest::default())
        .await
        .unwrap();
    let url = page.images[0]
        .thumbnail_url
        .clone()
        .expect("a thumbnail URL");
    assert!(url.contains("previews/"), "{url}");
    intake
        .expect_download(&key)
        .await
        .expect("served while the image lives");
    intake
        .delete_image(&owner, record.image_id())
        .await
        .unwrap();
    assert!(
        store.bytes(&key).is_none(),
        "the preview outlived its image"
    );
    assert!(intake.expect_download(&key).await.is_err());
    // A preview is never processed as an upload.
    let refused = intake
        .process_object_created(&intake_domain::services::ObjectCreated::new(
            intake.bucket(),
            key.clone(),
        ))
        .await
        .expect_err("a preview is not an upload");
    assert_eq!(refused.code(), "UNKNOWN_OBJECT");
}

#[tokio::test]
async fn an_image_whose_preview_fails_is_processed_without_one() {
    let (_, _, record) = processed_with(FakePreviewer {
        fail: true,
        ..FakePreviewer::default()
    })
    .await;
    assert_eq!(
        record.status(),
        intake_domain::model::ImageStatus::Processed
    );
    assert_eq!(record.preview_key(), None);
}
