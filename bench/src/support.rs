//! What the benchmarks share: errors, timing, big image-shaped files, the file-store Intake.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use intake_domain::model::{ContentType, ObjectKey};
use intake_domain::ports::OcrCapabilities;
use intake_domain::services::{ObjectCreated, ProcessOutcome, UploadRequest};
use intake_domain::{Intake, IntakeConfig};
use intake_local::{FsObjectStore, PutChecks, SqliteRepository};
use intake_memory::{MemoryUrlSigner, ScriptedOcr};
use intake_server::LOCAL_BUCKET;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BenchError {
    /// The message says what failed.
    #[error("{0}")]
    Failed(String),
}

/// Wraps any error with what was being done.
pub(crate) fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> BenchError + '_ {
    move |error| BenchError::Failed(format!("{what}: {error}"))
}

/// The best (shortest) of `runs` timings of `f`.
pub(crate) async fn best_of<F, Fut, T>(runs: usize, mut f: F) -> Result<(Duration, T), BenchError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BenchError>>,
{
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let value = f().await?;
        let elapsed = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
            best = Some((elapsed, value));
        }
    }
    best.ok_or_else(|| BenchError::Failed("no run".into()))
}

/// MiB/s of `bytes` in `time`.
pub(crate) fn mib_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / time.as_secs_f64()
}

/// Writes a PNG-shaped file of exactly `size` bytes: a valid signature and header (4096 × 4096 gray),
/// one large IDAT chunk, and the IEND trailer. The processor checks header and trailer while
/// streaming; it does not decode, so this stands for any large image.
pub(crate) fn write_png_shaped(path: &Path, size: u64) -> Result<(), BenchError> {
    let header = intake_domain::testkit::images::png_header_only(4096, 4096);
    let trailer = intake_domain::sniff::PNG_TRAILER;
    let overhead = header.len() as u64 + 12 + trailer.len() as u64;
    let data = size
        .checked_sub(overhead)
        .ok_or_else(|| BenchError::Failed("file too small".into()))?;
    let mut file = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).map_err(fail("create file"))?,
    );
    file.write_all(&header).map_err(fail("write"))?;
    file.write_all(&u32::try_from(data).unwrap_or(u32::MAX).to_be_bytes())
        .map_err(fail("write"))?;
    file.write_all(b"IDAT").map_err(fail("write"))?;
    let mut block = vec![0u8; 1 << 20];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for byte in &mut block {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state.to_le_bytes()[0];
    }
    let mut left = data;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.write_all(block.get(..n).unwrap_or_default())
            .map_err(fail("write"))?;
        left -= n as u64;
    }
    file.write_all(&0u32.to_be_bytes()).map_err(fail("write"))?;
    file.write_all(&trailer).map_err(fail("write"))?;
    file.flush().map_err(fail("flush"))?;
    Ok(())
}

/// An OCR engine that answers at once and reads objects by reference (so the processor never holds an
/// object whole): OCR is stubbed out, everything else is real.
pub(crate) fn scripted_engine() -> ScriptedOcr {
    ScriptedOcr::new(
        OcrCapabilities::new("scripted", vec![ContentType::Png], 4 << 30, 1)
            .with_max_dimension(100_000)
            .reading_objects(),
    )
}

/// Intake over the file store and SQLite in `dir`, with the scripted engine.
pub(crate) async fn file_intake(dir: &Path) -> Result<(Intake, FsObjectStore), BenchError> {
    let store = FsObjectStore::open(dir.join("store"), LOCAL_BUCKET)
        .await
        .map_err(fail("open store"))?;
    let repository = SqliteRepository::open(dir.join("intake.db")).map_err(fail("open db"))?;
    let intake = Intake::builder()
        .store(store.clone())
        .signer(MemoryUrlSigner::new(
            "http://bench.invalid",
            LOCAL_BUCKET,
            b"bench-secret-bench-secret-bench!",
        ))
        .ocr(scripted_engine())
        .repository(repository)
        .config(
            IntakeConfig::default()
                .with_max_upload_bytes(4 << 30)
                .with_max_pixels(1 << 40),
        )
        .build()
        .map_err(fail("compose"))?;
    Ok((intake, store))
}

/// The owner of the images the benchmarks create in process.
pub(crate) fn bench_owner() -> intake_domain::model::Owner {
    intake_domain::model::Owner::parse("bench").unwrap_or_else(|_| unreachable!("a valid owner"))
}

/// Issues an upload for a PNG of `size` bytes and streams `file` into the store under its key.
pub(crate) async fn stage(
    intake: &Intake,
    store: &FsObjectStore,
    file: &Path,
    size: u64,
) -> Result<ObjectKey, BenchError> {
    let request = UploadRequest::named("big.png", intake_domain::model::ContentType::Png)
        .map_err(fail("file name"))?
        .with_size(size);
    let ticket = intake
        .request_upload(&bench_owner(), request)
        .await
        .map_err(fail("request upload"))?;
    let reader = tokio::fs::File::open(file).await.map_err(fail("open"))?;
    store
        .put_stream(
            &ticket.object_key,
            "image/png",
            PutChecks::default(),
            tokio_util::io::ReaderStream::with_capacity(reader, 1 << 20),
        )
        .await
        .map_err(fail("stage object"))?;
    Ok(ticket.object_key)
}

/// Processes `key` and checks it was processed (the scripted engine answers with no text).
pub(crate) async fn process(intake: &Intake, key: &ObjectKey) -> Result<(), BenchError> {
    let outcome = intake
        .process_object_created(&ObjectCreated::new(intake.bucket(), key.clone()))
        .await
        .map_err(fail("process"))?;
    match outcome {
        ProcessOutcome::Processed(_) => Ok(()),
        other => Err(BenchError::Failed(format!(
            "expected the object to be processed, got {other:?}"
        ))),
    }
}

/// This process's peak resident set, in KiB (`VmHWM`).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    rss_field("VmHWM:")
}

/// This process's resident set now, in KiB (`VmRSS`).
pub(crate) fn rss_kib() -> Option<u64> {
    rss_field("VmRSS:")
}

fn rss_field(name: &str) -> Option<u64> {
    status_field(std::path::Path::new("/proc/self/status"), name)
}

/// A field of a `/proc/PID/status` file, in KiB.
pub(crate) fn status_field(status: &std::path::Path, name: &str) -> Option<u64> {
    std::fs::read_to_string(status)
        .ok()?
        .lines()
        .find(|l| l.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs a command and returns its wall time.
pub(crate) async fn time_command(
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<Duration, BenchError> {
    let start = Instant::now();
    let status = tokio::process::Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .map_err(fail(program))?;
    if !status.success() {
        return Err(BenchError::Failed(format!("{program} failed: {status}")));
    }
    Ok(start.elapsed())
}
