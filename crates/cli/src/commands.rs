//! One function per subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt as _, TryStreamExt as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use intake_domain::model::{ContentType, Sha256Digest};
use intake_domain::sniff::sniff;
use intake_local::TesseractOptions;
use intake_server::{LocalServer, ServeOptions};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::client::{Api, ClientError, UploadBody, is_terminal};
use crate::output::{confidence, field, snippet, table};
use crate::{
    DeleteArgs, DownloadArgs, KeyCreateArgs, KeyListArgs, KeyRevokeArgs, ListArgs, LogFormat,
    ReprocessArgs, SearchArgs, ServeArgs, ShowArgs, UploadArgs, output,
};

/// Exit code 7: finished, but not everything succeeded.
const PARTIAL: u8 = 7;

pub(crate) async fn serve(args: ServeArgs) -> Result<ExitCode, ClientError> {
    init_logging(args.log_format);
    let config = intake_settings::intake_config(&|name| std::env::var(name).ok())
        .map_err(|e| ClientError::Input(e.to_string()))?;
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
        .with_shutdown_grace(Duration::from_secs(args.shutdown_grace))
        .with_cors(args.cors_origins.clone())
        .with_connections(args.connection_limits());
    if let Some(workers) = args.workers {
        options = options.with_workers(workers);
    }
    let hosts = intake_domain::model::HostAllowList::parse(&args.webhook_hosts)
        .map_err(|e| ClientError::Input(format!("INTAKE_WEBHOOK_HOSTS: {e}")))?;
    options = options
        .with_webhooks(intake_domain::services::WebhookPolicy::default().with_allowed_hosts(hosts))
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

    let filter = std::env::var("INTAKE_LOG")
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

fn type_by_extension(path: &Path) -> Option<ContentType> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        _ => return None,
    };
    ContentType::parse(mime).ok()
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
async fn wait_for(api: &Api, id: &str, deadline: Instant) -> Result<Option<Value>, ClientError> {
    let mut pause = Duration::from_millis(100);
    loop {
        let record = api.image(id).await?;
        if is_terminal(field(&record, "status")) {
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
fn describe(file: &str, id: &str, mut record: Value) -> (Vec<String>, Value) {
    let status = field(&record, "status").to_owned();
    let detail = match status.as_str() {
        "PROCESSED" => snippet(field(&record, "ocrText"), 48),
        "REJECTED" => format!(
            "{}: {}",
            field(&record, "rejectionCode"),
            field(&record, "rejectionMessage")
        ),
        _ => format!(
            "{}: {}",
            field(&record, "failureCode"),
            field(&record, "failureMessage")
        ),
    };
    let row = vec![
        file.to_owned(),
        id.to_owned(),
        status,
        confidence(&record),
        detail,
    ];
    if let Some(object) = record.as_object_mut() {
        object.insert("file".into(), json!(file));
        object.remove("ocrLines");
    }
    (row, record)
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
    let waited: Vec<Result<Option<Value>, ClientError>> = futures::stream::iter(results.iter())
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
                documents.push(json!({ "file": file, "error": error, "exitCode": code }));
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
                documents.push(json!({ "file": file, "imageId": id, "status": status, "duplicateOf": duplicate }));
            }
            (Ok((id, _)), Ok(Some(record))) => {
                let (row, document) = describe(&file, id, record.clone());
                ok &= field(&document, "status") == "PROCESSED";
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

pub(crate) async fn list(args: ListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let mut cursor = args.cursor.clone();
    let mut images = Vec::new();
    let next = loop {
        let mut query = vec![("limit", args.limit.to_string())];
        if let Some(status) = &args.status {
            query.push(("status", status.clone()));
        }
        if let Some(sha) = &args.sha256 {
            query.push(("sha256", sha.clone()));
        }
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        let page = api.list(&query).await?;
        images.extend(page.images);
        match page.next_cursor {
            Some(next) if args.all => cursor = Some(next),
            other => break other,
        }
    };
    if args.api.json {
        output::json(&json!({ "images": images, "nextCursor": next }));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|image| {
            vec![
                field(image, "imageId").to_owned(),
                field(image, "status").to_owned(),
                field(image, "createdAt").to_owned(),
                image
                    .get("sizeBytes")
                    .and_then(Value::as_u64)
                    .map_or_else(|| "-".to_owned(), |s| s.to_string()),
                confidence(image),
                field(image, "fileName").to_owned(),
            ]
        })
        .collect();
    table(
        &["IMAGE ID", "STATUS", "CREATED", "BYTES", "CONF", "FILE"],
        &rows,
    );
    if let Some(next) = next {
        eprintln!("more: intake list --cursor {next}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn search(args: SearchArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let mut query = vec![
        ("q", args.words.join(" ")),
        ("limit", args.limit.to_string()),
    ];
    if let Some(status) = &args.status {
        query.push(("status", status.clone()));
    }
    if let Some(cursor) = &args.cursor {
        query.push(("cursor", cursor.clone()));
    }
    let page = api.list(&query).await?;
    if args.api.json {
        output::json(&json!({ "images": page.images, "nextCursor": page.next_cursor }));
        return Ok(ExitCode::SUCCESS);
    }
    if page.images.is_empty() {
        eprintln!("no image matches {:?}", args.words.join(" "));
    }
    let bold = std::io::IsTerminal::is_terminal(&std::io::stdout());
    for image in &page.images {
        println!(
            "{}  {}  {}",
            field(image, "imageId"),
            field(image, "status"),
            field(image, "fileName")
        );
        println!(
            "    {}",
            output::marked_snippet(image.pointer("/match/snippet"), bold)
        );
    }
    if let Some(next) = page.next_cursor {
        eprintln!(
            "more: intake search {} --cursor {next}",
            args.words.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn show(args: ShowArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let record = api.image(&args.id).await?;
    if args.text {
        if let Some(text) = record.get("ocrText").and_then(Value::as_str) {
            println!("{text}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.api.json {
        output::json(&record);
        return Ok(ExitCode::SUCCESS);
    }
    let status = field(&record, "status");
    for (label, name) in [
        ("Image", "imageId"),
        ("File", "fileName"),
        ("Status", "status"),
        ("Content type", "contentType"),
        ("SHA-256", "sha256"),
        ("Created", "createdAt"),
        ("Processed", "processedAt"),
        ("OCR", "ocrStatus"),
        ("OCR engine", "ocrEngine"),
        ("Duplicate of", "duplicateOf"),
        ("Rejection", "rejectionCode"),
        ("Rejection detail", "rejectionMessage"),
        ("Failure", "failureCode"),
        ("Failure detail", "failureMessage"),
    ] {
        if let Some(value) = record.get(name).and_then(Value::as_str) {
            println!("{label:<17}{value}");
        }
    }
    if let Some(size) = record.get("sizeBytes").and_then(Value::as_u64) {
        println!("{:<17}{size} bytes", "Size");
    }
    if let (Some(w), Some(h)) = (
        record.get("widthPx").and_then(Value::as_u64),
        record.get("heightPx").and_then(Value::as_u64),
    ) {
        println!("{:<17}{w} × {h} px", "Dimensions");
    }
    println!("{:<17}{}", "Confidence", confidence(&record));
    if let Some(text) = record.get("ocrText").and_then(Value::as_str) {
        println!("\n{text}");
    }
    Ok(if is_terminal(status) && status != "PROCESSED" {
        ExitCode::from(PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) async fn download(args: DownloadArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let record = api.image(&args.id).await?;
    let url = record
        .get("downloadUrl")
        .and_then(Value::as_str)
        .ok_or_else(|| ClientError::Api {
            status: 409,
            code: "NOT_DOWNLOADABLE".into(),
            message: format!(
                "image {} has no stored object (status {})",
                args.id,
                field(&record, "status")
            ),
        })?
        .to_owned();
    let response = api.send(api.http.get(&url), &url).await?;
    let mut stream = response.bytes_stream();
    if args.output.as_deref() == Some(Path::new("-")) {
        let mut stdout = tokio::io::stdout();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?;
            stdout
                .write_all(&chunk)
                .await
                .map_err(ClientError::file("-"))?;
        }
        stdout.flush().await.map_err(ClientError::file("-"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let target = args.output.clone().unwrap_or_else(|| {
        let name = Path::new(field(&record, "fileName"))
            .file_name()
            .map_or_else(|| args.id.clone().into(), ToOwned::to_owned);
        PathBuf::from(name)
    });
    if target.exists() && !args.force {
        return Err(ClientError::Input(format!(
            "{} exists; use --force to overwrite",
            target.display()
        )));
    }
    // Write beside the target and rename, so an interrupted download never leaves a partial file.
    let partial = target.with_extension("intake-partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(ClientError::file(&partial))?;
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(ClientError::Unreachable {
                    url,
                    reason: error.to_string(),
                });
            }
        };
        written += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(ClientError::file(&partial))?;
    }
    file.sync_all().await.map_err(ClientError::file(&partial))?;
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(ClientError::file(&target))?;
    if args.api.json {
        output::json(&json!({ "imageId": args.id, "path": target, "bytes": written }));
    } else {
        eprintln!("wrote {} ({written} bytes)", target.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn delete(args: DeleteArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    api.delete(&args.id, args.purge).await?;
    if args.api.json {
        output::json(&json!({ "imageId": args.id, "deleted": true, "purged": args.purge }));
    } else if args.purge {
        eprintln!(
            "purged {}: its bytes and text are gone, a tombstone stays",
            args.id
        );
    } else {
        eprintln!("deleted {}", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn reprocess(args: ReprocessArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let body = match &args.engine {
        Some(engine) => json!({ "engine": engine }),
        None => json!({}),
    };
    let record = api
        .post_segments(&["images", &args.id, "reprocess"], &body)
        .await?;
    if args.api.json {
        output::json(&record);
    } else {
        eprintln!(
            "{} is {} again; `intake show {}` shows the new result once it is read",
            args.id,
            output::field(&record, "status"),
            args.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn create_key(args: KeyCreateArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let key = api
        .post_json(
            "/keys",
            &json!({ "owner": args.owner, "name": args.name, "admin": args.admin }),
        )
        .await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!(
            "created key {} for owner {}{}; it is shown only now:",
            output::field(&key, "keyId"),
            output::field(&key, "owner"),
            if args.admin { " (admin)" } else { "" }
        );
        println!("{}", output::field(&key, "apiKey"));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn list_keys(args: KeyListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let answer = api.get_json("/keys").await?;
    if args.api.json {
        output::json(&answer);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = answer
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|key| {
            vec![
                output::field(key, "keyId").to_owned(),
                output::field(key, "owner").to_owned(),
                output::field(key, "name").to_owned(),
                if key["admin"].as_bool() == Some(true) {
                    "admin"
                } else {
                    ""
                }
                .to_owned(),
                output::field(key, "createdAt").to_owned(),
                output::field(key, "revokedAt").to_owned(),
            ]
        })
        .collect();
    output::table(
        &["KEY ID", "OWNER", "NAME", "ROLE", "CREATED", "REVOKED"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn revoke_key(args: KeyRevokeArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let key = api.delete_json(&["keys", &args.key_id]).await?;
    if args.api.json {
        output::json(&key);
    } else {
        eprintln!("revoked key {}", output::field(&key, "keyId"));
    }
    Ok(ExitCode::SUCCESS)
}
