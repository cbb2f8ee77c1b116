//! Pages with text placed where a layout puts it (columns, right-aligned amounts, tables), rendered
//! in code with a font as [`super::images::render_text`] renders, and turned by a few degrees as a
//! photo is: the pages reading-order tests and the bench read.

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};

/// A run of text on a page: its text, where it starts (its right end, when right-aligned), its
/// baseline and its size in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct TextRun {
    /// The text.
    pub text: String,
    /// The left end, or the right end when `right_aligned`.
    pub x: f32,
    /// The baseline, from the top.
    pub baseline: f32,
    /// The font size in pixels.
    pub size: f32,
    /// Whether `x` is the right end.
    pub right_aligned: bool,
}

impl TextRun {
    /// Text starting at `x`.
    pub fn left(text: impl Into<String>, x: f32, baseline: f32, size: f32) -> Self {
        Self {
            text: text.into(),
            x,
            baseline,
            size,
            right_aligned: false,
        }
    }

    /// Text ending at `x`.
    pub fn right(text: impl Into<String>, x: f32, baseline: f32, size: f32) -> Self {
        Self {
            right_aligned: true,
            ..Self::left(text, x, baseline, size)
        }
    }
}

/// What a perfect engine reads of `runs` on a page of `width` × `height` pixels: every word with its
/// box (relative to the page: the word's advance, from the ascent above the baseline to the descent
/// below), the runs that share a baseline one line from left to right, lines from the top. What a
/// scripted engine answers for a rendered page. `None` when the font cannot be parsed.
#[allow(clippy::cast_precision_loss)]
pub fn perfect_reading(
    runs: &[TextRun],
    (width, height): (u32, u32),
    font: &[u8],
) -> Option<Vec<crate::model::OcrLine>> {
    use crate::model::{BoundingBox, OcrLine, OcrWord};
    let (w, h) = (width as f32, height as f32);
    let mut placed: Vec<(f32, f32, &TextRun)> = Vec::new();
    for run in runs {
        let left = if run.right_aligned {
            run.x - text_width(&run.text, run.size, font)?
        } else {
            run.x
        };
        placed.push((run.baseline, left, run));
    }
    placed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut lines: Vec<(f32, Vec<OcrWord>)> = Vec::new();
    for (baseline, left, run) in placed {
        let space = text_width(" ", run.size, font)?;
        let mut x = left;
        let mut words = Vec::new();
        for word in run.text.split(' ') {
            let advance = text_width(word, run.size, font)?;
            if !word.is_empty() {
                let top = (baseline - 0.8 * run.size).max(0.0);
                let bottom = (baseline + 0.25 * run.size).min(h);
                let left = x.clamp(0.0, w);
                let right = (x + advance).clamp(left, w);
                let bbox = BoundingBox::new(
                    left / w,
                    top / h,
                    (right - left) / w,
                    (bottom - top).max(0.0) / h,
                )
                .ok()?;
                words.push(OcrWord::new(word, 99.0, bbox).ok()?);
            }
            x += advance + space;
        }
        match lines.last_mut() {
            Some((b, line)) if (*b - baseline).abs() < 0.5 => line.extend(words),
            _ => lines.push((baseline, words)),
        }
    }
    Some(
        lines
            .into_iter()
            .filter_map(|(_, words)| OcrLine::from_words(words))
            .collect(),
    )
}

/// How wide `text` is at `size` pixels in `font`; `None` when the font cannot be parsed.
pub fn text_width(text: &str, size: f32, font: &[u8]) -> Option<f32> {
    let font = FontRef::try_from_slice(font).ok()?;
    let scaled = font.as_scaled(PxScale::from(size));
    Some(
        text.chars()
            .map(|c| scaled.h_advance(scaled.glyph_id(c)))
            .sum(),
    )
}

/// `runs` in black on a white page of `width` × `height` pixels: its grayscale pixels, row by row.
/// `None` when the font cannot be parsed.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
pub fn render_runs(width: u32, height: u32, runs: &[TextRun], font: &[u8]) -> Option<Vec<u8>> {
    let face = FontRef::try_from_slice(font).ok()?;
    let mut pixels = vec![0xFFu8; width as usize * height as usize];
    for run in runs {
        let scale = PxScale::from(run.size);
        let scaled = face.as_scaled(scale);
        let mut x = if run.right_aligned {
            run.x - text_width(&run.text, run.size, font)?
        } else {
            run.x
        };
        for c in run.text.chars() {
            let id = scaled.glyph_id(c);
            let glyph = id.with_scale_and_position(scale, point(x, run.baseline));
            if let Some(outline) = face.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (
                        i64::from(bounds.min.x as i32) + i64::from(gx),
                        i64::from(bounds.min.y as i32) + i64::from(gy),
                    );
                    if (0..i64::from(width)).contains(&px) && (0..i64::from(height)).contains(&py) {
                        let i = py as usize * width as usize + px as usize;
                        if let Some(pixel) = pixels.get_mut(i) {
                            *pixel = (*pixel).min((255.0 * (1.0 - coverage)) as u8);
                        }
                    }
                });
            }
            x += scaled.h_advance(id);
        }
    }
    Some(pixels)
}

/// The page turned `degrees` clockwise about its centre, on a white canvas of the same size (what
/// falls outside is cut off), sampled bilinearly: a document photographed a little askew.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap
)]
pub fn rotate(pixels: &[u8], width: u32, height: u32, degrees: f32) -> Vec<u8> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(width) || y >= i64::from(height) {
            return 255.0;
        }
        f32::from(
            pixels
                .get(y as usize * width as usize + x as usize)
                .copied()
                .unwrap_or(0xFF),
        )
    };
    let mut out = vec![0xFFu8; width as usize * height as usize];
    for (i, pixel) in out.iter_mut().enumerate() {
        // Pixel centres, from the page's centre.
        let (x, y) = (
            (i % width as usize) as f32 + 0.5 - cx,
            (i / width as usize) as f32 + 0.5 - cy,
        );
        // The source of this pixel: turned back by the angle.
        let (sx, sy) = (x * cos + y * sin + cx - 0.5, -x * sin + y * cos + cy - 0.5);
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        *pixel = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_turned_page_keeps_its_centre_and_turns_clockwise() {
        let (w, h) = (101, 51);
        let mut pixels = vec![0xFF; 101 * 51];
        pixels[25 * 101 + 50] = 0;
        pixels[25 * 101 + 60] = 0;
        let turned = rotate(&pixels, w, h, 90.0);
        assert!(turned[25 * 101 + 50] < 8);
        assert_eq!(turned[25 * 101 + 60], 0xFF);
        // 10 px right of the centre, turned a quarter clockwise: 10 px below it.
        assert!(turned[35 * 101 + 50] < 8);
        assert_eq!(rotate(&pixels, w, h, 0.0), pixels);
    }

    #[test]
    fn runs_are_drawn_where_placed_and_right_aligned_runs_end_at_their_x() {
        let Some(font) = crate::testkit::images::DEJAVU_SANS_PATHS
            .iter()
            .find_map(|p| std::fs::read(p).ok())
        else {
            return;
        };
        let runs = [
            TextRun::left("Total", 10.0, 40.0, 30.0),
            TextRun::right("31.00", 290.0, 40.0, 30.0),
        ];
        let pixels = render_runs(300, 60, &runs, &font).unwrap();
        let inked =
            |x0: usize, x1: usize| (0..60).any(|y| (x0..x1).any(|x| pixels[y * 300 + x] < 128));
        let width = text_width("31.00", 30.0, &font).unwrap();
        assert!(width > 40.0 && width < 120.0, "{width}");
        assert!(inked(10, 40) && inked(260, 290));
        assert!(!inked(120, 180) && !inked(292, 300));
    }
}
