//! A searchable PDF from a scanned one: the words OCR read on a page laid over it as invisible text
//! (render mode 3), each stretched over the box it was read in, so that a viewer finds and selects
//! it where it is printed. Everything else in the document stays as it was.

// Matrix and coordinate code names its values as the PDF reference does (a–f, u, v, x, y, w, h).
#![allow(clippy::many_single_char_names)]

use intake_domain::model::{BoundingBox, OcrLine};
use pdfium_render::prelude::*;

use crate::protocol::{PageWords, Problem};
use crate::worker::Stop;

/// The share of a word's box height that its font size is: a line box holds ascenders and
/// descenders, which Helvetica's em square about matches.
const EM_PER_BOX: f32 = 0.9;

/// Lays `pages`' words over their pages, and gives the whole document back.
pub(crate) fn add_text_layer(doc: &mut PdfDocument, pages: &[PageWords]) -> Result<Vec<u8>, Stop> {
    let font = doc.fonts_mut().helvetica();
    let count = doc.pages().len();
    for page_words in pages {
        let index = page_words
            .number
            .checked_sub(1)
            .and_then(|i| PdfPageIndex::try_from(i).ok())
            .filter(|&i| i < count)
            .ok_or_else(|| {
                Stop::new(
                    Problem::Corrupt,
                    format!("the document has no page {}", page_words.number),
                )
            })?;
        let mut page = doc.pages().get(index).map_err(|e| {
            Stop::new(
                Problem::Corrupt,
                format!("page {} cannot be loaded ({e:?})", page_words.number),
            )
        })?;
        page.set_content_regeneration_strategy(PdfPageContentRegenerationStrategy::Manual);
        let frame = Frame::of(&page);
        for line in &page_words.lines {
            for (text, area) in words(line) {
                let Some(placed) = frame.place(&area) else {
                    continue;
                };
                let mut object = PdfPageTextObject::new(
                    doc,
                    text,
                    font,
                    PdfPoints::new(placed.height * EM_PER_BOX),
                )
                .map_err(|e| failed("a word cannot be written", &e))?;
                object
                    .set_render_mode(PdfPageTextRenderMode::Invisible)
                    .map_err(|e| failed("a word cannot be made invisible", &e))?;
                let natural = object.width().map_or(0.0, |w| w.value);
                let stretch = if natural > 0.0 {
                    placed.width / natural
                } else {
                    1.0
                };
                let (a, b, c, d, e, f) = placed.matrix(stretch, placed.height * (1.0 - EM_PER_BOX));
                object
                    .transform(a, b, c, d, e, f)
                    .map_err(|e| failed("a word cannot be placed", &e))?;
                page.objects_mut()
                    .add_text_object(object)
                    .map_err(|e| failed("a word cannot be added", &e))?;
            }
        }
        page.regenerate_content()
            .map_err(|e| failed("the page cannot be written", &e))?;
    }
    doc.save_to_bytes()
        .map_err(|e| failed("the document cannot be saved", &e))
}

fn failed(what: &str, error: &PdfiumError) -> Stop {
    Stop::new(Problem::Corrupt, format!("{what} ({error:?})"))
}

/// A line's words with their boxes, or the whole line where the engine gave no words; a space
/// after each word but the last, so that extracted text keeps its word breaks.
fn words(line: &OcrLine) -> Vec<(String, BoundingBox)> {
    let words = line.words();
    if words.is_empty() {
        return vec![(line.text().to_owned(), *line.bounding_box())];
    }
    let last = words.len() - 1;
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let text = if i == last {
                w.text().to_owned()
            } else {
                format!("{} ", w.text())
            };
            (text, *w.bounding_box())
        })
        .collect()
}

/// How the page is shown: its size as shown and its turn, to map boxes read on the upright
/// rendering back into the page's own space.
struct Frame {
    /// Width and height as shown, in points.
    shown: (f32, f32),
    /// Quarter turns clockwise from the page's own space to how it is shown.
    quarters: u8,
}

/// A word's place in page space: where its baseline starts, which way it runs, and its size.
struct Placed {
    x: f32,
    y: f32,
    /// Unit vector of the text's direction in page space.
    dir: (f32, f32),
    width: f32,
    height: f32,
}

impl Frame {
    fn of(page: &PdfPage) -> Self {
        let quarters = match page.rotation() {
            Ok(PdfPageRenderRotation::Degrees90) => 1,
            Ok(PdfPageRenderRotation::Degrees180) => 2,
            Ok(PdfPageRenderRotation::Degrees270) => 3,
            _ => 0,
        };
        Self {
            shown: (page.width().value, page.height().value),
            quarters,
        }
    }

    /// The page's own size in points (before its turn).
    fn own(&self) -> (f32, f32) {
        if self.quarters % 2 == 1 {
            (self.shown.1, self.shown.0)
        } else {
            self.shown
        }
    }

    /// A point shown at (`u`, `v`) (relative, from the top left) in page space (points, from the
    /// bottom left of the page's own space).
    fn point(&self, u: f32, v: f32) -> (f32, f32) {
        let (w, h) = self.own();
        let (x, y) = match self.quarters {
            1 => (v, u),
            2 => (1.0 - u, v),
            3 => (1.0 - v, 1.0 - u),
            _ => (u, 1.0 - v),
        };
        (x * w, y * h)
    }

    /// Where a box shown on the page goes in page space; `None` for an empty box.
    fn place(&self, area: &BoundingBox) -> Option<Placed> {
        let (sw, sh) = self.shown;
        let (width, height) = (area.width() * sw, area.height() * sh);
        if width <= 0.0 || height <= 0.0 {
            return None;
        }
        let bottom = area.top() + area.height();
        let (x, y) = self.point(area.left(), bottom);
        let (ex, ey) = self.point(area.left() + area.width(), bottom);
        let length = (ex - x).hypot(ey - y);
        if length <= 0.0 {
            return None;
        }
        Some(Placed {
            x,
            y,
            dir: ((ex - x) / length, (ey - y) / length),
            width,
            height,
        })
    }
}

impl Placed {
    /// The text matrix: stretched by `stretch` along the text, turned to its direction, its
    /// baseline `lift` points above the box's bottom.
    fn matrix(&self, stretch: f32, lift: f32) -> (f32, f32, f32, f32, f32, f32) {
        let (cos, sin) = self.dir;
        // Up, perpendicular to the text's direction.
        let (ux, uy) = (-sin, cos);
        (
            cos * stretch,
            sin * stretch,
            ux,
            uy,
            self.x + ux * lift,
            self.y + uy * lift,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(quarters: u8) -> Frame {
        let shown = if quarters % 2 == 1 {
            (842.0, 595.0)
        } else {
            (595.0, 842.0)
        };
        Frame { shown, quarters }
    }

    #[test]
    fn an_upright_page_maps_boxes_from_the_top_left() {
        let placed = frame(0)
            .place(&BoundingBox::new(0.1, 0.1, 0.5, 0.02).unwrap())
            .unwrap();
        assert!((placed.x - 59.5).abs() < 0.01);
        assert!((placed.y - 842.0 * 0.88).abs() < 0.01);
        assert_eq!(placed.dir, (1.0, 0.0));
        assert!((placed.width - 297.5).abs() < 0.01);
    }

    #[test]
    fn a_turned_page_runs_its_text_along_the_shown_direction() {
        // Shown a quarter turn clockwise: text running right as shown runs up the page's own space.
        let placed = frame(1)
            .place(&BoundingBox::new(0.0, 0.0, 0.5, 0.1).unwrap())
            .unwrap();
        assert!((placed.dir.0).abs() < 1e-6 && (placed.dir.1 - 1.0).abs() < 1e-6);
        assert!((placed.width - 421.0).abs() < 0.01);
        let half = frame(2)
            .place(&BoundingBox::new(0.0, 0.0, 0.5, 0.1).unwrap())
            .unwrap();
        assert!((half.dir.0 + 1.0).abs() < 1e-6);
    }

    #[test]
    fn empty_boxes_are_skipped() {
        assert!(
            frame(0)
                .place(&BoundingBox::new(0.1, 0.1, 0.0, 0.02).unwrap())
                .is_none()
        );
    }
}
