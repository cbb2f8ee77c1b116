//! The image fingerprint: a small grey sketch of the upright page with its background border trimmed,
//! and a 64-bit DCT perceptual hash of it.
//!
//! The sketch is what survives a re-scan or a re-photo: trimming the border the page (or the ink on
//! it) sits in makes a few percent of crop or padding irrelevant, and averaging down to 32 × 32
//! samples removes JPEG blocks, noise, blur and small rotations. The hash keeps the signs of the
//! sketch's lowest spatial frequencies against their median, so brightness and contrast do not move
//! it either. Engines that have the pixels make the sketch with [`PageSketch::from_grey`]; everything
//! after is this module's rule.

// Pixel arithmetic: every index is bounded by the sizes checked on entry (a sketch is always
// 32 × 32, a working copy `ww × wh`), and the casts are between sample counts and coordinates far
// below 2^24.
#![allow(
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The side of a sketch, in samples.
pub const SKETCH_SIDE: usize = 32;
/// The longest side of the working copy the border is found on.
const WORK_SIDE: usize = 256;
/// How far from the background (in grey levels) a sample must be to count as content.
const CONTENT_CONTRAST: f32 = 40.0;
/// The share of a row or column that must be content for the row or column to be kept.
const CONTENT_SHARE: f32 = 0.01;

/// Why a sketch could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SketchError {
    /// The picture has no pixels.
    #[error("the page has no pixels")]
    Empty,
    /// The pixel buffer does not hold `width × height` samples.
    #[error("the page's pixels hold {got} samples, not {width} × {height}")]
    SizeMismatch {
        /// The width given.
        width: u32,
        /// The height given.
        height: u32,
        /// The samples given.
        got: usize,
    },
}

/// A page reduced to 32 × 32 grey samples (row by row, 0 black to 255 white) after its background
/// border was trimmed: what the image fingerprint is computed from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PageSketch {
    samples: Box<[u8; SKETCH_SIDE * SKETCH_SIDE]>,
}

impl PageSketch {
    /// The sketch of an upright page given as 8-bit grey pixels, row by row.
    ///
    /// # Errors
    /// [`SketchError`] for a page without pixels or a buffer of the wrong length.
    pub fn from_grey(width: u32, height: u32, pixels: &[u8]) -> Result<Self, SketchError> {
        let (w, h) = (width as usize, height as usize);
        if w == 0 || h == 0 {
            return Err(SketchError::Empty);
        }
        if w.checked_mul(h) != Some(pixels.len()) {
            return Err(SketchError::SizeMismatch {
                width,
                height,
                got: pixels.len(),
            });
        }
        let full = pixels;
        let scale = (WORK_SIDE as f32 / w.max(h) as f32).min(1.0);
        let (ww, wh) = (
            ((w as f32 * scale).round() as usize).max(1),
            ((h as f32 * scale).round() as usize).max(1),
        );
        let work = resample(full, w, Region::whole(w, h), ww, wh);
        let region = content_region(&work, ww, wh);
        // The region found on the working copy, on the full picture.
        let (fx, fy) = (w as f32 / ww as f32, h as f32 / wh as f32);
        let full_region = Region {
            x0: region.x0 * fx,
            y0: region.y0 * fy,
            x1: region.x1 * fx,
            y1: region.y1 * fy,
        };
        let source = if full_region.x1 - full_region.x0 >= SKETCH_SIDE as f32
            && full_region.y1 - full_region.y0 >= SKETCH_SIDE as f32
        {
            resample(full, w, full_region, SKETCH_SIDE, SKETCH_SIDE)
        } else {
            resample(&work, ww, region, SKETCH_SIDE, SKETCH_SIDE)
        };
        let mut samples = Box::new([0u8; SKETCH_SIDE * SKETCH_SIDE]);
        for (out, value) in samples.iter_mut().zip(source) {
            *out = value.round().clamp(0.0, 255.0) as u8;
        }
        Ok(Self { samples })
    }

    /// A sketch from its 1024 samples (as [`samples`](Self::samples) gave them).
    pub fn from_samples(samples: [u8; SKETCH_SIDE * SKETCH_SIDE]) -> Self {
        Self {
            samples: Box::new(samples),
        }
    }

    /// The sketch of the page turned `quarter_turns` quarter turns clockwise: an engine that found
    /// the page on its side sketches the pixels as given and turns the sketch upright (the same
    /// sketch as of the turned pixels: trimming and averaging commute with quarter turns).
    #[must_use]
    pub fn turned_clockwise(&self, quarter_turns: u8) -> Self {
        let n = SKETCH_SIDE;
        let mut turned = self.clone();
        for _ in 0..quarter_turns % 4 {
            let from = *turned.samples;
            for y in 0..n {
                for x in 0..n {
                    // Clockwise: the new row y is the old column y read from the bottom up.
                    turned.samples[y * n + x] = from[(n - 1 - x) * n + y];
                }
            }
        }
        turned
    }

    /// The samples, row by row.
    pub fn samples(&self) -> &[u8; SKETCH_SIDE * SKETCH_SIDE] {
        &self.samples
    }

    /// The 64-bit DCT perceptual hash of the sketch: one bit per low-frequency coefficient (the 64
    /// lowest after the mean), set when the coefficient is above their median.
    pub fn image_hash(&self) -> ImageHash {
        let n = SKETCH_SIDE;
        let basis = dct_basis();
        let samples: Vec<f64> = self.samples.iter().map(|&s| f64::from(s)).collect();
        // Rows then columns, only the low frequencies the hash uses.
        let mut rows = vec![0.0; n * LOW];
        for y in 0..n {
            for u in 0..LOW {
                rows[y * LOW + u] = (0..n)
                    .map(|x| samples[y * n + x] * basis[u * n + x])
                    .sum::<f64>();
            }
        }
        let coefficient = |u: usize, v: usize| -> f64 {
            (0..n)
                .map(|y| rows[y * LOW + u] * basis[v * n + y])
                .sum::<f64>()
        };
        let values: Vec<f64> = LOW_FREQUENCIES
            .iter()
            .map(|&(u, v)| coefficient(u, v))
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let median = f64::midpoint(sorted[31], sorted[32]);
        let bits = values
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &v)| acc | (u64::from(v > median) << i));
        ImageHash(bits)
    }
}

/// How many horizontal (and vertical) frequencies the hash draws on.
const LOW: usize = 11;

/// The 64 coefficients the hash keeps: by rising total frequency, the mean (0, 0) left out.
const LOW_FREQUENCIES: [(usize, usize); 64] = {
    let mut out = [(0, 0); 64];
    let mut at = 0;
    let mut total = 1;
    while at < 64 {
        let mut u = 0;
        while u <= total && at < 64 {
            out[at] = (u, total - u);
            at += 1;
            u += 1;
        }
        total += 1;
    }
    out
};

/// The DCT-II basis for the frequencies the hash uses: `basis[u * 32 + x]`.
fn dct_basis() -> Vec<f64> {
    let n = SKETCH_SIDE;
    let mut basis = vec![0.0; LOW * n];
    for u in 0..LOW {
        for x in 0..n {
            basis[u * n + x] =
                (std::f64::consts::PI * (2.0 * x as f64 + 1.0) * u as f64 / (2.0 * n as f64)).cos();
        }
    }
    basis
}

/// A rectangle of a picture, in (fractional) pixels.
#[derive(Clone, Copy, Debug)]
struct Region {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Region {
    fn whole(w: usize, h: usize) -> Self {
        Self {
            x0: 0.0,
            y0: 0.0,
            x1: w as f32,
            y1: h as f32,
        }
    }
}

/// The part of the working copy inside its background border: the background is the median of
/// the outermost samples; rows and columns at the edges with (almost) nothing that stands out from
/// it are trimmed. The whole picture when nothing stands out (a blank page).
fn content_region(work: &[f32], w: usize, h: usize) -> Region {
    let mut ring: Vec<f32> = Vec::with_capacity(2 * (w + h));
    for x in 0..w {
        ring.push(work[x]);
        ring.push(work[(h - 1) * w + x]);
    }
    for y in 0..h {
        ring.push(work[y * w]);
        ring.push(work[y * w + w - 1]);
    }
    ring.sort_by(f32::total_cmp);
    let background = ring[ring.len() / 2];
    let content = |x: usize, y: usize| (work[y * w + x] - background).abs() > CONTENT_CONTRAST;
    let row_counts: Vec<usize> = (0..h)
        .map(|y| (0..w).filter(|&x| content(x, y)).count())
        .collect();
    let col_counts: Vec<usize> = (0..w)
        .map(|x| (0..h).filter(|&y| content(x, y)).count())
        .collect();
    let row_needed = ((w as f32 * CONTENT_SHARE).ceil() as usize).max(1);
    let col_needed = ((h as f32 * CONTENT_SHARE).ceil() as usize).max(1);
    let span = |counts: &[usize], needed: usize| {
        let first = counts.iter().position(|&c| c >= needed)?;
        let last = counts.iter().rposition(|&c| c >= needed)?;
        Some((first, last + 1))
    };
    match (span(&col_counts, col_needed), span(&row_counts, row_needed)) {
        (Some((x0, x1)), Some((y0, y1))) => Region {
            x0: x0 as f32,
            y0: y0 as f32,
            x1: x1 as f32,
            y1: y1 as f32,
        },
        _ => Region::whole(w, h),
    }
}

/// `region` of the `src_w`-wide picture `src` averaged down (or up) to `dw × dh` samples: each
/// sample the mean of the area it covers, partial pixels weighted by their share.
fn resample<T: Copy + Into<f32>>(
    src: &[T],
    src_w: usize,
    region: Region,
    dw: usize,
    dh: usize,
) -> Vec<f32> {
    let src_h = src.len() / src_w;
    let cols = weights(region.x0, region.x1, dw, src_w);
    let rows = weights(region.y0, region.y1, dh, src_h);
    // Horizontal pass over the rows the vertical pass needs.
    let first_row = rows.iter().flatten().map(|&(i, _)| i).min().unwrap_or(0);
    let last_row = rows.iter().flatten().map(|&(i, _)| i).max().unwrap_or(0);
    let mut across = vec![0.0f32; (last_row + 1 - first_row) * dw];
    for y in first_row..=last_row {
        let line = &src[y * src_w..(y + 1) * src_w];
        for (x, taps) in cols.iter().enumerate() {
            across[(y - first_row) * dw + x] =
                taps.iter().map(|&(i, wt)| line[i].into() * wt).sum();
        }
    }
    let mut out = vec![0.0f32; dw * dh];
    for (y, taps) in rows.iter().enumerate() {
        for x in 0..dw {
            out[y * dw + x] = taps
                .iter()
                .map(|&(i, wt)| across[(i - first_row) * dw + x] * wt)
                .sum();
        }
    }
    out
}

/// For each of `n` output samples spanning `[start, end)` of a `len`-sample axis, the source samples
/// it covers and their weights (summing to 1).
fn weights(start: f32, end: f32, n: usize, len: usize) -> Vec<Vec<(usize, f32)>> {
    let step = ((end - start) / n as f32).max(f32::EPSILON);
    (0..n)
        .map(|i| {
            let a = start + step * i as f32;
            let b = a + step;
            // An output narrower than a pixel samples the pixel under its middle.
            if b - a < 1.0 {
                let mid = f32::midpoint(a, b).floor().clamp(0.0, (len - 1) as f32) as usize;
                return vec![(mid, 1.0)];
            }
            let from = a.floor().max(0.0) as usize;
            let to = (b.ceil() as usize).min(len);
            let mut taps: Vec<(usize, f32)> = (from..to)
                .map(|p| {
                    let lo = (p as f32).max(a);
                    let hi = ((p + 1) as f32).min(b);
                    (p, (hi - lo).max(0.0))
                })
                .filter(|&(_, wt)| wt > 0.0)
                .collect();
            let total: f32 = taps.iter().map(|&(_, wt)| wt).sum();
            if total > 0.0 {
                for tap in &mut taps {
                    tap.1 /= total;
                }
            } else {
                taps = vec![(from.min(len - 1), 1.0)];
            }
            taps
        })
        .collect()
}

/// A 64-bit perceptual hash of a page's picture; near pictures have hashes a small Hamming distance
/// apart. Written as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageHash(pub u64);

impl ImageHash {
    /// How many bits differ.
    pub fn distance(self, other: Self) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

impl fmt::Debug for ImageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageHash({:016x})", self.0)
    }
}

impl fmt::Display for ImageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ImageHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 16 {
            return Err(serde::de::Error::custom("an image hash is 16 hex digits"));
        }
        u64::from_str_radix(&text, 16)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("an image hash is 16 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page `w × h` on `paper`, with dark blocks (lines of "text") laid out by `seed`.
    fn page(w: usize, h: usize, seed: u64, paper: u8) -> Vec<u8> {
        let mut pixels = vec![paper; w * h];
        let mut state = seed | 1;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let lines = 14;
        for line in 0..lines {
            let y = h / 10 + line * (h * 8 / 10) / lines;
            let mut x = w / 10 + next(w / 6);
            while x < w * 9 / 10 {
                let word = w / 30 + next(w / 8);
                for yy in y..y + h / 50 {
                    for xx in x..(x + word).min(w * 9 / 10) {
                        pixels[yy * w + xx] = 30;
                    }
                }
                x += word + w / 40 + next(w / 20);
            }
        }
        pixels
    }

    fn hash(w: usize, h: usize, pixels: &[u8]) -> ImageHash {
        PageSketch::from_grey(w as u32, h as u32, pixels)
            .expect("sketch")
            .image_hash()
    }

    #[test]
    fn padding_scale_and_brightness_barely_move_the_hash() {
        let (w, h) = (600, 800);
        let original = page(w, h, 7, 245);
        let base = hash(w, h, &original);
        // Padded by 40 white pixels a side.
        let (pw, ph) = (w + 80, h + 80);
        let mut padded = vec![255u8; pw * ph];
        for y in 0..h {
            padded[(y + 40) * pw + 40..(y + 40) * pw + 40 + w]
                .copy_from_slice(&original[y * w..(y + 1) * w]);
        }
        assert!(base.distance(hash(pw, ph, &padded)) <= 4);
        // Half the size.
        let half: Vec<u8> = (0..h / 2)
            .flat_map(|y| {
                let row = &original;
                (0..w / 2).map(move |x| {
                    let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                        .iter()
                        .map(|(dx, dy)| u32::from(row[(2 * y + dy) * w + 2 * x + dx]))
                        .sum();
                    (sum / 4) as u8
                })
            })
            .collect();
        assert!(base.distance(hash(w / 2, h / 2, &half)) <= 4);
        // Darker, with less contrast.
        let dim: Vec<u8> = original
            .iter()
            .map(|&p| (f32::from(p) * 0.7 + 20.0) as u8)
            .collect();
        assert!(base.distance(hash(w, h, &dim)) <= 4);
    }

    #[test]
    fn a_page_on_its_side_sketched_and_turned_is_the_upright_sketch() {
        let (w, h) = (300, 400);
        let upright = page(w, h, 99, 250);
        // The page as scanned: a quarter turn anticlockwise (w × h becomes h × w).
        let mut sideways = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                sideways[(w - 1 - x) * h + y] = upright[y * w + x];
            }
        }
        let direct = PageSketch::from_grey(w as u32, h as u32, &upright).unwrap();
        let turned = PageSketch::from_grey(h as u32, w as u32, &sideways)
            .unwrap()
            .turned_clockwise(1);
        assert_eq!(turned, direct);
        assert_eq!(direct.turned_clockwise(4), direct);
        assert_ne!(direct.turned_clockwise(2), direct);
    }

    #[test]
    fn another_layout_is_far() {
        let (w, h) = (600, 800);
        let a = hash(w, h, &page(w, h, 7, 245));
        let b = hash(w, h, &page(w, h, 1234, 245));
        assert!(a.distance(b) >= 12, "{}", a.distance(b));
    }

    #[test]
    fn bad_buffers_are_refused_and_blank_pages_sketched() {
        assert_eq!(PageSketch::from_grey(0, 5, &[]), Err(SketchError::Empty));
        assert!(matches!(
            PageSketch::from_grey(4, 4, &[0; 15]),
            Err(SketchError::SizeMismatch { got: 15, .. })
        ));
        let blank = PageSketch::from_grey(3, 2, &[200; 6]).expect("sketch");
        assert!(blank.samples().iter().all(|&s| s == 200));
        let sketch = PageSketch::from_grey(40, 40, &[90; 1600]).expect("sketch");
        assert_eq!(PageSketch::from_samples(*sketch.samples()), sketch);
    }

    #[test]
    fn the_hash_is_written_as_sixteen_hex_digits() {
        let hash = ImageHash(0x00ab_cdef_0123_4567);
        assert_eq!(hash.to_string(), "00abcdef01234567");
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(serde_json::from_str::<ImageHash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<ImageHash>("\"abc\"").is_err());
        assert_eq!(ImageHash(0b1011).distance(ImageHash(0b0001)), 2);
    }
}
