//! How the local server runs: [`ServeOptions`], their defaults and builders.

use intake_pdf::PdfOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_http::CorsOrigins;
use intake_local::TesseractOptions;
use intake_ocr_onnx::PpOcrOptions;
use intake_webhooks::WebhookPolicy;

use super::OcrChoice;
use crate::connections::ConnectionLimits;

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
    /// Intake's settings. The default answers every export inline (a local server has no response
    /// limit, and `intake serve` sets none); a limit makes larger exports stored and answered with
    /// `303 See Other` to a download URL, as on AWS.
    pub config: IntakeConfig,
    /// Which OCR engine reads the images (default: PP-OCR, the neural engine).
    pub engine: OcrChoice,
    /// PP-OCR's settings (models directory, tier, orientation).
    pub ppocr: PpOcrOptions,
    /// Tesseract's settings.
    pub tesseract: TesseractOptions,
    /// How PDFs are read (the worker program and libpdfium); `None` (the default) or a libpdfium
    /// that is not installed: PDFs are not accepted.
    pub pdf: Option<PdfOptions>,
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
            config: IntakeConfig::default().with_export_inline_limit(None),
            engine: OcrChoice::default(),
            ppocr: PpOcrOptions::default(),
            tesseract: TesseractOptions::default(),
            pdf: None,
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
    /// With PDFs read as `pdf` says (`None`: not accepted).
    #[must_use]
    pub fn with_pdf(mut self, pdf: Option<PdfOptions>) -> Self {
        self.pdf = pdf;
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
