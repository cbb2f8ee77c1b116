//! The pixel budget of a page. Detection sees at most 2000 pixels on a page's longer side and
//! recognition reads the lines from that image, so pixels far beyond it are only memory: decoded at
//! three bytes each, a 100-megapixel page held 300 MB before it was scaled down. A page with more
//! pixels than the budget is therefore averaged down to fit it (by area, proportions kept) as its rows
//! are decoded, so the page is never held at full size in RGB; one within the budget is kept as it is.

use crate::raster::Raster;

/// The default pixel budget of a page ([`crate::PpOcrOptions::page_pixels`]): 16 megapixels (48 MB as RGB), twice the longer side detection uses in each
/// direction, and more than an A4 page scanned at 400 dpi. Pages within it are read exactly as before.
pub const DEFAULT_PAGE_PIXELS: u64 = 16_000_000;

/// The size a `width × height` page is kept at: itself within `budget` pixels, else scaled by the
/// same factor on both sides to hold at most `budget` (each side at least 1).
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub(crate) fn fitted_size(width: usize, height: usize, budget: u64) -> (usize, usize) {
    let pixels = (width as u64).saturating_mul(height as u64);
    if pixels <= budget || width == 0 || height == 0 {
        return (width, height);
    }
    let fit = |side: usize, scale: f64| ((side as f64 * scale).floor() as usize).clamp(1, side);
    let mut scale = (budget.max(1) as f64 / pixels as f64).sqrt();
    loop {
        let (w, h) = (fit(width, scale), fit(height, scale));
        if (w as u64) * (h as u64) <= budget || (w == 1 && h == 1) {
            return (w, h);
        }
        scale *= 0.999;
    }
}

/// A page built from its RGB rows, top to bottom: kept as they come when the page fits its target
/// size, else averaged by area, each source pixel counted in exactly one target pixel. Holds the
/// target image and one row of sums.
#[derive(Debug)]
pub(crate) struct PageRows {
    source: (usize, usize),
    target: (usize, usize),
    /// The target column of each source column (empty when the page is kept as it is).
    column: Vec<usize>,
    /// Source columns per target column.
    columns_in: Vec<u64>,
    /// Per target pixel of the current target row, per channel.
    sums: Vec<u64>,
    rows_in: u64,
    /// The target row being summed.
    current: usize,
    rows_seen: usize,
    data: Vec<u8>,
}

impl PageRows {
    /// Rows of a `width × height` page, to be kept at `target` (at most the page's size).
    pub(crate) fn new((width, height): (usize, usize), target: (usize, usize)) -> Self {
        let target = (
            target.0.clamp(1, width.max(1)),
            target.1.clamp(1, height.max(1)),
        );
        let reduce = target != (width, height);
        let (column, columns_in) = if reduce {
            let column: Vec<usize> = (0..width).map(|x| bin(x, width, target.0)).collect();
            let mut columns_in = vec![0_u64; target.0];
            for &c in &column {
                if let Some(n) = columns_in.get_mut(c) {
                    *n += 1;
                }
            }
            (column, columns_in)
        } else {
            (Vec::new(), Vec::new())
        };
        Self {
            source: (width, height),
            target,
            column,
            columns_in,
            sums: if reduce {
                vec![0; target.0 * 3]
            } else {
                Vec::new()
            },
            rows_in: 0,
            current: 0,
            rows_seen: 0,
            data: Vec::with_capacity(target.0 * target.1 * 3),
        }
    }

    /// Adds the next row of the page: `width` RGB pixels (a longer row is cut, a shorter one
    /// padded with white). Rows past the page's height are ignored.
    pub(crate) fn push(&mut self, rgb: &[u8]) {
        let (width, height) = self.source;
        if self.rows_seen >= height {
            return;
        }
        self.rows_seen += 1;
        let row = rgb.get(..width * 3).unwrap_or(rgb);
        if self.column.is_empty() {
            self.data.extend_from_slice(row);
            self.data.resize(self.rows_seen * width * 3, 255);
            return;
        }
        let target_row = bin(self.rows_seen - 1, height, self.target.1);
        while self.current < target_row {
            self.emit();
        }
        for (x, &c) in self.column.iter().enumerate() {
            let px = row.get(x * 3..x * 3 + 3).unwrap_or(&[255; 3]);
            if let Some(sum) = self.sums.get_mut(c * 3..c * 3 + 3) {
                for (s, &v) in sum.iter_mut().zip(px) {
                    *s += u64::from(v);
                }
            }
        }
        self.rows_in += 1;
    }

    /// Writes the current target row and starts the next.
    fn emit(&mut self) {
        let rows = self.rows_in.max(1);
        for (sum, &n) in self.sums.chunks_exact_mut(3).zip(&self.columns_in) {
            let count = (n * rows).max(1);
            for s in sum {
                self.data
                    .push(u8::try_from((*s + count / 2) / count).unwrap_or(u8::MAX));
                *s = 0;
            }
        }
        self.rows_in = 0;
        self.current += 1;
    }

    /// The page at its target size; `None` when fewer rows than its height came.
    pub(crate) fn finish(mut self) -> Option<Raster> {
        if self.rows_seen != self.source.1 {
            return None;
        }
        if !self.column.is_empty() {
            while self.current < self.target.1 {
                self.emit();
            }
        }
        Raster::from_rgb(self.target.0, self.target.1, self.data)
    }
}

/// The target index of source index `i` of `source`, spread evenly over `target`.
fn bin(i: usize, source: usize, target: usize) -> usize {
    usize::try_from(i as u64 * target as u64 / source.max(1) as u64)
        .unwrap_or(usize::MAX)
        .min(target.saturating_sub(1))
}

#[cfg(test)]
#[allow(clippy::cast_precision_loss)]
mod tests {
    use super::*;

    #[test]
    fn a_page_within_the_budget_keeps_its_size() {
        assert_eq!(fitted_size(4000, 4000, 16_000_000), (4000, 4000));
        assert_eq!(fitted_size(0, 10, 5), (0, 10));
    }

    #[test]
    fn a_page_past_the_budget_fits_it_with_its_proportions() {
        let (w, h) = fitted_size(10_000, 10_000, 16_000_000);
        assert!(w * h <= 16_000_000 && w > 3990 && w == h, "{w} × {h}");
        let (w, h) = fitted_size(9000, 3000, 1_000_000);
        assert!(
            w * h <= 1_000_000 && (w as f64 / h as f64 - 3.0).abs() < 0.01,
            "{w} × {h}"
        );
        // A strip keeps at least one pixel across.
        let (w, h) = fitted_size(100_000_000, 1, 1000);
        assert!(h == 1 && (990..=1000).contains(&w), "{w} × {h}");
    }

    #[test]
    fn rows_within_the_target_are_kept_as_they_come() {
        let mut rows = PageRows::new((2, 2), (2, 2));
        rows.push(&[1, 2, 3, 4, 5, 6]);
        rows.push(&[7, 8, 9]); // short: padded with white
        let page = rows.finish().unwrap();
        assert_eq!(page.data(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255]);
    }

    #[test]
    fn rows_past_the_target_are_averaged_by_area() {
        // 4 × 2 → 2 × 1: each target pixel is the mean of a 2 × 2 block.
        let mut rows = PageRows::new((4, 2), (2, 1));
        rows.push(&[0, 0, 0, 100, 100, 100, 200, 0, 0, 200, 0, 0]);
        rows.push(&[0, 0, 0, 100, 100, 100, 0, 0, 40, 0, 0, 40]);
        let page = rows.finish().unwrap();
        assert_eq!((page.width(), page.height()), (2, 1));
        assert_eq!(page.data(), &[50, 50, 50, 100, 0, 20]);
    }

    #[test]
    fn a_page_missing_rows_is_not_finished() {
        let mut rows = PageRows::new((2, 3), (1, 1));
        rows.push(&[0; 6]);
        assert!(rows.finish().is_none());
    }
}
