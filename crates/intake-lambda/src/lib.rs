//! # intake-lambda
//!
//! Intake's two Lambda functions, thin by design: they parse, compose and call a service.
//! - `api`: builds the AWS adapters once per cold start and serves the shared router
//!   ([`intake_http::app`]) with `lambda_http`, so the API on Lambda is the one tested in-process;
//!   callers are who the API Gateway authorizer says ([`AuthorizerAuth`]).
//! - `processor`: handles S3 `ObjectCreated` notifications delivered directly or wrapped in SQS
//!   messages (with partial batch failure reporting), see [`processor::handle`].
//!
//! Logs are JSON lines (`tracing`) for CloudWatch, one span per request or record.

pub mod emf;
pub mod events;
pub mod identity;
pub mod processor;

pub use identity::AuthorizerAuth;
pub use processor::BatchOptions;

use intake_settings::table;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use intake_aws::{AwsAdapters, AwsSettings, EngineChoice, MissingEngine};
use intake_domain::Intake;
use intake_domain::ports::{DocumentReader, OcrEngine};
use intake_domain::services::{BuildError, ObservedOcr};
use intake_ocr_onnx::{LoadError, ModelTier, PpOcr, PpOcrOptions};
use intake_pdf::{PdfOptions, PdfReader};
use intake_settings::{SettingError, read_setting};

/// Where the template's OCR models layer puts the PP-OCR models (layers are extracted under `/opt`).
pub const LAYER_MODELS_DIR: &str = "/opt/intake-models";

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A setting is missing or invalid.
    #[error("invalid settings: {0}")]
    Settings(#[from] intake_aws::SettingsError),
    /// The services could not be composed.
    #[error("cannot compose the services: {0}")]
    Build(#[from] BuildError),
    /// The in-function OCR engine was chosen but not built.
    #[error(transparent)]
    Engine(#[from] MissingEngine),
    /// Loading the PP-OCR engine did not finish (its thread panicked or was cancelled).
    #[error("loading the PP-OCR engine did not finish")]
    Task(#[source] tokio::task::JoinError),
    /// The PP-OCR models or ONNX Runtime could not be loaded (is the OCR models layer attached?).
    #[error("cannot load the PP-OCR engine: {0}")]
    Ocr(#[from] LoadError),
    /// The function's own executable, which runs the PDF reader's workers, cannot be found.
    #[error("cannot find the function's executable for the PDF worker: {0}")]
    PdfWorker(#[source] std::io::Error),
}

/// What runs in the function itself.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct InFunction {
    /// The in-function OCR engine (PP-OCR from the models layer), when the settings choose it.
    pub engine: Option<Arc<dyn OcrEngine>>,
    /// The reader of documents (PDFium from the same layer), beside the in-function engine.
    pub documents: Option<Arc<dyn DocumentReader>>,
}

/// The processor's argument that makes it the PDF reader's worker (`PROGRAM pdf-worker`, what
/// [`PdfOptions::this_program`] starts): runs the worker and returns its exit code, or `None` for
/// any other start. Both functions call it first thing, before any runtime starts.
pub fn pdf_worker() -> Option<std::process::ExitCode> {
    std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == intake_pdf::WORKER_ARG)
        .then(intake_pdf::serve)
}

/// Reads the settings from the environment, builds the AWS adapters and composes the services.
///
/// # Errors
/// [`StartError`] naming the setting or configuration at fault.
pub async fn compose() -> Result<Intake, StartError> {
    Ok(compose_adapters(false).await?.0)
}

/// As [`compose`], with the processor's batch options from the environment ([`batch_options`]),
/// putting off retries on SQS.
///
/// # Errors
/// [`StartError`] naming the setting or configuration at fault.
pub async fn compose_processor() -> Result<(Intake, BatchOptions), StartError> {
    let (intake, adapters) = compose_adapters(true).await?;
    let lookup = |name: &str| std::env::var(name).ok();
    let publisher = adapters
        .publisher
        .clone()
        .map(|p| Arc::new(p) as Arc<dyn intake_domain::ports::EventPublisher>);
    let redelivery: Arc<dyn intake_aws::Redelivery> = Arc::new(adapters.redelivery);
    let retention = read_setting(&lookup, &table::RETENTION_DAYS, |v| {
        v.parse::<u64>()
            .map(|days| Duration::from_secs(days * 24 * 3600))
            .map_err(|_| "expected a whole number of days")
    })?;
    Ok((
        intake,
        batch_options(&lookup, Some(redelivery))?
            .with_retention(retention)
            .with_publisher(publisher),
    ))
}

/// How many messages of an SQS batch are processed at once: `INTAKE_BATCH_CONCURRENCY`, or one per
/// GiB of the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), between 1 and 10. The OCR calls
/// in flight are at most this times the event source's maximum concurrency.
///
/// # Errors
/// [`SettingError`] for a concurrency that is not a positive number.
pub fn batch_options(
    lookup: &dyn Fn(&str) -> Option<String>,
    redelivery: Option<Arc<dyn intake_aws::Redelivery>>,
) -> Result<BatchOptions, SettingError> {
    let concurrency = match read_setting(lookup, &table::BATCH_CONCURRENCY, |v| {
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err("expected a positive number"),
        }
    })? {
        Some(n) => n,
        None => function_memory_mib(lookup).map_or(1, |mb| mb.div_ceil(1024).clamp(1, 10)),
    };
    Ok(BatchOptions::new(concurrency, redelivery))
}

/// The adapters and the services over them; with `observe_ocr`, every OCR read's duration is logged
/// as an [`emf`] metric (the processor).
async fn compose_adapters(observe_ocr: bool) -> Result<(Intake, AwsAdapters), StartError> {
    let lookup = |name: &str| std::env::var(name).ok();
    let settings = AwsSettings::from_lookup(&lookup)?;
    let own = in_function(&settings, &lookup).await?;
    let mut adapters = AwsAdapters::load(&settings, own.engine, own.documents).await?;
    if observe_ocr {
        adapters.ocr = Arc::new(ObservedOcr::new(
            Arc::clone(&adapters.ocr),
            emf::ocr_observer(),
        ));
    }
    let intake = adapters.intake(
        &settings,
        intake_http::EVENT_LINKS,
        Some(Arc::new(intake_export::Renderer)),
    )?;
    Ok((intake, adapters))
}

/// Builds what runs in the function: PP-OCR when the settings choose it (`ppocr`, or `auto` with
/// the models layer attached), and beside it the PDF reader when the layer holds libpdfium
/// ([`pdf_options`]), so that the in-function engine reads PDFs as well. Both functions compose the
/// same way, so the API accepts PDFs exactly where the processor reads them (the API never starts
/// a worker: the reader's formats are all its composition asks of it).
///
/// # Errors
/// [`StartError`] for invalid settings, models that do not load, or an executable that cannot be
/// found.
pub async fn in_function(
    settings: &AwsSettings,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<InFunction, StartError> {
    let options = match settings.engine {
        EngineChoice::PpOcr => ppocr_options(lookup)?,
        // `auto` prefers PP-OCR when the models layer is attached; without it, Rekognition.
        EngineChoice::Auto => {
            let options = ppocr_options(lookup)?;
            if !options.models_dir.is_dir() {
                tracing::info!(models = %options.models_dir.display(), "no OCR models: auto starts with Rekognition");
                return Ok(InFunction::default());
            }
            options
        }
        _ => return Ok(InFunction::default()),
    };
    let documents = pdf_options(lookup, &options.models_dir)?
        .map(|pdf| Arc::new(PdfReader::new(pdf)) as Arc<dyn DocumentReader>);
    Ok(InFunction {
        engine: Some(load_ppocr(options).await?),
        documents,
    })
}

/// How long one image's OCR may take in a function unless `INTAKE_OCR_TIMEOUT_SECONDS` says
/// otherwise (see [`intake_aws::DEFAULT_OCR_TIME_LIMIT`]).
pub const DEFAULT_OCR_TIME_LIMIT: Duration = intake_aws::DEFAULT_OCR_TIME_LIMIT;

/// The least address space a PDF worker is given in a function: a page at the reader's largest
/// (36 million pixels) renders within 320 MiB with PDFium's worker (and not within 256 MiB), so
/// a smaller limit would turn the largest pages into failures.
pub const PDF_WORKER_MIN_BYTES: u64 = 512 << 20;

/// The most address space a PDF worker is given (the reader's own default).
pub const PDF_WORKER_MAX_BYTES: u64 = 3 << 30;

/// The PDF reader's workers in the function: this very executable started as `bootstrap
/// pdf-worker` (see [`pdf_worker`]), libpdfium from the models layer (`None` when the layer has
/// none: then PDFs are not accepted), and each worker's address space limited by
/// [`pdf_worker_memory`].
///
/// # Errors
/// [`StartError`] for an invalid batch concurrency, or when the executable cannot be found.
pub fn pdf_options(
    lookup: &dyn Fn(&str) -> Option<String>,
    models_dir: &std::path::Path,
) -> Result<Option<PdfOptions>, StartError> {
    let library = intake_pdf::library_path(models_dir);
    if !library.is_file() {
        tracing::info!(library = %library.display(), "no libpdfium in the models: PDFs are not read in the function");
        return Ok(None);
    }
    let options = PdfOptions::this_program(library).map_err(StartError::PdfWorker)?;
    Ok(Some(match pdf_worker_memory(lookup)? {
        Some(bytes) => options.with_memory_limit(bytes),
        None => options,
    }))
}

/// A PDF worker's address-space limit in a function of `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`: each
/// message of a batch in flight ([`batch_options`]: one per GiB by default) has an equal share of
/// the function's memory, and its PDF worker may take half of that share, the other half being
/// for the pages in flight in the function and their OCR; never less than
/// [`PDF_WORKER_MIN_BYTES`] nor more than [`PDF_WORKER_MAX_BYTES`]. An address-space limit
/// overstates what the worker holds (the executable and libraries are mapped whole), so the
/// worker stays well within it. `None` outside Lambda (the reader's default).
///
/// # Errors
/// [`SettingError`] for a batch concurrency that is not a positive number.
pub fn pdf_worker_memory(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<u64>, SettingError> {
    let Some(mib) = function_memory_mib(lookup) else {
        return Ok(None);
    };
    let in_flight = batch_options(lookup, None)?.concurrency as u64;
    let share = ((mib as u64) << 20) / (2 * in_flight.max(1));
    Ok(Some(
        share.clamp(PDF_WORKER_MIN_BYTES, PDF_WORKER_MAX_BYTES),
    ))
}

/// Loads PP-OCR off the async threads (reading, checking and preparing the models takes a moment).
async fn load_ppocr(options: PpOcrOptions) -> Result<Arc<dyn OcrEngine>, StartError> {
    let engine = tokio::task::spawn_blocking(move || PpOcr::load(&options))
        .await
        .map_err(StartError::Task)??;
    Ok(Arc::new(engine))
}

/// The function's memory in MiB, as Lambda sets `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (none outside Lambda).
fn function_memory_mib(lookup: &dyn Fn(&str) -> Option<String>) -> Option<usize> {
    lookup(table::FUNCTION_MEMORY.name).and_then(|mb| mb.trim().parse().ok())
}

/// The memory one PP-OCR worker may need on the largest page (a blank 9000 × 9000 page peaks at about
/// 1.2 GB with the tiny models: bench section 7), so a function runs one worker per this much memory.
pub const PPOCR_WORKER_MIB: usize = 1536;

/// PP-OCR's settings in a function: `INTAKE_OCR_MODEL` (`tiny`, the default, `balanced` or `small`),
/// `INTAKE_MODELS_DIR` (default [`LAYER_MODELS_DIR`]) and `INTAKE_OCR_TIMEOUT_SECONDS` (default
/// [`DEFAULT_OCR_TIME_LIMIT`]); one worker (one page at a time) per [`PPOCR_WORKER_MIB`] of the
/// function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), at least one and at most one per vCPU, so
/// that large pages read at once cannot exhaust the function's memory.
///
/// # Errors
/// [`SettingError`] for an unknown tier or a time limit that is not a positive number of seconds.
pub fn ppocr_options(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PpOcrOptions, SettingError> {
    let tier =
        read_setting(lookup, &table::OCR_MODEL, str::parse::<ModelTier>)?.unwrap_or_default();
    let dir = read_setting(lookup, &table::MODELS_DIR, |v| {
        Ok::<_, String>(PathBuf::from(v))
    })?
    .unwrap_or_else(|| PathBuf::from(LAYER_MODELS_DIR));
    let limit = read_setting(lookup, &table::OCR_TIMEOUT, intake_aws::parse_time_limit)?
        .unwrap_or(DEFAULT_OCR_TIME_LIMIT);
    let options = PpOcrOptions::default();
    let by_memory = function_memory_mib(lookup).map_or(1, |mb| (mb / PPOCR_WORKER_MIB).max(1));
    let workers = by_memory.min(options.workers);
    Ok(options
        .with_tier(tier)
        .with_models_dir(dir)
        .with_time_limit(limit)
        .with_workers(workers))
}

/// Removes the stage name that `lambda_http` puts in front of the path of API Gateway REST API (v1)
/// requests (`/prod/images` → `/images`), so the shared router's routes match whichever API type
/// invokes the function. Nothing changes for HTTP APIs (v2), or when
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set (then `lambda_http` adds no stage).
pub fn without_stage(mut request: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::RequestExt as _;
    use lambda_http::request::RequestContext;
    if std::env::var_os(table::IGNORE_STAGE_IN_PATH.name).is_some() {
        return request;
    }
    let Some(RequestContext::ApiGatewayV1(context)) = request.request_context_ref() else {
        return request;
    };
    let Some(prefix) = context.stage.as_ref().map(|stage| format!("/{stage}")) else {
        return request;
    };
    let path = request.uri().path();
    let Some(rest) = path
        .strip_prefix(&prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return request;
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = lambda_http::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// JSON logs for CloudWatch; the level comes from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{Layer as _, filter::Targets};

    let filter = std::env::var(table::RUST_LOG.name)
        .ok()
        .and_then(|levels| intake_settings::log_directives(&levels))
        .and_then(|levels| levels.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let _already_set = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .with_target(false)
                .with_filter(filter),
        )
        .try_init();
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn options(vars: &[(&str, &str)]) -> Result<PpOcrOptions, SettingError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        ppocr_options(&|k| map.get(k).map(|v| (*v).to_owned()))
    }

    #[test]
    fn a_batch_runs_one_message_per_gib_unless_told_otherwise() {
        let batch = |vars: &[(&str, &str)]| {
            let map: HashMap<&str, &str> = vars.iter().copied().collect();
            batch_options(&|k| map.get(k).map(|v| (*v).to_owned()), None)
        };
        assert_eq!(batch(&[]).unwrap().concurrency, 1);
        assert_eq!(
            batch(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")])
                .unwrap()
                .concurrency,
            2
        );
        assert_eq!(
            batch(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "10240")])
                .unwrap()
                .concurrency,
            10
        );
        assert_eq!(
            batch(&[
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048"),
                ("INTAKE_BATCH_CONCURRENCY", "4")
            ])
            .unwrap()
            .concurrency,
            4
        );
        let err = batch(&[("INTAKE_BATCH_CONCURRENCY", "0")]).unwrap_err();
        assert!(
            err.to_string().contains("INTAKE_BATCH_CONCURRENCY"),
            "{err}"
        );
    }

    #[test]
    fn a_pdf_worker_has_half_of_each_message_s_share_of_the_function_s_memory() {
        let memory = |vars: &[(&str, &str)]| {
            let map: HashMap<&str, &str> = vars.iter().copied().collect();
            pdf_worker_memory(&|k| map.get(k).map(|v| (*v).to_owned()))
        };
        assert_eq!(memory(&[]).unwrap(), None);
        // 2048 MB, two messages at once: 512 MiB each.
        let two_gib = [("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")];
        assert_eq!(memory(&two_gib).unwrap(), Some(512 << 20));
        // One message at a time on 4 GB: 2 GiB.
        let one_at_a_time = [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096"),
            ("INTAKE_BATCH_CONCURRENCY", "1"),
        ];
        assert_eq!(memory(&one_at_a_time).unwrap(), Some(2 << 30));
        // Never below what the largest page needs, never above the reader's default.
        let crowded = [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("INTAKE_BATCH_CONCURRENCY", "8"),
        ];
        assert_eq!(memory(&crowded).unwrap(), Some(PDF_WORKER_MIN_BYTES));
        let roomy = [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "10240"),
            ("INTAKE_BATCH_CONCURRENCY", "1"),
        ];
        assert_eq!(memory(&roomy).unwrap(), Some(PDF_WORKER_MAX_BYTES));
        assert!(
            memory(&[
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048"),
                ("INTAKE_BATCH_CONCURRENCY", "0")
            ])
            .is_err()
        );
    }

    #[test]
    fn without_libpdfium_in_the_models_pdfs_are_not_read() {
        let dir = std::env::temp_dir().join(format!("intake-no-pdfium-{}", std::process::id()));
        assert_eq!(
            pdf_options(&|_| None, &dir).unwrap().map(|o| o.library),
            None
        );
    }

    #[test]
    fn ppocr_reads_its_models_from_the_layer_unless_told_otherwise() {
        let default = options(&[]).unwrap();
        assert_eq!(default.models_dir, PathBuf::from(LAYER_MODELS_DIR));
        assert_eq!(default.tier, ModelTier::Tiny);
        let custom = options(&[
            ("INTAKE_OCR_MODEL", "small"),
            ("INTAKE_MODELS_DIR", "/var/models"),
        ])
        .unwrap();
        assert_eq!(
            (custom.tier, custom.models_dir),
            (ModelTier::Small, PathBuf::from("/var/models"))
        );
        assert_eq!(
            options(&[("INTAKE_OCR_MODEL", "balanced")]).unwrap().tier,
            ModelTier::Balanced
        );
        let err = options(&[("INTAKE_OCR_MODEL", "huge")]).unwrap_err();
        assert!(err.to_string().contains("INTAKE_OCR_MODEL"), "{err}");
        assert_eq!(default.time_limit, DEFAULT_OCR_TIME_LIMIT);
        // One worker per 1.5 GiB of the function's memory, never more than the cores.
        assert_eq!(default.workers, 1);
        let two_gib = options(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")]).unwrap();
        assert_eq!(two_gib.workers, 1);
        let large = options(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "10240")]).unwrap();
        assert_eq!(
            large.workers,
            6.min(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        );
        let limited = options(&[("INTAKE_OCR_TIMEOUT_SECONDS", "30")]).unwrap();
        assert_eq!(limited.time_limit, Duration::from_secs(30));
        for bad in ["0", "-5", "soon"] {
            let err = options(&[("INTAKE_OCR_TIMEOUT_SECONDS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("INTAKE_OCR_TIMEOUT_SECONDS"),
                "{err}"
            );
        }
    }
}
