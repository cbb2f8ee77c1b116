//! Image bytes to pages of RGB pixels: every format the engine declares ([`FORMATS`]), EXIF
//! orientation applied (a phone photo taken sideways is read upright; a HEIC's `irot`/`imir` are
//! applied as it is decoded), transparency flattened onto white, and every page of a
//! multi-page TIFF. Decoding is bounded by the pixel limit the processor already enforced.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};
use intake_domain::model::ContentType;

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

/// The pages of an image, at most `max_pixels` pixels in all.
///
/// # Errors
/// [`DecodeError::Invalid`] for bytes that do not decode, [`DecodeError::TooLarge`] past the limit.
pub(crate) fn decode_pages(bytes: &[u8], max_pixels: u64) -> Result<Vec<Raster>, DecodeError> {
    if is_heic(bytes) {
        return heic_page(bytes, max_pixels);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Invalid(e.to_string()))?;
    if reader.format() == Some(image::ImageFormat::Tiff) {
        return tiff_pages(bytes, max_pixels);
    }
    let mut reader = reader;
    reader.limits(limits(max_pixels));
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    let (w, h) = decoder.dimensions();
    check_pixels(u64::from(w) * u64::from(h), max_pixels)?;
    let orientation = decoder.orientation().map_err(invalid)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    img.apply_orientation(orientation);
    Ok(vec![to_raster(img)?])
}

/// Whether the bytes are a HEIC, by the domain's sniffer (on the first bytes, where the brands are).
fn is_heic(bytes: &[u8]) -> bool {
    let head = bytes
        .get(..intake_domain::sniff::SNIFF_BYTES)
        .unwrap_or(bytes);
    intake_domain::sniff::sniff(head).content_type == Some(ContentType::Heic)
}

/// A HEIC's primary image, upright (its crop, rotation and mirror applied as it is decoded).
fn heic_page(bytes: &[u8], max_pixels: u64) -> Result<Vec<Raster>, DecodeError> {
    let image = intake_heic::decode(bytes, max_pixels).map_err(|e| match e {
        intake_heic::HeicError::TooLarge { pixels, limit } => {
            DecodeError::TooLarge { pixels, limit }
        }
        other => DecodeError::Invalid(other.to_string()),
    })?;
    Ok(vec![to_raster(image)?])
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

/// Flattens transparency onto white (a transparent background is paper, not ink) and drops to 8 bits.
fn to_raster(img: DynamicImage) -> Result<Raster, DecodeError> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let data = if img.color().has_alpha() {
        let rgba = img.into_rgba8();
        let mut data = Vec::with_capacity(w * h * 3);
        for px in rgba.pixels() {
            let [r, g, b, a] = px.0;
            data.extend_from_slice(&[r, g, b].map(|c| over_white(c, a)));
        }
        data
    } else {
        img.into_rgb8().into_raw()
    };
    Raster::from_rgb(w, h, data)
        .ok_or_else(|| DecodeError::Invalid("inconsistent pixel buffer".to_owned()))
}

/// A channel value `c` with coverage `alpha` laid over white paper.
fn over_white(c: u8, alpha: u8) -> u8 {
    let a = u16::from(alpha);
    u8::try_from((u16::from(c) * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
}

/// Every page of a TIFF. The first page goes through the general decoder (all its colour types); later
/// pages are read page by page by the TIFF decoder in the common scanner layouts (bilevel, grey,
/// RGB, with or without alpha, 8 or 16 bits); another layout is refused rather than skipped.
fn tiff_pages(bytes: &[u8], max_pixels: u64) -> Result<Vec<Raster>, DecodeError> {
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
                    return Ok(vec![to_raster(img)?]);
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
        let values: Vec<u8> = match decoder.read_image().map_err(tiff_err)? {
            DecodingResult::U8(v) if bits == 8 => v,
            DecodingResult::U8(v) if bits == 1 && samples == 1 => unpack_bits(&v, w, h),
            DecodingResult::U16(v) => v
                .iter()
                .map(|x| u8::try_from(x >> 8).unwrap_or(255))
                .collect(),
            _ => {
                return Err(DecodeError::Invalid(format!(
                    "TIFF page with {bits}-bit samples"
                )));
            }
        };
        if values.len() < w * h * samples {
            return Err(DecodeError::Invalid(
                "TIFF page shorter than its dimensions".to_owned(),
            ));
        }
        let mut data = Vec::with_capacity(w * h * 3);
        for px in values.chunks_exact(samples).take(w * h) {
            let (rgb, alpha) = match *px {
                [g] => ([g, g, g], 255),
                [g, a] => ([g, g, g], a),
                [r, g, b] => ([r, g, b], 255),
                [r, g, b, a] => ([r, g, b], a),
                _ => ([255; 3], 255),
            };
            data.extend(rgb.map(|c| over_white(c, alpha)));
        }
        pages.push(
            Raster::from_rgb(w, h, data)
                .ok_or_else(|| DecodeError::Invalid("bad TIFF page".to_owned()))?,
        );
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(tiff_err)?;
    }
    Ok(pages)
}

/// Bilevel rows (1 bit a pixel, rows padded to a byte, 1 = white as `BlackIsZero` reads) to bytes.
fn unpack_bits(packed: &[u8], w: usize, h: usize) -> Vec<u8> {
    let row = w.div_ceil(8);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let byte = packed.get(y * row + x / 8).copied().unwrap_or(0xff);
            out.push(if byte & (0x80 >> (x % 8)) != 0 {
                255
            } else {
                0
            });
        }
    }
    out
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
        let pages = decode_pages(&png(4, 3, [0, 0, 0, 0]), 1_000).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].pixel_clamped(0, 0), [255, 255, 255]);
        let opaque = decode_pages(&png(4, 3, [10, 20, 30, 255]), 1_000).unwrap();
        assert_eq!(opaque[0].pixel_clamped(3, 2), [10, 20, 30]);
    }

    #[test]
    fn pixel_limit_is_enforced_before_decoding() {
        let err = decode_pages(&png(40, 30, [0; 4]), 1_000).unwrap_err();
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
            decode_pages(b"not an image", 1_000),
            Err(DecodeError::Invalid(_))
        ));
        let mut truncated = png(40, 30, [0; 4]);
        truncated.truncate(60);
        assert!(matches!(
            decode_pages(&truncated, 10_000),
            Err(DecodeError::Invalid(_))
        ));
    }

    #[test]
    fn bilevel_rows_unpack_msb_first() {
        assert_eq!(
            unpack_bits(&[0b1010_0000, 0b0100_0000], 3, 2),
            vec![255, 0, 255, 0, 255, 0]
        );
    }
}
