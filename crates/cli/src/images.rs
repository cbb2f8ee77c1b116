//! The image commands besides uploads: `intake list`, `search`, `show`, `download`, `delete` and
//! `reprocess`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use crate::client::{ClientError, is_terminal};
use crate::output::{confidence, field, table};
use crate::{ApiArgs, PARTIAL, output};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
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
pub(crate) struct SearchArgs {
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
pub(crate) struct ShowArgs {
    /// The image id.
    id: String,
    /// Print only the OCR text (nothing for an image without any).
    #[arg(long)]
    text: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReprocessArgs {
    /// The image id.
    id: String,
    /// Read it with this engine (one the deployment has; the error lists them).
    #[arg(long)]
    engine: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
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
pub(crate) struct DownloadArgs {
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
