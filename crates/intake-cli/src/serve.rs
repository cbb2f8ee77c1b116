//! `intake serve`: the local server, with its settings from flags and `INTAKE_*` variables, until
//! Ctrl-C or SIGTERM.

use intake_settings::table;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use intake_local::TesseractOptions;
use intake_server::{LocalServer, ServeOptions};

use crate::client::ClientError;

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where objects, the database and the signing secret live.
    #[arg(long, env = table::DATA_DIR.name, default_value = table::DATA_DIR.default)]
    data_dir: PathBuf,
    /// The address to listen on.
    #[arg(long, env = table::ADDR.name, default_value = table::ADDR.default)]
    addr: SocketAddr,
    /// How many jobs run at once (default: twice the number of cores; OCR itself runs one process per core).
    #[arg(long, env = table::WORKERS.name)]
    workers: Option<usize>,
    /// The URL clients reach this server at, used in presigned URLs (default: http://ADDR).
    #[arg(long, env = table::PUBLIC_URL.name)]
    public_url: Option<String>,
    /// The OCR engine: `ppocr` (PP-OCRv6 on ONNX Runtime, reads forms and receipts far better) or
    /// `tesseract`.
    #[arg(long, env = table::OCR_ENGINE.name, default_value = "ppocr")]
    ocr_engine: intake_server::OcrChoice,
    /// The PP-OCR model tier: `tiny` (fast; the default), `balanced` (tiny detection with small
    /// recognition: small's reading at a fraction of its cost) or `small` (several times slower).
    #[arg(long, env = table::OCR_MODEL.name, default_value = table::OCR_MODEL.default)]
    ocr_model: intake_ocr_onnx::ModelTier,
    /// Where scripts/ocr-models.sh installed the PP-OCR models (default: ~/.local/share/intake/models).
    #[arg(long, env = table::MODELS_DIR.name)]
    models_dir: Option<PathBuf>,
    /// Tesseract language(s), e.g. `eng` or `eng+deu` (with --ocr-engine tesseract).
    #[arg(long, env = table::OCR_LANGUAGE.name, default_value = table::OCR_LANGUAGE.default)]
    ocr_language: String,
    /// The most pixels Tesseract reads a page at; a larger single-page image is turned grey and scaled
    /// down to fit first (a colour one past 40% of it turned grey), which bounds Tesseract's memory to
    /// about 4.5 bytes a pixel of this.
    #[arg(long, env = table::TESSERACT_MAX_PIXELS.name, default_value_t = intake_local::DEFAULT_MAX_PIXELS)]
    tesseract_max_pixels: u64,
    /// The most pixels PP-OCR reads a page at; a larger page is averaged down to fit as it is decoded,
    /// which bounds a worker's memory whatever the page's size (detection reads at most 2000 px a side).
    #[arg(long, env = table::PPOCR_PAGE_PIXELS.name, default_value_t = intake_ocr_onnx::DEFAULT_PAGE_PIXELS)]
    ppocr_page_pixels: u64,
    /// The longest one image's OCR may take, in seconds (either engine); past it the image is retried.
    #[arg(long, env = table::OCR_TIMEOUT.name, default_value_t = 120)]
    ocr_timeout: u64,
    /// How long Ctrl-C waits for jobs in progress before leaving them to the next start, in seconds.
    #[arg(long, default_value_t = 30)]
    shutdown_grace: u64,
    /// Log format.
    #[arg(long, env = table::LOG_FORMAT.name, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Create a new admin API key (written to DATA_DIR/admin-key) even if one is active: the way back
    /// in when every admin key is lost.
    #[arg(long)]
    new_admin_key: bool,
    /// The longest a client may take to send a request's head, and an idle connection is kept, in
    /// seconds.
    #[arg(long, env = table::HEADER_TIMEOUT.name, default_value_t = 10)]
    header_timeout: u64,
    /// The most client connections open at once (default: half the open-file limit, at most 1024).
    #[arg(long, env = table::MAX_CONNECTIONS.name)]
    max_connections: Option<usize>,
    /// The slowest a request body may arrive after its first 10 seconds, in bytes per second (0: no
    /// minimum); a slower upload is cut off with 408 BODY_TOO_SLOW.
    #[arg(long, env = table::MIN_BODY_RATE.name, default_value_t = intake_server::DEFAULT_MIN_BODY_RATE)]
    min_body_rate: u64,
    /// Browser origins allowed to call the API and upload or download from other sites, comma-separated
    /// (`https://app.example.com,http://localhost:5173`), or `*` for any; none by default.
    #[arg(long, env = table::CORS_ORIGINS.name, default_value = table::CORS_ORIGINS.default)]
    cors_origins: intake_server::CorsOrigins,
    /// Hosts webhooks may be sent to, comma-separated: names, IP addresses, `*.domain`, or `*` for
    /// anywhere. This machine only by default, so subscribers cannot reach into other networks.
    #[arg(
        long,
        env = table::WEBHOOK_HOSTS.name,
        default_value = table::WEBHOOK_HOSTS.default
    )]
    webhook_hosts: String,
    /// Purge soft-deleted images (bytes, text, name; a tombstone stays) once deleted this many days
    /// (0: never, the default).
    #[arg(long, env = table::RETENTION_DAYS.name, default_value_t = 0)]
    retention_days: u32,
}

impl ServeArgs {
    fn ocr_timeout(&self) -> Duration {
        Duration::from_secs(self.ocr_timeout.max(1))
    }

    fn connection_limits(&self) -> intake_server::ConnectionLimits {
        let limits = intake_server::ConnectionLimits::default()
            .with_header_timeout(Duration::from_secs(self.header_timeout.max(1)))
            .with_min_body_rate(self.min_body_rate, intake_server::DEFAULT_BODY_GRACE);
        match self.max_connections {
            Some(max) => limits.with_max_connections(max),
            None => limits,
        }
    }

    /// PDFs are read by workers that are this program (`intake pdf-worker`), with the libpdfium
    /// that scripts/ocr-models.sh installs beside the PP-OCR models.
    fn pdf_options(&self) -> Option<intake_pdf::PdfOptions> {
        let models = self.ppocr_options().models_dir;
        intake_pdf::PdfOptions::this_program(intake_pdf::library_path(&models)).ok()
    }

    fn ppocr_options(&self) -> intake_ocr_onnx::PpOcrOptions {
        let options = intake_ocr_onnx::PpOcrOptions::default()
            .with_tier(self.ocr_model)
            .with_page_pixels(self.ppocr_page_pixels)
            .with_time_limit(self.ocr_timeout());
        match &self.models_dir {
            Some(dir) => options.with_models_dir(dir),
            None => options,
        }
    }
}

pub(crate) async fn serve(args: ServeArgs) -> Result<ExitCode, ClientError> {
    init_logging(args.log_format);
    // The local server answers every export inline: it has no response limit to keep under.
    let config = intake_settings::intake_config(&|name| std::env::var(name).ok())
        .map_err(|e| ClientError::Input(e.to_string()))?
        .with_export_inline_limit(None);
    let mut options = ServeOptions::default()
        .with_data_dir(&args.data_dir)
        .with_addr(args.addr)
        .with_public_url(args.public_url.clone())
        .with_config(config)
        .with_tesseract(
            TesseractOptions::default()
                .with_language(&args.ocr_language)
                .with_timeout(args.ocr_timeout())
                .with_max_pixels(args.tesseract_max_pixels),
        )
        .with_engine(args.ocr_engine)
        .with_ppocr(args.ppocr_options())
        .with_pdf(args.pdf_options())
        .with_shutdown_grace(Duration::from_secs(args.shutdown_grace))
        .with_cors(args.cors_origins.clone())
        .with_connections(args.connection_limits());
    if let Some(workers) = args.workers {
        options = options.with_workers(workers);
    }
    let hosts = intake_webhooks::HostAllowList::parse(&args.webhook_hosts)
        .map_err(|e| ClientError::Input(format!("INTAKE_WEBHOOK_HOSTS: {e}")))?;
    options = options
        .with_webhooks(intake_webhooks::WebhookPolicy::default().with_allowed_hosts(hosts))
        .with_retention(
            (args.retention_days > 0)
                .then(|| Duration::from_secs(u64::from(args.retention_days) * 24 * 3600)),
        );
    options.new_admin_key = args.new_admin_key;
    let server = LocalServer::start(options)
        .await
        .map_err(|e| ClientError::Serve(intake_domain::error_chain(&e)))?;
    eprintln!(
        "Intake is serving at {} (data in {}); Ctrl-C stops it",
        server.url(),
        args.data_dir.display()
    );
    server
        .run_until(shutdown_signal())
        .await
        .map_err(|e| ClientError::Serve(intake_domain::error_chain(&e)))?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what service managers send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await;
}

/// Logs to stderr at the levels `INTAKE_LOG` names (`info` by default; `debug`, or per target:
/// `intake_server=debug,info`).
fn init_logging(format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{Layer as _, filter::Targets};

    let filter = std::env::var(table::LOG.name)
        .ok()
        .and_then(|levels| intake_settings::log_directives(&levels))
        .and_then(|levels| levels.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => tracing_subscriber::registry()
            .with(layer.json().flatten_event(true).with_filter(filter))
            .try_init(),
        LogFormat::Human => tracing_subscriber::registry()
            .with(layer.compact().with_filter(filter))
            .try_init(),
    };
}
