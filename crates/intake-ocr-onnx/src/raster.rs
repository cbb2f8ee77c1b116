//! An 8-bit, three-channel image in memory and the few pixel operations the pipeline needs, each
//! matching what the reference pipeline (OpenCV) does, because the models were trained and tuned on
//! images prepared that way: bilinear resizing with half-pixel centres and no anti-aliasing, rotations
//! by quarter turns, and constant-colour padding.

/// An image: `width × height` pixels, three bytes each, rows top to bottom, channels in RGB order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Raster {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Raster {
    /// An image from its pixels; `None` when `data` does not hold `width × height × 3` bytes.
    pub(crate) fn from_rgb(width: usize, height: usize, data: Vec<u8>) -> Option<Self> {
        (width.checked_mul(height)?.checked_mul(3)? == data.len()).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// A `width × height` image of one colour.
    #[cfg(test)]
    pub(crate) fn filled(width: usize, height: usize, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(width * height * 3);
        for _ in 0..width * height {
            data.extend_from_slice(&rgb);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Width in pixels.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// The pixels, RGB, row by row.
    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel at `(x, y)` (clamped into the image: OpenCV's replicated border).
    pub(crate) fn pixel_clamped(&self, x: isize, y: isize) -> [u8; 3] {
        let x = x.clamp(0, self.width.cast_signed() - 1).cast_unsigned();
        let y = y.clamp(0, self.height.cast_signed() - 1).cast_unsigned();
        let i = (y * self.width + x) * 3;
        match self.data.get(i..i + 3) {
            Some(&[r, g, b]) => [r, g, b],
            _ => [0, 0, 0],
        }
    }

    /// Resized to `width × height` by bilinear interpolation as OpenCV's `INTER_LINEAR` does it:
    /// source coordinate `(x + 0.5) · scale − 0.5`, clamped at the edges, no anti-aliasing filter.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn resize_bilinear(&self, width: usize, height: usize) -> Self {
        if width == self.width && height == self.height {
            return self.clone();
        }
        let xs = taps(self.width, width);
        let ys = taps(self.height, height);
        let mut data = vec![0_u8; width * height * 3];
        let row_len = self.width * 3;
        for (dst_row, &(y0, y1, wy)) in data.chunks_exact_mut(width * 3).zip(&ys) {
            let (Some(r0), Some(r1)) = (
                self.data.get(y0 * row_len..(y0 + 1) * row_len),
                self.data.get(y1 * row_len..(y1 + 1) * row_len),
            ) else {
                continue;
            };
            for (dst, &(x0, x1, wx)) in dst_row.chunks_exact_mut(3).zip(&xs) {
                for (c, out) in dst.iter_mut().enumerate() {
                    let at =
                        |row: &[u8], x: usize| f32::from(row.get(x * 3 + c).copied().unwrap_or(0));
                    let top = at(r0, x0) * (1.0 - wx) + at(r0, x1) * wx;
                    let bottom = at(r1, x0) * (1.0 - wx) + at(r1, x1) * wx;
                    *out = to_u8(top * (1.0 - wy) + bottom * wy);
                }
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Turned a quarter turn counter-clockwise (NumPy's `rot90`): the right edge becomes the top.
    pub(crate) fn rotate_ccw(&self) -> Self {
        let (w, h) = (self.width, self.height);
        let mut data = Vec::with_capacity(self.data.len());
        for row in 0..w {
            for col in 0..h {
                let src = (col * w + (w - 1 - row)) * 3;
                data.extend_from_slice(self.data.get(src..src + 3).unwrap_or(&[0, 0, 0]));
            }
        }
        Self {
            width: h,
            height: w,
            data,
        }
    }

    /// Turned a quarter turn clockwise: the left edge becomes the top.
    pub(crate) fn rotate_cw(&self) -> Self {
        let (w, h) = (self.width, self.height);
        let mut data = Vec::with_capacity(self.data.len());
        for row in 0..w {
            for col in 0..h {
                let src = ((h - 1 - col) * w + row) * 3;
                data.extend_from_slice(self.data.get(src..src + 3).unwrap_or(&[0, 0, 0]));
            }
        }
        Self {
            width: h,
            height: w,
            data,
        }
    }

    /// Turned half a turn.
    pub(crate) fn rotate_180(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for pixel in self.data.chunks_exact(3).rev() {
            data.extend_from_slice(pixel);
        }
        Self {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Mirrored left to right (an EXIF orientation's flip).
    pub(crate) fn flip_horizontal(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for row in self.data.chunks_exact(self.width.max(1) * 3) {
            for pixel in row.chunks_exact(3).rev() {
                data.extend_from_slice(pixel);
            }
        }
        Self {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// With `top` rows of black above and `bottom` below.
    pub(crate) fn pad_vertical(&self, top: usize, bottom: usize) -> Self {
        let row = self.width * 3;
        let mut data = vec![0_u8; row * (self.height + top + bottom)];
        if let Some(dst) = data.get_mut(row * top..row * (top + self.height)) {
            dst.copy_from_slice(&self.data);
        }
        Self {
            width: self.width,
            height: self.height + top + bottom,
            data,
        }
    }

    /// The pixels as a planar `3 × height × width` tensor in BGR order (the models were trained on
    /// OpenCV's BGR images), each value `(v / 255 − mean) / std`, written into `out` at `offset` with
    /// rows `stride` values apart (so an image can be placed into a wider, padded batch slot).
    pub(crate) fn write_planar_bgr(
        &self,
        out: &mut [f32],
        plane_len: usize,
        stride: usize,
        mean: [f32; 3],
        std: [f32; 3],
    ) {
        // Planes in B, G, R order; the raster is RGB.
        for (plane, ((src_channel, mean), std)) in
            [2_usize, 1, 0].into_iter().zip(mean).zip(std).enumerate()
        {
            let scale = 1.0 / (255.0 * std);
            let shift = mean / std;
            let Some(dst_plane) = out.get_mut(plane * plane_len..(plane + 1) * plane_len) else {
                return;
            };
            for (y, src_row) in self.data.chunks_exact(self.width * 3).enumerate() {
                let Some(dst_row) = dst_plane.get_mut(y * stride..y * stride + self.width) else {
                    return;
                };
                for (dst, px) in dst_row.iter_mut().zip(src_row.chunks_exact(3)) {
                    *dst = f32::from(px.get(src_channel).copied().unwrap_or(0)) * scale - shift;
                }
            }
        }
    }
}

/// Rounds and saturates a value to a byte.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// For each destination index: the two source indexes and the weight of the second, as OpenCV computes
/// them for `INTER_LINEAR`.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let f = (d as f64 + 0.5) * scale - 0.5;
            let mut s = f.floor();
            let mut w = f - s;
            if s < 0.0 {
                s = 0.0;
                w = 0.0;
            }
            let s = s as usize;
            if s + 1 >= src {
                (src - 1, src - 1, 0.0)
            } else {
                (s, s + 1, w as f32)
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 10) as u8, (y * 10) as u8, 7]);
            }
        }
        Raster::from_rgb(w, h, data).unwrap()
    }

    #[test]
    fn from_rgb_checks_the_length() {
        assert!(Raster::from_rgb(2, 2, vec![0; 11]).is_none());
        assert!(Raster::from_rgb(2, 2, vec![0; 12]).is_some());
    }

    #[test]
    fn bilinear_upscale_by_two_matches_opencv() {
        // OpenCV: cv2.resize(np.array([[0, 100]], np.uint8), (4, 1)) == [[0, 25, 75, 100]]
        let src = Raster::from_rgb(2, 1, vec![0, 0, 0, 100, 100, 100]).unwrap();
        let dst = src.resize_bilinear(4, 1);
        let reds: Vec<u8> = dst.data().chunks(3).map(|p| p[0]).collect();
        assert_eq!(reds, vec![0, 25, 75, 100]);
    }

    #[test]
    fn bilinear_downscale_by_two_averages_pairs() {
        // OpenCV: cv2.resize(np.array([[0, 100, 200, 250]], np.uint8), (2, 1)) == [[50, 225]]
        let src = Raster::from_rgb(
            4,
            1,
            [0, 100, 200, 250].iter().flat_map(|&v| [v, v, v]).collect(),
        )
        .unwrap();
        let reds: Vec<u8> = src
            .resize_bilinear(2, 1)
            .data()
            .chunks(3)
            .map(|p| p[0])
            .collect();
        assert_eq!(reds, vec![50, 225]);
    }

    #[test]
    fn quarter_turns_compose() {
        let img = gradient(3, 2);
        let ccw = img.rotate_ccw();
        assert_eq!((ccw.width(), ccw.height()), (2, 3));
        // The top-right pixel moves to the top-left.
        assert_eq!(ccw.pixel_clamped(0, 0), img.pixel_clamped(2, 0));
        assert_eq!(ccw.rotate_cw(), img);
        assert_eq!(img.rotate_180().rotate_180(), img);
        assert_eq!(ccw.rotate_ccw(), img.rotate_180());
        let mirrored = img.flip_horizontal();
        assert_eq!(mirrored.pixel_clamped(0, 1), img.pixel_clamped(2, 1));
        assert_eq!(mirrored.flip_horizontal(), img);
    }

    #[test]
    fn padding_adds_black_rows() {
        let img = gradient(2, 1).pad_vertical(1, 2);
        assert_eq!(img.height(), 4);
        assert_eq!(img.pixel_clamped(1, 0), [0, 0, 0]);
        assert_eq!(img.pixel_clamped(1, 1), [10, 0, 7]);
        assert_eq!(img.pixel_clamped(1, 3), [0, 0, 0]);
    }

    #[test]
    fn planar_bgr_normalises_each_channel() {
        let img = Raster::from_rgb(1, 1, vec![255, 0, 51]).unwrap();
        let mut out = vec![0.0; 3];
        img.write_planar_bgr(&mut out, 1, 1, [0.5; 3], [0.5; 3]);
        // B = 51 -> 51/255/0.5 - 1 = -0.6; G = 0 -> -1; R = 255 -> 1.
        assert!((out[0] + 0.6).abs() < 1e-6);
        assert!((out[1] + 1.0).abs() < 1e-6);
        assert!((out[2] - 1.0).abs() < 1e-6);
    }
}
