//! `intake-pdf`: Intake's PDF reader, the [`DocumentReader`] of the local server and the processor
//! function. PDFium (through `pdfium-render`, loading the libpdfium that `scripts/ocr-models.sh`
//! installs from the pinned `pypdfium2` wheel) opens each document in a worker process of its own
//! ([`serve`], run as `intake pdf-worker`), limited in address space and CPU time, so that a
//! hostile document ends with a stable code and harms nothing else. The worker takes each page's
//! text layer when the domain's [`TextLayerRule`](intake_domain::model::TextLayerRule) trusts it,
//! hands over a scanned page's JPEG as it is, and renders every other page.

mod overlay;
mod protocol;
mod session;
mod text;
mod worker;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::model::{ContentType, PageNumber};
use intake_domain::ports::{
    DocumentInfo, DocumentReadError, DocumentReader, PageStream, PageText, Preview, ReadRequest,
};

pub use worker::serve;

use protocol::{Op, PageWords};
use session::{Extra, Session};

/// The subcommand of `intake` (and the argument of the processor function) that runs [`serve`].
pub const WORKER_ARG: &str = "pdf-worker";

/// How the reader starts its workers and what it allows them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PdfOptions {
    /// The program that runs [`serve`] (`intake`), and its arguments (`pdf-worker`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// libpdfium's path ([`library_path`]).
    pub library: PathBuf,
    /// A worker's address-space limit, in bytes (default 3 GiB: a 36-million-pixel page is
    /// rendered in 144 MB, and PDFium streams images down to the size drawn).
    pub memory_limit: u64,
}

impl PdfOptions {
    /// Workers run as `program args…`, loading libpdfium from `library`.
    pub fn new(
        program: impl Into<PathBuf>,
        args: Vec<OsString>,
        library: impl Into<PathBuf>,
    ) -> Self {
        Self {
            program: program.into(),
            args,
            library: library.into(),
            memory_limit: 3 << 30,
        }
    }

    /// Workers run as this very program with [`WORKER_ARG`] (the `intake` binary, the processor
    /// function), loading libpdfium from `library`.
    ///
    /// # Errors
    /// When the running program's path cannot be known.
    pub fn this_program(library: impl Into<PathBuf>) -> std::io::Result<Self> {
        Ok(Self::new(
            std::env::current_exe()?,
            vec![OsString::from(WORKER_ARG)],
            library,
        ))
    }

    /// With another address-space limit per worker.
    #[must_use]
    pub fn with_memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }
}

/// Where `scripts/ocr-models.sh` installs libpdfium under a models directory, for this machine's
/// architecture.
pub fn library_path(models_dir: &Path) -> PathBuf {
    models_dir
        .join("pdfium")
        .join(format!("linux-{}", std::env::consts::ARCH))
        .join("libpdfium.so")
}

/// The PDF reader: each probe and each reading runs in a worker process of its own.
#[derive(Clone, Debug)]
pub struct PdfReader {
    options: PdfOptions,
}

impl PdfReader {
    /// A reader whose workers run as `options` say.
    pub fn new(options: PdfOptions) -> Self {
        Self { options }
    }

    /// Whether libpdfium is where the options say (a deployment without it does not read PDF).
    pub fn is_installed(&self) -> bool {
        self.options.library.is_file()
    }
}

#[async_trait]
impl DocumentReader for PdfReader {
    fn formats(&self) -> &[ContentType] {
        &[ContentType::Pdf]
    }

    async fn probe(
        &self,
        bytes: &Bytes,
        max_pages: u32,
    ) -> Result<DocumentInfo, DocumentReadError> {
        let request = ReadRequest::new(
            intake_domain::services::DOCUMENT_DPI,
            intake_domain::services::MAX_PAGE_PIXELS,
            intake_domain::services::DOCUMENT_TIME_LIMIT,
        );
        let mut session = Session::start(
            &self.options,
            Op::Probe,
            bytes,
            max_pages,
            &request,
            &Extra::default(),
        )?;
        let info = session.info().await?;
        match session.next().await? {
            Some(_) => Err(session::protocol_error("a probe answered with pages")),
            None => Ok(info),
        }
    }

    async fn read(
        &self,
        bytes: &Bytes,
        request: &ReadRequest,
    ) -> Result<PageStream, DocumentReadError> {
        let mut session = Session::start(
            &self.options,
            Op::Read,
            bytes,
            u32::MAX,
            request,
            &Extra::default(),
        )?;
        session.info().await?;
        Ok(
            futures::stream::unfold(Some(session), |session| async move {
                let mut session = session?;
                match session.next().await {
                    Ok(Some(page)) => Some((Ok(page), Some(session))),
                    Ok(None) => None,
                    Err(error) => Some((Err(error), None)),
                }
            })
            .boxed(),
        )
    }

    async fn picture(
        &self,
        bytes: &Bytes,
        page: PageNumber,
        longest_side: u32,
        time_limit: Duration,
    ) -> Result<Preview, DocumentReadError> {
        let request = ReadRequest::new(
            intake_domain::services::DOCUMENT_DPI,
            intake_domain::services::MAX_PAGE_PIXELS,
            time_limit,
        );
        let extra = Extra {
            page: page.get(),
            side: longest_side,
            ..Extra::default()
        };
        let mut session = Session::start(
            &self.options,
            Op::Picture,
            bytes,
            u32::MAX,
            &request,
            &extra,
        )?;
        session.info().await?;
        session.picture().await
    }

    async fn add_text_layer(
        &self,
        bytes: &Bytes,
        pages: &[PageText],
        time_limit: Duration,
    ) -> Result<Bytes, DocumentReadError> {
        let words: Vec<PageWords> = pages
            .iter()
            .map(|p| PageWords {
                number: p.number.get(),
                lines: p.lines.clone(),
            })
            .collect();
        let request = ReadRequest::new(
            intake_domain::services::DOCUMENT_DPI,
            intake_domain::services::MAX_PAGE_PIXELS,
            time_limit,
        );
        let mut session = Session::start(
            &self.options,
            Op::AddTextLayer,
            bytes,
            u32::MAX,
            &request,
            &Extra {
                words: &words,
                ..Extra::default()
            },
        )?;
        session.info().await?;
        session.document().await
    }
}
