//! Image bytes to pages of RGB pixels: every format the engine declares ([`FORMATS`]), EXIF
//! orientation applied (a phone photo taken sideways is read upright; a HEIC's `irot`/`imir` are
//! applied as it is decoded), transparency flattened onto white, and every page of a
//! multi-page TIFF. Decoding is bounded by the pixel limit the processor already enforced, and each
//! page is kept within the engine's pixel budget ([`crate::budget`]): a PNG (not interlaced) is
//! read row by row, 16-bit samples straight to 8, and averaged down as it comes; other formats are
//! decoded as stored and then averaged down band by band, never also held whole as RGB.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};
use intake_domain::model::ContentType;

use crate::budget::{PageRows, fitted_size};
use crate::raster::Raster;

/// The formats the engine decodes.
pub(crate) const FORMATS: &[ContentType] = &[
    ContentType::Png,
    ContentType::Jpeg,
    ContentType::Tiff,
    ContentType::Bmp,
    ContentType::Gif,
    ContentType::Webp,
    ContentType::Heic,
];

/// Rows converted at a time from a decoded image in a layout other than 8-bit grey or RGB.
const BAND_ROWS: usize = 64;

/// Why the bytes could not be turned into pages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not an image the engine reads, or are damaged.
    #[error("cannot decode the image: {0}")]
    Invalid(String),
    /// The image holds more pixels than allowed.
    #[error("the image has {pixels} pixels, more than the limit of {limit}")]
    TooLarge {
        /// Pixels in the image (all pages).
        pixels: u64,
        /// The limit.
        limit: u64,
    },
}

/// A decoded page: its pixels, within the pixel budget, and its size upright as stored (the
/// pixels are smaller when the page was averaged down).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Page {
    /// The pixels the engine reads.
    pub raster: Raster,
    /// Width of the page as stored, upright.
    pub width: usize,
    /// Height of the page as stored, upright.
    pub height: usize,
}

impl Page {
    fn new(raster: Raster, (width, height): (usize, usize)) -> Self {
        Self {
            raster,
            width,
            height,
        }
    }

    /// Turned and mirrored as the image's EXIF orientation says, so the page reads upright.
    fn oriented(self, orientation: Orientation) -> Self {
        let (w, h) = (self.width, self.height);
        let r = self.raster;
        let (raster, size) = match orientation {
            Orientation::NoTransforms => (r, (w, h)),
            Orientation::Rotate90 => (r.rotate_cw(), (h, w)),
            Orientation::Rotate180 => (r.rotate_180(), (w, h)),
            Orientation::Rotate270 => (r.rotate_ccw(), (h, w)),
            Orientation::FlipHorizontal => (r.flip_horizontal(), (w, h)),
            Orientation::FlipVertical => (r.rotate_180().flip_horizontal(), (w, h)),
            Orientation::Rotate90FlipH => (r.rotate_cw().flip_horizontal(), (h, w)),
            Orientation::Rotate270FlipH => (r.rotate_ccw().flip_horizontal(), (h, w)),
        };
        Self::new(raster, size)
    }
}

/// The pages of an image, at most `max_pixels` pixels in all, each kept within `page_pixels`.
///
/// # Errors
/// [`DecodeError::Invalid`] for bytes that do not decode, [`DecodeError::TooLarge`] past the limit.
pub(crate) fn decode_pages(
    bytes: &[u8],
    max_pixels: u64,
    page_pixels: u64,
) -> Result<Vec<Page>, DecodeError> {
    if is_heic(bytes) {
        return heic_page(bytes, max_pixels, page_pixels);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Invalid(e.to_string()))?;
    let format = reader.format();
    if format == Some(image::ImageFormat::Tiff) {
        return tiff_pages(bytes, max_pixels, page_pixels);
    }
    let mut reader = reader;
    reader.limits(limits(max_pixels));
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    let (w, h) = decoder.dimensions();
    check_pixels(u64::from(w) * u64::from(h), max_pixels)?;
    let orientation = decoder.orientation().map_err(invalid)?;
    let size = (w as usize, h as usize);
    if format == Some(image::ImageFormat::Png) {
        drop(decoder);
        if let Some(raster) = png_rows(bytes, size, page_pixels)? {
            return Ok(vec![Page::new(raster, size).oriented(orientation)]);
        }
        // Interlaced: decoded whole below.
        let mut reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
        reader.limits(limits(max_pixels));
        let img = reader.decode().map_err(invalid)?;
        return Ok(vec![
            page_from_image(img, page_pixels)?.oriented(orientation),
        ]);
    }
    let img = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    Ok(vec![
        page_from_image(img, page_pixels)?.oriented(orientation),
    ])
}

/// Whether the bytes are a HEIC, by the domain's sniffer (on the first bytes, where the brands are).
fn is_heic(bytes: &[u8]) -> bool {
    let head = bytes
        .get(..intake_domain::sniff::SNIFF_BYTES)
        .unwrap_or(bytes);
    intake_domain::sniff::sniff(head).content_type == Some(ContentType::Heic)
}

/// A HEIC's primary image, upright (its crop, rotation and mirror applied as it is decoded).
fn heic_page(bytes: &[u8], max_pixels: u64, page_pixels: u64) -> Result<Vec<Page>, DecodeError> {
    let image = intake_heic::decode(bytes, max_pixels).map_err(|e| match e {
        intake_heic::HeicError::TooLarge { pixels, limit } => {
            DecodeError::TooLarge { pixels, limit }
        }
        other => DecodeError::Invalid(other.to_string()),
    })?;
    Ok(vec![page_from_image(image, page_pixels)?])
}

fn invalid(e: image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Limits(l) => {
            DecodeError::Invalid(format!("beyond the decoding limits: {l}"))
        }
        other => DecodeError::Invalid(other.to_string()),
    }
}

fn check_pixels(pixels: u64, limit: u64) -> Result<(), DecodeError> {
    if pixels > limit {
        Err(DecodeError::TooLarge { pixels, limit })
    } else {
        Ok(())
    }
}

fn limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    // Decoded RGBA at 16 bits per channel is 8 bytes a pixel; leave room for the decoder's buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    limits
}

fn short_rows() -> DecodeError {
    DecodeError::Invalid("the image ended before its last row".to_owned())
}

/// A PNG that is not interlaced, row by row: palettes expanded, 16-bit samples cut to 8, each row
/// turned RGB and kept or averaged into the page. `None` for an interlaced PNG.
fn png_rows(
    bytes: &[u8],
    (w, h): (usize, usize),
    page_pixels: u64,
) -> Result<Option<Raster>, DecodeError> {
    let png_err = |e: png::DecodingError| DecodeError::Invalid(e.to_string());
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_err)?;
    let info = reader.info();
    if info.interlaced || (info.width as usize, info.height as usize) != (w, h) {
        return Ok(None);
    }
    let channels = match reader.output_color_type().0 {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        // normalize_to_color8 expands palettes; anything else goes through the general decoder.
        png::ColorType::Indexed => return Ok(None),
    };
    let mut rows = PageRows::new((w, h), fitted_size(w, h, page_pixels));
    let mut rgb = Vec::with_capacity(w * 3);
    while let Some(row) = reader.next_row().map_err(png_err)? {
        rgb_row(row.data(), channels, &mut rgb);
        rows.push(&rgb);
    }
    rows.finish().map(Some).ok_or_else(short_rows)
}

/// A decoded image as a page within `page_pixels`: 8-bit RGB within the budget is taken as it is;
/// anything else is turned RGB (transparency over white) a row or a band of rows at a time, so the
/// image is never also held whole at three bytes a pixel.
fn page_from_image(img: DynamicImage, page_pixels: u64) -> Result<Page, DecodeError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let target = fitted_size(w, h, page_pixels);
    let img = match img {
        DynamicImage::ImageRgb8(buffer) if target == (w, h) => {
            let raster = Raster::from_rgb(w, h, buffer.into_raw())
                .ok_or_else(|| DecodeError::Invalid("inconsistent pixel buffer".to_owned()))?;
            return Ok(Page::new(raster, (w, h)));
        }
        other => other,
    };
    let mut rows = PageRows::new((w, h), target);
    let mut rgb = Vec::with_capacity(w * 3);
    match &img {
        DynamicImage::ImageRgb8(buffer) => {
            for row in buffer.as_raw().chunks_exact(w.max(1) * 3) {
                rows.push(row);
            }
        }
        DynamicImage::ImageLuma8(buffer) => {
            for row in buffer.as_raw().chunks_exact(w.max(1)) {
                rgb_row(row, 1, &mut rgb);
                rows.push(&rgb);
            }
        }
        _ => {
            for top in (0..h).step_by(BAND_ROWS) {
                let band_h = BAND_ROWS.min(h - top);
                #[allow(clippy::cast_possible_truncation)] // within the image's u32 sides
                let band = img
                    .crop_imm(0, top as u32, w as u32, band_h as u32)
                    .into_rgba8();
                for row in band.as_raw().chunks_exact(w.max(1) * 4) {
                    rgb_row(row, 4, &mut rgb);
                    rows.push(&rgb);
                }
            }
        }
    }
    drop(img);
    let raster = rows.finish().ok_or_else(short_rows)?;
    Ok(Page::new(raster, (w, h)))
}

/// One row of 8-bit samples (`channels`: grey, grey + alpha, RGB or RGBA) as RGB into `out`
/// (cleared first), transparency laid over white.
fn rgb_row(samples: &[u8], channels: usize, out: &mut Vec<u8>) {
    out.clear();
    match channels {
        1 => samples
            .iter()
            .for_each(|&g| out.extend_from_slice(&[g, g, g])),
        2 => samples.as_chunks::<2>().0.iter().for_each(|&[g, a]| {
            let g = over_white(g, a);
            out.extend_from_slice(&[g, g, g]);
        }),
        3 => out.extend_from_slice(samples),
        _ => samples
            .as_chunks::<4>()
            .0
            .iter()
            .for_each(|&[r, g, b, a]| out.extend([r, g, b].map(|c| over_white(c, a)))),
    }
}

/// A channel value `c` with coverage `alpha` laid over white paper.
fn over_white(c: u8, alpha: u8) -> u8 {
    let a = u16::from(alpha);
    u8::try_from((u16::from(c) * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
}

/// Every page of a TIFF, read page by page by the TIFF decoder in the common scanner layouts
/// (bilevel, grey, RGB, with or without alpha, 8 or 16 bits); a single page in another layout
/// (palette, CMYK, YCbCr) goes through the general decoder, and a later page in one is refused
/// rather than skipped.
fn tiff_pages(bytes: &[u8], max_pixels: u64, page_pixels: u64) -> Result<Vec<Page>, DecodeError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};

    let tiff_err = |e: tiff::TiffError| DecodeError::Invalid(e.to_string());
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(tiff_err)?;
    let mut pages = Vec::new();
    let mut pixels = 0_u64;
    loop {
        let (w, h) = decoder.dimensions().map_err(tiff_err)?;
        pixels = pixels.saturating_add(u64::from(w) * u64::from(h));
        check_pixels(pixels, max_pixels)?;
        let color = decoder.colortype().map_err(tiff_err)?;
        let (w, h) = (w as usize, h as usize);
        let samples = match color {
            ColorType::Gray(_) => 1,
            ColorType::GrayA(_) => 2,
            ColorType::RGB(_) => 3,
            ColorType::RGBA(_) => 4,
            other => {
                if pages.is_empty() {
                    // The general decoder knows more layouts (palette, CMYK, YCbCr) for a single page.
                    let mut reader =
                        ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Tiff);
                    reader.limits(limits(max_pixels));
                    let img = reader.decode().map_err(invalid)?;
                    if decoder.more_images() {
                        return Err(DecodeError::Invalid(format!(
                            "multi-page TIFF in an unsupported colour layout ({other:?})"
                        )));
                    }
                    return Ok(vec![page_from_image(img, page_pixels)?]);
                }
                return Err(DecodeError::Invalid(format!(
                    "TIFF page in an unsupported colour layout ({other:?})"
                )));
            }
        };
        let bits = match color {
            ColorType::Gray(b) | ColorType::GrayA(b) | ColorType::RGB(b) | ColorType::RGBA(b) => b,
            _ => 8,
        };
        let decoded = decoder.read_image().map_err(tiff_err)?;
        let row_len = w * samples;
        let mut rows = PageRows::new((w, h), fitted_size(w, h, page_pixels));
        let (mut row, mut rgb) = (Vec::with_capacity(row_len), Vec::with_capacity(w * 3));
        for y in 0..h {
            row.clear();
            match &decoded {
                DecodingResult::U8(v) if bits == 8 => {
                    row.extend_from_slice(v.get(y * row_len..(y + 1) * row_len).unwrap_or(&[]));
                }
                DecodingResult::U8(v) if bits == 1 && samples == 1 => {
                    let packed = w.div_ceil(8);
                    unpack_bits(
                        v.get(y * packed..(y + 1) * packed).unwrap_or(&[]),
                        w,
                        &mut row,
                    );
                }
                DecodingResult::U16(v) => row.extend(
                    v.get(y * row_len..(y + 1) * row_len)
                        .unwrap_or(&[])
                        .iter()
                        .map(|x| u8::try_from(x >> 8).unwrap_or(u8::MAX)),
                ),
                _ => {
                    return Err(DecodeError::Invalid(format!(
                        "TIFF page with {bits}-bit samples"
                    )));
                }
            }
            if row.len() < row_len {
                return Err(DecodeError::Invalid(
                    "TIFF page shorter than its dimensions".to_owned(),
                ));
            }
            rgb_row(&row, samples, &mut rgb);
            rows.push(&rgb);
        }
        drop(decoded);
        let raster = rows
            .finish()
            .ok_or_else(|| DecodeError::Invalid("bad TIFF page".to_owned()))?;
        pages.push(Page::new(raster, (w, h)));
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(tiff_err)?;
    }
    Ok(pages)
}

/// One bilevel row (1 bit a pixel, padded to a byte, 1 = white as `BlackIsZero` reads) as `w`
/// bytes appended to `out`.
fn unpack_bits(packed: &[u8], w: usize, out: &mut Vec<u8>) {
    for x in 0..w {
        let byte = packed.get(x / 8).copied().unwrap_or(0xff);
        out.push(if byte & (0x80 >> (x % 8)) != 0 {
            255
        } else {
            0
        });
    }
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
    use image::{ImageEncoder as _, codecs::png::PngEncoder};

    fn png(w: u32, h: u32, rgba: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        let pixels: Vec<u8> = (0..w * h).flat_map(|_| rgba).collect();
        PngEncoder::new(&mut out)
            .write_image(&pixels, w, h, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    #[test]
    fn transparent_pixels_become_white_paper() {
        let pages = decode_pages(&png(4, 3, [0, 0, 0, 0]), 1_000, 1_000).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].raster.pixel_clamped(0, 0), [255, 255, 255]);
        let opaque = decode_pages(&png(4, 3, [10, 20, 30, 255]), 1_000, 1_000).unwrap();
        assert_eq!(opaque[0].raster.pixel_clamped(3, 2), [10, 20, 30]);
    }

    #[test]
    fn pixel_limit_is_enforced_before_decoding() {
        let err = decode_pages(&png(40, 30, [0; 4]), 1_000, 1_000).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooLarge {
                    pixels: 1200,
                    limit: 1000
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_invalid() {
        assert!(matches!(
            decode_pages(b"not an image", 1_000, 1_000),
            Err(DecodeError::Invalid(_))
        ));
        let mut truncated = png(40, 30, [0; 4]);
        truncated.truncate(60);
        assert!(matches!(
            decode_pages(&truncated, 10_000, 10_000),
            Err(DecodeError::Invalid(_))
        ));
    }

    #[test]
    fn bilevel_rows_unpack_msb_first() {
        let mut row = Vec::new();
        unpack_bits(&[0b1010_0000], 3, &mut row);
        unpack_bits(&[0b0100_0000], 3, &mut row);
        assert_eq!(row, vec![255, 0, 255, 0, 255, 0]);
    }
}
