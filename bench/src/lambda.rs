//! Figure 5: Lambda cold init: from process start to the first request for the next event, against a minimal
//! Lambda Runtime API emulator on 127.0.0.1, for the release builds of both functions; their stripped
//! sizes; and, as the peer, the time of `python3 -c "import boto3"` (what a Python Lambda pays before
//! its first line), measured in the same run. The processor is also started with the PP-OCR engine
//! (`INTAKE_OCR_ENGINE=ppocr`): its init then includes reading, checking and preparing the models.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::routing::get;
use tokio::sync::mpsc;

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// Starts the emulator; each GET of the next invocation sends its arrival time and then never answers
/// (the function waits, as a real one waits for an event).
async fn emulator() -> Result<
    (
        String,
        mpsc::UnboundedReceiver<Instant>,
        tokio::task::JoinHandle<()>,
    ),
    BenchError,
> {
    let (arrivals, received) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail("bind"))?;
    let addr = listener.local_addr().map_err(fail("addr"))?.to_string();
    let router = axum::Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        get(move || {
            let _ = arrivals.send(Instant::now());
            std::future::pending::<&'static str>()
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((addr, received, server))
}

async fn cold_init(
    binary: &Path,
    name: &str,
    runs: usize,
    extra_env: &[(&str, &str)],
) -> Result<Duration, BenchError> {
    let (addr, mut arrivals, server) = emulator().await?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = tokio::process::Command::new(binary)
            .env_clear()
            .envs([
                ("AWS_LAMBDA_RUNTIME_API", addr.as_str()),
                ("AWS_LAMBDA_FUNCTION_NAME", name),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "bench"),
                ("AWS_SECRET_ACCESS_KEY", "bench"),
                ("INTAKE_BUCKET", "intake-bench"),
                ("INTAKE_TABLE", "intake-bench"),
            ])
            .envs(extra_env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(fail("start the function"))?;
        let arrived = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
            .await
            .map_err(|_| BenchError::Failed(format!("{name} never asked for an event")))?
            .ok_or_else(|| BenchError::Failed("emulator stopped".into()))?;
        times.push(arrived.duration_since(start));
        let _ = child.kill().await;
    }
    server.abort();
    Ok(median(&mut times))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Size after `strip`, in bytes.
async fn stripped_size(binary: &Path) -> Result<u64, BenchError> {
    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let out = dir.path().join("stripped");
    crate::support::time_command(
        "strip",
        &[
            "-o",
            out.to_str().unwrap_or_default(),
            binary.to_str().unwrap_or_default(),
        ],
        &[],
    )
    .await?;
    Ok(std::fs::metadata(&out).map_err(fail("stat"))?.len())
}

/// The Python with boto3: `INTAKE_BENCH_PYTHON` (the Makefile points it at the moto venv), else python3.
fn python() -> String {
    std::env::var("INTAKE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let runs = if plan.quick { 3 } else { 11 };
    let mut section = Section::new("5. Lambda cold init (release builds, Runtime API emulator)");
    println!("{}", section.title);
    let dir: PathBuf = std::env::current_exe()
        .map_err(fail("own path"))?
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| BenchError::Failed("no target directory".into()))?;
    let python = python();
    let mut boto3 = Vec::new();
    for _ in 0..runs {
        boto3.push(crate::support::time_command(&python, &["-c", "import boto3"], &[]).await.map_err(|e| {
            BenchError::Failed(format!("{e} (boto3 is needed: the Makefile uses the moto venv from scripts/backends.sh)"))
        })?);
    }
    let boto3 = median(&mut boto3);
    for name in ["processor", "api"] {
        let binary = dir.join(name);
        if !binary.exists() {
            return Err(BenchError::Failed(format!(
                "{} is missing: build it with `cargo build --release -p intake-lambda` (make bench does)",
                binary.display()
            )));
        }
        let init = cold_init(&binary, name, runs, &[]).await?;
        let ratio = boto3.as_secs_f64() / init.as_secs_f64();
        section.figure(Figure {
            name: format!("{name}: start → first /next request (median of {runs})"),
            ours: format!("{:.1} ms", init.as_secs_f64() * 1e3),
            reference_name: "python3 -c 'import boto3'".into(),
            reference: format!("{:.1} ms", boto3.as_secs_f64() * 1e3),
            ratio,
            target: "< 50 ms".into(),
            met: Some(init < Duration::from_millis(50)),
        });
        let size = std::fs::metadata(&binary).map_err(fail("stat"))?.len();
        let stripped = stripped_size(&binary).await?;
        section.note(format!(
            "`{name}` binary (x86_64, this machine's release profile): {:.1} MiB as built, {:.1} MiB stripped.",
            size as f64 / 1_048_576.0,
            stripped as f64 / 1_048_576.0
        ));
    }
    let models = intake_ocr_onnx::default_models_dir();
    let models = models.to_string_lossy();
    let ppocr_env = [
        ("INTAKE_OCR_ENGINE", "ppocr"),
        ("INTAKE_MODELS_DIR", models.as_ref()),
    ];
    let init = cold_init(&dir.join("processor"), "processor", runs, &ppocr_env).await?;
    section.figure(Figure {
        name: format!("processor with PP-OCR tiny: start → first /next (median of {runs})"),
        ours: format!("{:.1} ms", init.as_secs_f64() * 1e3),
        reference_name: "python3 -c 'import boto3'".into(),
        reference: format!("{:.1} ms", boto3.as_secs_f64() * 1e3),
        ratio: boto3.as_secs_f64() / init.as_secs_f64(),
        target: "context".into(),
        met: None,
    });
    section.note(
        "With PP-OCR the processor's init also loads ONNX Runtime from the models directory (the OCR models \
         layer on Lambda), checks every model file's SHA-256 and builds one session set per core."
            .to_owned(),
    );
    section.note(
        "Init covers the Rust runtime, tracing, reading the settings and building the AWS SDK clients (no \
         network: static credentials), then the first poll of the Runtime API. The ratio is how many times \
         faster than importing boto3 alone."
            .to_owned(),
    );
    Ok(section)
}
