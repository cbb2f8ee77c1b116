//! The local server: Intake's whole pipeline on one machine. One data directory holds everything:
//!
//! ```text
//! .intake/
//!   lock        held while a server runs (a second server on the same directory is refused)
//!   secret      the URL-signing key, 32 random bytes in hex, created on first start, mode 0600
//!   admin-key   the admin API key, written (mode 0600) whenever a start finds no active admin key;
//!               only its hash is kept in the database, so copy it and delete the file
//!   intake.db   SQLite: records with their outbox of events, the job queue, API keys (hashed),
//!               webhook subscriptions and their deliveries
//!   store/      objects (objects/, meta/, tmp/)
//!   ocr/        images being read by Tesseract when it is the engine (private, removed after each;
//!               cleared at start)
//! ```
//!
//! [`LocalServer::start`] binds the address, recovers what a previous process left (stale claims and
//! leases), serves the shared API router plus the object endpoints, and runs the worker pool and the
//! event pump (outbox to webhook deliveries, and their attempts).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use intake_domain::model::{ObjectKey, Owner, Timestamp};
use intake_domain::ports::{
    Clock, JobQueue, OcrEngine, OcrError, ProcessingRequests, QueueError, QueueStats, RepoError,
    SystemClock,
};
use intake_domain::services::{
    ADMIN_OWNER, ApiKeys, BuildError, JobPolicy, KeyError, ObservedOcr, WebhookPolicy, Webhooks,
    WebhooksError,
};
use intake_domain::{Intake, IntakeConfig, IntakeError};
use intake_http::{ApiKeyAuth, ApiOptions, CorsOrigins};
use intake_ocr_onnx::{LoadError, PpOcr, PpOcrOptions};
use intake_signing::HmacUrlSigner;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::connections::{self, ConnectionLimits, Pace, pace_bodies};
use crate::events::EventPump;
use crate::metrics::{Metrics, TimedQueue, count_requests, metrics_routes};
use crate::objects::ObjectEndpoint;
use crate::retention::Retention;
use crate::workers::WorkerPool;
use intake_local::{
    FsObjectStore, HttpWebhookSender, ImagePreviewer, OpenError, SenderError, SenderOptions,
    SqliteDatabase, TesseractOcr, TesseractOptions,
};

/// The bucket name the local store reports (object keys and records carry it).
pub const LOCAL_BUCKET: &str = "local";

/// How the local server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The data directory (default `.intake`).
    pub data_dir: PathBuf,
    /// The address to listen on (default `127.0.0.1:8080`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// The URL clients reach the server at, for presigned URLs (default `http://{bound address}`).
    pub public_url: Option<String>,
    /// How many jobs run at once (default: twice the number of cores, so that one job's bookkeeping
    /// (hashing, database commits) overlaps another's OCR; Tesseract's own limit keeps OCR at one
    /// process per core).
    pub workers: usize,
    /// Intake's settings.
    pub config: IntakeConfig,
    /// Which OCR engine reads the images (default: PP-OCR, the neural engine).
    pub engine: OcrChoice,
    /// PP-OCR's settings (models directory, tier, orientation).
    pub ppocr: PpOcrOptions,
    /// Tesseract's settings.
    pub tesseract: TesseractOptions,
    /// How long shutdown waits for jobs in progress (default 30 s).
    pub shutdown_grace: Duration,
    /// Whether to check at start that Tesseract and its language data are installed (default true).
    pub check_ocr: bool,
    /// Whether to create a new admin key (written to `admin-key`) even though one is active: the way
    /// back in when every admin key is lost (default false).
    pub new_admin_key: bool,
    /// The browser origins allowed to call the API and the object endpoints from other sites
    /// (default none).
    pub cors: CorsOrigins,
    /// Limits on client connections: header timeout, open connections, minimum body rate.
    pub connections: ConnectionLimits,
    /// Where webhooks may go and how their deliveries are retried (default: this machine only).
    pub webhooks: WebhookPolicy,
    /// Soft-deleted images are purged once deleted this long (default: never).
    pub retention: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(".intake"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            workers: 2 * std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            config: IntakeConfig::default(),
            engine: OcrChoice::default(),
            ppocr: PpOcrOptions::default(),
            tesseract: TesseractOptions::default(),
            shutdown_grace: Duration::from_secs(30),
            check_ocr: true,
            new_admin_key: false,
            cors: CorsOrigins::none(),
            connections: ConnectionLimits::default(),
            webhooks: WebhookPolicy::default(),
            retention: None,
        }
    }
}

impl ServeOptions {
    /// With a data directory.
    #[must_use]
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = dir.into();
        self
    }
    /// With limits on client connections.
    #[must_use]
    pub fn with_connections(mut self, limits: ConnectionLimits) -> Self {
        self.connections = limits;
        self
    }
    /// With the origins allowed to make cross-origin requests.
    #[must_use]
    pub fn with_cors(mut self, origins: CorsOrigins) -> Self {
        self.cors = origins;
        self
    }
    /// With an address.
    #[must_use]
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// With a public URL.
    #[must_use]
    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url;
        self
    }
    /// With a worker count.
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }
    /// With Intake's settings.
    #[must_use]
    pub fn with_config(mut self, config: IntakeConfig) -> Self {
        self.config = config;
        self
    }
    /// With Tesseract's settings.
    #[must_use]
    pub fn with_tesseract(mut self, tesseract: TesseractOptions) -> Self {
        self.tesseract = tesseract;
        self
    }
    /// With an OCR engine.
    #[must_use]
    pub fn with_engine(mut self, engine: OcrChoice) -> Self {
        self.engine = engine;
        self
    }
    /// With PP-OCR's settings.
    #[must_use]
    pub fn with_ppocr(mut self, ppocr: PpOcrOptions) -> Self {
        self.ppocr = ppocr;
        self
    }
    /// With a webhook policy (allowed hosts, retries).
    #[must_use]
    pub fn with_webhooks(mut self, webhooks: WebhookPolicy) -> Self {
        self.webhooks = webhooks;
        self
    }
    /// With a retention time after which soft-deleted images are purged (`None`: never).
    #[must_use]
    pub fn with_retention(mut self, retention: Option<Duration>) -> Self {
        self.retention = retention.filter(|r| !r.is_zero());
        self
    }
    /// With a shutdown grace period.
    #[must_use]
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// The OCR engine of the local server.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum OcrChoice {
    /// PP-OCRv6 on ONNX Runtime (`intake-ocr-onnx`): reads forms and receipts far better than
    /// Tesseract at about its speed (README, "OCR engines").
    #[default]
    PpOcr,
    /// The `tesseract` 5 CLI.
    Tesseract,
}

impl std::str::FromStr for OcrChoice {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ppocr" => Ok(Self::PpOcr),
            "tesseract" => Ok(Self::Tesseract),
            other => Err(UnknownEngine(other.to_owned())),
        }
    }
}

/// An engine name that is not `ppocr` or `tesseract`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OCR engine {0:?} (expected ppocr or tesseract)")]
pub struct UnknownEngine(pub String);

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Another server holds the data directory.
    #[error("another Intake server is using {0} (its lock file is held)")]
    Locked(PathBuf),
    /// The data directory or a file in it could not be used.
    #[error("cannot use {path}")]
    DataDir {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing secret is readable by other users, or malformed.
    #[error("the signing secret {path} is unusable: {reason}")]
    Secret {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The OCR engine is not installed or lacks language data.
    #[error("OCR is unavailable")]
    Ocr(#[source] OcrError),
    /// The PP-OCR models or ONNX Runtime could not be loaded.
    #[error("the PP-OCR engine cannot start")]
    Models(#[source] LoadError),
    /// The database could not be opened.
    #[error("the database cannot be opened")]
    Database(#[from] OpenError),
    /// The database failed.
    #[error("the database failed")]
    Repository(#[from] RepoError),
    /// The API keys could not be loaded or the admin key created.
    #[error("the API keys failed")]
    Keys(#[source] KeyError),
    /// The job queue failed.
    #[error("the job queue failed")]
    Queue(#[from] QueueError),
    /// Intake could not be composed (invalid settings).
    #[error("invalid settings")]
    Build(#[from] BuildError),
    /// Recovering the previous run's work failed.
    #[error("recovery failed")]
    Recovery(#[source] IntakeError),
    /// The webhook deliveries could not be recovered.
    #[error("the webhook deliveries failed")]
    Webhooks(#[from] WebhooksError),
    /// The webhook HTTP client could not be built.
    #[error("the webhook sender cannot start")]
    Sender(#[from] SenderError),
    /// Serving HTTP failed.
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}

/// A running local server.
#[derive(Debug)]
pub struct LocalServer {
    addr: SocketAddr,
    url: String,
    intake: Intake,
    keys: ApiKeys,
    queue: Arc<dyn JobQueue>,
    http: JoinHandle<std::io::Result<()>>,
    stop_http: oneshot::Sender<()>,
    workers: WorkerPool,
    events: EventPump,
    retention: Option<Retention>,
    webhooks: Webhooks,
    grace: Duration,
    recovered: Recovered,
    /// The database, settled (tickets written behind synced) before the server stops.
    database: SqliteDatabase,
    _lock: File,
}

/// What a start found left over from a previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Recovered {
    /// Processing claims ended.
    pub claims: u64,
    /// Job leases ended.
    pub leases: u64,
    /// Jobs waiting (including those).
    pub waiting: u64,
    /// Webhook delivery leases ended.
    pub deliveries: u64,
}

fn data_error(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Takes the data directory's lock file, so two servers never share one directory.
fn lock(dir: &Path) -> Result<File, ServeError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(data_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(data_error(&path)(e)),
    }
}

/// Writes `contents` to `dir/name` readable by the owner only (mode 0600), through a temporary name
/// and a rename, so a crash never leaves a partial file behind; the directory lock means no other
/// server races this.
fn write_private(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, ServeError> {
    let path = dir.join(name);
    let temp = dir.join(format!("{name}.tmp"));
    let _ = std::fs::remove_file(&temp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, &path))
        .map_err(data_error(&path))?;
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(path)
}

/// The OCR engine. PP-OCR loads and checks its models (on a blocking thread: reading and hashing them
/// and building the sessions takes a second); Tesseract writes images under `dir/ocr` (emptied of
/// whatever a crash left there: the lock says no other server uses it) and is checked if the options
/// ask for it.
async fn start_ocr(options: &ServeOptions, dir: &Path) -> Result<Arc<dyn OcrEngine>, ServeError> {
    let work = dir.join("ocr");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(data_error(&work))?;
    }
    match options.engine {
        OcrChoice::PpOcr => {
            let ppocr = options.ppocr.clone();
            let engine = tokio::task::spawn_blocking(move || PpOcr::load(&ppocr))
                .await
                .map_err(|e| {
                    ServeError::Ocr(OcrError::Other {
                        source: Box::new(e),
                    })
                })?
                .map_err(ServeError::Models)?;
            Ok(Arc::new(engine))
        }
        OcrChoice::Tesseract => {
            std::fs::create_dir_all(&work).map_err(data_error(&work))?;
            let ocr = TesseractOcr::new(options.tesseract.clone().with_work_dir(work));
            if options.check_ocr {
                ocr.check().await.map_err(ServeError::Ocr)?;
            }
            Ok(Arc::new(ocr))
        }
    }
}

/// The engines, observed by the metrics: the deployment's and, where installed, the other one.
async fn start_engines(
    options: &ServeOptions,
    dir: &Path,
) -> Result<(Arc<Metrics>, Arc<dyn OcrEngine>, Option<Arc<dyn OcrEngine>>), ServeError> {
    let ocr = start_ocr(options, dir).await?;
    let metrics = Arc::new(Metrics::new(&ocr.capabilities().engine));
    let ocr: Arc<dyn OcrEngine> = Arc::new(ObservedOcr::new(ocr, metrics.ocr_observer()));
    let alternative = start_alternative_ocr(options, dir)
        .await
        .map(|alt| Arc::new(ObservedOcr::new(alt, metrics.ocr_observer())) as Arc<dyn OcrEngine>);
    Ok((metrics, ocr, alternative))
}

/// The other engine, for reprocessing runs that ask for it by name: Tesseract beside PP-OCR when it
/// is installed, PP-OCR beside Tesseract when its models load. `None` (logged) when it is not there.
async fn start_alternative_ocr(options: &ServeOptions, dir: &Path) -> Option<Arc<dyn OcrEngine>> {
    match options.engine {
        OcrChoice::PpOcr => {
            let work = dir.join("ocr");
            std::fs::create_dir_all(&work).ok()?;
            let ocr = TesseractOcr::new(options.tesseract.clone().with_work_dir(work));
            match ocr.check().await {
                Ok(()) => Some(Arc::new(ocr)),
                Err(error) => {
                    tracing::info!(error = %intake_domain::error_chain(&error), "Tesseract is not installed: reprocessing offers PP-OCR only");
                    None
                }
            }
        }
        OcrChoice::Tesseract => {
            let ppocr = options.ppocr.clone();
            if let Ok(Ok(engine)) = tokio::task::spawn_blocking(move || PpOcr::load(&ppocr)).await {
                Some(Arc::new(engine))
            } else {
                tracing::info!(
                    "the PP-OCR models are not installed: reprocessing offers Tesseract only"
                );
                None
            }
        }
    }
}

/// Reads the signing secret, creating it (mode 0600) on first start.
fn secret(dir: &Path) -> Result<Vec<u8>, ServeError> {
    let path = dir.join("secret");
    let invalid = |reason: &str| ServeError::Secret {
        path: path.clone(),
        reason: reason.to_owned(),
    };
    if !path.exists() {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| invalid(&format!("no randomness: {e}")))?;
        write_private(dir, "secret", hex::encode(&bytes).as_bytes())?;
        tracing::info!(path = %path.display(), "created the URL-signing secret");
        return Ok(bytes);
    }
    match File::open(&path) {
        Ok(mut file) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = file
                    .metadata()
                    .map_err(data_error(&path))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(invalid(&format!(
                        "its mode is {:o}; other users could forge upload URLs (run chmod 600)",
                        mode & 0o777
                    )));
                }
            }
            let mut text = String::new();
            file.read_to_string(&mut text).map_err(data_error(&path))?;
            let text = text.trim();
            if text.len() < 64 {
                return Err(invalid("it must hold at least 32 bytes in hex"));
            }
            hex::decode(text).map_err(|_| invalid("it is not hex"))
        }
        Err(e) => Err(data_error(&path)(e)),
    }
}

/// Opens the object store and removes what an interrupted upload left in its temporary folder.
async fn open_store(dir: &Path) -> Result<FsObjectStore, ServeError> {
    let store = FsObjectStore::open(dir, LOCAL_BUCKET)
        .await
        .map_err(data_error(dir))?;
    store
        .remove_temporary_files()
        .await
        .map_err(data_error(dir))?;
    Ok(store)
}

/// Loads the API keys. When no admin key is active (a first start), or `new_admin` asks for one, a new
/// admin key is written to `dir/admin-key` and only then stored, so a stored key is never unknown.
async fn open_keys(
    dir: &Path,
    database: &SqliteDatabase,
    new_admin: bool,
) -> Result<ApiKeys, ServeError> {
    let keys = ApiKeys::new(Arc::new(
        database
            .keys()
            .await
            .map_err(|e| ServeError::Keys(e.into()))?,
    ));
    if new_admin || keys.needs_admin().await.map_err(ServeError::Keys)? {
        let secret = ApiKeys::new_secret().map_err(ServeError::Keys)?;
        let path = write_private(
            dir,
            "admin-key",
            format!("{}\n", secret.expose()).as_bytes(),
        )?;
        let owner = Owner::parse(ADMIN_OWNER).map_err(|e| ServeError::Keys(e.into()))?;
        let record = keys
            .register(&secret, owner, "admin", true)
            .await
            .map_err(ServeError::Keys)?;
        tracing::warn!(
            path = %path.display(),
            key_id = %record.key_id,
            "created an admin API key; it is in this file only: copy it and delete the file"
        );
    }
    Ok(keys)
}

impl LocalServer {
    /// Starts the server: data directory, adapters, recovery, HTTP and workers.
    ///
    /// # Errors
    /// [`ServeError`] saying what could not be set up; nothing is left running.
    pub async fn start(options: ServeOptions) -> Result<Self, ServeError> {
        let dir = options.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(data_error(&dir))?;
        let lock = lock(&dir)?;
        let secret = secret(&dir)?;

        let (metrics, ocr, alternative) = start_engines(&options, &dir).await?;
        let store = open_store(&dir.join("store")).await?;
        let database = SqliteDatabase::open(dir.join("intake.db"))?;
        let repository = database.repository();
        let queue: Arc<dyn JobQueue> = Arc::new(TimedQueue::new(
            Arc::new(database.queue()),
            Arc::clone(&metrics),
        ));
        let keys = open_keys(&dir, &database, options.new_admin_key).await?;

        let (listener, addr) = bind(options.addr).await?;
        let url = public_url(&options, addr);
        let signer = HmacUrlSigner::new(&format!("{url}/objects"), &secret);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let wake = Arc::new(Notify::new());
        let intake = Intake::builder()
            .store(store.clone())
            .signer(signer.clone())
            .shared_ocr(ocr)
            .repository(repository.clone())
            .search(repository)
            .previews(ImagePreviewer)
            .alternative_ocrs(alternative)
            .processing_requests(Arc::new(WakingRequests {
                queue: Arc::clone(&queue),
                wake: Arc::clone(&wake),
            }))
            .config(options.config.clone())
            .build()?;

        let webhooks = open_webhooks(&database, options.webhooks.clone(), &clock)?;
        let mut recovered = recover(&intake, queue.as_ref()).await?;
        recovered.deliveries = webhooks.release_all().await?;
        let endpoint = ObjectEndpoint::new(
            intake.clone(),
            store,
            signer,
            Arc::clone(&queue),
            Arc::clone(&clock),
            Arc::clone(&wake),
        );
        let router = router(&Served {
            intake: &intake,
            keys: &keys,
            webhooks: &webhooks,
            queue: &queue,
            metrics: &metrics,
            database: &database,
            endpoint: &endpoint,
            url: &url,
            options: &options,
        });
        let (stop_http, stopped) = oneshot::channel::<()>();
        let limits = options.connections;
        let http = tokio::spawn(connections::serve(listener, router, limits, stopped));
        let workers = WorkerPool::start_observed(
            options.workers,
            intake.clone(),
            Arc::clone(&queue),
            clock,
            JobPolicy::for_config(intake.config()),
            wake,
            Some(Arc::clone(&metrics)),
        );
        let events = EventPump::start(
            intake.clone(),
            Arc::new(database.repository()),
            webhooks.clone(),
            Arc::new(SystemClock),
            2,
            metrics,
        );
        let retention = options
            .retention
            .map(|after| Retention::start(intake.clone(), after));
        tracing::info!(%addr, url, data_dir = %dir.display(), workers = options.workers, "Intake is serving");
        Ok(Self {
            addr,
            url,
            intake,
            keys,
            queue,
            http,
            stop_http,
            workers,
            events,
            retention,
            webhooks,
            grace: options.shutdown_grace,
            recovered,
            database,
            _lock: lock,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the API and the object endpoints.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The composed services (for embedders and tests).
    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// The API keys this server accepts (for embedders and tests; clients use `/keys`).
    pub fn keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// The webhook subscriptions and deliveries (for embedders and tests; clients use `/webhooks`).
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// What the start recovered from a previous run.
    pub fn recovered(&self) -> Recovered {
        self.recovered
    }

    /// Counts of jobs by state.
    ///
    /// # Errors
    /// [`QueueError`] when the queue fails.
    pub async fn queue_stats(&self) -> Result<QueueStats, QueueError> {
        self.queue.stats().await
    }

    /// Serves until `signal` completes (e.g. Ctrl-C), then shuts down gracefully.
    ///
    /// # Errors
    /// [`ServeError::Serve`] when the HTTP server failed.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), ServeError> {
        tokio::select! {
            () = signal => {
                tracing::info!("shutting down: no new requests or jobs; finishing those in progress");
                self.shutdown().await
            }
            served = &mut self.http => {
                if let Some(retention) = self.retention.take() {
                    retention.stop().await;
                }
                let _ = self.workers.shutdown(Duration::ZERO).await;
                self.events.shutdown(Duration::ZERO).await;
                self.database.settle().await;
                served_result(served)
            }
        }
    }

    /// Stops accepting requests, lets requests and jobs in progress finish (jobs for up to the grace
    /// period; the rest resume at the next start), and returns.
    ///
    /// # Errors
    /// [`ServeError::Serve`] when the HTTP server failed.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let Self {
            http: mut served,
            stop_http,
            workers,
            events,
            retention,
            grace,
            database,
            _lock: lock,
            ..
        } = self;
        let _ = stop_http.send(());
        if let Some(retention) = retention {
            retention.stop().await;
        }
        // Requests (uploads) and jobs drain side by side, each for up to the grace period. An upload
        // cut off then is safe: its temporary file is removed at the next start, and its intent job
        // finds no object.
        let (served, abandoned) = tokio::join!(
            async {
                if let Ok(result) = tokio::time::timeout(grace, &mut served).await {
                    Some(result)
                } else {
                    served.abort();
                    None
                }
            },
            async {
                let abandoned = workers.shutdown(grace).await;
                // Events the pump has not moved yet stay in the outbox for the next start.
                events.shutdown(grace).await;
                abandoned
            },
        );
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "jobs still running after the grace period; they resume at the next start"
            );
        }
        // Upload tickets written behind reach the disk before the directory is let go.
        database.settle().await;
        drop(lock);
        match served {
            None => {
                tracing::warn!("requests still running after the grace period were cut off");
                Ok(())
            }
            Some(served) => served_result(served),
        }
    }
}

/// What the HTTP task's end means for the server.
fn served_result(
    served: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), ServeError> {
    match served {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ServeError::Serve(e)),
        Err(e) => Err(ServeError::Serve(std::io::Error::other(e))),
    }
}

/// Processing requests (reprocessing) as jobs of the local queue, waking a worker for a job due now.
#[derive(Debug)]
struct WakingRequests {
    queue: Arc<dyn JobQueue>,
    wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl ProcessingRequests for WakingRequests {
    async fn request(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        self.queue.enqueue(key, due).await?;
        self.wake.notify_one();
        Ok(())
    }
}

/// The URL clients reach the server at: the configured one, or the bound address.
fn public_url(options: &ServeOptions, addr: SocketAddr) -> String {
    options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned()
}

/// What the server's router serves.
struct Served<'a> {
    intake: &'a Intake,
    keys: &'a ApiKeys,
    webhooks: &'a Webhooks,
    queue: &'a Arc<dyn JobQueue>,
    metrics: &'a Arc<Metrics>,
    database: &'a SqliteDatabase,
    endpoint: &'a ObjectEndpoint,
    url: &'a str,
    options: &'a ServeOptions,
}

/// The shared API router with the local server's own routes (objects, web app, keys, webhooks, jobs,
/// metrics), every route counted, bodies paced.
fn router(served: &Served<'_>) -> axum::Router {
    let router = intake_http::app_with_routes(
        served.intake.clone(),
        Arc::new(ApiKeyAuth::new(served.keys.clone())),
        ApiOptions::default().with_cors(served.options.cors.clone()),
        served
            .endpoint
            .clone()
            .router()
            .merge(crate::web::router(served.url)),
        intake_http::key_routes(served.keys.clone())
            .merge(intake_http::webhook_routes(served.webhooks.clone()))
            .merge(intake_http::job_routes(
                served.intake.clone(),
                Arc::clone(served.queue),
            ))
            .merge(metrics_routes(
                Arc::clone(served.metrics),
                served.database.repository(),
                Arc::clone(served.queue),
            )),
    )
    .route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(served.metrics),
        count_requests,
    ));
    paced(router, &served.options.connections)
}

/// `router` with bodies that trickle in cut off (the object endpoint answers 408 and stores nothing),
/// when the limits set a pace.
fn paced(router: axum::Router, limits: &ConnectionLimits) -> axum::Router {
    match Pace::of(limits) {
        Some(pace) => router.layer(axum::middleware::from_fn_with_state(pace, pace_bodies)),
        None => router,
    }
}

/// Binds `addr`; returns the listener and the address bound (the port chosen for port 0).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// The webhook rules over the database's subscriptions and an HTTP sender.
fn open_webhooks(
    database: &SqliteDatabase,
    policy: WebhookPolicy,
    clock: &Arc<dyn Clock>,
) -> Result<Webhooks, ServeError> {
    Ok(Webhooks::new(
        Arc::new(database.webhooks()),
        Arc::new(HttpWebhookSender::new(SenderOptions::default())?),
        policy,
    )
    .with_clock(Arc::clone(clock)))
}

/// Ends what a previous process left in flight: it held the lock, so nobody else can be working.
async fn recover(intake: &Intake, queue: &dyn JobQueue) -> Result<Recovered, ServeError> {
    let claims = intake
        .end_stale_claims()
        .await
        .map_err(ServeError::Recovery)?;
    let leases = queue.release_all().await?;
    let waiting = queue.stats().await?.waiting;
    if claims + leases > 0 || waiting > 0 {
        tracing::info!(
            claims,
            leases,
            waiting,
            "resuming work left by the previous run"
        );
    }
    Ok(Recovered {
        claims,
        leases,
        waiting,
        deliveries: 0,
    })
}
