//! A page's text layer: its lines and words with their boxes, and the facts the text-layer rule
//! decides on. PDFium inserts word spaces from the glyphs' positions and line breaks between lines,
//! expands ligatures and handles rotated and letter-spaced text; this module groups its
//! characters into words (split at whitespace) and lines (split at line breaks).

use intake_domain::model::{BoundingBox, OcrLine, OcrWord, TextLayerFacts};
use pdfium_render::prelude::*;

/// A rectangle in page space (points, origin at the bottom left).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rect {
    pub(crate) left: f32,
    pub(crate) bottom: f32,
    pub(crate) right: f32,
    pub(crate) top: f32,
}

impl Rect {
    fn from_pdf(rect: &PdfRect) -> Self {
        Self {
            left: rect.left().value,
            bottom: rect.bottom().value,
            right: rect.right().value,
            top: rect.top().value,
        }
    }

    fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.left && x <= self.right && y >= self.bottom && y <= self.top
    }

    pub(crate) fn area(&self) -> f32 {
        (self.right - self.left).max(0.0) * (self.top - self.bottom).max(0.0)
    }

    /// The part within `0..width` × `0..height`.
    pub(crate) fn clipped(&self, width: f32, height: f32) -> Self {
        Self {
            left: self.left.clamp(0.0, width),
            bottom: self.bottom.clamp(0.0, height),
            right: self.right.clamp(0.0, width),
            top: self.top.clamp(0.0, height),
        }
    }
}

/// The rectangles the page's pictures cover (image objects at its top level), clipped to the page.
pub(crate) fn pictures(page: &PdfPage) -> Vec<Rect> {
    let (width, height) = (page.width().value, page.height().value);
    page.objects()
        .iter()
        .filter(|object| object.object_type() == PdfPageObjectType::Image)
        .filter_map(|object| object.bounds().ok())
        .map(|quad| Rect::from_pdf(&quad.to_rect()).clipped(width, height))
        .collect()
}

/// The share of a `width` × `height` page the rectangles cover (overlaps counted twice, at most 1).
pub(crate) fn coverage(rects: &[Rect], width: f32, height: f32) -> f32 {
    let page = width * height;
    if page <= 0.0 {
        return 0.0;
    }
    (rects.iter().map(Rect::area).sum::<f32>() / page).min(1.0)
}

/// A word being gathered, in page space.
struct Word {
    text: String,
    rect: Rect,
}

/// The page's text layer as lines of words (boxes relative to the page, from its top left), and its
/// facts for the rule.
pub(crate) fn text_layer(
    page: &PdfPage,
    pictures: &[Rect],
) -> Result<(Vec<OcrLine>, TextLayerFacts), PdfiumError> {
    let (width, height) = (page.width().value, page.height().value);
    let text = page.text()?;
    let mut lines = Vec::new();
    let mut words: Vec<OcrWord> = Vec::new();
    let mut word: Option<Word> = None;
    let (mut chars, mut unreadable, mut on_pictures) = (0_u32, 0_u32, 0_u32);
    for ch in text.chars().iter() {
        let c = ch.unicode_char().unwrap_or(char::REPLACEMENT_CHARACTER);
        if c.is_whitespace() || c == '\0' {
            if let Some(done) = word.take() {
                words.extend(to_word(done, width, height));
            }
            if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') && !words.is_empty() {
                lines.extend(OcrLine::from_words(std::mem::take(&mut words)));
            }
            continue;
        }
        chars = chars.saturating_add(1);
        if TextLayerFacts::is_unreadable(c) {
            unreadable = unreadable.saturating_add(1);
        }
        let Ok(bounds) = ch.loose_bounds() else {
            continue;
        };
        let rect = Rect::from_pdf(&bounds);
        let (cx, cy) = (
            f32::midpoint(rect.left, rect.right),
            f32::midpoint(rect.bottom, rect.top),
        );
        if pictures.iter().any(|p| p.contains(cx, cy)) {
            on_pictures = on_pictures.saturating_add(1);
        }
        match word.as_mut() {
            Some(w) => {
                w.text.push(c);
                w.rect.left = w.rect.left.min(rect.left);
                w.rect.bottom = w.rect.bottom.min(rect.bottom);
                w.rect.right = w.rect.right.max(rect.right);
                w.rect.top = w.rect.top.max(rect.top);
            }
            None => {
                word = Some(Word {
                    text: c.to_string(),
                    rect,
                });
            }
        }
    }
    if let Some(done) = word.take() {
        words.extend(to_word(done, width, height));
    }
    lines.extend(OcrLine::from_words(words));
    let facts = TextLayerFacts::new(
        chars,
        unreadable,
        coverage(pictures, width, height),
        on_pictures,
    );
    Ok((lines, facts))
}

/// A word with its box relative to the page, from the top left; `None` for a degenerate page.
fn to_word(word: Word, width: f32, height: f32) -> Option<OcrWord> {
    if width <= 0.0 || height <= 0.0 {
        return None;
    }
    let rect = word.rect.clipped(width, height);
    let bounding_box = BoundingBox::new(
        rect.left / width,
        (height - rect.top) / height,
        (rect.right - rect.left) / width,
        (rect.top - rect.bottom) / height,
    )
    .ok()?;
    OcrWord::new(word.text, 100.0, bounding_box).ok()
}
