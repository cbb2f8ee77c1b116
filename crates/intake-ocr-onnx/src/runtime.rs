//! ONNX Runtime, loaded from its shared library (the `libonnxruntime.so` of the pinned PyPI wheel,
//! installed beside the models), and one model session. The only module that sees `ort` types.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights};
use ort::value::Tensor;

/// A failure inside ONNX Runtime.
#[derive(Debug, thiserror::Error)]
#[error("ONNX Runtime: {message}")]
pub struct RuntimeError {
    message: String,
}

impl RuntimeError {
    /// An error with this message.
    pub(crate) fn from_message(message: &str) -> Self {
        Self {
            message: message.to_owned(),
        }
    }

    fn new(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
        }
    }
}

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// The process's ONNX Runtime environment, loading the library at `library` the first time (a process
/// loads one ONNX Runtime; later calls share it whatever path they name).
///
/// # Errors
/// When the library cannot be loaded, is not a compatible ONNX Runtime, or the environment cannot be
/// created.
pub(crate) fn environment(library: &Path) -> Result<&'static Environment, RuntimeError> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let _guard = INIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let env = ort::init_from(library)
        .map_err(RuntimeError::new)?
        .with_name("intake")
        .with_telemetry(false)
        .build()
        .map_err(RuntimeError::new)?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}

/// Weights that sessions of the same model share once prepacked (ONNX Runtime's prepacked-weights
/// container), so that a pool of sessions holds the packed weights once.
#[derive(Clone)]
pub(crate) struct SharedWeights(PrepackedWeights);

impl std::fmt::Debug for SharedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedWeights")
    }
}

impl SharedWeights {
    /// An empty container.
    pub(crate) fn new() -> Self {
        Self(PrepackedWeights::new())
    }
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One model, ready to run on one thread.
pub(crate) struct Net {
    name: &'static str,
    session: Session,
}

impl Net {
    /// A session of the model in `bytes`, running on `threads` threads of its own.
    ///
    /// # Errors
    /// When ONNX Runtime refuses the model or the options.
    pub(crate) fn new(
        env: &Environment,
        name: &'static str,
        bytes: &[u8],
        threads: usize,
        weights: &SharedWeights,
    ) -> Result<Self, RuntimeError> {
        let session = Session::builder(env)
            .map_err(RuntimeError::new)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(RuntimeError::new)?
            .with_intra_threads(threads.max(1))
            .map_err(RuntimeError::new)?
            .with_inter_threads(1)
            .map_err(RuntimeError::new)?
            .with_intra_op_spinning(false)
            .map_err(RuntimeError::new)?
            .with_prepacked_weights(&weights.0)
            .map_err(RuntimeError::new)?
            .commit_from_memory(bytes)
            .map_err(RuntimeError::new)?;
        Ok(Self { name, session })
    }

    /// Runs the model on one `f32` input of `shape`; answers the first output's shape and values.
    ///
    /// # Errors
    /// When the input does not fit the model or inference fails.
    pub(crate) fn run(
        &mut self,
        shape: &[usize],
        input: Vec<f32>,
    ) -> Result<(Vec<usize>, Vec<f32>), RuntimeError> {
        let dims: Vec<i64> = shape
            .iter()
            .map(|&d| i64::try_from(d).unwrap_or(i64::MAX))
            .collect();
        let tensor = Tensor::from_array((dims, input)).map_err(RuntimeError::new)?;
        let outputs = self
            .session
            .run(ort::inputs![tensor])
            .map_err(|e| RuntimeError::new(format!("{}: {e}", self.name)))?;
        let Some((_, value)) = outputs.iter().next() else {
            return Err(RuntimeError::new(format!(
                "{}: the model gave no output",
                self.name
            )));
        };
        let (shape, data) = value
            .try_extract_tensor::<f32>()
            .map_err(RuntimeError::new)?;
        let shape = shape
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .collect();
        Ok((shape, data.to_vec()))
    }
}
