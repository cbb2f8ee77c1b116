//! The memory adapters against every conformance suite and every scenario.

use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::IntakeConfig;
use intake_domain::model::ObjectKey;
use intake_domain::testkit::{keys, ocr, queue, repository, scenarios, signer, store};
use intake_memory::{
    MemoryHarness, MemoryJobQueue, MemoryKeyStore, MemoryObjectStore, MemoryRepository,
    MemoryUrlSigner, ScriptedOcr,
};

#[tokio::test]
async fn repository_conforms() {
    repository::run_suite(|| async { MemoryRepository::default() }).await;
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
    scenarios::run_suite(|| async { MemoryHarness::default() }).await;
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
