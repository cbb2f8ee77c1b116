use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::{
    BoundingBox, ContentType, FIRST_PAGE, ObjectKey, OcrLine, OcrPage, OcrResult, OcrResultError,
    OcrWord, PageSketch, PageSource, Sha256Digest,
};
use intake_domain::ports::{Failure, OcrCapabilities, OcrEngine, OcrError, OcrInput};

/// A scripted OCR engine: it reads nothing and answers what the test chose, by image content (SHA-256),
/// from a queue of one-shot answers, or with a default (no text, unless set). Every call is recorded.
#[derive(Debug, Clone)]
pub struct ScriptedOcr {
    capabilities: Arc<OcrCapabilities>,
    script: Arc<Mutex<Script>>,
}

#[derive(Debug)]
struct Script {
    by_sha256: HashMap<Sha256Digest, Scripted>,
    queue: VecDeque<Scripted>,
    default: Scripted,
    calls: Vec<OcrCall>,
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Scripted {
    /// Answer with this result.
    Text(OcrResult),
    /// Fail with this error.
    Fail(ScriptedError),
}

impl Scripted {
    /// This answer from an engine that saw the page's pixels as `sketch`: the result's first page
    /// carries the sketch's image hash (a page of unknown size is added to a result without pages),
    /// as a real engine's does, for near-duplicate detection. A failure stays as it is.
    #[must_use]
    pub fn with_sketch(self, sketch: &PageSketch) -> Self {
        let Self::Text(result) = self else {
            return self;
        };
        let hash = sketch.image_hash();
        let mut pages = result.pages().to_vec();
        match pages.first_mut() {
            Some(first) => *first = first.with_image_hash(hash),
            None => pages
                .push(OcrPage::of_unknown_size(FIRST_PAGE, PageSource::Ocr).with_image_hash(hash)),
        }
        Self::Text(result.with_pages(pages))
    }
}

/// The errors a script can produce (each maps to the [`OcrError`] of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptedError {
    /// Retryable.
    Throttled,
    /// Retryable.
    Unavailable,
    /// Retryable.
    Timeout,
    /// Permanent.
    InvalidImage,
    /// Permanent.
    UnsupportedFormat,
    /// Permanent.
    TooLarge,
}

impl ScriptedError {
    fn to_error(self, content_type: ContentType) -> OcrError {
        match self {
            Self::Throttled => {
                OcrError::from(Failure::throttled("the OCR service throttled the request"))
            }
            Self::Unavailable => OcrError::from(Failure::unavailable("scripted outage")),
            Self::Timeout => OcrError::Timeout,
            Self::InvalidImage => OcrError::InvalidImage {
                reason: "scripted: cannot decode".into(),
            },
            Self::UnsupportedFormat => OcrError::UnsupportedFormat { content_type },
            Self::TooLarge => OcrError::TooLarge {
                reason: "scripted limit".into(),
            },
        }
    }
}

/// A recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OcrCall {
    /// The SHA-256 of the image.
    pub sha256: Sha256Digest,
    /// The key, when the image was passed by reference.
    pub key: Option<ObjectKey>,
    /// The size of the bytes, when the image was passed as bytes.
    pub bytes_len: Option<usize>,
}

/// The engine name scripted results carry unless the test builds its own.
pub const SCRIPTED_ENGINE: &str = "scripted";

impl Default for ScriptedOcr {
    fn default() -> Self {
        Self::new(
            OcrCapabilities::new(
                SCRIPTED_ENGINE,
                ContentType::ALL.to_vec(),
                50 * 1024 * 1024,
                16,
            )
            .with_max_dimension(10_000)
            .reading_objects(),
        )
    }
}

impl ScriptedOcr {
    /// An engine declaring `capabilities`, answering "no text" until scripted.
    pub fn new(capabilities: OcrCapabilities) -> Self {
        let empty = OcrResult::new(capabilities.engine.clone(), Vec::new(), false)
            .or_else(|_| OcrResult::new(SCRIPTED_ENGINE, Vec::new(), false));
        let default = empty.map_or(Scripted::Fail(ScriptedError::InvalidImage), Scripted::Text);
        Self {
            capabilities: Arc::new(capabilities),
            script: Arc::new(Mutex::new(Script {
                by_sha256: HashMap::new(),
                queue: VecDeque::new(),
                default,
                calls: Vec::new(),
            })),
        }
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers `answer` whenever the image's bytes hash to `sha256`.
    pub fn respond_to(&self, sha256: Sha256Digest, answer: Scripted) {
        self.script().by_sha256.insert(sha256, answer);
    }

    /// Queues a one-shot answer; queued answers are used first, in order, whatever the image.
    pub fn then(&self, answer: Scripted) {
        self.script().queue.push_back(answer);
    }

    /// Answers `answer` for images nothing else matches.
    pub fn set_default(&self, answer: Scripted) {
        self.script().default = answer;
    }

    /// The engine name the capabilities declare.
    pub fn capabilities_name(&self) -> String {
        self.capabilities.engine.clone()
    }

    /// Whether nothing was scripted yet (no per-image answers, no queue, the default "no text").
    pub fn is_unscripted(&self) -> bool {
        let script = self.script();
        script.by_sha256.is_empty()
            && script.queue.is_empty()
            && matches!(&script.default, Scripted::Text(r) if r.lines().is_empty())
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<OcrCall> {
        self.script().calls.clone()
    }

    /// How many calls were made.
    pub fn call_count(&self) -> usize {
        self.script().calls.len()
    }

    /// A result with one line per entry of `lines`, words split on white space, laid out top to bottom,
    /// each word at `confidence`.
    ///
    /// # Errors
    /// [`OcrResultError`] for a blank engine name or a NaN confidence.
    #[allow(clippy::cast_precision_loss)]
    pub fn text(
        engine: &str,
        lines: &[&str],
        confidence: f32,
    ) -> Result<OcrResult, OcrResultError> {
        let rows = lines.len().max(1) as f32;
        let mut built = Vec::with_capacity(lines.len());
        for (row, line) in lines.iter().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let count = words.len().max(1) as f32;
            let top = row as f32 / rows;
            let mut ocr_words = Vec::with_capacity(words.len());
            for (col, word) in words.iter().enumerate() {
                let bbox = BoundingBox::new(col as f32 / count, top, 0.9 / count, 0.8 / rows)?;
                ocr_words.push(OcrWord::new(*word, confidence, bbox)?);
            }
            built.extend(OcrLine::from_words(ocr_words));
        }
        OcrResult::new(engine, built, false)
    }
}

#[async_trait]
impl OcrEngine for ScriptedOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let facts = input.facts();
        let answer = {
            let mut script = self.script();
            script.calls.push(OcrCall {
                sha256: facts.sha256,
                key: match input {
                    OcrInput::Object { key, .. } => Some(key.clone()),
                    _ => None,
                },
                bytes_len: match input {
                    OcrInput::Bytes { bytes, .. } => Some(bytes.len()),
                    _ => None,
                },
            });
            match script.queue.pop_front() {
                Some(answer) => answer,
                None => script
                    .by_sha256
                    .get(&facts.sha256)
                    .unwrap_or(&script.default)
                    .clone(),
            }
        };
        match answer {
            Scripted::Text(result) => Ok(result),
            Scripted::Fail(error) => Err(error.to_error(facts.content_type)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_sketch_gives_the_first_page_its_image_hash() {
        let sketch =
            PageSketch::from_samples(std::array::from_fn(|i| u8::try_from(i % 251).unwrap_or(0)));
        let text = ScriptedOcr::text(SCRIPTED_ENGINE, &["Total 12.00"], 95.0).expect("result");
        let Scripted::Text(read) = Scripted::Text(text).with_sketch(&sketch) else {
            panic!("a text answer stays one");
        };
        assert_eq!(read.pages().len(), 1);
        assert_eq!(read.pages()[0].image_hash(), Some(sketch.image_hash()));
        let failure = Scripted::Fail(ScriptedError::Timeout);
        assert_eq!(failure.clone().with_sketch(&sketch), failure);
    }
}
