use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::model::OcrResult;
use crate::ports::{OcrCapabilities, OcrEngine, OcrError, OcrInput};

/// Wraps any engine and counts the calls made to it, so scenario suites can assert "exactly one OCR
/// call" over real engines too.
#[derive(Debug, Clone)]
pub struct CountingOcr {
    inner: Arc<dyn OcrEngine>,
    calls: Arc<AtomicUsize>,
}

impl CountingOcr {
    /// Counts calls to `inner`.
    pub fn new(inner: Arc<dyn OcrEngine>) -> Self {
        Self {
            inner,
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Calls so far (shared by clones).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl OcrEngine for CountingOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        self.inner.capabilities()
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.detect(input).await
    }
}
