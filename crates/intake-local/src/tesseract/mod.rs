//! OCR with the `tesseract` 5 command-line program, kept running.
//!
//! Starting Tesseract and loading its language model costs about as much as recognising a page, so
//! each of up to `concurrency` processes is started once and then fed image paths on its standard
//! input (`tesseract - stdout -l LANG --psm N -c stream_filelist=true tsv`): it prints every page's TSV
//! (one row per word with its confidence and box) as soon as that page is done. After each image the
//! engine sends a tiny blank page whose (empty) result marks the end of the image's rows. Rows are
//! grouped into lines by their page/block/paragraph/line numbers.
//!
//! Images go to Tesseract as files in a private temporary directory (removed after each image). Every
//! process runs with `OMP_THREAD_LIMIT=1` (Tesseract's own threads slow a small machine down several
//! times; parallelism comes from running several processes). A process that fails on an image (it
//! exits on an unreadable one), outlives the timeout, or belongs to a dropped call is killed and
//! replaced by a fresh one for the next image; an idle one is stopped after `keep_alive`, and each is
//! replaced after `recycle_after` images.
//!
//! A page with more pixels than `max_pixels` is first made grey and smaller ([`reduce`]), which bounds
//! the memory Tesseract takes for one image.
//!
//! The process pool is `pool.rs`'s, the TSV parser `tsv.rs`'s.

mod pool;
mod reduce;
mod tsv;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{ContentType, OcrResult};
use intake_domain::ports::{Failure, ImageFacts, OcrCapabilities, OcrEngine, OcrError, OcrInput};
use tokio::process::Command;

use pool::Shared;
pub use tsv::parse_tsv;

/// How Tesseract is run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TesseractOptions {
    /// The program (default `tesseract` on the `PATH`).
    pub program: PathBuf,
    /// The language(s), e.g. `eng` or `eng+deu` (default `eng`).
    pub language: String,
    /// The page segmentation mode (default 3: fully automatic).
    pub psm: u8,
    /// How many images are recognised at once, each by its own process (default: the number of
    /// cores).
    pub concurrency: usize,
    /// The longest one image may take (default 120 s).
    pub timeout: Duration,
    /// How long an idle process is kept for the next image (default 60 s).
    pub keep_alive: Duration,
    /// After how many images a process is replaced by a fresh one (default 1000), so that whatever
    /// Tesseract might leak stays bounded.
    pub recycle_after: u32,
    /// Where images are written for Tesseract (a private directory is made in it; default: the
    /// system's temporary directory). The local server uses its data directory, which it clears
    /// at start, so nothing outlives a crash.
    pub work_dir: Option<PathBuf>,
    /// The most pixels a page is read at (default 40 MP: more than an A4 page at 600 dpi). A larger
    /// single-page image is turned grey and scaled down to fit before Tesseract reads it (a colour
    /// one beyond 40% of it is turned grey), so one image costs Tesseract about 4.5 bytes ×
    /// `max_pixels` of memory at most; a multi-page TIFF is read as stored, page by page.
    pub max_pixels: u64,
}

impl Default for TesseractOptions {
    fn default() -> Self {
        Self {
            program: PathBuf::from("tesseract"),
            language: "eng".to_owned(),
            psm: 3,
            concurrency: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            timeout: Duration::from_secs(120),
            keep_alive: Duration::from_secs(60),
            recycle_after: 1000,
            work_dir: None,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// [`TesseractOptions::max_pixels`]'s default.
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

impl TesseractOptions {
    /// With a language.
    #[must_use]
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
    /// With a concurrency limit (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
    /// With a timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// With another program path.
    #[must_use]
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }
    /// With another idle time after which a process is stopped.
    #[must_use]
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }
    /// Writing images for Tesseract under `dir`.
    #[must_use]
    pub fn with_work_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.work_dir = Some(dir.into());
        self
    }
    /// Reading pages at `pixels` pixels at most (at least 1).
    #[must_use]
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels.max(1);
        self
    }
    /// Replacing each process after `images` images (at least 1).
    #[must_use]
    pub fn with_recycle_after(mut self, images: u32) -> Self {
        self.recycle_after = images.max(1);
        self
    }
}

const INSTALL: &str = "install Tesseract 5, e.g. `apt-get install tesseract-ocr tesseract-ocr-eng`";

/// The Tesseract engine. Takes image bytes (PNG, JPEG, TIFF, BMP, GIF, WebP, and HEIC, which it
/// gets decoded and upright as a PPM or PGM), not PDF.
#[derive(Debug, Clone)]
pub struct TesseractOcr {
    shared: Arc<Shared>,
    capabilities: OcrCapabilities,
}

impl TesseractOcr {
    /// An engine with `options`. No process starts before the first image.
    pub fn new(options: TesseractOptions) -> Self {
        let capabilities = OcrCapabilities::new(
            "tesseract",
            vec![
                ContentType::Png,
                ContentType::Jpeg,
                ContentType::Tiff,
                ContentType::Bmp,
                ContentType::Gif,
                ContentType::Webp,
                ContentType::Heic,
            ],
            50 * 1024 * 1024,
            8,
        )
        .with_max_dimension(32_767);
        Self {
            shared: Arc::new(Shared::new(options)),
            capabilities,
        }
    }

    /// How many processes are running and waiting for an image.
    pub fn idle_processes(&self) -> usize {
        self.shared.idle_count()
    }

    /// Checks that the program runs and has the configured language data, so a server can refuse to
    /// start with a clear message rather than fail every job.
    ///
    /// # Errors
    /// an unavailable [`OcrError::Failed`] saying what is missing and how to install it.
    pub async fn check(&self) -> Result<(), OcrError> {
        let options = &self.shared.options;
        let output = Command::new(&options.program)
            .arg("--list-langs")
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(30), output)
            .await
            .map_err(|_| OcrError::Timeout)?
            .map_err(|e| {
                OcrError::from(Failure::unavailable(format!(
                    "cannot run {} ({e}); {INSTALL}",
                    options.program.display()
                )))
            })?;
        let listed = String::from_utf8_lossy(&output.stdout);
        let installed: Vec<&str> = listed.lines().skip(1).map(str::trim).collect();
        let missing: Vec<&str> = options
            .language
            .split('+')
            .filter(|lang| !installed.contains(lang))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(OcrError::from(Failure::unavailable(format!(
                "Tesseract has no language data for {} (installed: {}); install e.g. `apt-get install tesseract-ocr-{}`",
                missing.join(", "),
                installed.join(", "),
                missing.first().copied().unwrap_or("eng"),
            ))))
        }
    }
}

#[async_trait]
impl OcrEngine for TesseractOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let bytes = self.capabilities.bytes_of(input)?;
        let tsv = self.run(bytes.clone(), input.facts()).await?;
        parse_tsv(&tsv)
    }
}

/// The image Tesseract reads, and whether it may hold several pages: a single page beyond
/// `max_pixels`, or in colour beyond 40% of it, reduced to a grey PGM (on a blocking thread); a HEIC
/// decoded upright to a PPM or PGM ([`reduce::heic`]); anything else as it is.
async fn prepare(
    image: bytes::Bytes,
    facts: &ImageFacts,
    max_pixels: u64,
) -> Result<(bytes::Bytes, bool), OcrError> {
    if facts.content_type == ContentType::Heic {
        let pnm = blocking(move || reduce::heic(&image, max_pixels)).await?;
        return Ok((bytes::Bytes::from(pnm), false));
    }
    let tiff = facts.content_type == ContentType::Tiff;
    let Some(size) = facts.dimensions() else {
        return Ok((image, tiff));
    };
    let pixels = u64::from(size.0) * u64::from(size.1);
    let colour = pixels > max_pixels / 5 * 2 && reduce::is_colour(&image);
    let Some(target) = reduce::reduced_size(size, colour, max_pixels) else {
        return Ok((image, tiff));
    };
    if tiff && intake_domain::sniff::tiff_pages(&image, 1).map_or(true, |p| p.count > 1) {
        return Ok((image, true));
    }
    let reduced = blocking(move || reduce::reduce(&image, size, target)).await?;
    Ok((bytes::Bytes::from(reduced), false))
}

/// Decodes or reduces an image on a blocking thread; pixels that do not decode are an invalid
/// image.
async fn blocking(
    work: impl FnOnce() -> Result<Vec<u8>, reduce::ReduceError> + Send + 'static,
) -> Result<Vec<u8>, OcrError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| {
            OcrError::from(Failure::unavailable(format!(
                "reducing the image for Tesseract stopped: {e}"
            )))
        })?
        .map_err(|e| OcrError::InvalidImage {
            reason: e.to_string(),
        })
}
