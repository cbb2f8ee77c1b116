//! The process pool: up to `concurrency` Tesseract processes, each started once and fed image paths
//! on its standard input, kept idle for the next image for `keep_alive`, replaced after
//! `recycle_after` images or when one fails; and the private files images are written to for them.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use intake_domain::ports::{Failure, ImageFacts, OcrError};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{OnceCell, Semaphore};

use super::tsv::TSV_HEADER;
use super::{INSTALL, TesseractOcr, TesseractOptions, prepare};

/// The end-of-image marker: a 16 × 16 white grayscale PNG, on which Tesseract finds nothing (about a
/// millisecond) and prints only its page row.
const MARKER_PNG: [u8; 72] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 16, 0, 0, 0, 16, 8, 0,
    0, 0, 0, 58, 152, 160, 189, 0, 0, 0, 15, 73, 68, 65, 84, 120, 218, 99, 248, 143, 6, 24, 70,
    182, 0, 0, 128, 249, 255, 1, 145, 235, 32, 26, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// How much of a process's standard error is kept for error messages.
const STDERR_KEPT: usize = 4096;

/// What the clones of one engine share: the options, the permits, the idle processes and the
/// temporary directory.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) options: TesseractOptions,
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

impl Shared {
    /// The shared state of an engine with `options`: no process yet, no directory yet.
    pub(super) fn new(options: TesseractOptions) -> Self {
        let permits = Semaphore::new(options.concurrency.max(1));
        Self {
            options,
            permits,
            idle: Mutex::new(Vec::new()),
            reaper: std::sync::atomic::AtomicBool::new(false),
            files: OnceCell::new(),
            next_file: AtomicU64::new(0),
        }
    }

    /// How many processes are running and waiting for an image.
    pub(super) fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

impl TesseractOcr {
    /// Recognises one image: its TSV rows under the header. A page beyond `max_pixels` is reduced
    /// first. A multi-page TIFF (a running process reads only the first page of each path) gets a
    /// process of its own.
    pub(super) async fn run(
        &self,
        image: bytes::Bytes,
        facts: &ImageFacts,
    ) -> Result<String, OcrError> {
        let shared = &self.shared;
        let _permit = shared
            .permits
            .acquire()
            .await
            .map_err(|e| OcrError::from(Failure::unavailable(e.to_string())))?;
        let (image, pages) = prepare(image, facts, shared.options.max_pixels).await?;
        let files = shared
            .files
            .get_or_try_init(|| Files::create(shared.options.work_dir.as_deref()))
            .await
            .map_err(|e| unavailable("cannot create a temporary directory for Tesseract", &e))?;
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

    /// Recognises every page of the image at `path` with a process of its own.
    async fn run_once(&self, path: &str) -> Result<String, OcrError> {
        let options = &self.shared.options;
        let child = spawn(options, path, false)?;
        let output = tokio::time::timeout(options.timeout, child.wait_with_output())
            .await
            .map_err(|_| OcrError::Timeout)?
            .map_err(|e| {
                OcrError::from(Failure::unavailable(format!(
                    "talking to Tesseract failed: {e}"
                )))
            })?;
        if !output.status.success() {
            return Err(failure_from(
                &String::from_utf8_lossy(&output.stderr).replace(path, "the image"),
                Failed::Ended,
            ));
        }
        String::from_utf8(output.stdout).map_err(|e| OcrError::from(Failure::other(e)))
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
        .map_err(|e| {
            OcrError::from(Failure::unavailable(format!(
                "cannot run {} ({e}); {INSTALL}",
                options.program.display()
            )))
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

fn unavailable(what: &str, error: &std::io::Error) -> OcrError {
    OcrError::from(Failure::unavailable(format!("{what}: {error}")))
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
            path: line_path(&path).map_err(|e| unavailable("temporary file", &e))?,
        };
        tokio::task::spawn_blocking(move || std::fs::write(&page.path, &image).map(|()| page))
            .await
            .map_err(|e| {
                OcrError::from(Failure::unavailable(format!(
                    "writing the image for Tesseract stopped: {e}"
                )))
            })?
            .map_err(|e| unavailable("cannot write the image for Tesseract", &e))
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
            return Err(OcrError::from(Failure::unavailable(
                "Tesseract started without its pipes",
            )));
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
            return OcrError::from(Failure::unavailable(format!(
                "Tesseract was killed by signal {signal}"
            )));
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
        return OcrError::from(Failure::unavailable(format!(
            "Tesseract language data missing: {}",
            said.trim()
        )));
    }
    match failed {
        Failed::Ended if !said.trim().is_empty() => OcrError::InvalidImage {
            reason: said.trim().chars().take(500).collect(),
        },
        Failed::Ended => OcrError::InvalidImage {
            reason: "Tesseract stopped on this image without saying why".into(),
        },
        Failed::Io(error) => OcrError::from(Failure::unavailable(format!(
            "talking to Tesseract failed: {error}"
        ))),
        // The engine lost its place, not the image's fault: another try gets a fresh process.
        Failed::Confused(line) => OcrError::from(Failure::unavailable(format!(
            "Tesseract printed a row of another page: {}",
            line.chars().take(200).collect::<String>()
        ))),
    }
}
