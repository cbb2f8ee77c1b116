//! The engine choice: which OCR engine reads the images ([`OcrChoice`]), and the engines a server
//! starts: the deployment's own, and beside it every other one that is installed, for reprocessing
//! runs that ask for it by name.

pub use intake_settings::UnknownEngine;
use intake_settings::{EngineName, OfferedEngines};
use std::path::Path;
use std::sync::Arc;

use intake_domain::ports::{Failure, OcrEngine, OcrError};
use intake_domain::services::{IntakeBuilder, ObservedOcr};
use intake_local::TesseractOcr;
use intake_ocr_onnx::{PpOcr, PpOcrOptions};

use super::data_dir::data_error;
use super::{ServeError, ServeOptions};
use crate::metrics::Metrics;

/// The OCR engine of the local server.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum OcrChoice {
    /// PP-OCRv6 on ONNX Runtime (`intake-ocr-onnx`): reads forms and receipts far better than
    /// Tesseract at about its speed (README, "OCR engines").
    #[default]
    PpOcr,
    /// The `tesseract` 5 CLI.
    Tesseract,
}

impl OcrChoice {
    /// Every engine the local server knows, in the order the others are offered beside the
    /// deployment's own.
    pub const ALL: [Self; 2] = [Self::PpOcr, Self::Tesseract];

    /// The engine's name for people (logs).
    const fn label(self) -> &'static str {
        match self {
            Self::PpOcr => "PP-OCR",
            Self::Tesseract => "Tesseract",
        }
    }
}

impl OfferedEngines for OcrChoice {
    const WHERE: &'static str = "on the local server";
    const OFFERED: &'static [Self] = &Self::ALL;

    fn name(self) -> EngineName {
        match self {
            Self::PpOcr => EngineName::PpOcr,
            Self::Tesseract => EngineName::Tesseract,
        }
    }
}

impl std::str::FromStr for OcrChoice {
    type Err = UnknownEngine;
    /// An engine's name ([`EngineName`]), of one the local server offers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_offered(s)
    }
}

/// The engines a server reads with, each observed by the metrics.
pub(super) struct Engines {
    /// The deployment's engine: it reads every image unless a reprocessing run names another.
    primary: Arc<dyn OcrEngine>,
    /// The other engines that are installed, any number of them, for reprocessing runs that ask
    /// for one by its name.
    alternatives: Vec<Arc<dyn OcrEngine>>,
}

impl Engines {
    /// `builder` reading with the deployment's engine, and with each alternative registered
    /// through [`IntakeBuilder::alternative_ocr`].
    pub(super) fn register(self, builder: IntakeBuilder) -> IntakeBuilder {
        self.alternatives.into_iter().fold(
            builder.shared_ocr(self.primary),
            IntakeBuilder::alternative_ocr,
        )
    }
}

/// The metrics (which label the deployment's engine) and the engines: the deployment's (which must
/// start) and every other one of [`OcrChoice::ALL`] that is installed (Tesseract beside PP-OCR,
/// PP-OCR beside Tesseract).
pub(super) async fn start_engines(
    options: &ServeOptions,
    dir: &Path,
) -> Result<(Arc<Metrics>, Engines), ServeError> {
    let ocr = start_ocr(options, dir).await?;
    let metrics = Arc::new(Metrics::new(&ocr.capabilities().engine));
    let observed = |engine: Arc<dyn OcrEngine>| -> Arc<dyn OcrEngine> {
        Arc::new(ObservedOcr::new(engine, metrics.ocr_observer()))
    };
    let primary = observed(ocr);
    let mut alternatives = Vec::new();
    for choice in OcrChoice::ALL {
        if choice != options.engine
            && let Some(engine) = start_alternative_ocr(choice, options, dir).await
        {
            alternatives.push(observed(engine));
        }
    }
    Ok((
        metrics,
        Engines {
            primary,
            alternatives,
        },
    ))
}

/// The OCR engine. PP-OCR loads and checks its models (on a blocking thread: reading and hashing them
/// and building the sessions takes a second); Tesseract writes images under `dir/ocr` (emptied of
/// whatever a crash left there: the lock says no other server uses it) and is checked if the options
/// ask for it.
async fn start_ocr(options: &ServeOptions, dir: &Path) -> Result<Arc<dyn OcrEngine>, ServeError> {
    let work = dir.join("ocr");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(data_error(&work))?;
    }
    match options.engine {
        OcrChoice::PpOcr => Ok(Arc::new(load_ppocr(&options.ppocr).await?)),
        OcrChoice::Tesseract => {
            std::fs::create_dir_all(&work).map_err(data_error(&work))?;
            let ocr = TesseractOcr::new(options.tesseract.clone().with_work_dir(work));
            if options.check_ocr {
                ocr.check().await.map_err(ServeError::Ocr)?;
            }
            Ok(Arc::new(ocr))
        }
    }
}

/// Another engine than the deployment's, for reprocessing runs that ask for it by name: Tesseract
/// when it is installed, PP-OCR when its models load. `None` (logged) when it is not there.
async fn start_alternative_ocr(
    choice: OcrChoice,
    options: &ServeOptions,
    dir: &Path,
) -> Option<Arc<dyn OcrEngine>> {
    let label = choice.label();
    match choice {
        OcrChoice::Tesseract => {
            let work = dir.join("ocr");
            std::fs::create_dir_all(&work).ok()?;
            let ocr = TesseractOcr::new(options.tesseract.clone().with_work_dir(work));
            match ocr.check().await {
                Ok(()) => Some(Arc::new(ocr)),
                Err(error) => {
                    tracing::info!(error = %intake_domain::error_chain(&error), "{label} is not installed: reprocessing does not offer it");
                    None
                }
            }
        }
        OcrChoice::PpOcr => {
            if let Ok(engine) = load_ppocr(&options.ppocr).await {
                Some(Arc::new(engine))
            } else {
                tracing::info!(
                    "the {label} models are not installed: reprocessing does not offer {label}"
                );
                None
            }
        }
    }
}

/// Loads PP-OCR on a blocking thread.
async fn load_ppocr(options: &PpOcrOptions) -> Result<PpOcr, ServeError> {
    let options = options.clone();
    tokio::task::spawn_blocking(move || PpOcr::load(&options))
        .await
        .map_err(|e| ServeError::Ocr(OcrError::from(Failure::other(e))))?
        .map_err(ServeError::Models)
}
