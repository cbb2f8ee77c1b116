//! The image commands besides uploads: `intake list`, `search`, `show`, `download`, `delete` and
//! `reprocess`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::client::{ClientError, is_terminal};
use crate::files::{SaveArgs, Sink, save};
use crate::output::{confidence, field, table};
use crate::paging::Paging;
use crate::views::{ImageView, ReprocessBody};
use crate::{ApiArgs, PARTIAL, output};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only images in this status (AWAITING_UPLOAD, PROCESSING, PROCESSED, REJECTED or FAILED).
    #[arg(long)]
    status: Option<String>,
    /// Only images with this SHA-256 (hex).
    #[arg(long)]
    sha256: Option<String>,
    #[command(flatten)]
    paging: Paging,
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
    #[command(flatten)]
    save: SaveArgs,
    #[command(flatten)]
    api: ApiArgs,
}

pub(crate) async fn list(args: ListArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let mut query = Vec::new();
    if let Some(status) = &args.status {
        query.push(("status", status.clone()));
    }
    if let Some(sha) = &args.sha256 {
        query.push(("sha256", sha.clone()));
    }
    let (images, next) = args.paging.images(&api, &query).await?;
    if args.api.json {
        output::json(&Listed {
            images: &images,
            next_cursor: next.as_deref(),
        });
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|image| {
            vec![
                field(image.image_id.as_deref()).to_owned(),
                field(image.status.as_deref()).to_owned(),
                field(image.created_at.as_deref()).to_owned(),
                image
                    .size_bytes
                    .map_or_else(|| "-".to_owned(), |s| s.to_string()),
                confidence(image),
                field(image.file_name.as_deref()).to_owned(),
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
        output::json(&Listed {
            images: &page.images,
            next_cursor: page.next_cursor.as_deref(),
        });
        return Ok(ExitCode::SUCCESS);
    }
    if page.images.is_empty() {
        eprintln!("no image matches {:?}", args.words.join(" "));
    }
    let bold = std::io::IsTerminal::is_terminal(&std::io::stdout());
    for image in &page.images {
        println!(
            "{}  {}  {}",
            field(image.image_id.as_deref()),
            field(image.status.as_deref()),
            field(image.file_name.as_deref())
        );
        let snippet = image
            .search
            .as_ref()
            .and_then(|found| found.snippet.as_deref());
        println!("    {}", output::marked_snippet(snippet, bold));
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
        if let Some(text) = &record.ocr_text {
            println!("{text}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.api.json {
        output::json(&record);
        return Ok(ExitCode::SUCCESS);
    }
    let status = field(record.status.as_deref());
    for (label, value) in [
        ("Image", &record.image_id),
        ("File", &record.file_name),
        ("Status", &record.status),
        ("Content type", &record.content_type),
        ("SHA-256", &record.sha256),
        ("Created", &record.created_at),
        ("Processed", &record.processed_at),
        ("OCR", &record.ocr_status),
        ("OCR engine", &record.ocr_engine),
        ("Duplicate of", &record.duplicate_of),
        ("Rejection", &record.rejection_code),
        ("Rejection detail", &record.rejection_message),
        ("Failure", &record.failure_code),
        ("Failure detail", &record.failure_message),
    ] {
        if let Some(value) = value {
            println!("{label:<17}{value}");
        }
    }
    if let Some(size) = record.size_bytes {
        println!("{:<17}{size} bytes", "Size");
    }
    if let (Some(w), Some(h)) = (record.width_px, record.height_px) {
        println!("{:<17}{w} × {h} px", "Dimensions");
    }
    println!("{:<17}{}", "Confidence", confidence(&record));
    if let Some(pages) = record.pages.as_deref().filter(|p| p.len() > 1) {
        let layer = pages
            .iter()
            .filter(|p| p.source.as_deref() == Some("text-layer"))
            .count();
        let read = if layer == 0 {
            String::new()
        } else {
            format!(" ({layer} from the text layer)")
        };
        println!("{:<17}{}{read}", "Pages", pages.len());
    }
    if let Some(document) = crate::fields::document_fact(&record) {
        println!("{:<17}{document}", "Document");
    }
    if let Some(found) = record.near_duplicates.as_deref().filter(|f| !f.is_empty()) {
        println!(
            "\nLooks like the same document as {} other image(s) (`intake similar {}`):",
            found.len(),
            record.image_id.as_deref().unwrap_or_default()
        );
        table(&crate::similar::HEADER, &crate::similar::rows(found));
    }
    crate::fields::show(&record);
    if let Some(text) = &record.ocr_text {
        println!("\n{}", marked_pages(text));
    }
    Ok(if is_terminal(status) && status != "PROCESSED" {
        ExitCode::from(PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// The OCR text with a heading before each page when it has several (pages end with a form feed,
/// as `pdftotext` writes them; `show --text` prints them so, for other tools).
fn marked_pages(text: &str) -> String {
    if !text.contains('\u{c}') {
        return text.to_owned();
    }
    text.split('\u{c}')
        .enumerate()
        .map(|(n, page)| {
            let page = page.trim_end_matches('\n');
            let heading = format!("--- page {} ---", n + 1);
            if page.is_empty() {
                heading
            } else {
                format!("{heading}\n{page}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

pub(crate) async fn download(args: DownloadArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let record = api.image(&args.id).await?;
    let url = record
        .download_url
        .clone()
        .ok_or_else(|| ClientError::Api {
            status: 409,
            code: "NOT_DOWNLOADABLE".into(),
            message: format!(
                "image {} has no stored object (status {})",
                args.id,
                field(record.status.as_deref())
            ),
        })?;
    let response = api.send(api.http.get(&url), &url).await?;
    let default = || {
        let name = Path::new(field(record.file_name.as_deref()))
            .file_name()
            .map_or_else(|| args.id.clone().into(), ToOwned::to_owned);
        PathBuf::from(name)
    };
    let sink = args.save.sink(default)?;
    let written = save(response, &url, &sink).await?;
    let Sink::File(target) = sink else {
        return Ok(ExitCode::SUCCESS);
    };
    if args.api.json {
        output::json(&DownloadReport {
            image_id: &args.id,
            path: &target,
            bytes: written,
        });
    } else {
        eprintln!("wrote {} ({written} bytes)", target.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn delete(args: DeleteArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    api.delete(&args.id, args.purge).await?;
    if args.api.json {
        output::json(&DeleteReport {
            image_id: &args.id,
            deleted: true,
            purged: args.purge,
        });
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
    let body = ReprocessBody {
        engine: args.engine.as_deref(),
    };
    let record: ImageView = api
        .post_segments(&["images", &args.id, "reprocess"], &body)
        .await?;
    if args.api.json {
        output::json(&record);
    } else {
        eprintln!(
            "{} is {} again; `intake show {}` shows the new result once it is read",
            args.id,
            field(record.status.as_deref()),
            args.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What `list --json` and `search --json` print: the images, and the cursor of the next page
/// (`null` when there is none).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    images: &'a [ImageView],
    next_cursor: Option<&'a str>,
}

/// What `download --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DownloadReport<'a> {
    image_id: &'a str,
    path: &'a Path,
    bytes: u64,
}

/// What `delete --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteReport<'a> {
    image_id: &'a str,
    deleted: bool,
    purged: bool,
}

#[cfg(test)]
mod tests {
    use super::marked_pages;

    #[test]
    fn pages_are_marked_only_when_there_are_several() {
        assert_eq!(marked_pages("a\nb"), "a\nb");
        assert_eq!(
            marked_pages("a\nb\n\u{c}c\n\u{c}\u{c}d"),
            "--- page 1 ---\na\nb\n\n--- page 2 ---\nc\n\n--- page 3 ---\n\n--- page 4 ---\nd"
        );
    }
}
