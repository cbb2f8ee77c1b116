//! The local server's metrics, served at `GET /metrics` (admin keys) in the OpenMetrics text format
//! that Prometheus scrapes: requests by route and status class, uploads, processing outcomes by
//! status and code, OCR time and queue wait by engine, webhook deliveries by outcome, images flagged
//! as near-duplicates; and, read at each scrape, the records by status and code, the jobs by state,
//! the fingerprint index's failures, the documents whose fields were read by type and the field
//! extractor's failures.
//!
//! Counters and histograms are fed where the work happens (a router layer, a timing decorator of the
//! OCR engine and of the job queue, the workers and the event pump); the figures the database knows
//! are read when scraped, so they are exact whatever restarted.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use intake_domain::Intake;
use intake_domain::model::{ObjectKey, Timestamp};
use intake_domain::ports::{DeadJob, Job, JobQueue, QueueError, QueueStats};
#[cfg(doc)]
use intake_domain::services::ObservedOcr;
use intake_domain::services::{JobReport, OcrObserver, ProcessOutcome};
use intake_http::{ApiError, Caller};
use intake_local::SqliteRepository;
use intake_webhooks::AttemptOutcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    engine: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    document_type: String,
}

/// Every figure, and the registry they are encoded from.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    engine: String,
    http: Family<HttpLabels, Counter>,
    uploads: Counter,
    outcomes: Family<StatusLabels, Counter>,
    ocr_seconds: Family<EngineLabels, Histogram>,
    queue_wait_seconds: Family<EngineLabels, Histogram>,
    deliveries: Family<OutcomeLabels, Counter>,
    near_duplicates: Counter,
    index_failures: Counter,
    documents_read: Family<KindLabels, Counter>,
    field_failures: Counter,
    records: Family<StatusLabels, Gauge>,
    jobs: Family<StateLabels, Gauge>,
}

/// Seconds, for the histograms: 10 ms to about 3 minutes, doubling.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

impl Metrics {
    /// The metrics of a server whose OCR engine is `engine` (the label of the OCR and queue-wait
    /// histograms).
    pub fn new(engine: &str) -> Self {
        let mut registry = Registry::default();
        let http = Family::<HttpLabels, Counter>::default();
        registry.register(
            "intake_http_requests",
            "HTTP requests answered, by route, method and status class",
            http.clone(),
        );
        let uploads = Counter::default();
        registry.register(
            "intake_uploads",
            "Objects received through upload URLs",
            uploads.clone(),
        );
        let outcomes = Family::<StatusLabels, Counter>::default();
        registry.register(
            "intake_processed",
            "Processing runs that ended, by the status they left and its rejection or failure code",
            outcomes.clone(),
        );
        let ocr_seconds =
            Family::<EngineLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> _);
        registry.register(
            "intake_ocr_duration_seconds",
            "Time the OCR engine took per image",
            ocr_seconds.clone(),
        );
        let queue_wait_seconds =
            Family::<EngineLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> _);
        registry.register(
            "intake_queue_wait_seconds",
            "Time a job waited between becoming due and a worker taking it",
            queue_wait_seconds.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "intake_webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, retrying, gave_up)",
            deliveries.clone(),
        );
        let near_duplicates = Counter::default();
        registry.register(
            "intake_near_duplicates",
            "Processed images flagged as looking like the same document as other images of their owner",
            near_duplicates.clone(),
        );
        let index_failures = Counter::default();
        registry.register(
            "intake_fingerprint_index_failures",
            "Lookups, puts and removes the near-duplicate fingerprint index failed (read at each scrape)",
            index_failures.clone(),
        );
        let documents_read = Family::<KindLabels, Counter>::default();
        registry.register(
            "intake_documents_read",
            "Documents whose type and fields were read, by document type (read at each scrape)",
            documents_read.clone(),
        );
        let field_failures = Counter::default();
        registry.register(
            "intake_field_extractor_failures",
            "Readings of documents' fields that failed; the images were processed without them (read at each scrape)",
            field_failures.clone(),
        );
        let records = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "intake_records",
            "Live records by status and rejection or failure code (read at each scrape)",
            records.clone(),
        );
        let jobs = Family::<StateLabels, Gauge>::default();
        registry.register(
            "intake_jobs",
            "Processing jobs by state: waiting, leased, dead (read at each scrape)",
            jobs.clone(),
        );
        Self {
            registry,
            engine: engine.to_owned(),
            http,
            uploads,
            outcomes,
            ocr_seconds,
            queue_wait_seconds,
            deliveries,
            near_duplicates,
            index_failures,
            documents_read,
            field_failures,
            records,
            jobs,
        }
    }

    /// What an [`ObservedOcr`] reports each read to: the OCR duration histogram.
    pub fn ocr_observer(self: &Arc<Self>) -> OcrObserver {
        let metrics = Arc::clone(self);
        Arc::new(move |engine: &str, took: Duration| {
            metrics
                .ocr_seconds
                .get_or_create(&EngineLabels {
                    engine: engine.to_owned(),
                })
                .observe(took.as_secs_f64());
        })
    }

    fn engine(&self) -> EngineLabels {
        EngineLabels {
            engine: self.engine.clone(),
        }
    }

    /// Counts one finished job's outcome.
    pub fn job_report(&self, report: &JobReport) {
        let JobReport::Finished { outcome, .. } = report else {
            return;
        };
        let (ProcessOutcome::Processed(record)
        | ProcessOutcome::Rejected(record)
        | ProcessOutcome::Failed(record)) = outcome
        else {
            return;
        };
        if record
            .near_duplicates()
            .is_some_and(|found| !found.is_empty())
        {
            self.near_duplicates.inc();
        }
        let code = record.outcome_code().unwrap_or_default();
        self.outcomes
            .get_or_create(&StatusLabels {
                status: record.status().as_str().to_owned(),
                code,
            })
            .inc();
    }

    /// Counts one webhook delivery attempt.
    pub fn delivery(&self, outcome: &AttemptOutcome) {
        let outcome = match outcome {
            AttemptOutcome::Delivered { .. } => "delivered",
            AttemptOutcome::Retrying { .. } => "retrying",
            AttemptOutcome::GaveUp { .. } => "gave_up",
            _ => "other",
        };
        self.deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The text of a scrape: the database's figures read now, then every metric encoded.
    async fn render(
        &self,
        intake: &Intake,
        repository: &SqliteRepository,
        queue: &dyn JobQueue,
    ) -> Result<String, ApiError> {
        let failures = intake.fingerprint_index_failures();
        self.index_failures
            .inc_by(failures.saturating_sub(self.index_failures.get()));
        let failures = intake.field_extractor_failures();
        self.field_failures
            .inc_by(failures.saturating_sub(self.field_failures.get()));
        for (kind, read) in intake.documents_read() {
            let counter = self.documents_read.get_or_create(&KindLabels {
                document_type: kind.name().to_owned(),
            });
            counter.inc_by(read.saturating_sub(counter.get()));
        }
        let counts = repository
            .status_counts()
            .await
            .map_err(intake_domain::IntakeError::from)?;
        let stats = queue
            .stats()
            .await
            .map_err(intake_domain::IntakeError::from)?;
        self.records.clear();
        for (status, code, count) in counts {
            self.records
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_owned(),
                    code,
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        for (state, count) in [
            ("waiting", stats.waiting),
            ("leased", stats.leased),
            ("dead", stats.dead),
        ] {
            self.jobs
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string())
        })?;
        Ok(text)
    }
}

/// Counts every request a route answered (a router layer: unmatched paths are not routes).
pub async fn count_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if method == "PUT" && route.contains("/objects/") && status.is_success() {
        metrics.uploads.inc();
    }
    metrics
        .http
        .get_or_create(&HttpLabels {
            route,
            method,
            class: format!("{}xx", status.as_u16() / 100),
        })
        .inc();
    response
}

/// What `GET /metrics` reads.
#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    intake: Intake,
    repository: SqliteRepository,
    queue: Arc<dyn JobQueue>,
}

/// `GET /metrics` (serve it behind authentication; it requires an admin caller, 403 `ADMIN_REQUIRED`
/// otherwise).
pub fn metrics_routes(
    metrics: Arc<Metrics>,
    intake: Intake,
    repository: SqliteRepository,
    queue: Arc<dyn JobQueue>,
) -> Router {
    Router::new()
        .route(intake_http::METRICS_ROUTE.path, get(scrape))
        .layer(Extension(Scrape {
            metrics,
            intake,
            repository,
            queue,
        }))
}

async fn scrape(Extension(scrape): Extension<Scrape>, caller: Caller) -> Response {
    if let Err(refused) = caller.require_admin("reading metrics") {
        return refused.into_response();
    }
    match scrape
        .metrics
        .render(&scrape.intake, &scrape.repository, scrape.queue.as_ref())
        .await
    {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The job queue, with each lease's wait observed.
#[derive(Debug)]
pub struct TimedQueue {
    inner: Arc<dyn JobQueue>,
    metrics: Arc<Metrics>,
}

impl TimedQueue {
    /// `inner`, each lease's wait (from due to taken) observed in `metrics`.
    pub fn new(inner: Arc<dyn JobQueue>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl JobQueue for TimedQueue {
    async fn enqueue(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        self.inner.enqueue(key, due).await
    }
    async fn lease(&self, now: Timestamp, lease: Duration) -> Result<Option<Job>, QueueError> {
        let job = self.inner.lease(now, lease).await?;
        if let Some(due) = job.as_ref().and_then(|j| j.due_at) {
            self.metrics
                .queue_wait_seconds
                .get_or_create(&self.metrics.engine())
                .observe(now.duration_since(due).as_secs_f64());
        }
        Ok(job)
    }
    async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        self.inner.complete(job).await
    }
    async fn retry(&self, job: &Job, due: Timestamp, error: &str) -> Result<(), QueueError> {
        self.inner.retry(job, due, error).await
    }
    async fn bury(&self, job: &Job, reason: &str, now: Timestamp) -> Result<(), QueueError> {
        self.inner.bury(job, reason, now).await
    }
    async fn release_all(&self) -> Result<u64, QueueError> {
        self.inner.release_all().await
    }
    async fn next_due(&self) -> Result<Option<Timestamp>, QueueError> {
        self.inner.next_due().await
    }
    async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.inner.stats().await
    }
    async fn dead_jobs(&self, limit: u32) -> Result<Vec<DeadJob>, QueueError> {
        self.inner.dead_jobs(limit).await
    }
    async fn revive(&self, key: &ObjectKey, due: Timestamp) -> Result<bool, QueueError> {
        self.inner.revive(key, due).await
    }
    async fn forget_dead(&self, key: &ObjectKey) -> Result<bool, QueueError> {
        self.inner.forget_dead(key).await
    }
}
