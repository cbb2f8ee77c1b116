//! The `OcrEngine` contract: capabilities and the shape of results.

use crate::model::{ContentType, OcrResult};
use crate::ports::{OcrEngine, OcrInput, PortError};

/// An input with what the engine should find in it.
#[derive(Clone, Debug)]
pub struct Sample {
    /// What to recognise.
    pub input: OcrInput,
    /// Words that must appear in the text (case-insensitive); empty when the engine is not expected to
    /// read anything in particular.
    pub expect_words: Vec<String>,
}

impl Sample {
    /// A sample expecting `words`.
    pub fn new(input: OcrInput, expect_words: &[&str]) -> Self {
        Self {
            input,
            expect_words: expect_words.iter().map(|w| (*w).to_owned()).collect(),
        }
    }
}

/// Runs every check: declared capabilities, then each sample (result invariants and expected words),
/// then each input the engine must refuse permanently.
pub async fn run_suite(engine: &dyn OcrEngine, samples: &[Sample], refused: &[OcrInput]) {
    capabilities_are_sound(engine);
    for sample in samples {
        let result = engine
            .detect(&sample.input)
            .await
            .unwrap_or_else(|e| panic!("OCR of a valid sample failed: {e}"));
        assert_result_invariants(&result);
        let text = result.text().to_lowercase();
        for word in &sample.expect_words {
            assert!(
                text.contains(&word.to_lowercase()),
                "expected {word:?} in the OCR text {text:?}"
            );
        }
    }
    for input in refused {
        match engine.detect(input).await {
            Err(e) => assert!(
                !e.is_retryable(),
                "an unreadable image gave a retryable error: {e}"
            ),
            Ok(r) => panic!("an unreadable image was recognised: {r:?}"),
        }
    }
}

/// PNG and JPEG are accepted, limits are positive, the name is set.
pub fn capabilities_are_sound(engine: &dyn OcrEngine) {
    let caps = engine.capabilities();
    assert!(!caps.engine.trim().is_empty(), "engine without a name");
    for universal in ContentType::UNIVERSAL {
        assert!(
            caps.formats.contains(&universal),
            "engine {} does not accept {universal}",
            caps.engine
        );
    }
    assert!(caps.max_bytes > 0, "max_bytes is zero");
    assert!(caps.min_dimension_px >= 1, "min dimension is zero");
    assert!(
        caps.max_dimension_px
            .is_none_or(|max| max >= caps.min_dimension_px)
    );
}

/// The invariants every result satisfies, whatever the engine.
pub fn assert_result_invariants(result: &OcrResult) {
    assert!(
        !result.engine().trim().is_empty(),
        "result without an engine name"
    );
    // The text is the lines in order, page by page, a form feed where each page ends.
    let mut joined = String::new();
    for (i, line) in result.lines().iter().enumerate() {
        if let Some(before) = i.checked_sub(1).and_then(|b| result.lines().get(b)) {
            assert!(
                before.page() <= line.page(),
                "lines out of page order: page {} after page {}",
                line.page(),
                before.page()
            );
            joined.push('\n');
            for _ in before.page().get()..line.page().get() {
                joined.push('\u{c}');
            }
        }
        joined.push_str(line.text());
    }
    assert_eq!(result.text(), joined);
    assert_eq!(result.line_count() as usize, result.lines().len());
    // Reported pages come in order, once each, and every line is on one of them.
    let pages: Vec<u32> = result.pages().iter().map(|p| p.page().get()).collect();
    assert!(
        pages.windows(2).all(|w| w[0] < w[1]),
        "pages out of order: {pages:?}"
    );
    if !pages.is_empty() {
        for line in result.lines() {
            assert!(
                pages.contains(&line.page().get()),
                "a line on page {}, which the engine did not report",
                line.page()
            );
        }
        for page in result.pages() {
            assert!(
                page.size().is_none_or(|(w, h)| w > 0 && h > 0),
                "an empty page"
            );
        }
    }
    for line in result.lines() {
        assert!(
            (0.0..=100.0).contains(&line.confidence()),
            "line confidence {}",
            line.confidence()
        );
        let b = line.bounding_box();
        for v in [
            b.left(),
            b.top(),
            b.width(),
            b.height(),
            b.left() + b.width(),
            b.top() + b.height(),
        ] {
            assert!(
                (0.0..=1.0001).contains(&v),
                "line box outside the image: {b:?}"
            );
        }
        for word in line.words() {
            assert!(
                (0.0..=100.0).contains(&word.confidence()),
                "word confidence {}",
                word.confidence()
            );
            assert!(!word.text().is_empty(), "empty word in {:?}", line.text());
        }
    }
    if let Some(avg) = result.avg_confidence_pct() {
        assert!((0.0..=100.0).contains(&avg), "average confidence {avg}");
    } else {
        assert_eq!(result.word_count(), 0);
    }
}
