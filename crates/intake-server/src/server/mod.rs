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
//!
//! One file per concern: [`ServeOptions`] (`options.rs`), the data directory (`data_dir.rs`), the
//! engine choice and the engines started (`engines.rs`), the composition (`compose.rs`), the router
//! (`router.rs`), serving and shutting down (`lifecycle.rs`), and recovery at start (`recovery.rs`).

mod compose;
mod data_dir;
mod engines;
mod lifecycle;
mod options;
mod recovery;
mod router;

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use intake_domain::ports::{JobQueue, OcrError, QueueError, QueueStats, RepoError};
use intake_domain::services::BuildError;
use intake_domain::{Intake, IntakeError};
use intake_keys::{ApiKeys, KeyError};
use intake_local::{OpenError, SenderError, SqliteDatabase};
use intake_ocr_onnx::LoadError;
use intake_webhooks::{Webhooks, WebhooksError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::events::EventPump;
use crate::retention::Retention;
use crate::workers::WorkerPool;

pub use compose::LOCAL_BUCKET;
pub use engines::{OcrChoice, UnknownEngine};
pub use options::ServeOptions;
pub use recovery::Recovered;

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

impl LocalServer {
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
}
