//! The page's image fingerprint for near-duplicate detection (issue 27): the domain's sketch of the
//! decoded page, in grey, turned upright as the pipeline read it, hashed. The rule (trimming,
//! averaging, the hash) is the domain's; this only hands it the pixels.

use intake_domain::model::{ImageHash, PageSketch};

use crate::raster::Raster;

/// The perceptual hash of `page` turned upright by `quarter_turns` clockwise quarter turns; `None`
/// for a page without pixels.
pub(crate) fn page_hash(page: &Raster, quarter_turns: u8) -> Option<ImageHash> {
    let grey: Vec<u8> = page.data().chunks_exact(3).map(luma).collect();
    let sketch = PageSketch::from_grey(
        u32::try_from(page.width()).ok()?,
        u32::try_from(page.height()).ok()?,
        &grey,
    )
    .ok()?;
    Some(sketch.turned_clockwise(quarter_turns).image_hash())
}

/// ITU-R BT.601 luma, in integers.
fn luma(rgb: &[u8]) -> u8 {
    let [r, g, b] = [0, 1, 2].map(|i| u32::from(rgb.get(i).copied().unwrap_or_default()));
    u8::try_from((299 * r + 587 * g + 114 * b + 500) / 1000).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with a dark block in its upper left quarter and a bar along its foot.
    fn page(width: usize, height: usize) -> Raster {
        let mut data = vec![255u8; width * height * 3];
        let mut paint = |xs: std::ops::Range<usize>, ys: std::ops::Range<usize>| {
            for y in ys {
                for x in xs.clone() {
                    let i = (y * width + x) * 3;
                    data[i..i + 3].copy_from_slice(&[20, 40, 60]);
                }
            }
        };
        paint(width / 8..width / 2, height / 8..height / 3);
        paint(width / 3..width * 7 / 8, height * 3 / 4..height * 4 / 5);
        Raster::from_rgb(width, height, data).unwrap()
    }

    #[test]
    fn a_page_read_on_its_side_hashes_as_the_upright_page() {
        let upright = page(120, 160);
        // As scanned: turned a quarter anticlockwise; the pipeline turns it one quarter clockwise.
        let sideways = upright.rotate_ccw();
        assert_eq!(page_hash(&sideways, 1), page_hash(&upright, 0));
        assert_ne!(page_hash(&sideways, 0), page_hash(&upright, 0));
    }

    #[test]
    fn grey_is_the_luma() {
        assert_eq!(luma(&[255, 255, 255]), 255);
        assert_eq!(luma(&[0, 0, 0]), 0);
        assert_eq!(luma(&[255, 0, 0]), 76);
    }
}
