//! An OCR engine whose reads are timed for the entry point's metrics.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::model::OcrResult;
use crate::ports::{OcrCapabilities, OcrEngine, OcrError, OcrInput};

/// Receives each read's engine name and duration (Prometheus histograms locally, CloudWatch Embedded
/// Metric Format lines on Lambda): the domain knows no metrics library.
pub type OcrObserver = Arc<dyn Fn(&str, Duration) + Send + Sync>;

/// `inner`, with every read's duration handed to an [`OcrObserver`] (a failed read too: it took the
/// time).
#[derive(Clone)]
pub struct ObservedOcr {
    inner: Arc<dyn OcrEngine>,
    observe: OcrObserver,
}

impl ObservedOcr {
    /// `inner`, observed by `observe`.
    pub fn new(inner: Arc<dyn OcrEngine>, observe: OcrObserver) -> Self {
        Self { inner, observe }
    }
}

impl fmt::Debug for ObservedOcr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObservedOcr")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl OcrEngine for ObservedOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        self.inner.capabilities()
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let started = Instant::now();
        let result = self.inner.detect(input).await;
        (self.observe)(&self.inner.capabilities().engine, started.elapsed());
        result
    }
}
