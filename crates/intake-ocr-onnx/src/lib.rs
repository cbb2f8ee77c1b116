//! `intake-ocr-onnx`: Intake's neural OCR engine. PP-OCRv6 text detection (DB) and recognition
//! (SVTR/CTC) on ONNX models, run by ONNX Runtime, with the reference pipeline's pre- and
//! post-processing written in Rust: [`PpOcr`] implements the domain's
//! [`OcrEngine`] port.
//!
//! Models and the runtime library are files installed (pinned, checksummed) by `scripts/ocr-models.sh`;
//! nothing is downloaded at run time. Each model is read and checked once per process; each worker
//! is a long-lived thread of its own that owns its sessions (which share their prepacked weights), so a
//! page's memory is the memory that worker's previous page used: warm, already mapped.

// Image code names its coordinates x, y, w, h as the formulas do.
#![allow(clippy::many_single_char_names)]

mod budget;
mod decode;
mod det;
mod geometry;
mod models;
mod orientation;
mod pipeline;
mod raster;
mod rec;
mod runtime;
mod sketch;

use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::model::{BoundingBox, OcrLine, OcrPage, OcrResult, OcrWord, PageSource};
use intake_domain::ports::{Failure, OcrCapabilities, OcrEngine, OcrError, OcrInput};
use tokio::sync::Semaphore;

pub use budget::DEFAULT_PAGE_PIXELS;
pub use decode::DecodeError;
pub use models::{ModelError, ModelTier, UnknownTier, default_models_dir};
pub use runtime::RuntimeError;

use pipeline::{Deadline, Models, PageError, PageOut, Params, PixelBox};
use rec::Charset;
use runtime::{Net, SharedWeights};

/// How the engine runs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PpOcrOptions {
    /// Where `scripts/ocr-models.sh` installed the files (default [`default_models_dir`]).
    pub models_dir: PathBuf,
    /// The model size (default tiny).
    pub tier: ModelTier,
    /// Pages read at once, each on its own thread with its own sessions (default: the number of cores).
    pub workers: usize,
    /// Threads each page's inference uses (default 1: throughput comes from `workers`).
    pub threads_per_worker: usize,
    /// Whether single lines printed upside down are looked for (the 0°/180° line classifier, each
    /// suspect read both ways; default off: it costs about 0.12 s a page and gained nothing on upright
    /// documents, while whole pages turned upside down are handled by `page_orientation`).
    pub line_orientation: bool,
    /// Whether pages turned 90°, 180° or 270° are detected and read upright (default on).
    pub page_orientation: bool,
    /// The most pixels decoded per image, all pages together (default 100 million); an image past
    /// it is refused.
    pub max_pixels: u64,
    /// The most pixels one page is read at (default 16 million): a larger page is averaged down to
    /// fit as it is decoded, which bounds a worker's memory whatever the page's size. Detection
    /// reads at most 2000 pixels on a page's longer side, so this costs no text.
    pub page_pixels: u64,
    /// The longest one image may take once a worker has started on it (default 120 s); past it the
    /// read ends with [`OcrError::Timeout`], which the processor retries. Checked before each model
    /// run, so an image overruns it by at most one run (detection of one page: about a second).
    pub time_limit: Duration,
}

impl Default for PpOcrOptions {
    fn default() -> Self {
        Self {
            models_dir: default_models_dir(),
            tier: ModelTier::default(),
            workers: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            threads_per_worker: 1,
            line_orientation: false,
            page_orientation: true,
            max_pixels: 100_000_000,
            page_pixels: DEFAULT_PAGE_PIXELS,
            time_limit: Duration::from_secs(120),
        }
    }
}

impl PpOcrOptions {
    /// With a models directory.
    #[must_use]
    pub fn with_models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = dir.into();
        self
    }
    /// With a model tier.
    #[must_use]
    pub fn with_tier(mut self, tier: ModelTier) -> Self {
        self.tier = tier;
        self
    }
    /// With a number of pages read at once.
    #[must_use]
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }
    /// With a number of inference threads per page.
    #[must_use]
    pub fn with_threads_per_worker(mut self, threads: usize) -> Self {
        self.threads_per_worker = threads.max(1);
        self
    }
    /// With or without the line classifier.
    #[must_use]
    pub fn with_line_orientation(mut self, on: bool) -> Self {
        self.line_orientation = on;
        self
    }
    /// With a limit on decoded pixels (all pages together).
    #[must_use]
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
    /// With a pixel budget per page (at least one pixel).
    #[must_use]
    pub fn with_page_pixels(mut self, pixels: u64) -> Self {
        self.page_pixels = pixels.max(1);
        self
    }

    /// With a time limit per image.
    #[must_use]
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }
    /// With or without page orientation.
    #[must_use]
    pub fn with_page_orientation(mut self, on: bool) -> Self {
        self.page_orientation = on;
        self
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A model file is missing or not the pinned one.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// ONNX Runtime could not be loaded or refused a model.
    #[error("cannot start the PP-OCR engine")]
    Runtime(#[from] RuntimeError),
    /// The recognition dictionary is not valid UTF-8.
    #[error("the recognition dictionary {0} is not UTF-8 text")]
    Dictionary(PathBuf),
    /// A worker thread could not be started.
    #[error("cannot start a PP-OCR worker thread")]
    Thread(#[source] std::io::Error),
}

/// The PP-OCR engine: detection, optional line and page orientation, recognition.
#[derive(Clone, Debug)]
pub struct PpOcr {
    capabilities: OcrCapabilities,
    inner: Arc<Inner>,
}

/// A page for a worker, and where its answer goes.
struct Job {
    bytes: Bytes,
    reply: Box<dyn FnOnce(Result<OcrResult, OcrError>) + Send>,
}

#[derive(Debug)]
struct Inner {
    /// The workers' queue; they stop when the last engine handle is dropped and it closes.
    jobs: Sender<Job>,
    /// At most one page per worker is handed over at a time, so a cancelled caller leaves nothing
    /// queued behind it.
    permits: Semaphore,
}

/// What every worker reads pages with.
#[derive(Debug)]
struct Settings {
    engine: String,
    params: Params,
    max_pixels: u64,
    page_pixels: u64,
    time_limit: Duration,
}

impl PpOcr {
    /// Loads and checks the models and starts ONNX Runtime.
    ///
    /// # Errors
    /// [`LoadError`] when a file is missing or altered (the message says how to install it), or the
    /// runtime cannot load it.
    pub fn load(options: &PpOcrOptions) -> Result<Self, LoadError> {
        let dir = options.models_dir.as_path();
        let library = dir.join(models::runtime_library());
        models::read_verified(dir, &models::runtime_library())?;
        let env = runtime::environment(&library)?;
        let [det_file, rec_file, dict_file] = models::tier_files(options.tier);
        let det = models::read_verified(dir, &det_file)?;
        let rec = models::read_verified(dir, &rec_file)?;
        let dict = String::from_utf8(models::read_verified(dir, &dict_file)?)
            .map_err(|_| LoadError::Dictionary(dir.join(&dict_file)))?;
        let charset = Charset::from_dictionary(&dict);
        let cls = options
            .line_orientation
            .then(|| models::read_verified(dir, models::CLS_FILE))
            .transpose()?;
        let page = options
            .page_orientation
            .then(|| models::read_verified(dir, models::ORIENTATION_FILE))
            .transpose()?;
        let weights = [
            SharedWeights::new(),
            SharedWeights::new(),
            SharedWeights::new(),
            SharedWeights::new(),
        ];
        let threads = options.threads_per_worker.max(1);
        let capabilities = OcrCapabilities::new(
            options.tier.engine_name(),
            decode::FORMATS.to_vec(),
            50 * 1024 * 1024,
            8,
        )
        // Detection boxes runs of text, not lines: the processor arranges them (reading order).
        .reporting_fragments();
        let settings = Arc::new(Settings {
            engine: capabilities.engine.clone(),
            params: Params::default(),
            max_pixels: options.max_pixels,
            page_pixels: options.page_pixels.max(1),
            time_limit: options.time_limit,
        });
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = options.workers.max(1);
        for n in 0..workers {
            let models = Models {
                det: Net::new(env, "detection", &det, threads, &weights[0])?,
                rec: Net::new(env, "recognition", &rec, threads, &weights[1])?,
                charset: charset.clone(),
                cls: cls
                    .as_deref()
                    .map(|b| Net::new(env, "line classifier", b, threads, &weights[2]))
                    .transpose()?,
                page: page
                    .as_deref()
                    .map(|b| Net::new(env, "page classifier", b, threads, &weights[3]))
                    .transpose()?,
            };
            let (receiver, settings) = (Arc::clone(&receiver), Arc::clone(&settings));
            std::thread::Builder::new()
                .name(format!("intake-ocr-{n}"))
                .spawn(move || work(models, &receiver, &settings))
                .map_err(LoadError::Thread)?;
        }
        tracing::info!(engine = %capabilities.engine, workers, models = %dir.display(), "PP-OCR engine loaded");
        Ok(Self {
            capabilities,
            inner: Arc::new(Inner {
                jobs: sender,
                permits: Semaphore::new(workers),
            }),
        })
    }

    /// Hands a page to the workers; `reply` gets its result on the worker's thread.
    fn submit(
        &self,
        bytes: Bytes,
        reply: Box<dyn FnOnce(Result<OcrResult, OcrError>) + Send>,
    ) -> Result<(), OcrError> {
        self.inner
            .jobs
            .send(Job { bytes, reply })
            .map_err(|_| stopped())
    }

    /// Reads an image and waits for it on the calling thread (for tools and benchmarks;
    /// [`OcrEngine::detect`] waits without blocking). Callers beyond the number of workers queue.
    ///
    /// # Errors
    /// As [`OcrEngine::detect`].
    pub fn read_blocking(&self, bytes: &[u8]) -> Result<OcrResult, OcrError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(
            Bytes::copy_from_slice(bytes),
            Box::new(move |result| {
                let _gone = tx.send(result);
            }),
        )?;
        rx.recv().map_err(|_| stopped())?
    }
}

/// The workers have stopped (they only do when the engine is dropped, or a page panicked past
/// recovery): a retryable condition for the caller.
fn stopped() -> OcrError {
    OcrError::from(Failure::unavailable("the PP-OCR workers have stopped"))
}

/// One worker: takes pages off the queue until it closes, each read with this worker's own models.
fn work(mut models: Models, jobs: &Mutex<Receiver<Job>>, settings: &Settings) {
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        // A page that panics (a bug) answers as an error and the worker goes on with the next one.
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| read(&mut models, settings, &job.bytes)))
                .unwrap_or_else(|_| {
                    Err(OcrError::from(Failure::other(
                        "the PP-OCR worker panicked on this image",
                    )))
                });
        (job.reply)(result);
    }
}

fn read(models: &mut Models, settings: &Settings, bytes: &[u8]) -> Result<OcrResult, OcrError> {
    // A limit too far away to represent as an instant (centuries) is no limit.
    let deadline = Deadline(Instant::now().checked_add(settings.time_limit));
    let pages = decode::decode_pages(bytes, settings.max_pixels, settings.page_pixels).map_err(
        |e| match e {
            DecodeError::TooLarge { .. } => OcrError::TooLarge {
                reason: e.to_string(),
            },
            DecodeError::Invalid(reason) => OcrError::InvalidImage { reason },
        },
    )?;
    let mut lines = Vec::new();
    let mut read = Vec::with_capacity(pages.len());
    for (number, page) in (1..=u32::MAX).filter_map(NonZeroU32::new).zip(&pages) {
        let out =
            pipeline::read_page(models, &page.raster, &settings.params, deadline).map_err(|e| {
                match e {
                    PageError::OutOfTime => OcrError::Timeout,
                    PageError::Runtime(e) => OcrError::from(Failure::other(e)),
                }
            })?;
        lines.extend(
            // Boxes are fractions of the pixels read, which cover the whole page.
            to_lines(&out, page.raster.width(), page.raster.height())?
                .into_iter()
                .map(|line| line.on_page(number)),
        );
        let read_page = OcrPage::new(
            number,
            u32::try_from(page.width).unwrap_or(u32::MAX),
            u32::try_from(page.height).unwrap_or(u32::MAX),
            PageSource::Ocr,
        );
        read.push(match sketch::page_hash(&page.raster, out.quarter_turns) {
            Some(hash) => read_page.with_image_hash(hash),
            None => read_page,
        });
    }
    Ok(OcrResult::new(&settings.engine, lines, false)
        .map_err(|e| OcrError::from(Failure::other(e)))?
        .with_pages(read))
}

#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn to_box(b: &PixelBox, w: usize, h: usize) -> Result<BoundingBox, OcrError> {
    let (w, h) = (w.max(1) as f64, h.max(1) as f64);
    BoundingBox::new(
        (b.left / w) as f32,
        (b.top / h) as f32,
        ((b.right - b.left) / w) as f32,
        ((b.bottom - b.top) / h) as f32,
    )
    .map_err(|e| OcrError::from(Failure::other(e)))
}

fn to_lines(page: &PageOut, w: usize, h: usize) -> Result<Vec<OcrLine>, OcrError> {
    let other = |e: intake_domain::model::OcrResultError| OcrError::from(Failure::other(e));
    page.lines
        .iter()
        .map(|line| {
            let words = line
                .words
                .iter()
                .map(|word| {
                    OcrWord::new(
                        word.text.clone(),
                        word.score * 100.0,
                        to_box(&word.bbox, w, h)?,
                    )
                    .map_err(other)
                })
                .collect::<Result<Vec<_>, _>>()?;
            OcrLine::new(
                line.text.clone(),
                line.score * 100.0,
                to_box(&line.bbox, w, h)?,
                words,
            )
            .map_err(other)
        })
        .collect()
}

#[async_trait]
impl OcrEngine for PpOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let bytes = self.capabilities.bytes_of(input)?;
        let _permit = self.inner.permits.acquire().await.map_err(|_closed| {
            OcrError::from(Failure::unavailable("the PP-OCR engine is shutting down"))
        })?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(
            bytes.clone(),
            Box::new(move |result| {
                let _cancelled = tx.send(result);
            }),
        )?;
        rx.await.map_err(|_| stopped())?
    }
}
