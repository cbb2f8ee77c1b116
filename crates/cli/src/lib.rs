//! # intake-cli
//!
//! The `intake` command: runs the local server (`intake serve`) and is a client of any Intake API,
//! local or on API Gateway (`upload`, `list`, `show`, `download`, `delete`), and manages the local
//! server's API keys (`keys`).
//!
//! The command only parses its arguments, composes and calls: the server is
//! [`intake_server::LocalServer`], the client speaks the REST API described in `openapi.yaml`. The
//! library exposes [`main`] so that test harnesses can build the same command.

mod client;
mod commands;
mod jobs;
mod output;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::client::ClientError;

/// Exit codes a script can rely on.
const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  unexpected error (local I/O, a response that is not Intake's)
  2  invalid arguments
  3  not found (no such image)
  4  refused by the API (invalid input, unsupported type, too large, URL refused)
  5  the API is unreachable or unavailable (connection refused, HTTP 5xx), or the server could not start
  6  timed out waiting for processing
  7  finished, but not everything succeeded (an upload failed, an image was rejected or failed)
  8  not authenticated or not allowed (missing, invalid or revoked API key; not an admin key)

API keys: --api-key or INTAKE_API_KEY; else the file named by --api-key-file or INTAKE_API_KEY_FILE;
else, for an API on this machine (localhost), the admin key a local server wrote to
$INTAKE_DATA_DIR/admin-key (default .intake/admin-key). Prefer INTAKE_API_KEY to --api-key: command
lines are visible to other users.";

#[derive(Debug, Parser)]
#[command(name = "intake", version, about = "Intake: image ingestion and OCR", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local server: the REST API, the object endpoints and the OCR workers.
    Serve(ServeArgs),
    /// Upload image files (or every image in a directory) and wait until they are processed.
    Upload(UploadArgs),
    /// List images, newest first.
    List(ListArgs),
    /// Find images by the words on them (or in their file names), best match first.
    Search(SearchArgs),
    /// Show one image: status, checksum, OCR text and confidence, duplicate.
    Show(ShowArgs),
    /// Download an image's bytes through a presigned URL.
    Download(DownloadArgs),
    /// Delete an image (soft delete: the record stays for audit, the image disappears from the API);
    /// with --purge, erase its bytes, text and name for good.
    Delete(DeleteArgs),
    /// Run OCR again on a finished image's stored bytes (its earlier result stays in its history).
    Reprocess(ReprocessArgs),
    /// Manage the local server's API keys (needs an admin key).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage your webhooks: signed POSTs of your images' events (local server).
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// See and act on the jobs the local server's queue gave up on (needs an admin key).
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key; it is printed once and only its hash is stored.
    Create(KeyCreateArgs),
    /// List keys, revoked ones included (kept for audit).
    List(KeyListArgs),
    /// Revoke a key: it stops working at once.
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
struct KeyCreateArgs {
    /// Whose images the key sees and creates (several keys may share an owner).
    #[arg(long)]
    owner: String,
    /// A label: which machine or service holds the key.
    #[arg(long)]
    name: String,
    /// Allow the key to manage keys.
    #[arg(long)]
    admin: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct KeyListArgs {
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct KeyRevokeArgs {
    /// The key id (the 16 hex digits after `ik_`).
    key_id: String,
    #[command(flatten)]
    api: ApiArgs,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Where objects, the database and the signing secret live.
    #[arg(long, env = "INTAKE_DATA_DIR", default_value = ".intake")]
    data_dir: PathBuf,
    /// The address to listen on.
    #[arg(long, env = "INTAKE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// How many jobs run at once (default: twice the number of cores; OCR itself runs one process per core).
    #[arg(long, env = "INTAKE_WORKERS")]
    workers: Option<usize>,
    /// The URL clients reach this server at, used in presigned URLs (default: http://ADDR).
    #[arg(long, env = "INTAKE_PUBLIC_URL")]
    public_url: Option<String>,
    /// The OCR engine: `ppocr` (PP-OCRv6 on ONNX Runtime, reads forms and receipts far better) or
    /// `tesseract`.
    #[arg(long, env = "INTAKE_OCR_ENGINE", default_value = "ppocr")]
    ocr_engine: intake_server::OcrChoice,
    /// The PP-OCR model tier: `tiny` (fast; the default) or `small` (reads dense and small print better,
    /// several times slower).
    #[arg(long, env = "INTAKE_OCR_MODEL", default_value = "tiny")]
    ocr_model: intake_ocr_onnx::ModelTier,
    /// Where scripts/ocr-models.sh installed the PP-OCR models (default: ~/.local/share/intake/models).
    #[arg(long, env = "INTAKE_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Tesseract language(s), e.g. `eng` or `eng+deu` (with --ocr-engine tesseract).
    #[arg(long, env = "INTAKE_OCR_LANGUAGE", default_value = "eng")]
    ocr_language: String,
    /// The most pixels Tesseract reads a page at; a larger single-page image is turned grey and scaled
    /// down to fit first (a colour one past 40% of it turned grey), which bounds Tesseract's memory to
    /// about 4.5 bytes a pixel of this.
    #[arg(long, env = "INTAKE_TESSERACT_MAX_PIXELS", default_value_t = intake_local::DEFAULT_MAX_PIXELS)]
    tesseract_max_pixels: u64,
    /// The longest one image's OCR may take, in seconds (either engine); past it the image is retried.
    #[arg(long, env = "INTAKE_OCR_TIMEOUT_SECONDS", default_value_t = 120)]
    ocr_timeout: u64,
    /// How long Ctrl-C waits for jobs in progress before leaving them to the next start, in seconds.
    #[arg(long, default_value_t = 30)]
    shutdown_grace: u64,
    /// Log format.
    #[arg(long, env = "INTAKE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Create a new admin API key (written to DATA_DIR/admin-key) even if one is active: the way back
    /// in when every admin key is lost.
    #[arg(long)]
    new_admin_key: bool,
    /// The longest a client may take to send a request's head, and an idle connection is kept, in
    /// seconds.
    #[arg(long, env = "INTAKE_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// The most client connections open at once (default: half the open-file limit, at most 1024).
    #[arg(long, env = "INTAKE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// The slowest a request body may arrive after its first 10 seconds, in bytes per second (0: no
    /// minimum); a slower upload is cut off with 408 BODY_TOO_SLOW.
    #[arg(long, env = "INTAKE_MIN_BODY_RATE", default_value_t = intake_server::DEFAULT_MIN_BODY_RATE)]
    min_body_rate: u64,
    /// Browser origins allowed to call the API and upload or download from other sites, comma-separated
    /// (`https://app.example.com,http://localhost:5173`), or `*` for any; none by default.
    #[arg(long, env = "INTAKE_CORS_ORIGINS", default_value = "")]
    cors_origins: intake_server::CorsOrigins,
    /// Hosts webhooks may be sent to, comma-separated: names, IP addresses, `*.domain`, or `*` for
    /// anywhere. This machine only by default, so subscribers cannot reach into other networks.
    #[arg(
        long,
        env = "INTAKE_WEBHOOK_HOSTS",
        default_value = "localhost,127.0.0.1,::1"
    )]
    webhook_hosts: String,
    /// Purge soft-deleted images (bytes, text, name; a tombstone stays) once deleted this many days
    /// (0: never, the default).
    #[arg(long, env = "INTAKE_RETENTION_DAYS", default_value_t = 0)]
    retention_days: u32,
}

/// Where the API is, and how to print.
#[derive(Debug, Args, Clone)]
struct ApiArgs {
    /// The API's base URL: the local server or a deployed API Gateway stage URL.
    #[arg(
        long,
        env = "INTAKE_API",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    api: String,
    /// The API key (local server); API Gateway deployments authenticate with their own authorizer.
    #[arg(long, env = "INTAKE_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// A file holding the API key.
    #[arg(long, env = "INTAKE_API_KEY_FILE", global = true)]
    api_key_file: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

impl ApiArgs {
    /// The API key to send, from the flag, the key file, or the local server's admin key file.
    fn key(&self) -> Result<Option<String>, ClientError> {
        if let Some(key) = &self.api_key {
            return Ok(Some(key.trim().to_owned()));
        }
        if let Some(path) = &self.api_key_file {
            let text = std::fs::read_to_string(path).map_err(ClientError::file(path))?;
            return Ok(Some(text.trim().to_owned()));
        }
        let dir = std::env::var_os("INTAKE_DATA_DIR")
            .map_or_else(|| PathBuf::from(".intake"), PathBuf::from);
        Ok(local_admin_key(&self.api, &dir))
    }

    /// A client of the API these arguments name.
    fn client(&self) -> Result<client::Api, ClientError> {
        client::Api::new(&self.api, self.key()?)
    }
}

/// The admin key a local server wrote to `data_dir`, if `api` is on this machine: the key is never
/// sent anywhere else.
fn local_admin_key(api: &str, data_dir: &std::path::Path) -> Option<String> {
    let local = reqwest::Url::parse(api)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    if !local {
        return None;
    }
    std::fs::read_to_string(data_dir.join("admin-key"))
        .ok()
        .map(|text| text.trim().to_owned())
}

#[derive(Debug, Args)]
struct UploadArgs {
    /// Files, or directories whose image files are uploaded.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Return once uploaded, without waiting for processing.
    #[arg(long)]
    no_wait: bool,
    /// How many files upload at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// How long to wait for processing, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only images in this status (AWAITING_UPLOAD, PROCESSING, PROCESSED, REJECTED or FAILED).
    #[arg(long)]
    status: Option<String>,
    /// Only images with this SHA-256 (hex).
    #[arg(long)]
    sha256: Option<String>,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue from a cursor printed by a previous page.
    #[arg(long)]
    cursor: Option<String>,
    /// Follow cursors and print every page.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct SearchArgs {
    /// What to look for: every word must match (case and accents do not matter); an amount or date
    /// such as 4721.08 or 2026-11-25 matches as typed; the last word also matches as a prefix.
    #[arg(required = true)]
    words: Vec<String>,
    /// Only images in this status.
    #[arg(long)]
    status: Option<String>,
    /// How many hits to show.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Continue from a cursor printed by a previous page.
    #[arg(long)]
    cursor: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The image id.
    id: String,
    /// Print only the OCR text (nothing for an image without any).
    #[arg(long)]
    text: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct IdArgs {
    /// The image id.
    id: String,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct ReprocessArgs {
    /// The image id.
    id: String,
    /// Read it with this engine (one the deployment has; the error lists them).
    #[arg(long)]
    engine: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct DeleteArgs {
    /// The image id.
    id: String,
    /// Erase the image for good: its bytes (every version), preview, OCR text and file name; a
    /// tombstone (id, owner, SHA-256, size, type, dates, who) stays for audit.
    #[arg(long)]
    purge: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
struct DownloadArgs {
    /// The image id.
    id: String,
    /// Where to write (default: the image's file name in the current directory; `-` for stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    api: ApiArgs,
}

/// Runs the command with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("intake: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("intake: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, ClientError> {
    match cli.command {
        Command::Serve(args) => commands::serve(args).await,
        Command::Upload(args) => commands::upload(args).await,
        Command::List(args) => commands::list(args).await,
        Command::Search(args) => commands::search(args).await,
        Command::Show(args) => commands::show(args).await,
        Command::Download(args) => commands::download(args).await,
        Command::Delete(args) => commands::delete(args).await,
        Command::Reprocess(args) => commands::reprocess(args).await,
        Command::Keys(KeysCommand::Create(args)) => commands::create_key(args).await,
        Command::Keys(KeysCommand::List(args)) => commands::list_keys(args).await,
        Command::Keys(KeysCommand::Revoke(args)) => commands::revoke_key(args).await,
        Command::Webhooks(command) => webhooks::run(command).await,
        Command::Jobs(command) => jobs::run(command).await,
    }
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

    fn ppocr_options(&self) -> intake_ocr_onnx::PpOcrOptions {
        let options = intake_ocr_onnx::PpOcrOptions::default()
            .with_tier(self.ocr_model)
            .with_time_limit(self.ocr_timeout());
        match &self.models_dir {
            Some(dir) => options.with_models_dir(dir),
            None => options,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_local_admin_key_goes_only_to_this_machine() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("admin-key"), "ik_key\n").expect("write");
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:1/",
            "http://[::1]:8080",
            "http://127.8.9.1",
        ] {
            assert_eq!(
                super::local_admin_key(local, dir.path()).as_deref(),
                Some("ik_key"),
                "{local}"
            );
        }
        for remote in [
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "http://10.0.0.7:8080",
            "http://localhost.evil.example",
            "not a url",
        ] {
            assert_eq!(super::local_admin_key(remote, dir.path()), None, "{remote}");
        }
    }
}
