//! The text frame: the page turned so that its text runs left to right along x. The direction is
//! estimated from the fragments themselves (the centres of a fragment's first and last words lie on
//! its baseline), so skewed photos and pages turned a quarter turn are measured along their lines.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

use crate::model::{BoundingBox, OcrLine};

/// Below this share of its box's height, a fragment's estimated text height is not believed: a box
/// made much taller by skew than the text in it is undone at most down to a tenth (a 1500-pixel line
/// of 30-pixel text at 5° has a box about 160 pixels tall).
const MIN_HEIGHT_SHARE: f64 = 0.1;

/// Past this residual skew (after the nearest quarter turn is taken off) the un-skewing of box sizes
/// divides by almost nothing; larger skews keep their boxes' sizes as they are.
const MAX_UNSKEW: f64 = 0.6 * FRAC_PI_4;

/// A fragment seen in the text frame, in pixels of the page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Placed {
    /// Centre along the text.
    pub cx: f64,
    /// Centre across the text (down the page).
    pub cy: f64,
    /// Length along the text.
    pub len: f64,
    /// Height of the text.
    pub height: f64,
    /// How many words it holds.
    pub words: usize,
}

impl Placed {
    pub(super) fn left(&self) -> f64 {
        self.cx - self.len / 2.0
    }
    pub(super) fn right(&self) -> f64 {
        self.cx + self.len / 2.0
    }
    pub(super) fn top(&self) -> f64 {
        self.cy - self.height / 2.0
    }
    pub(super) fn bottom(&self) -> f64 {
        self.cy + self.height / 2.0
    }
}

/// How the page is turned into the text frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Frame {
    /// The page's size in pixels (1 × 1 when unknown: boxes are then taken as square units).
    width: f64,
    height: f64,
    /// The direction the text runs in, in radians from the page's x axis (y pointing down).
    angle: f64,
}

impl Frame {
    /// The frame of a page of `size` pixels whose text runs at `angle`.
    pub(super) fn new(size: Option<(u32, u32)>, angle: f64) -> Self {
        let (width, height) = size
            .filter(|&(w, h)| w > 0 && h > 0)
            .map_or((1.0, 1.0), |(w, h)| (f64::from(w), f64::from(h)));
        Self {
            width,
            height,
            angle,
        }
    }

    /// The frame of a page of `size` pixels, its direction estimated from `lines`.
    pub(super) fn of(lines: &[OcrLine], size: Option<(u32, u32)>) -> Self {
        let upright = Self::new(size, 0.0);
        Self::new(size, text_direction(lines, &upright))
    }

    /// The centre of a box, in page pixels.
    fn centre(&self, b: &BoundingBox) -> (f64, f64) {
        (
            (f64::from(b.left()) + f64::from(b.width()) / 2.0) * self.width,
            (f64::from(b.top()) + f64::from(b.height()) / 2.0) * self.height,
        )
    }

    /// A point of the page turned into the text frame.
    fn turn(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let (sin, cos) = self.angle.sin_cos();
        (x * cos + y * sin, -x * sin + y * cos)
    }

    /// The size of a box in the text frame (along, across the text): the box of a skewed rectangle
    /// is larger than the rectangle; solving for the rectangle undoes it.
    fn size(&self, b: &BoundingBox) -> (f64, f64) {
        let (w, h) = (
            f64::from(b.width()) * self.width,
            f64::from(b.height()) * self.height,
        );
        let quarter = quarter_of(self.angle);
        let (along, across) = if quarter % 2 == 0 { (w, h) } else { (h, w) };
        let residual = (self.angle - f64::from(quarter) * FRAC_PI_2).abs();
        if !(1e-6..=MAX_UNSKEW).contains(&residual) {
            return (along, across);
        }
        let (sin, cos) = residual.sin_cos();
        let d = cos * cos - sin * sin;
        let len = ((along * cos - across * sin) / d).clamp(along * MIN_HEIGHT_SHARE, along / cos);
        let height =
            ((across * cos - along * sin) / d).clamp(across * MIN_HEIGHT_SHARE, across / cos);
        (len, height)
    }

    /// A fragment placed in the text frame. Its height is the median of its words' (shorter boxes
    /// are less inflated by skew) when it has words.
    pub(super) fn place(&self, line: &OcrLine) -> Placed {
        let (cx, cy) = self.turn(self.centre(line.bounding_box()));
        let (len, own_height) = self.size(line.bounding_box());
        let mut heights: Vec<f64> = line
            .words()
            .iter()
            .map(|w| self.size(w.bounding_box()).1)
            .collect();
        heights.sort_by(f64::total_cmp);
        let height = heights
            .get(heights.len() / 2)
            .map_or(own_height, |h| h.min(own_height))
            .max(f64::EPSILON);
        let words = if line.words().is_empty() {
            line.text().split_whitespace().count()
        } else {
            line.words().len()
        };
        Placed {
            cx,
            cy,
            len,
            height,
            words,
        }
    }
}

/// The nearest quarter turn to `angle`, `0..4`.
fn quarter_of(angle: f64) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    let q = (angle / FRAC_PI_2).round() as i32;
    q.rem_euclid(4)
}

/// The direction the text runs in: the nearest quarter turn most of the samples agree on, then the
/// weighted median of the samples' deviations from it. Samples are the vectors from each fragment's
/// first word to its last (weighted by length); without such, the vectors between centres of
/// neighbouring fragments that overlap vertically. 0 without any sample.
fn text_direction(lines: &[OcrLine], upright: &Frame) -> f64 {
    let mut samples: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|line| {
            let (first, last) = (line.words().first()?, line.words().last()?);
            let (x0, y0) = upright.centre(first.bounding_box());
            let (x1, y1) = upright.centre(last.bounding_box());
            vector(x1 - x0, y1 - y0)
        })
        .collect();
    if samples.is_empty() {
        samples = neighbour_vectors(lines, upright);
    }
    if samples.is_empty() {
        return 0.0;
    }
    let votes = |q: i32| -> f64 {
        samples
            .iter()
            .filter(|&&(angle, _)| quarter_of(angle) == q)
            .map(|s| s.1)
            .sum()
    };
    let quarter = (0_i32..4)
        .max_by(|&a, &b| votes(a).total_cmp(&votes(b)))
        .unwrap_or(0);
    let base = f64::from(quarter) * FRAC_PI_2;
    let mut residuals: Vec<(f64, f64)> = samples
        .iter()
        .map(|&(angle, weight)| {
            let r = (angle - base + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
                - std::f64::consts::PI;
            (r, weight)
        })
        .filter(|&(r, _)| r.abs() <= FRAC_PI_4)
        .collect();
    residuals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = residuals.iter().map(|r| r.1).sum();
    let mut seen = 0.0;
    let median = residuals
        .iter()
        .find(|&&(_, weight)| {
            seen += weight;
            seen >= total / 2.0
        })
        .map_or(0.0, |r| r.0);
    base + median
}

/// A sample: the vector's angle and its length as weight; `None` for no length.
fn vector(dx: f64, dy: f64) -> Option<(f64, f64)> {
    let len = dx.hypot(dy);
    (len > f64::EPSILON).then(|| (dy.atan2(dx), len))
}

/// Vectors between the centres of fragments whose boxes overlap vertically by half the lower one's
/// height, each to its nearest such neighbour on the right.
fn neighbour_vectors(lines: &[OcrLine], upright: &Frame) -> Vec<(f64, f64)> {
    let boxes: Vec<(f64, f64, f64, f64)> = lines
        .iter()
        .map(|l| {
            let b = l.bounding_box();
            let (left, top) = (
                f64::from(b.left()) * upright.width,
                f64::from(b.top()) * upright.height,
            );
            (
                left,
                top,
                left + f64::from(b.width()) * upright.width,
                top + f64::from(b.height()) * upright.height,
            )
        })
        .collect();
    boxes
        .iter()
        .filter_map(|a| {
            let nearest = boxes
                .iter()
                .filter(|b| b.0 >= a.2)
                .filter(|b| {
                    let overlap = a.3.min(b.3) - a.1.max(b.1);
                    overlap >= 0.5 * (a.3 - a.1).min(b.3 - b.1)
                })
                .min_by(|x, y| x.0.total_cmp(&y.0))?;
            vector(
                (nearest.0 + nearest.2 - a.0 - a.2) / 2.0,
                (nearest.1 + nearest.3 - a.1 - a.3) / 2.0,
            )
        })
        .collect()
}
