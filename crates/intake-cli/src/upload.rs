//! `intake upload`: files (or directories' image files) in, each through a ticket and its presigned
//! PUT, then their records once processed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use futures::{StreamExt as _, TryStreamExt as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use intake_domain::model::{ContentType, Sha256Digest};
use intake_domain::sniff::sniff;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;

use crate::client::{Api, ClientError, is_terminal};
use crate::output::{confidence, field, snippet, table};
use crate::views::{ImageView, UploadBody};
use crate::{ApiArgs, PARTIAL, output};

#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
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

/// What to upload: the files given, and the image files in the directories given (recursively,
/// sorted, by extension).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ClientError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(ClientError::file(path))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(ClientError::Input("no image files to upload".into()));
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ClientError> {
    for entry in std::fs::read_dir(dir).map_err(ClientError::file(dir))? {
        let path = entry.map_err(ClientError::file(dir))?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if type_by_extension(&path).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

/// The type a file's extension names (the domain's one table, which the web app uses too).
fn type_by_extension(path: &Path) -> Option<ContentType> {
    ContentType::from_extension(path.extension()?.to_str()?)
}

/// Reads a file once: its size, SHA-256 and content type (from its bytes, else its extension).
async fn inspect(path: &Path) -> Result<(u64, String, ContentType), ClientError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(ClientError::file(path))?;
    let mut hasher = Sha256::new();
    let mut prefix = Vec::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(ClientError::file(path))?;
        let Some(chunk) = buffer.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        if prefix.len() < intake_domain::sniff::SNIFF_BYTES {
            prefix.extend_from_slice(chunk);
        }
        hasher.update(chunk);
        size += n as u64;
    }
    let content_type = sniff(&prefix)
        .content_type
        .or_else(|| type_by_extension(path))
        .ok_or_else(|| {
            ClientError::Input(format!(
                "{}: not an image type Intake knows (PNG, JPEG, TIFF, WebP, GIF, BMP, PDF)",
                path.display()
            ))
        })?;
    let sha = Sha256Digest::from_bytes(hasher.finalize().into());
    Ok((size, sha.to_hex(), content_type))
}

/// One file's upload: its ticket, then the PUT with the required headers, counting bytes on `bar`.
async fn upload_one(
    api: &Api,
    path: &Path,
    bar: &ProgressBar,
) -> Result<(String, Option<String>), ClientError> {
    let (size, sha256, content_type) = inspect(path).await?;
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ticket = api
        .create_upload(&UploadBody {
            filename,
            content_type: content_type.as_mime().to_owned(),
            size_bytes: size,
            sha256,
        })
        .await?;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(ClientError::file(path))?;
    let progress = bar.clone();
    let body = tokio_util::io::ReaderStream::new(file).inspect_ok(move |chunk| {
        progress.inc(chunk.len() as u64);
    });
    let mut request = api
        .http
        .put(&ticket.upload_url)
        .body(reqwest::Body::wrap_stream(body));
    for (name, value) in &ticket.required_headers {
        request = request.header(name, value);
    }
    api.send(request, &ticket.upload_url).await?;
    Ok((ticket.image_id, ticket.duplicate_of))
}

/// Polls until the image reaches a terminal status or `deadline` passes.
async fn wait_for(
    api: &Api,
    id: &str,
    deadline: Instant,
) -> Result<Option<ImageView>, ClientError> {
    let mut pause = Duration::from_millis(100);
    loop {
        let record = api.image(id).await?;
        if is_terminal(field(record.status.as_deref())) {
            return Ok(Some(record));
        }
        if Instant::now() + pause > deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if hidden {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One file's upload: its image id and the id of an earlier identical image, or why it failed.
type Uploaded = (PathBuf, Result<(String, Option<String>), ClientError>);

/// Uploads `files`, `parallel` at a time, with a progress bar on stderr unless `quiet`.
async fn upload_all(api: &Api, files: &[PathBuf], parallel: usize, quiet: bool) -> Vec<Uploaded> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(total, quiet);
    bar.set_message(format!("uploading {} file(s)", files.len()));
    let bar = Arc::new(bar);
    let results = futures::stream::iter(files.iter().cloned())
        .map(|path| {
            let (api, bar) = (api.clone(), Arc::clone(&bar));
            async move {
                let result = upload_one(&api, &path, &bar).await;
                (path, result)
            }
        })
        .buffered(parallel.max(1))
        .collect()
        .await;
    bar.finish_and_clear();
    results
}

/// A processed upload's table row and JSON document (the record, without the OCR lines).
fn describe(file: &str, id: &str, mut record: ImageView) -> (Vec<String>, UploadReport) {
    let status = field(record.status.as_deref()).to_owned();
    let detail = match status.as_str() {
        "PROCESSED" => snippet(field(record.ocr_text.as_deref()), 48),
        "REJECTED" => format!(
            "{}: {}",
            field(record.rejection_code.as_deref()),
            field(record.rejection_message.as_deref())
        ),
        _ => format!(
            "{}: {}",
            field(record.failure_code.as_deref()),
            field(record.failure_message.as_deref())
        ),
    };
    let row = vec![
        file.to_owned(),
        id.to_owned(),
        status,
        confidence(&record),
        detail,
    ];
    record.ocr_lines = None;
    record.unread.remove("file");
    let document = UploadReport::Finished {
        record: Box::new(record),
        file: file.to_owned(),
    };
    (row, document)
}

/// One file's line of `upload --json`.
#[derive(Serialize)]
#[serde(untagged)]
enum UploadReport {
    /// It could not be uploaded, or its processing not followed.
    #[serde(rename_all = "camelCase")]
    Failed {
        file: String,
        error: String,
        exit_code: u8,
    },
    /// Uploaded, not waited for (`UPLOADED`), or still being processed at the deadline (`PENDING`).
    #[serde(rename_all = "camelCase")]
    Unfinished {
        file: String,
        image_id: String,
        status: &'static str,
        duplicate_of: Option<String>,
    },
    /// Processed: its record, with the file's name.
    Finished {
        #[serde(flatten)]
        record: Box<ImageView>,
        file: String,
    },
}

pub(crate) async fn upload(args: UploadArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let files = expand(&args.paths)?;
    let mut results = upload_all(&api, &files, args.parallel, args.api.json).await;
    // One file that could not be uploaded: its error is the command's (and so is the exit code).
    if results.len() == 1
        && let Some((_, Err(_))) = results.first()
        && let Some((_, Err(error))) = results.pop()
    {
        return Err(error);
    }

    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    let mut ok = true;
    let mut pending = 0usize;
    let waited: Vec<Result<Option<ImageView>, ClientError>> = futures::stream::iter(results.iter())
        .map(|(_, result)| {
            let api = api.clone();
            let wait = !args.no_wait;
            async move {
                match result {
                    Ok((id, _)) if wait => wait_for(&api, id, deadline).await,
                    _ => Ok(None),
                }
            }
        })
        .buffered(16)
        .collect()
        .await;
    for ((path, result), record) in results.iter().zip(waited) {
        let file = path.display().to_string();
        let record = record.as_ref().map_err(|e| (e.to_string(), e.exit_code()));
        let result = result.as_ref().map_err(|e| (e.to_string(), e.exit_code()));
        match (result, record) {
            (Err((error, code)), _) | (Ok(_), Err((error, code))) => {
                ok = false;
                rows.push(vec![
                    file.clone(),
                    "-".into(),
                    "ERROR".into(),
                    "-".into(),
                    error.clone(),
                ]);
                documents.push(UploadReport::Failed {
                    file,
                    error: error.clone(),
                    exit_code: code,
                });
            }
            (Ok((id, duplicate)), Ok(None)) => {
                let status = if args.no_wait { "UPLOADED" } else { "PENDING" };
                if !args.no_wait {
                    pending += 1;
                }
                rows.push(vec![
                    file.clone(),
                    id.clone(),
                    status.into(),
                    "-".into(),
                    String::new(),
                ]);
                documents.push(UploadReport::Unfinished {
                    file,
                    image_id: id.clone(),
                    status,
                    duplicate_of: duplicate.clone(),
                });
            }
            (Ok((id, _)), Ok(Some(record))) => {
                ok &= record.status.as_deref() == Some("PROCESSED");
                let (row, document) = describe(&file, id, record.clone());
                rows.push(row);
                documents.push(document);
            }
        }
    }
    if args.api.json {
        output::json(&documents);
    } else {
        table(
            &["FILE", "IMAGE ID", "STATUS", "CONF", "TEXT / REASON"],
            &rows,
        );
    }
    if pending > 0 {
        return Err(ClientError::Timeout {
            seconds: args.timeout,
            pending,
        });
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(PARTIAL)
    })
}
