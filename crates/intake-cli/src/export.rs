//! `intake export ID --format hocr|alto|txt|pdf [-o FILE|-]`: what was read on an image, as a file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, LOCATION};
use serde::Serialize;

use crate::client::{ClientError, error_of};
use crate::files::{SaveArgs, Sink, disposition_name, save};
use crate::{ApiArgs, output};

/// The formats the API exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// hOCR 1.2 (XHTML): pages, lines and words with their boxes and confidences.
    Hocr,
    /// ALTO v4 XML: pages, lines and strings with their positions and confidences.
    Alto,
    /// Plain text: lines ended by newlines, pages by form feeds.
    Txt,
    /// A searchable PDF: the original pages under an invisible text layer of the words read.
    Pdf,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Hocr => "hocr",
            Self::Alto => "alto",
            Self::Txt => "txt",
            Self::Pdf => "pdf",
        }
    }

    /// The extension of a file of this format when the answer names none.
    fn extension(self) -> &'static str {
        match self {
            Self::Hocr => "hocr",
            Self::Alto => "xml",
            Self::Txt => "txt",
            Self::Pdf => "pdf",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The image id.
    id: String,
    /// The format.
    #[arg(long, value_enum)]
    format: Format,
    #[command(flatten)]
    save: SaveArgs,
    #[command(flatten)]
    api: ApiArgs,
}

/// What `export --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportReport<'a> {
    image_id: &'a str,
    format: &'static str,
    path: &'a std::path::Path,
    bytes: u64,
}

pub(crate) async fn export(args: ExportArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let format = args.format;
    let (mut response, mut url) = api
        .get_unfollowed(
            &["images", &args.id, "export"],
            &[("format", format.name())],
        )
        .await?;
    if response.status() == StatusCode::SEE_OTHER {
        // A stored export: its presigned URL is fetched as it is, without the API's credentials.
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol {
                url: url.clone(),
                reason: "303 without a Location".into(),
            })?;
        url = location;
        response = api.send(api.http.get(&url), &url).await?;
    } else if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    let named = response
        .headers()
        .get(CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(disposition_name);
    let default =
        || PathBuf::from(named.unwrap_or_else(|| format!("{}.{}", args.id, format.extension())));
    let sink = args.save.sink(default)?;
    let written = save(response, &url, &sink).await?;
    if let Sink::File(path) = &sink {
        if args.api.json {
            output::json(&ExportReport {
                image_id: &args.id,
                format: format.name(),
                path,
                bytes: written,
            });
        } else {
            eprintln!("wrote {} ({written} bytes)", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
