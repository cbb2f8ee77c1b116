//! What every format needs of a record: its pages in order, each with its size in pixels and its
//! lines; boxes in a page's pixels; text an XML document can hold.

use intake_domain::model::{BoundingBox, ImageRecord, OcrLine, OcrWord, PageNumber};

/// One page of an export: its number, its size in pixels when known, and the lines read on it in
/// reading order.
#[derive(Debug)]
pub(crate) struct PageLayout<'a> {
    /// The page number, from 1.
    pub number: PageNumber,
    /// Width and height in pixels: the page summary's, else (page 1) the image's own; `None` when
    /// neither is known, and then the page's geometry is left out.
    pub size: Option<(u32, u32)>,
    /// The lines on the page.
    pub lines: Vec<&'a OcrLine>,
}

/// The pages of `record`: every page from the first to the last one read (a page the engine
/// passed without reading anything still counts, as its form feed does in the text).
pub(crate) fn pages(record: &ImageRecord) -> Vec<PageLayout<'_>> {
    let lines = record.ocr_lines().unwrap_or_default();
    let summaries = record.pages().unwrap_or_default();
    let last = summaries
        .iter()
        .map(|p| p.page)
        .chain(lines.iter().map(OcrLine::page))
        .max()
        .map_or(1, PageNumber::get);
    (1..=last)
        .filter_map(PageNumber::new)
        .map(|number| {
            let summary = summaries
                .iter()
                .find(|p| p.page == number)
                .and_then(|p| p.width_px.zip(p.height_px));
            let own = (number.get() == 1)
                .then(|| record.width_px().zip(record.height_px()))
                .flatten();
            PageLayout {
                number,
                size: summary.or(own).filter(|&(w, h)| w > 0 && h > 0),
                lines: lines.iter().filter(|l| l.page() == number).collect(),
            }
        })
        .collect()
}

/// A box in a page's pixels: left, top, right and bottom edges (`x0 <= x1 <= width`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PixelBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl PixelBox {
    /// A relative box in a page of `width` × `height` pixels: edges rounded outwards, so the pixel
    /// box covers what the relative one does, and kept within the page. A thousandth of a pixel
    /// is the relative coordinates' rounding (`f32`), not a pixel more.
    pub(crate) fn of(relative: &BoundingBox, (width, height): (u32, u32)) -> Self {
        const NOISE: f64 = 1e-3;
        let edge = |fraction: f32, size: u32, outwards: f64| -> u32 {
            let exact = f64::from(fraction) * f64::from(size);
            let pixels = if outwards < 0.0 {
                (exact + NOISE).floor()
            } else {
                (exact - NOISE).ceil()
            }
            .clamp(0.0, f64::from(size));
            // Within 0..=size, a u32: the conversion is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let pixels = pixels as u32;
            pixels
        };
        let x0 = edge(relative.left(), width, -1.0);
        let y0 = edge(relative.top(), height, -1.0);
        let x1 = edge(relative.left() + relative.width(), width, 1.0).max(x0);
        let y1 = edge(relative.top() + relative.height(), height, 1.0).max(y0);
        Self { x0, y0, x1, y1 }
    }

    /// The smallest box holding both.
    pub(crate) fn union(self, other: Self) -> Self {
        Self {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// Width in pixels.
    pub(crate) fn width(self) -> u32 {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub(crate) fn height(self) -> u32 {
        self.y1 - self.y0
    }
}

/// A word of an export: a recognised word, or a whole line for an engine that reports lines
/// without words (every format holds text in words).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Word<'a> {
    pub text: &'a str,
    /// Confidence in percent, `0..=100`.
    pub confidence: f32,
    pub bounding_box: &'a BoundingBox,
}

/// The words of `line`: its own, or the line itself as one word when it has none.
pub(crate) fn words(line: &OcrLine) -> Vec<Word<'_>> {
    if line.words().is_empty() {
        return vec![Word {
            text: line.text(),
            confidence: line.confidence(),
            bounding_box: line.bounding_box(),
        }];
    }
    line.words()
        .iter()
        .map(|w: &OcrWord| Word {
            text: w.text(),
            confidence: w.confidence(),
            bounding_box: w.bounding_box(),
        })
        .collect()
}

/// The box of `line` in pixels: the union of its own box and its words'.
pub(crate) fn line_box(line: &OcrLine, size: (u32, u32)) -> PixelBox {
    line.words()
        .iter()
        .map(|w| PixelBox::of(w.bounding_box(), size))
        .fold(PixelBox::of(line.bounding_box(), size), PixelBox::union)
}

/// `text` without the characters XML 1.0 cannot hold (control characters but tab, newline and
/// carriage return; U+FFFE and U+FFFF), which an engine may still report: a document with one of
/// them is not well-formed, so no parser would read it.
pub(crate) fn xml_text(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

/// A confidence in percent as the integer percent hOCR's `x_wconf` takes.
pub(crate) fn percent(confidence: f32) -> u32 {
    let rounded = f64::from(confidence).round().clamp(0.0, 100.0);
    // Within 0..=100: exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rounded = rounded as u32;
    rounded
}

/// A confidence in percent as ALTO's `WC`, a fraction `0..=1` with at most three decimals.
pub(crate) fn fraction(confidence: f32) -> String {
    let value = (f64::from(confidence) / 100.0).clamp(0.0, 1.0);
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn boxes_round_outwards_within_the_page() {
        let b = BoundingBox::new(0.101, 0.5, 0.2, 0.5).unwrap();
        let p = PixelBox::of(&b, (1000, 333));
        assert_eq!((p.x0, p.y0, p.x1, p.y1), (101, 166, 301, 333));
        assert_eq!((p.width(), p.height()), (200, 167));
        let tight = PixelBox::of(&BoundingBox::new(0.3, 0.7, 0.1, 0.1).unwrap(), (1700, 2200));
        assert_eq!(
            (tight.x0, tight.y0, tight.x1, tight.y1),
            (510, 1540, 680, 1760)
        );
        let whole = BoundingBox::new(0.0, 0.0, 1.0, 1.0).unwrap();
        let p = PixelBox::of(&whole, (7, 9));
        assert_eq!((p.x0, p.y0, p.x1, p.y1), (0, 0, 7, 9));
    }

    #[test]
    fn text_keeps_what_xml_can_hold() {
        assert_eq!(
            xml_text("a<b & \"c\" é ש\u{10348}"),
            "a<b & \"c\" é ש\u{10348}"
        );
        assert_eq!(xml_text("a\u{0}b\u{c}c\u{1b}d\u{fffe}\te"), "abcd\te");
    }

    #[test]
    fn confidences_in_each_formats_scale() {
        assert_eq!(percent(93.5), 94);
        assert_eq!(percent(0.2), 0);
        assert_eq!(fraction(93.5), "0.935");
        assert_eq!(fraction(100.0), "1");
        assert_eq!(fraction(0.0), "0");
        assert_eq!(fraction(50.0), "0.5");
    }
}
