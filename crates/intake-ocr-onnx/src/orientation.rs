//! The page classifier's input: the page scaled so its shorter side is 256 (Lanczos), the centre
//! 224 × 224 cut out, BGR planes normalised with the ImageNet mean and deviation, as the classifier's
//! reference pre-processing does.

use image::{ImageBuffer, Rgb, imageops};

use crate::raster::Raster;

const SIZE: u32 = 224;
const SHORT: f64 = 256.0;

/// The `1 × 3 × 224 × 224` input for `page`.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub(crate) fn prepare(page: &Raster) -> Vec<f32> {
    let (w, h) = (page.width() as f64, page.height() as f64);
    let mut scale = SHORT / w.min(h).max(1.0);
    if (w * scale).round() < f64::from(SIZE) || (h * scale).round() < f64::from(SIZE) {
        scale = f64::from(SIZE) / w.min(h).max(1.0);
    }
    let nw = ((w * scale).round() as u32).max(SIZE);
    let nh = ((h * scale).round() as u32).max(SIZE);
    let mut out = vec![0.0_f32; 3 * (SIZE * SIZE) as usize];
    // A view of the page's pixels, not a copy (a 100-megapixel page is 300 MB).
    let Some(rgb) = ImageBuffer::<Rgb<u8>, &[u8]>::from_raw(
        u32::try_from(page.width()).unwrap_or(0),
        u32::try_from(page.height()).unwrap_or(0),
        page.data(),
    ) else {
        return out;
    };
    let resized = imageops::resize(&rgb, nw, nh, imageops::FilterType::Lanczos3);
    let (left, top) = ((nw - SIZE) / 2, (nh - SIZE) / 2);
    let crop = imageops::crop_imm(&resized, left, top, SIZE, SIZE).to_image();
    let Some(raster) = Raster::from_rgb(SIZE as usize, SIZE as usize, crop.into_raw()) else {
        return out;
    };
    raster.write_planar_bgr(
        &mut out,
        (SIZE * SIZE) as usize,
        SIZE as usize,
        [0.485, 0.456, 0.406],
        [0.229, 0.224, 0.225],
    );
    out
}

/// Probabilities from logits (or the probabilities themselves, when they already sum to one).
pub(crate) fn softmax(values: &[f32]) -> Vec<f32> {
    let sum: f32 = values.iter().sum();
    if values.iter().all(|v| *v >= 0.0) && (sum - 1.0).abs() < 1e-4 {
        return values.to_vec();
    }
    let max = values.iter().copied().fold(f32::MIN, f32::max);
    let exp: Vec<f32> = values.iter().map(|v| (v - max).exp()).collect();
    let total: f32 = exp.iter().sum();
    exp.iter().map(|v| v / total).collect()
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

    #[test]
    fn input_has_the_classifier_shape() {
        let page = Raster::filled(600, 800, [255, 255, 255]);
        let input = prepare(&page);
        assert_eq!(input.len(), 3 * 224 * 224);
        // White in the B plane: (1 − 0.485) / 0.229.
        assert!((input[0] - (1.0 - 0.485) / 0.229).abs() < 1e-4);
    }

    #[test]
    fn softmax_normalises_logits_and_keeps_probabilities() {
        let p = softmax(&[1.0, 1.0]);
        assert!((p[0] - 0.5).abs() < 1e-6);
        assert_eq!(softmax(&[0.25, 0.75]), vec![0.25, 0.75]);
    }
}
