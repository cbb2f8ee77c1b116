use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::model::{ImageEvent, ImageId, ImageRecord, ObjectKey, OcrResult, Sha256Digest};
use intake_domain::ports::{
    EventOutbox as _, ExportRenderer, ImageRepository as _, PresignedRequest, QueueRequests,
};
use intake_domain::testkit::scenarios::{Harness, Refusal};
use intake_domain::{Intake, IntakeConfig};

use crate::{
    ManualClock, MemoryFingerprintIndex, MemoryGateway, MemoryJobQueue, MemoryObjectStore,
    MemoryRepository, MemoryUrlSigner, Scripted, ScriptedOcr, SequentialIds,
};

/// Intake over memory adapters, with a handle on each for inspection, and the gateway that performs
/// presigned requests. Implements the scenario [`Harness`].
#[derive(Debug, Clone)]
pub struct MemoryHarness {
    /// The services.
    pub intake: Intake,
    /// The object store.
    pub store: MemoryObjectStore,
    /// The repository.
    pub repository: MemoryRepository,
    /// The scripted OCR engine (answers two lines of cheque text unless re-scripted).
    pub ocr: ScriptedOcr,
    /// The clock the services and the gateway share.
    pub clock: ManualClock,
    /// The storage endpoint.
    pub gateway: MemoryGateway,
    /// Where reprocessing requests go (nothing drains it: tests deliver notifications themselves).
    pub queue: MemoryJobQueue,
    /// The near-duplicate fingerprint index.
    pub fingerprints: MemoryFingerprintIndex,
}

impl Default for MemoryHarness {
    fn default() -> Self {
        Self::new(IntakeConfig::default(), ScriptedOcr::default())
    }
}

impl MemoryHarness {
    /// Memory adapters composed with `config` and `ocr`. Unless the engine was scripted otherwise, it
    /// answers `PAY TO THE ORDER OF` / `ONE THOUSAND DOLLARS`.
    ///
    /// # Panics
    /// If `config` is invalid for the engine (a test set-up error).
    pub fn new(config: IntakeConfig, ocr: ScriptedOcr) -> Self {
        Self::with_store(config, ocr, MemoryObjectStore::default())
    }

    /// As [`MemoryHarness::new`], with the object store's reads split into chunks of `bytes` (at
    /// least 1), as a network read may split an object anywhere.
    ///
    /// # Panics
    /// If `config` is invalid for the engine (a test set-up error).
    pub fn with_read_chunks(config: IntakeConfig, ocr: ScriptedOcr, bytes: usize) -> Self {
        Self::with_store(
            config,
            ocr,
            MemoryObjectStore::default().with_chunk_size(bytes),
        )
    }

    /// As [`MemoryHarness::new`], exporting through `renderer` (the memory adapters have no export
    /// formats of their own: `intake_export::Renderer` writes them).
    ///
    /// # Panics
    /// If `config` is invalid for the engine (a test set-up error).
    pub fn with_exports(
        config: IntakeConfig,
        ocr: ScriptedOcr,
        renderer: std::sync::Arc<dyn ExportRenderer>,
    ) -> Self {
        Self::composed(config, ocr, MemoryObjectStore::default(), Some(renderer))
    }

    fn with_store(config: IntakeConfig, ocr: ScriptedOcr, store: MemoryObjectStore) -> Self {
        Self::composed(config, ocr, store, None)
    }

    #[allow(clippy::expect_used)]
    fn composed(
        config: IntakeConfig,
        ocr: ScriptedOcr,
        store: MemoryObjectStore,
        renderer: Option<std::sync::Arc<dyn ExportRenderer>>,
    ) -> Self {
        let text = ScriptedOcr::text(
            &ocr.capabilities_name(),
            &["PAY TO THE ORDER OF", "ONE THOUSAND DOLLARS"],
            93.5,
        )
        .expect("valid scripted text");
        if ocr.is_unscripted() {
            ocr.set_default(Scripted::Text(text));
        }
        let signer = MemoryUrlSigner::default();
        let repository = MemoryRepository::default();
        let clock = ManualClock::default();
        let queue = MemoryJobQueue::default();
        let fingerprints = MemoryFingerprintIndex::default();
        let intake = Intake::builder()
            .store(store.clone())
            .signer(signer.clone())
            .repository(repository.clone())
            .search(repository.clone())
            .fingerprint_index(fingerprints.clone())
            .field_extractor(intake_fields::RuleExtractor::new(config.field_options))
            .ocr(ocr.clone())
            .clock(clock.clone())
            .ids(SequentialIds::default())
            .processing_requests(std::sync::Arc::new(QueueRequests(std::sync::Arc::new(
                queue.clone(),
            ))))
            .config(config);
        let intake = match renderer {
            Some(renderer) => intake.shared_exports(renderer),
            None => intake,
        }
        .build()
        .expect("valid configuration");
        let gateway = MemoryGateway::new(signer, store.clone()).with_clock(clock.clone());
        Self {
            intake,
            store,
            repository,
            ocr,
            clock,
            gateway,
            queue,
            fingerprints,
        }
    }
}

#[async_trait]
impl Harness for MemoryHarness {
    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn send(
        &self,
        request: &PresignedRequest,
        body: Option<Bytes>,
    ) -> Result<Bytes, Refusal> {
        self.gateway.perform(request, body).map_err(|e| Refusal {
            status: e.status(),
            reason: e.to_string(),
        })
    }

    fn ocr_calls(&self) -> usize {
        self.ocr.call_count()
    }

    async fn stored_record(&self, id: ImageId) -> Option<Option<ImageRecord>> {
        self.repository.get(&id).await.ok()
    }

    async fn object_versions(&self, key: &ObjectKey) -> Option<usize> {
        Some(usize::from(self.store.bytes(key).is_some()))
    }

    async fn committed_events(&self) -> Option<Vec<ImageEvent>> {
        self.repository.pending(u32::MAX).await.ok()
    }

    fn script_ocr(&self, bytes: &Bytes, result: OcrResult) -> bool {
        self.ocr
            .respond_to(Sha256Digest::of(bytes), Scripted::Text(result));
        true
    }
}
