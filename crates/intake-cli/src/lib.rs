//! # intake-cli
//!
//! The `intake` command: runs the local server (`intake serve`) and is a client of any Intake API,
//! local or on API Gateway (`upload`, `list`, `show`, `download`, `delete`), and manages the local
//! server's API keys (`keys`).
//!
//! The command only parses its arguments, composes and calls: the server is
//! [`intake_server::LocalServer`], the client speaks the REST API described in `openapi.yaml`. The
//! library exposes [`main`] so that test harnesses can build the same command.
//!
//! One file per group of commands, each with its arguments: `serve.rs`, `upload.rs`, `images.rs`
//! (list, search, show, download, delete, reprocess), `keys.rs`, `jobs.rs` and `webhooks.rs`;
//! `client.rs` speaks HTTP, `views.rs` types the API's answers, and `output.rs` prints.

mod client;
mod images;
mod jobs;
mod keys;
mod output;
mod serve;
mod upload;
mod views;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::client::ClientError;

/// Exit code 7: finished, but not everything succeeded.
const PARTIAL: u8 = 7;

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
    Serve(serve::ServeArgs),
    /// Upload image files (or every image in a directory) and wait until they are processed.
    Upload(upload::UploadArgs),
    /// List images, newest first.
    List(images::ListArgs),
    /// Find images by the words on them (or in their file names), best match first.
    Search(images::SearchArgs),
    /// Show one image: status, checksum, OCR text and confidence, duplicate.
    Show(images::ShowArgs),
    /// Download an image's bytes through a presigned URL.
    Download(images::DownloadArgs),
    /// Delete an image (soft delete: the record stays for audit, the image disappears from the API);
    /// with --purge, erase its bytes, text and name for good.
    Delete(images::DeleteArgs),
    /// Run OCR again on a finished image's stored bytes (its earlier result stays in its history).
    Reprocess(images::ReprocessArgs),
    /// Manage the local server's API keys (needs an admin key).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage your webhooks: signed POSTs of your images' events (local server).
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// See and act on the jobs the local server's queue gave up on (needs an admin key).
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
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
        Command::Serve(args) => serve::serve(args).await,
        Command::Upload(args) => upload::upload(args).await,
        Command::List(args) => images::list(args).await,
        Command::Search(args) => images::search(args).await,
        Command::Show(args) => images::show(args).await,
        Command::Download(args) => images::download(args).await,
        Command::Delete(args) => images::delete(args).await,
        Command::Reprocess(args) => images::reprocess(args).await,
        Command::Keys(command) => keys::run(command).await,
        Command::Webhooks(command) => webhooks::run(command).await,
        Command::Jobs(command) => jobs::run(command).await,
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
