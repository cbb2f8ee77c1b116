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

mod reduce;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use intake_domain::model::{BoundingBox, ContentType, OcrLine, OcrResult, OcrWord};
use intake_domain::ports::{ImageFacts, OcrCapabilities, OcrEngine, OcrError, OcrInput};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{OnceCell, Semaphore};

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

/// The end-of-image marker: a 16 × 16 white grayscale PNG, on which Tesseract finds nothing (about a
/// millisecond) and prints only its page row.
const MARKER_PNG: [u8; 72] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 16, 0, 0, 0, 16, 8, 0,
    0, 0, 0, 58, 152, 160, 189, 0, 0, 0, 15, 73, 68, 65, 84, 120, 218, 99, 248, 143, 6, 24, 70,
    182, 0, 0, 128, 249, 255, 1, 145, 235, 32, 26, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// The header Tesseract prints once per process; each image's rows are handed to [`parse_tsv`] under it.
const TSV_HEADER: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n";

/// How much of a process's standard error is kept for error messages.
const STDERR_KEPT: usize = 4096;

/// The Tesseract engine. Takes image bytes (PNG, JPEG, TIFF, BMP, GIF, WebP), not PDF.
#[derive(Debug, Clone)]
pub struct TesseractOcr {
    shared: Arc<Shared>,
    capabilities: OcrCapabilities,
}

/// What the clones of one engine share: the options, the permits, the idle processes and the
/// temporary directory.
#[derive(Debug)]
struct Shared {
    options: TesseractOptions,
    permits: Semaphore,
    idle: Mutex<Vec<Idle>>,
    /// A task is watching the idle processes.
    reaper: std::sync::atomic::AtomicBool,
    files: OnceCell<Files>,
    next_file: AtomicU64,
}

/// A process waiting for its next image, and since when.
#[derive(Debug)]
struct Idle {
    process: Process,
    since: Instant,
}

/// The private directory images are written to, with the end-of-image marker in it.
#[derive(Debug)]
struct Files {
    dir: tempfile::TempDir,
    marker: String,
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
            ],
            50 * 1024 * 1024,
            8,
        )
        .with_max_dimension(32_767);
        let permits = Semaphore::new(options.concurrency.max(1));
        Self {
            shared: Arc::new(Shared {
                options,
                permits,
                idle: Mutex::new(Vec::new()),
                reaper: std::sync::atomic::AtomicBool::new(false),
                files: OnceCell::new(),
                next_file: AtomicU64::new(0),
            }),
            capabilities,
        }
    }

    /// How many processes are running and waiting for an image.
    pub fn idle_processes(&self) -> usize {
        self.shared.idle.lock().map_or(0, |idle| idle.len())
    }

    /// Checks that the program runs and has the configured language data, so a server can refuse to
    /// start with a clear message rather than fail every job.
    ///
    /// # Errors
    /// [`OcrError::Unavailable`] saying what is missing and how to install it.
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
            .map_err(|e| OcrError::Unavailable {
                reason: format!("cannot run {} ({e}); {INSTALL}", options.program.display()),
                source: None,
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
            Err(OcrError::Unavailable {
                reason: format!(
                    "Tesseract has no language data for {} (installed: {}); install e.g. `apt-get install tesseract-ocr-{}`",
                    missing.join(", "),
                    installed.join(", "),
                    missing.first().copied().unwrap_or("eng"),
                ),
                source: None,
            })
        }
    }

    /// Recognises one image: its TSV rows under the header. A page beyond `max_pixels` is reduced
    /// first. A multi-page TIFF (a running process reads only the first page of each path) gets a
    /// process of its own.
    async fn run(&self, image: bytes::Bytes, facts: &ImageFacts) -> Result<String, OcrError> {
        let shared = &self.shared;
        let _permit = shared
            .permits
            .acquire()
            .await
            .map_err(|e| OcrError::Unavailable {
                reason: e.to_string(),
                source: None,
            })?;
        let (image, pages) = prepare(image, facts, shared.options.max_pixels).await?;
        let files = shared
            .files
            .get_or_try_init(|| Files::create(shared.options.work_dir.as_deref()))
            .await
            .map_err(|e| unavailable("cannot create a temporary directory for Tesseract", e))?;
        let page = PageFile::write(
            files,
            shared.next_file.fetch_add(1, Ordering::Relaxed),
            image,
        )
        .await?;
        if pages {
            return self.run_once(&page.path).await;
        }
        let mut process = match shared.take_idle() {
            Some(process) => process,
            None => Process::start(&shared.options)?,
        };
        let recognised = tokio::time::timeout(
            shared.options.timeout,
            process.recognise(&page.path, &files.marker),
        )
        .await;
        match recognised {
            Ok(Ok(tsv)) => {
                if process.images < shared.options.recycle_after {
                    Shared::keep(shared, process);
                }
                Ok(tsv)
            }
            // The process is dropped (killed) in both cases.
            Ok(Err(failed)) => Err(process.failure(failed, &page.path).await),
            Err(_) => Err(OcrError::Timeout),
        }
    }
}

impl TesseractOcr {
    /// Recognises every page of the image at `path` with a process of its own.
    async fn run_once(&self, path: &str) -> Result<String, OcrError> {
        let options = &self.shared.options;
        let child = spawn(options, path, false)?;
        let output = tokio::time::timeout(options.timeout, child.wait_with_output())
            .await
            .map_err(|_| OcrError::Timeout)?
            .map_err(|e| OcrError::Unavailable {
                reason: format!("talking to Tesseract failed: {e}"),
                source: Some(Box::new(e)),
            })?;
        if !output.status.success() {
            return Err(failure_from(
                &String::from_utf8_lossy(&output.stderr).replace(path, "the image"),
                Failed::Ended,
            ));
        }
        String::from_utf8(output.stdout).map_err(|e| OcrError::Other {
            source: Box::new(e),
        })
    }
}

impl Shared {
    /// An idle process, if one is alive and has not idled past `keep_alive` (those are stopped).
    fn take_idle(&self) -> Option<Process> {
        let mut idle = self.idle.lock().ok()?;
        idle.retain(|i| i.since.elapsed() < self.options.keep_alive);
        // One that died while idle (killed from outside) is passed over.
        while let Some(mut i) = idle.pop() {
            if matches!(i.process.child.try_wait(), Ok(None)) {
                return Some(i.process);
            }
        }
        None
    }

    /// Keeps `process` for the next image, and stops it if none comes within `keep_alive`.
    fn keep(this: &Arc<Self>, process: Process) {
        if let Ok(mut idle) = this.idle.lock() {
            idle.push(Idle {
                process,
                since: Instant::now(),
            });
        }
        // One reaper at a time: it sleeps until the oldest idle process is due, stops those that
        // are, and ends when none is idle.
        if this.reaper.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            this.reaper.store(false, Ordering::SeqCst);
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(this);
        let keep_alive = this.options.keep_alive;
        runtime.spawn(async move {
            let mut due = keep_alive;
            loop {
                tokio::time::sleep(due).await;
                let Some(shared) = weak.upgrade() else { return };
                let Ok(mut idle) = shared.idle.lock() else {
                    return;
                };
                let (expired, fresh): (Vec<Idle>, Vec<Idle>) = idle
                    .drain(..)
                    .partition(|i| i.since.elapsed() >= keep_alive);
                *idle = fresh;
                let Some(oldest) = idle.iter().map(|i| i.since.elapsed()).max() else {
                    // Disarmed under the lock, so a process kept after this arms a new reaper.
                    shared.reaper.store(false, Ordering::SeqCst);
                    drop(idle);
                    drop(expired);
                    return;
                };
                due = keep_alive.saturating_sub(oldest);
                drop(idle);
                drop(expired);
            }
        });
    }
}

impl Files {
    async fn create(work_dir: Option<&Path>) -> std::io::Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("intake-tesseract-");
        let dir = match work_dir {
            Some(work_dir) => builder.tempdir_in(work_dir)?,
            None => builder.tempdir()?,
        };
        let marker = dir.path().join("end-of-image.png");
        tokio::fs::write(&marker, MARKER_PNG).await?;
        let marker = line_path(&marker)?;
        Ok(Self { dir, marker })
    }
}

/// Starts Tesseract on `input` with TSV on its standard output and its standard error piped: `input`
/// is an image path, or with `streaming` `-` for image paths read one a line from its standard input.
/// It runs with `OMP_THREAD_LIMIT=1` and is killed when dropped.
fn spawn(options: &TesseractOptions, input: &str, streaming: bool) -> Result<Child, OcrError> {
    let psm = options.psm.to_string();
    let mut args = vec![input, "stdout", "-l", &options.language, "--psm", &psm];
    if streaming {
        args.extend(["-c", "stream_filelist=true"]);
    }
    args.push("tsv");
    Command::new(&options.program)
        .args(&args)
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(if streaming {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| OcrError::Unavailable {
            reason: format!("cannot run {} ({e}); {INSTALL}", options.program.display()),
            source: None,
        })
}

/// A path as one line of Tesseract's input: UTF-8 without line breaks.
fn line_path(path: &Path) -> std::io::Result<String> {
    path.to_str()
        .filter(|p| !p.contains(['\n', '\r']))
        .map(str::to_owned)
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unusable temporary path {}", path.display()),
            )
        })
}

fn unavailable(what: &str, error: std::io::Error) -> OcrError {
    OcrError::Unavailable {
        reason: format!("{what}: {error}"),
        source: Some(Box::new(error)),
    }
}

/// One image written for Tesseract; removed when dropped.
struct PageFile {
    path: String,
}

impl PageFile {
    /// Writes `image` on a blocking thread that owns the file's guard from before it exists: a
    /// failed write, or a call dropped mid-write, leaves no file behind.
    async fn write(files: &Files, n: u64, image: bytes::Bytes) -> Result<Self, OcrError> {
        let path = files.dir.path().join(format!("{n}.img"));
        let page = Self {
            path: line_path(&path).map_err(|e| unavailable("temporary file", e))?,
        };
        tokio::task::spawn_blocking(move || std::fs::write(&page.path, &image).map(|()| page))
            .await
            .map_err(|e| OcrError::Unavailable {
                reason: format!("writing the image for Tesseract stopped: {e}"),
                source: None,
            })?
            .map_err(|e| unavailable("cannot write the image for Tesseract", e))
    }
}

impl Drop for PageFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Why a process gave no result for an image.
#[derive(Debug)]
enum Failed {
    /// It ended (or closed its output) before the end-of-image marker.
    Ended,
    /// Reading or writing its pipes failed.
    Io(std::io::Error),
    /// It printed a row of a page it was not asked for.
    Confused(String),
}

/// A running Tesseract that reads image paths from its standard input.
#[derive(Debug)]
struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    stderr_done: tokio::task::JoinHandle<()>,
    /// The page number Tesseract gives the next path (it counts from 1 over its life).
    next_page: u64,
    /// How many images it recognised.
    images: u32,
}

impl Process {
    fn start(options: &TesseractOptions) -> Result<Self, OcrError> {
        let mut child = spawn(options, "-", true)?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            return Err(OcrError::Unavailable {
                reason: "Tesseract started without its pipes".into(),
                source: None,
            });
        };
        // Standard error is drained all along (a full pipe would stop Tesseract); the tail is kept.
        let kept = Arc::new(Mutex::new(String::new()));
        let tail = Arc::clone(&kept);
        let stderr_done = tokio::spawn(async move {
            let mut stderr = BufReader::new(stderr);
            let mut line = Vec::new();
            while matches!(stderr.read_until(b'\n', &mut line).await, Ok(n) if n > 0) {
                if let Ok(mut tail) = tail.lock() {
                    tail.push_str(String::from_utf8_lossy(&line).trim_end());
                    tail.push('\n');
                    if tail.len() > STDERR_KEPT {
                        let cut = tail.len() - STDERR_KEPT;
                        let cut = (cut..tail.len())
                            .find(|&i| tail.is_char_boundary(i))
                            .unwrap_or(tail.len());
                        tail.drain(..cut);
                    }
                }
                line.clear();
            }
        });
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            stderr: kept,
            stderr_done,
            next_page: 1,
            images: 0,
        })
    }

    /// Sends `path` and the marker, and collects the image's rows until the marker's page row.
    async fn recognise(&mut self, path: &str, marker: &str) -> Result<String, Failed> {
        if let Ok(mut tail) = self.stderr.lock() {
            tail.clear();
        }
        let page = self.next_page;
        let end = page + 1;
        self.next_page += 2;
        self.stdin
            .write_all(format!("{path}\n{marker}\n").as_bytes())
            .await
            .map_err(Failed::Io)?;
        self.stdin.flush().await.map_err(Failed::Io)?;
        let mut tsv = String::from(TSV_HEADER);
        loop {
            let Some(line) = self.stdout.next_line().await.map_err(Failed::Io)? else {
                return Err(Failed::Ended);
            };
            if line.starts_with("level\t") {
                continue;
            }
            let mut cells = line.split('\t');
            let level = cells.next();
            match cells.next().and_then(|n| n.parse::<u64>().ok()) {
                Some(n) if n == page => {
                    tsv.push_str(&line);
                    tsv.push('\n');
                }
                Some(n) if n == end && level == Some("1") => {
                    self.images += 1;
                    return Ok(tsv);
                }
                _ => return Err(Failed::Confused(line)),
            }
        }
    }

    /// The error for the image at `path` this process failed on, from how it ended and what it
    /// said on standard error.
    async fn failure(mut self, failed: Failed, path: &str) -> OcrError {
        // A process whose output ended is exiting: its status says whether it gave up on the image
        // or was killed. Any other is stopped. Then its last words are read to the end.
        let ended = if matches!(failed, Failed::Ended) {
            tokio::time::timeout(Duration::from_secs(2), self.child.wait())
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        if ended.is_none() {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), &mut self.stderr_done).await;
        let said = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        #[cfg(unix)]
        if let Some(signal) = ended.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s))
        {
            // Killed from outside (out of memory, an operator): not the image's fault as far as
            // anyone can tell, so worth another try.
            return OcrError::Unavailable {
                reason: format!("Tesseract was killed by signal {signal}"),
                source: None,
            };
        }
        failure_from(&said.replace(path, "the image"), failed)
    }
}

/// The error for an image Tesseract failed on, from what it said on standard error.
fn failure_from(said: &str, failed: Failed) -> OcrError {
    let said: String = said
        .lines()
        .filter(|l| !(l.starts_with("Page ") && l.contains(" : ")))
        .filter(|l| !l.starts_with("Estimating resolution") && !l.starts_with("Empty page"))
        .collect::<Vec<_>>()
        .join("\n");
    if said.contains("Failed loading language") || said.contains("Error opening data file") {
        return OcrError::Unavailable {
            reason: format!("Tesseract language data missing: {}", said.trim()),
            source: None,
        };
    }
    match failed {
        Failed::Ended if !said.trim().is_empty() => OcrError::InvalidImage {
            reason: said.trim().chars().take(500).collect(),
        },
        Failed::Ended => OcrError::InvalidImage {
            reason: "Tesseract stopped on this image without saying why".into(),
        },
        Failed::Io(error) => OcrError::Unavailable {
            reason: format!("talking to Tesseract failed: {error}"),
            source: Some(Box::new(error)),
        },
        // The engine lost its place, not the image's fault: another try gets a fresh process.
        Failed::Confused(line) => OcrError::Unavailable {
            reason: format!(
                "Tesseract printed a row of another page: {}",
                line.chars().take(200).collect::<String>()
            ),
            source: None,
        },
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
/// `max_pixels`, or in colour beyond 40% of it, reduced to a grey PGM (on a blocking thread); anything
/// else as it is.
async fn prepare(
    image: bytes::Bytes,
    facts: &ImageFacts,
    max_pixels: u64,
) -> Result<(bytes::Bytes, bool), OcrError> {
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
    let reduced = tokio::task::spawn_blocking(move || reduce::reduce(&image, size, target))
        .await
        .map_err(|e| OcrError::Unavailable {
            reason: format!("reducing the image for Tesseract stopped: {e}"),
            source: None,
        })?
        .map_err(|e| OcrError::InvalidImage {
            reason: e.to_string(),
        })?;
    Ok((bytes::Bytes::from(reduced), false))
}

/// One word row of Tesseract's TSV.
struct WordRow<'a> {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
    confidence: f32,
    text: &'a str,
}

/// Turns Tesseract's TSV into a result. The page size comes from the level-1 row; words (level 5)
/// with text are grouped into lines by page, block, paragraph and line number, in reading order.
/// Malformed rows are skipped; this never panics, whatever the input.
///
/// # Errors
/// [`OcrError::InvalidImage`] when there is no page row to size the boxes by.
pub fn parse_tsv(tsv: &str) -> Result<OcrResult, OcrError> {
    let mut page: Option<(u32, u32)> = None;
    let mut lines: BTreeMap<(u32, u32, u32, u32), Vec<WordRow<'_>>> = BTreeMap::new();
    for row in tsv.lines().skip(1) {
        let cells: Vec<&str> = row.splitn(12, '\t').collect();
        let number = |i: usize| cells.get(i).and_then(|c| c.trim().parse::<u32>().ok());
        let (Some(level), Some(p), Some(b), Some(par), Some(l)) =
            (number(0), number(1), number(2), number(3), number(4))
        else {
            continue;
        };
        let (Some(left), Some(top), Some(width), Some(height)) =
            (number(6), number(7), number(8), number(9))
        else {
            continue;
        };
        if level == 1 && page.is_none() {
            page = Some((width, height));
        }
        if level != 5 {
            continue;
        }
        let confidence = cells
            .get(10)
            .and_then(|c| c.trim().parse::<f32>().ok())
            .filter(|c| c.is_finite() && *c >= 0.0);
        let text = cells.get(11).map_or("", |t| t.trim());
        if let (Some(confidence), false) = (confidence, text.is_empty()) {
            lines.entry((p, b, par, l)).or_default().push(WordRow {
                left,
                top,
                width,
                height,
                confidence,
                text,
            });
        }
    }
    let (page_width, page_height) =
        page.filter(|(w, h)| *w > 0 && *h > 0)
            .ok_or_else(|| OcrError::InvalidImage {
                reason: "Tesseract reported no page".into(),
            })?;
    let mut result_lines = Vec::with_capacity(lines.len());
    for words in lines.values() {
        let mut ocr_words = Vec::with_capacity(words.len());
        for w in words {
            let bbox =
                BoundingBox::from_pixels(w.left, w.top, w.width, w.height, page_width, page_height)
                    .map_err(|e| OcrError::Other {
                        source: Box::new(e),
                    })?;
            ocr_words.push(OcrWord::new(w.text, w.confidence, bbox).map_err(|e| {
                OcrError::Other {
                    source: Box::new(e),
                }
            })?);
        }
        result_lines.extend(OcrLine::from_words(ocr_words));
    }
    OcrResult::new("tesseract", result_lines, false).map_err(|e| OcrError::Other {
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t1000\t500\t-1\t
2\t1\t1\t0\t0\t0\t100\t100\t800\t200\t-1\t
4\t1\t1\t1\t1\t0\t100\t100\t800\t50\t-1\t
5\t1\t1\t1\t1\t1\t100\t100\t200\t50\t96.5\tPAY
5\t1\t1\t1\t1\t2\t320\t100\t100\t50\t91.0\tTO
5\t1\t1\t1\t2\t1\t100\t200\t400\t50\t88.25\tJANE
5\t1\t1\t1\t2\t2\t520\t200\t10\t50\t-1\t 
";

    #[test]
    fn groups_words_into_lines_with_relative_boxes() {
        let r = parse_tsv(SAMPLE).unwrap();
        assert_eq!(r.text(), "PAY TO\nJANE");
        assert_eq!(r.word_count(), 3);
        let first = &r.lines()[0];
        assert!((first.bounding_box().left() - 0.1).abs() < 1e-6);
        assert!((first.bounding_box().width() - 0.32).abs() < 1e-6);
        assert!((first.words()[1].confidence() - 91.0).abs() < 1e-6);
        assert_eq!(r.avg_confidence_pct(), Some(91.92));
    }

    #[test]
    fn garbage_never_panics_and_a_missing_page_is_an_error() {
        for input in [
            "",
            "\n\n",
            "level\n5\t1",
            "x\ty\n1\t1\t0\t0\t0\t0\t0\t0\t0\t0",
            "h\n1\t1\t0\t0\t0\t0\t0\t0\t99999999999\t1\t-1\t",
        ] {
            let _ = parse_tsv(input);
        }
        assert!(parse_tsv("header only").is_err());
        let empty_page = "h\n1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n";
        assert_eq!(parse_tsv(empty_page).unwrap().line_count(), 0);
    }

    /// Rows made of Tesseract's column shapes, with hostile values mixed in.
    fn row() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let cell = prop_oneof![
            "[0-9]{1,3}",
            "-?[0-9]{1,12}",
            "-?[0-9]{0,4}\\.[0-9]{0,4}",
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
            "\\PC{0,12}",
        ];
        proptest::collection::vec(cell, 0..14).prop_map(|cells| cells.join("\t"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,400}") {
            let _ = parse_tsv(&input);
        }

        #[test]
        fn tsv_shaped_garbage_never_panics_and_boxes_stay_on_the_page(
            rows in proptest::collection::vec(row(), 0..40),
        ) {
            let input = format!("header\n1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t\n{}", rows.join("\n"));
            if let Ok(result) = parse_tsv(&input) {
                for line in result.lines() {
                    let b = line.bounding_box();
                    proptest::prop_assert!(b.left() >= 0.0 && b.top() >= 0.0);
                    proptest::prop_assert!(b.left() + b.width() <= 1.0 + 1e-6);
                    proptest::prop_assert!(b.top() + b.height() <= 1.0 + 1e-6);
                    for word in line.words() {
                        proptest::prop_assert!((0.0..=100.0).contains(&word.confidence()));
                    }
                }
            }
        }
    }
}
