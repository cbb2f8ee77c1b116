//! The searchable PDF: one PDF page per page of the original, showing the original's pixels as
//! they are (a JPEG's own bytes, other formats' pixels losslessly), with an invisible text layer on
//! the words read (see `text.rs`), as OCRmyPDF writes it.
//!
//! **Size.** A page measures its pixels at the image's resolution when the file gives one (JFIF
//! density, PNG `pHYs`, BMP and TIFF resolutions), else at [`DEFAULT_DPI`]; a page that would be
//! longer than [`MAX_SIDE_POINTS`] is measured at the resolution that fits it.
//!
//! **Orientation.** A PDF viewer does not read EXIF, so the page is the image as a viewer shows
//! it: the pixels are drawn turned by the EXIF orientation, and the page has the turned size. The
//! record's boxes are relative to the page as its engine read it: PP-OCR (and Rekognition) read
//! the image turned upright, Tesseract as stored. Where the two differ in shape (a quarter turn)
//! the page summary's size tells which: boxes on the stored pixels are drawn through the same turn
//! as the pixels, so the text stays on the words; otherwise the boxes are taken as upright.

mod original;
mod text;

use image::metadata::Orientation;
use intake_domain::model::ImageRecord;
use pdf_writer::{Content, Filter, Finish as _, Name, Pdf, Rect, Ref};

pub(crate) use original::OriginalError;
use original::{PageImage, Pixels};

use crate::layout;

/// The resolution of an image that does not give one: the usual resolution of document scans,
/// and what Tesseract's PDF renderer and OCRmyPDF assume.
pub const DEFAULT_DPI: f32 = 300.0;

/// The longest side of a page: 200 inches, the largest page PDF readers display at unit scale
/// (PDF 1.7, annex C).
pub const MAX_SIDE_POINTS: f32 = 14_400.0;

/// The image resource's name on every page.
const IMAGE: Name<'static> = Name(b"Im0");

/// The searchable PDF of `record` over the pages of `original`.
pub(crate) fn render(record: &ImageRecord, original: &[u8]) -> Result<Vec<u8>, OriginalError> {
    let images = original::pages(original)?;
    let pages = layout::pages(record);
    let mut pdf = Pdf::new();
    let mut last = 0;
    let mut next = || {
        last += 1;
        Ref::new(last)
    };
    let (catalog, tree, font) = (next(), next(), next());
    let ids: Vec<(Ref, Ref, Ref)> = images.iter().map(|_| (next(), next(), next())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|&(page, ..)| page))
        .count(i32::try_from(ids.len()).unwrap_or(i32::MAX));
    let mut cids = text::Cids::default();
    for (number, (image, &(page_id, image_id, content_id))) in images.iter().zip(&ids).enumerate() {
        let geometry = Geometry::of(image);
        let read = pages.get(number);
        write_image(&mut pdf, image_id, image);
        let mut content = Content::new();
        content
            .save_state()
            .transform(geometry.stored_to_page())
            .transform([geometry.stored.0, 0.0, 0.0, geometry.stored.1, 0.0, 0.0])
            .x_object(IMAGE)
            .restore_state();
        if let Some(read) = read.filter(|p| !p.lines.is_empty()) {
            let upright = !geometry.read_as_stored(read.size);
            let (width, height) = if upright {
                geometry.page
            } else {
                geometry.stored
            };
            content.save_state();
            if !upright {
                content.transform(geometry.stored_to_page());
            }
            text::write_lines(
                &mut content,
                &read.lines,
                text::Frame { width, height },
                &mut cids,
            );
            content.restore_state();
        }
        let data = content.finish();
        pdf.stream(content_id, &data);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, geometry.page.0, geometry.page.1))
            .parent(tree)
            .contents(content_id);
        let mut resources = page.resources();
        resources.x_objects().pair(IMAGE, image_id);
        resources.fonts().pair(text::FONT, font);
        resources.finish();
        page.finish();
    }
    text::write_font(&mut pdf, font, &cids, &mut next);
    Ok(pdf.finish())
}

/// Writes a page's pixels as an image XObject.
fn write_image(pdf: &mut Pdf, id: Ref, page: &PageImage<'_>) {
    let (width, height) = (
        i32::try_from(page.width).unwrap_or(i32::MAX),
        i32::try_from(page.height).unwrap_or(i32::MAX),
    );
    match &page.pixels {
        Pixels::Jpeg {
            bytes,
            components,
            inverted,
        } => {
            let mut image = pdf.image_xobject(id, bytes);
            image.filter(Filter::DctDecode);
            image.width(width).height(height).bits_per_component(8);
            match components {
                1 => image.color_space().device_gray(),
                3 => image.color_space().device_rgb(),
                _ => image.color_space().device_cmyk(),
            }
            if *inverted {
                image.decode([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
            }
        }
        Pixels::Raw { gray, samples } => {
            let packed = miniz_oxide::deflate::compress_to_vec_zlib(samples, 6);
            let mut image = pdf.image_xobject(id, &packed);
            image.filter(Filter::FlateDecode);
            image.width(width).height(height).bits_per_component(8);
            if *gray {
                image.color_space().device_gray();
            } else {
                image.color_space().device_rgb();
            }
        }
    }
}

/// Where a page's pixels go: sizes in points, and the turn from the stored pixels to the page.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// The stored pixels' size in pixels.
    pixels: (u32, u32),
    /// The stored pixels' size in points.
    stored: (f32, f32),
    /// The page's size in points (the stored size turned).
    page: (f32, f32),
    orientation: Orientation,
}

impl Geometry {
    fn of(image: &PageImage<'_>) -> Self {
        let (w, h) = (image.width, image.height);
        // Within f32's exact integers for any image a decoder accepts.
        #[allow(clippy::cast_precision_loss)]
        let (wf, hf) = (w as f32, h as f32);
        let dpi = image
            .dpi
            .filter(|d| d.is_finite() && (10.0..=100_000.0).contains(d))
            .unwrap_or(DEFAULT_DPI)
            .max(wf.max(hf) * 72.0 / MAX_SIDE_POINTS);
        let stored = (wf * 72.0 / dpi, hf * 72.0 / dpi);
        let page = if turns(image.orientation) {
            (stored.1, stored.0)
        } else {
            stored
        };
        Self {
            pixels: (w, h),
            stored,
            page,
            orientation: image.orientation,
        }
    }

    /// Whether an engine whose page was `read` pixels read the stored pixels rather than the
    /// upright image: only a quarter turn tells them apart.
    fn read_as_stored(&self, read: Option<(u32, u32)>) -> bool {
        turns(self.orientation) && self.pixels.0 != self.pixels.1 && read == Some(self.pixels)
    }

    /// The matrix from the stored pixels' frame (points, from the bottom-left corner) to the
    /// page's: the orientation's turn or mirror.
    fn stored_to_page(&self) -> [f32; 6] {
        let (sw, sh) = self.stored;
        let ph = self.page.1;
        // A point of the stored frame, measured from the top-left as images are, turned as EXIF
        // says, and measured from the page's bottom-left.
        let map = |x: f32, y: f32| -> (f32, f32) {
            let (x, y) = (x, sh - y);
            let (u, v) = match self.orientation {
                Orientation::NoTransforms => (x, y),
                Orientation::FlipHorizontal => (sw - x, y),
                Orientation::Rotate180 => (sw - x, sh - y),
                Orientation::FlipVertical => (x, sh - y),
                Orientation::Rotate90FlipH => (y, x),
                Orientation::Rotate90 => (sh - y, x),
                Orientation::Rotate270FlipH => (sh - y, sw - x),
                Orientation::Rotate270 => (y, sw - x),
            };
            (u, ph - v)
        };
        let origin = map(0.0, 0.0);
        let across = map(1.0, 0.0);
        let up = map(0.0, 1.0);
        [
            across.0 - origin.0,
            across.1 - origin.1,
            up.0 - origin.0,
            up.1 - origin.1,
            origin.0,
            origin.1,
        ]
    }
}

/// Whether `orientation` swaps width and height.
fn turns(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    fn geometry(width: u32, height: u32, dpi: Option<f32>, orientation: Orientation) -> Geometry {
        Geometry::of(&PageImage {
            width,
            height,
            dpi,
            orientation,
            pixels: Pixels::Raw {
                gray: true,
                samples: vec![],
            },
        })
    }

    fn apply(m: [f32; 6], (x, y): (f32, f32)) -> (f32, f32) {
        (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
    }

    #[test]
    fn pages_measure_their_pixels_at_the_images_resolution() {
        let g = geometry(2550, 3300, None, Orientation::NoTransforms);
        assert_eq!(g.page, (612.0, 792.0));
        let g = geometry(1700, 2200, Some(200.0), Orientation::Rotate90);
        assert_eq!((g.stored, g.page), ((612.0, 792.0), (792.0, 612.0)));
        // Too long at its own resolution: measured at one that fits.
        let g = geometry(100_000, 10, Some(72.0), Orientation::NoTransforms);
        assert!((g.page.0 - MAX_SIDE_POINTS).abs() < 0.01);
        // An implausible resolution is ignored.
        assert_eq!(
            geometry(300, 300, Some(0.0), Orientation::NoTransforms).page,
            (72.0, 72.0)
        );
    }

    #[test]
    fn the_stored_frame_turns_as_exif_says() {
        // 3 × 2 points stored; a quarter turn clockwise makes a 2 × 3 page, the stored top-left
        // corner (0, 2) at the page's top-right (2, 3).
        let g = geometry(300, 200, Some(7200.0), Orientation::Rotate90);
        let m = g.stored_to_page();
        assert_eq!(apply(m, (0.0, 2.0)), (2.0, 3.0));
        assert_eq!(apply(m, (3.0, 0.0)), (0.0, 0.0));
        let g = geometry(300, 200, Some(7200.0), Orientation::Rotate270);
        let m = g.stored_to_page();
        assert_eq!(apply(m, (0.0, 2.0)), (0.0, 0.0));
        let g = geometry(300, 200, Some(7200.0), Orientation::Rotate180);
        assert_eq!(apply(g.stored_to_page(), (0.0, 0.0)), (3.0, 2.0));
        let g = geometry(300, 200, Some(7200.0), Orientation::NoTransforms);
        assert_eq!(g.stored_to_page(), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        // Which frame the boxes are in: told apart by a quarter turn only.
        let g = geometry(300, 200, None, Orientation::Rotate90);
        assert!(g.read_as_stored(Some((300, 200))));
        assert!(!g.read_as_stored(Some((200, 300))) && !g.read_as_stored(None));
        let g = geometry(300, 200, None, Orientation::Rotate180);
        assert!(!g.read_as_stored(Some((300, 200))));
    }
}
