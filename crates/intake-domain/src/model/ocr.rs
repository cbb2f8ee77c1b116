use serde::{Deserialize, Serialize};

use super::page::{FIRST_PAGE, OcrPage, PageNumber, mean_confidence};

/// An axis-aligned box in coordinates relative to the image: every value in `0..=1`, with `left` and
/// `top` measured from the top-left corner.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawBox")]
pub struct BoundingBox {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBox {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

impl TryFrom<RawBox> for BoundingBox {
    type Error = OcrResultError;
    fn try_from(raw: RawBox) -> Result<Self, Self::Error> {
        Self::new(raw.left, raw.top, raw.width, raw.height)
    }
}

/// Why OCR output could not be turned into an [`OcrResult`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcrResultError {
    /// A coordinate or confidence is NaN or infinite.
    #[error("OCR value is not a finite number")]
    NotFinite,
    /// The engine name is empty.
    #[error("OCR engine name is empty")]
    EmptyEngine,
}

fn finite(v: f32) -> Result<f32, OcrResultError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(OcrResultError::NotFinite)
    }
}

impl BoundingBox {
    /// Builds a box, clamping it into the image (engines report boxes that overhang the edge by a
    /// fraction of a pixel).
    ///
    /// # Errors
    /// [`OcrResultError::NotFinite`] for NaN or infinite values.
    pub fn new(left: f32, top: f32, width: f32, height: f32) -> Result<Self, OcrResultError> {
        let left = finite(left)?.clamp(0.0, 1.0);
        let top = finite(top)?.clamp(0.0, 1.0);
        let width = finite(width)?.clamp(0.0, 1.0 - left);
        let height = finite(height)?.clamp(0.0, 1.0 - top);
        Ok(Self {
            left,
            top,
            width,
            height,
        })
    }

    /// Builds a box from pixel coordinates in an image of `image_width` × `image_height` pixels.
    ///
    /// # Errors
    /// [`OcrResultError::NotFinite`] when the image has no area.
    #[allow(clippy::cast_precision_loss)]
    pub fn from_pixels(
        left: u32,
        top: u32,
        width: u32,
        height: u32,
        image_width: u32,
        image_height: u32,
    ) -> Result<Self, OcrResultError> {
        if image_width == 0 || image_height == 0 {
            return Err(OcrResultError::NotFinite);
        }
        let (iw, ih) = (image_width as f32, image_height as f32);
        Self::new(
            left as f32 / iw,
            top as f32 / ih,
            width as f32 / iw,
            height as f32 / ih,
        )
    }

    /// Distance of the left edge from the image's left edge.
    pub fn left(&self) -> f32 {
        self.left
    }
    /// Distance of the top edge from the image's top edge.
    pub fn top(&self) -> f32 {
        self.top
    }
    /// Width relative to the image width.
    pub fn width(&self) -> f32 {
        self.width
    }
    /// Height relative to the image height.
    pub fn height(&self) -> f32 {
        self.height
    }

    /// The smallest box containing both.
    #[must_use]
    pub fn union(&self, other: &Self) -> Self {
        let left = self.left.min(other.left);
        let top = self.top.min(other.top);
        let right = (self.left + self.width).max(other.left + other.width);
        let bottom = (self.top + self.height).max(other.top + other.height);
        Self {
            left,
            top,
            width: (right - left).clamp(0.0, 1.0 - left),
            height: (bottom - top).clamp(0.0, 1.0 - top),
        }
    }
}

/// A recognised word: its text, the engine's confidence in percent (`0..=100`) and where it is.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcrWord {
    text: String,
    confidence: f32,
    bounding_box: BoundingBox,
}

impl OcrWord {
    /// Builds a word; the confidence is clamped to `0..=100`.
    ///
    /// # Errors
    /// [`OcrResultError::NotFinite`] for a NaN or infinite confidence.
    pub fn new(
        text: impl Into<String>,
        confidence: f32,
        bounding_box: BoundingBox,
    ) -> Result<Self, OcrResultError> {
        Ok(Self {
            text: text.into(),
            confidence: finite(confidence)?.clamp(0.0, 100.0),
            bounding_box,
        })
    }
    /// The word's text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Confidence in percent.
    pub fn confidence(&self) -> f32 {
        self.confidence
    }
    /// Where the word is.
    pub fn bounding_box(&self) -> &BoundingBox {
        &self.bounding_box
    }
}

/// A recognised line with its words, on its page (its box and its words' boxes are relative to
/// that page).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcrLine {
    text: String,
    confidence: f32,
    bounding_box: BoundingBox,
    #[serde(default)]
    words: Vec<OcrWord>,
    /// Lines stored before pages existed were all on the first page.
    #[serde(default = "first_page")]
    page: PageNumber,
}

fn first_page() -> PageNumber {
    FIRST_PAGE
}

impl OcrLine {
    /// Builds a line as the engine reported it; the confidence is clamped to `0..=100`.
    ///
    /// # Errors
    /// [`OcrResultError::NotFinite`] for a NaN or infinite confidence.
    pub fn new(
        text: impl Into<String>,
        confidence: f32,
        bounding_box: BoundingBox,
        words: Vec<OcrWord>,
    ) -> Result<Self, OcrResultError> {
        Ok(Self {
            text: text.into(),
            confidence: finite(confidence)?.clamp(0.0, 100.0),
            bounding_box,
            words,
            page: FIRST_PAGE,
        })
    }

    /// The same line on `page` (a line is on the first page unless said otherwise).
    #[must_use]
    pub fn on_page(mut self, page: PageNumber) -> Self {
        self.page = page;
        self
    }

    /// Builds a line from its words, for engines that report only words: the text is the words joined
    /// by a space, the confidence their mean, the box their union. `None` for no words.
    pub fn from_words(words: Vec<OcrWord>) -> Option<Self> {
        let first = words.first()?;
        let bounding_box = words
            .iter()
            .skip(1)
            .fold(first.bounding_box, |acc, w| acc.union(&w.bounding_box));
        let text = words
            .iter()
            .map(OcrWord::text)
            .collect::<Vec<_>>()
            .join(" ");
        #[allow(clippy::cast_precision_loss)]
        let confidence = words.iter().map(|w| w.confidence).sum::<f32>() / words.len() as f32;
        Some(Self {
            text,
            confidence,
            bounding_box,
            words,
            page: FIRST_PAGE,
        })
    }

    /// One visual line from fragments of it, given left to right (see [`super::layout`]): the text
    /// is theirs joined by a space, the words theirs in order, the box their union, the confidence
    /// their mean weighted by words (a fragment without words weighs as one). On the first
    /// fragment's page; `None` for no fragments.
    pub(crate) fn joined(parts: &[&Self]) -> Option<Self> {
        let (first, rest) = parts.split_first()?;
        if rest.is_empty() {
            return Some((*first).clone());
        }
        let bounding_box = rest
            .iter()
            .fold(first.bounding_box, |acc, l| acc.union(&l.bounding_box));
        let text = parts
            .iter()
            .map(|l| l.text.as_str())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let words: Vec<OcrWord> = parts.iter().flat_map(|l| l.words.iter().cloned()).collect();
        #[allow(clippy::cast_precision_loss)]
        let (sum, weight) = parts.iter().fold((0.0_f32, 0.0_f32), |(sum, weight), l| {
            let w = l.words.len().max(1) as f32;
            (sum + l.confidence * w, weight + w)
        });
        Some(Self {
            text,
            confidence: (sum / weight).clamp(0.0, 100.0),
            bounding_box,
            words,
            page: first.page,
        })
    }

    /// The line's text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Confidence in percent.
    pub fn confidence(&self) -> f32 {
        self.confidence
    }
    /// Where the line is.
    pub fn bounding_box(&self) -> &BoundingBox {
        &self.bounding_box
    }
    /// The words of the line, in reading order.
    pub fn words(&self) -> &[OcrWord] {
        &self.words
    }
    /// The page the line is on, from 1.
    pub fn page(&self) -> PageNumber {
        self.page
    }
}

/// What an OCR engine found in one image.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcrResult {
    engine: String,
    lines: Vec<OcrLine>,
    truncated: bool,
    /// The pages the engine read; none from an engine that reads one image whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pages: Vec<OcrPage>,
}

impl OcrResult {
    /// Builds a result. `truncated` says the engine stopped at a limit (Rekognition's 100 words), so the
    /// text may be incomplete.
    ///
    /// # Errors
    /// [`OcrResultError::EmptyEngine`] when `engine` is blank.
    pub fn new(
        engine: impl Into<String>,
        lines: Vec<OcrLine>,
        truncated: bool,
    ) -> Result<Self, OcrResultError> {
        let engine = engine.into();
        if engine.trim().is_empty() {
            return Err(OcrResultError::EmptyEngine);
        }
        Ok(Self {
            engine,
            lines,
            truncated,
            pages: Vec::new(),
        })
    }

    /// The same result with the pages the engine read (each line names its own page).
    #[must_use]
    pub fn with_pages(mut self, pages: Vec<OcrPage>) -> Self {
        self.pages = pages;
        self
    }

    /// The same result with its lines replaced (the layout rule's arrangement of them).
    #[must_use]
    pub(crate) fn with_lines(mut self, lines: Vec<OcrLine>) -> Self {
        self.lines = lines;
        self
    }

    /// The engine that produced the result (`rekognition`, `textract`, `tesseract`, ...).
    pub fn engine(&self) -> &str {
        &self.engine
    }
    /// The lines, in reading order, page by page.
    pub fn lines(&self) -> &[OcrLine] {
        &self.lines
    }
    /// The pages the engine read, when it reports them (see [`OcrResult::page_summaries`]).
    pub fn pages(&self) -> &[OcrPage] {
        &self.pages
    }
    /// Whether the engine stopped at a limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The text: the lines joined by `\n`, and a form feed (`\f`) where a page ends, as `pdftotext`
    /// writes it (one per page passed, so a page where nothing was read still counts).
    pub fn text(&self) -> String {
        let mut text = String::new();
        let mut previous: Option<PageNumber> = None;
        for line in &self.lines {
            if let Some(page) = previous {
                text.push('\n');
                for _ in page.get()..line.page.get() {
                    text.push('\u{c}');
                }
            }
            text.push_str(&line.text);
            previous = Some(line.page);
        }
        text
    }

    /// How many lines were found.
    pub fn line_count(&self) -> u32 {
        u32::try_from(self.lines.len()).unwrap_or(u32::MAX)
    }

    /// How many words were found.
    pub fn word_count(&self) -> usize {
        self.lines.iter().map(|l| l.words.len()).sum()
    }

    /// The mean confidence in percent, rounded to two decimals: the mean over every **word**, so a long
    /// line weighs more than a short one; for an engine that reports lines without words, the mean over
    /// lines. `None` when nothing was found.
    pub fn avg_confidence_pct(&self) -> Option<f64> {
        mean_confidence(&self.lines.iter().collect::<Vec<_>>())
    }

    /// The same result with `truncated` set as given; used when a policy combines engines.
    #[must_use]
    pub fn with_truncated(mut self, truncated: bool) -> Self {
        self.truncated = truncated;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, conf: f32, left: f32) -> OcrWord {
        OcrWord::new(text, conf, BoundingBox::new(left, 0.1, 0.1, 0.05).unwrap()).unwrap()
    }

    #[test]
    fn derived_fields_follow_the_documented_rules() {
        let l1 = OcrLine::from_words(vec![word("PAY", 90.0, 0.1), word("TO", 80.0, 0.3)]).unwrap();
        let l2 = OcrLine::from_words(vec![word("1000", 70.0, 0.1)]).unwrap();
        let r = OcrResult::new("scripted", vec![l1, l2], false).unwrap();
        assert_eq!(r.text(), "PAY TO\n1000");
        assert_eq!(r.line_count(), 2);
        assert_eq!(r.word_count(), 3);
        assert_eq!(r.avg_confidence_pct(), Some(80.0));
        let first = &r.lines()[0];
        assert!((first.bounding_box().width() - 0.3).abs() < 1e-6);
    }

    #[test]
    fn lines_without_words_average_over_lines_and_empty_has_none() {
        let b = BoundingBox::new(0.0, 0.0, 1.0, 1.0).unwrap();
        let r = OcrResult::new(
            "e",
            vec![
                OcrLine::new("a", 50.0, b, vec![]).unwrap(),
                OcrLine::new("b", 100.0, b, vec![]).unwrap(),
            ],
            false,
        )
        .unwrap();
        assert_eq!(r.avg_confidence_pct(), Some(75.0));
        assert_eq!(
            OcrResult::new("e", vec![], false)
                .unwrap()
                .avg_confidence_pct(),
            None
        );
        assert_eq!(
            OcrResult::new(" ", vec![], false),
            Err(OcrResultError::EmptyEngine)
        );
    }

    #[test]
    fn boxes_and_confidences_are_clamped_and_must_be_finite() {
        let b = BoundingBox::new(-0.01, 0.9, 0.5, 0.5).unwrap();
        assert!(b.left().abs() < f32::EPSILON && (b.height() - 0.1).abs() < 1e-6);
        assert_eq!(
            BoundingBox::new(f32::NAN, 0.0, 0.0, 0.0),
            Err(OcrResultError::NotFinite)
        );
        assert!((word("x", 120.0, 0.0).confidence() - 100.0).abs() < f32::EPSILON);
        let px = BoundingBox::from_pixels(50, 0, 50, 100, 100, 200).unwrap();
        assert!((px.left() - 0.5).abs() < 1e-6 && (px.height() - 0.5).abs() < 1e-6);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<BoundingBox>(&json).unwrap(), b);
        assert!(
            serde_json::from_str::<BoundingBox>(r#"{"left":1e999,"top":0,"width":0,"height":0}"#)
                .is_err()
        );
    }
}
