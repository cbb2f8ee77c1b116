//! The scenario suite over the local adapter set: the filesystem store behind the local server's
//! object endpoint (the S3 stand-in that enforces what the presigned URLs bind), SQLite records,
//! search and jobs in one database file, and HMAC URLs. The OCR engine is scripted, as in the memory
//! set, so the suite tests the adapters and the services, not an engine.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use intake_domain::ports::{HttpMethod, PresignedRequest, QueueRequests, SystemClock};
use intake_domain::testkit::scenarios::{self, Harness, Refusal};
use intake_domain::{Intake, IntakeConfig};
use intake_local::{FsObjectStore, SqliteDatabase};
use intake_memory::{Scripted, ScriptedOcr};
use intake_server::{LOCAL_BUCKET, ObjectEndpoint};
use intake_signing::HmacUrlSigner;
use tempfile::TempDir;
use tower::ServiceExt as _;

/// Intake over the local adapters in a temporary directory, uploads going through the object endpoint.
struct LocalHarness {
    intake: Intake,
    endpoint: axum::Router,
    ocr: ScriptedOcr,
    repository: intake_local::SqliteRepository,
    store: FsObjectStore,
    _dir: TempDir,
}

impl LocalHarness {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = FsObjectStore::open(dir.path().join("objects"), LOCAL_BUCKET)
            .await
            .unwrap();
        let store_handle = store.clone();
        let db = SqliteDatabase::open(dir.path().join("intake.db")).unwrap();
        let signer = HmacUrlSigner::new(
            "http://127.0.0.1:9/objects",
            b"scenario-secret-of-32-bytes-long",
        );
        let ocr = ScriptedOcr::default();
        ocr.set_default(Scripted::Text(
            ScriptedOcr::text(
                &ocr.capabilities_name(),
                &["PAY TO THE ORDER OF", "ONE THOUSAND DOLLARS"],
                93.5,
            )
            .unwrap(),
        ));
        let intake = Intake::builder()
            .store(store.clone())
            .signer(signer.clone())
            .repository(db.repository())
            .search(db.repository())
            .fingerprint_index(db.fingerprints())
            .field_extractor(intake_fields::RuleExtractor::default())
            .ocr(ocr.clone())
            .processing_requests(Arc::new(QueueRequests(Arc::new(db.queue()))))
            .event_links(intake_http::EVENT_LINKS)
            // Every export stored, so that the purge scenario sees them erased.
            .exports(intake_export::Renderer)
            .config(IntakeConfig::default().with_export_inline_limit(Some(0)))
            .build()
            .unwrap();
        let endpoint = ObjectEndpoint::new(
            intake.clone(),
            store,
            signer,
            Arc::new(db.queue()),
            Arc::new(SystemClock),
            Arc::default(),
        )
        .router();
        Self {
            intake,
            endpoint,
            ocr,
            repository: db.repository(),
            store: store_handle,
            _dir: dir,
        }
    }
}

#[async_trait]
impl Harness for LocalHarness {
    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn send(
        &self,
        request: &PresignedRequest,
        body: Option<Bytes>,
    ) -> Result<Bytes, Refusal> {
        let target = request
            .url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let method = match request.method {
            HttpMethod::Put => axum::http::Method::PUT,
            _ => axum::http::Method::GET,
        };
        let mut http = axum::http::Request::builder().method(method).uri(target);
        for (name, value) in &request.headers {
            http = http.header(name, value);
        }
        let http = http
            .body(body.map_or_else(Body::empty, Body::from))
            .unwrap();
        let response = self.endpoint.clone().oneshot(http).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(Refusal {
                status: status.as_u16(),
                reason: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
    }

    fn ocr_calls(&self) -> usize {
        self.ocr.call_count()
    }

    fn script_ocr(&self, bytes: &Bytes, result: intake_domain::model::OcrResult) -> bool {
        self.ocr.respond_to(
            intake_domain::model::Sha256Digest::of(bytes),
            Scripted::Text(result),
        );
        true
    }

    async fn stored_record(
        &self,
        id: intake_domain::model::ImageId,
    ) -> Option<Option<intake_domain::model::ImageRecord>> {
        use intake_domain::ports::ImageRepository as _;
        Some(self.repository.get(&id).await.unwrap())
    }

    async fn object_versions(&self, key: &intake_domain::model::ObjectKey) -> Option<usize> {
        use intake_domain::ports::ObjectStore as _;
        match self.store.head(key).await {
            Ok(_) => Some(1),
            Err(intake_domain::ports::StoreError::NotFound { .. }) => Some(0),
            Err(other) => panic!("{other}"),
        }
    }

    async fn committed_events(&self) -> Option<Vec<intake_domain::model::ImageEvent>> {
        use intake_domain::ports::EventOutbox as _;
        Some(self.repository.pending(u32::MAX).await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_pass_over_the_local_adapters() {
    scenarios::run_suite(LocalHarness::new).await;
}
