use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{ContentType, OcrResult};
use crate::ports::{OcrCapabilities, OcrEngine, OcrError, OcrInput, PortError};

/// The `auto` engine policy: ask the primary engine (fast, cheap, but limited, like Rekognition's 100
/// words) and escalate to the fallback (a document engine such as Textract) when the primary's result is
/// truncated, or when the image is one only the fallback accepts. The record's `ocrEngine` names the
/// engine whose text was kept.
///
/// If the fallback fails permanently after a truncated primary result, the truncated result is kept
/// (still marked truncated); a retryable fallback failure is returned so the image is retried.
#[derive(Debug, Clone)]
pub struct EscalatingOcr {
    primary: Arc<dyn OcrEngine>,
    fallback: Arc<dyn OcrEngine>,
    capabilities: OcrCapabilities,
}

impl EscalatingOcr {
    /// Combines two engines.
    pub fn new(primary: Arc<dyn OcrEngine>, fallback: Arc<dyn OcrEngine>) -> Self {
        let (p, f) = (primary.capabilities(), fallback.capabilities());
        let formats: Vec<ContentType> = ContentType::ALL
            .into_iter()
            .filter(|t| p.formats.contains(t) || f.formats.contains(t))
            .collect();
        let mut capabilities = OcrCapabilities::new(
            format!("auto({}>{})", p.engine, f.engine),
            formats,
            p.max_bytes.max(f.max_bytes),
            p.min_dimension_px.min(f.min_dimension_px),
        );
        capabilities.max_dimension_px = match (p.max_dimension_px, f.max_dimension_px) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        capabilities.reads_objects = p.reads_objects && f.reads_objects;
        // Fragments left as they are read worse than lines arranged again.
        capabilities.reports_fragments = p.reports_fragments || f.reports_fragments;
        Self {
            primary,
            fallback,
            capabilities,
        }
    }
}

#[async_trait]
impl OcrEngine for EscalatingOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let facts = input.facts();
        let fallback_fits = self.fallback.capabilities().accepts(facts);
        if !self.primary.capabilities().accepts(facts) {
            if fallback_fits {
                return self.fallback.detect(input).await;
            }
            return Err(OcrError::UnsupportedFormat {
                content_type: facts.content_type,
            });
        }
        let first = self.primary.detect(input).await?;
        if !first.truncated() || !fallback_fits {
            return Ok(first);
        }
        match self.fallback.detect(input).await {
            Ok(second) => Ok(second),
            Err(error) if error.is_retryable() => Err(error),
            Err(_) => Ok(first),
        }
    }
}
