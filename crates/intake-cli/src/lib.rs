//! # intake-cli
//!
//! The `intake` command: runs the local server (`intake serve`) and is a client of any Intake API,
//! local or on API Gateway (`upload`, `list`, `show`, `download`, `export`, `delete`), and manages the local
//! server's API keys (`keys`).
//!
//! The command only parses its arguments, composes and calls: the server is
//! [`intake_server::LocalServer`], the client speaks the REST API described in `openapi.yaml`. The
//! library exposes [`main`] so that test harnesses can build the same command.
//!
//! One file per group of commands, each with its arguments: `serve.rs`, `upload.rs`, `images.rs`
//! (list, search, show, download, delete, reprocess), `similar.rs`, `fields.rs`, `export.rs`,
//! `keys.rs`, `jobs.rs` and
//! `webhooks.rs`; `client.rs` speaks HTTP, `files.rs` writes downloads whole or not at all, `auth.rs` authenticates its API calls (SigV4, API keys, JWTs),
//! `views.rs` types the API's answers, and `output.rs` prints.

mod auth;
mod client;
mod export;
mod fields;
mod files;
mod images;
mod jobs;
mod keys;
mod output;
mod paging;
mod serve;
mod similar;
mod upload;
mod views;
mod webhooks;

use intake_settings::table;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::auth::{Auth, AuthError, AuthMode};
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
  8  not authenticated or not allowed (missing, invalid or revoked API key or token; no AWS
     credentials; not an admin key)

Authentication (--auth or INTAKE_AUTH):
  iam  SigV4-signed calls, for a deployed stack with AuthType=IAM (the default for an
       https://ID.execute-api.REGION.amazonaws.com URL). AWS credentials come from the usual
       places: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE and the shared
       config and credentials files (SSO included: aws sso login), web identity, container and
       instance roles. The region is --region, else the URL's, else AWS_REGION, AWS_DEFAULT_REGION
       or the profile's.
  jwt  Authorization: Bearer with --token or INTAKE_TOKEN (else --api-key or --api-key-file), for
       AuthType=JWT (the default when a token is given).
  key  the local server's API keys (the default for any other URL): --api-key or INTAKE_API_KEY;
       else the file named by --api-key-file or INTAKE_API_KEY_FILE; else, for an API on this
       machine (localhost), the admin key a local server wrote to $INTAKE_DATA_DIR/admin-key
       (default .intake/admin-key).
Prefer INTAKE_API_KEY and INTAKE_TOKEN to --api-key and --token: command lines are visible to
other users.";

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
    /// Show one image: status, checksum, OCR text and confidence, duplicate, near-duplicates,
    /// document type and fields.
    Show(images::ShowArgs),
    /// Download an image's bytes through a presigned URL.
    Download(images::DownloadArgs),
    /// The fields read from the listed images (document type, totals, dates, cheque amounts, form
    /// answers), filtered as `list` filters, as a table or, with --csv, one CSV row per field.
    Fields(fields::FieldsArgs),
    /// Export what was read on a processed image as hOCR, ALTO or plain text.
    Export(export::ExportArgs),
    /// Delete an image (soft delete: the record stays for audit, the image disappears from the API);
    /// with --purge, erase its bytes, text and name for good.
    Delete(images::DeleteArgs),
    /// Run OCR again on a finished image's stored bytes (its earlier result stays in its history).
    Reprocess(images::ReprocessArgs),
    /// List your images that look like the same document as this one (re-scanned, re-photographed),
    /// each with why: the basis, how alike, the amounts, dates and numbers both have.
    Similar(similar::SimilarArgs),
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
        env = table::API.name,
        default_value = table::API.default,
        global = true
    )]
    api: String,
    /// How to authenticate: iam (SigV4 with AWS credentials), key (the local server's API keys) or
    /// jwt (a bearer token) [default: jwt when a token is given, iam for an execute-api URL, else
    /// key].
    #[arg(long, env = table::AUTH.name, value_enum, global = true)]
    auth: Option<AuthMode>,
    /// The API key (local server); API Gateway deployments authenticate with --auth iam or jwt.
    #[arg(long, env = table::API_KEY.name, hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// A file holding the API key.
    #[arg(long, env = table::API_KEY_FILE.name, global = true)]
    api_key_file: Option<PathBuf>,
    /// The bearer token (a JWT) for --auth jwt.
    #[arg(long, env = table::TOKEN.name, hide_env_values = true, global = true)]
    token: Option<String>,
    /// The AWS region to sign for with --auth iam [default: an execute-api URL's region, else
    /// AWS_REGION, AWS_DEFAULT_REGION or the profile's region].
    #[arg(long, global = true)]
    region: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

impl ApiArgs {
    /// The API key given, from the flag or the key file.
    fn given_key(&self) -> Result<Option<String>, ClientError> {
        if let Some(key) = &self.api_key {
            return Ok(Some(key.trim().to_owned()));
        }
        if let Some(path) = &self.api_key_file {
            let text = std::fs::read_to_string(path).map_err(ClientError::file(path))?;
            return Ok(Some(text.trim().to_owned()));
        }
        Ok(None)
    }

    /// The API key to send, from the flag, the key file, or the local server's admin key file.
    fn key(&self) -> Result<Option<String>, ClientError> {
        if let Some(key) = self.given_key()? {
            return Ok(Some(key));
        }
        let dir = std::env::var_os(table::DATA_DIR.name)
            .map_or_else(|| PathBuf::from(table::DATA_DIR.default), PathBuf::from);
        Ok(local_admin_key(&self.api, &dir))
    }

    /// How to authenticate to the API (see [`auth::choose`]).
    fn authentication(&self) -> Result<Auth, ClientError> {
        let choice = auth::choose(
            &self.api,
            self.auth,
            self.token.is_some(),
            self.region.as_deref(),
        );
        Ok(match choice.mode {
            AuthMode::Key => self.key()?.map_or(Auth::Anonymous, Auth::Bearer),
            AuthMode::Jwt => match &self.token {
                Some(token) => Auth::Bearer(token.trim().to_owned()),
                None => Auth::Bearer(self.given_key()?.ok_or(AuthError::NoToken)?),
            },
            #[cfg(feature = "iam")]
            AuthMode::Iam => Auth::Iam(std::sync::Arc::new(auth::IamSigner::new(choice.region))),
            #[cfg(not(feature = "iam"))]
            AuthMode::Iam => return Err(AuthError::IamNotBuilt.into()),
        })
    }

    /// A client of the API these arguments name.
    fn client(&self) -> Result<client::Api, ClientError> {
        client::Api::new(&self.api, self.authentication()?)
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
    // The PDF reader's worker process (started by `intake serve`, never by hand): no runtime, no
    // arguments to parse, its request on standard input.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == intake_pdf::WORKER_ARG)
    {
        return intake_pdf::serve();
    }
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
        Command::Fields(args) => fields::fields(args).await,
        Command::Export(args) => export::export(args).await,
        Command::Delete(args) => images::delete(args).await,
        Command::Reprocess(args) => images::reprocess(args).await,
        Command::Similar(args) => similar::similar(args).await,
        Command::Keys(command) => keys::run(command).await,
        Command::Webhooks(command) => webhooks::run(command).await,
        Command::Jobs(command) => jobs::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Every flag's variable, in every subcommand, with its default.
    fn flags(command: &clap::Command, out: &mut Vec<(String, Option<String>)>) {
        for arg in command.get_arguments() {
            if let Some(env) = arg.get_env() {
                let default = arg
                    .get_default_values()
                    .first()
                    .map(|v| v.to_string_lossy().into_owned());
                out.push((env.to_string_lossy().into_owned(), default));
            }
        }
        for sub in command.get_subcommands() {
            flags(sub, out);
        }
    }

    #[test]
    fn every_flag_s_variable_and_default_is_the_settings_table_s() {
        let mut found = Vec::new();
        flags(&super::Cli::command(), &mut found);
        assert!(found.len() > 15, "{found:?}");
        for (name, default) in found {
            let setting = intake_settings::table::SETTINGS
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("{name} is not in intake_settings::table"));
            assert!(
                setting.applies != intake_settings::table::Applies::Aws,
                "{name} is an AWS setting"
            );
            // A default of the local server's own is the table's; the table words the rest
            // ("2 × cores", "ppocr locally, auto on AWS") for people.
            if let Some(default) = default {
                assert!(
                    setting.default == default
                        || setting.default.starts_with(&format!("{default} locally")),
                    "{name}: the flag's default {default:?}, the table's {:?}",
                    setting.default
                );
            }
        }
    }

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
