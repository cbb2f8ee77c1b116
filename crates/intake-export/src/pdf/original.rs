//! An original's pages as the PDF embeds them: a JPEG's own bytes (DCTDecode), or any other
//! format's pixels decoded losslessly to 8-bit grey or RGB (transparency laid over white), every
//! page of a multi-page TIFF; with each page's resolution and EXIF orientation.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader};

/// Why an original cannot be embedded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OriginalError {
    /// The image codecs refused it.
    #[error("cannot decode the original: {0}")]
    Image(#[from] image::ImageError),
    /// The TIFF decoder refused it.
    #[error("cannot decode the original TIFF: {0}")]
    Tiff(#[from] tiff::TiffError),
    /// A page in a layout the writer does not embed.
    #[error("{0}")]
    Layout(String),
}

/// The pixels of a page, as a PDF image holds them.
#[derive(Debug)]
pub(crate) enum Pixels<'a> {
    /// A JPEG's bytes, embedded unchanged.
    Jpeg {
        /// The whole file.
        bytes: &'a [u8],
        /// Its colour space by its components: 1 grey, 3 RGB, 4 CMYK.
        components: u8,
        /// CMYK written inverted, as Adobe's applications do (an `Adobe` APP14 segment).
        inverted: bool,
    },
    /// Samples of 8 bits, row by row, one (grey) or three (RGB) a pixel.
    Raw {
        /// One sample a pixel (grey), else three (RGB).
        gray: bool,
        /// The samples.
        samples: Vec<u8>,
    },
}

/// One page of an original.
#[derive(Debug)]
pub(crate) struct PageImage<'a> {
    /// Width in pixels, as stored.
    pub width: u32,
    /// Height in pixels, as stored.
    pub height: u32,
    /// Pixels an inch, when the file says.
    pub dpi: Option<f32>,
    /// How a viewer turns the stored pixels to show them.
    pub orientation: Orientation,
    /// The pixels.
    pub pixels: Pixels<'a>,
}

/// The pages of `bytes`, whatever image format they are in.
pub(crate) fn pages(bytes: &[u8]) -> Result<Vec<PageImage<'_>>, OriginalError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(image::ImageError::IoError)?;
    match reader.format() {
        Some(ImageFormat::Tiff) => tiff_pages(bytes),
        Some(ImageFormat::Jpeg) => {
            let mut decoder = reader.into_decoder()?;
            let orientation = decoder.orientation()?;
            match jpeg_frame(bytes) {
                Some(frame) => Ok(vec![PageImage {
                    width: u32::from(frame.width),
                    height: u32::from(frame.height),
                    dpi: frame.dpi,
                    orientation,
                    pixels: Pixels::Jpeg {
                        bytes,
                        components: frame.components,
                        inverted: frame.adobe && frame.components == 4,
                    },
                }]),
                // A JPEG a PDF reader may not read (12-bit, arithmetic-coded, lossless): decoded.
                None => Ok(vec![decoded(
                    DynamicImage::from_decoder(decoder)?,
                    orientation,
                    None,
                )]),
            }
        }
        format => {
            let dpi = match format {
                Some(ImageFormat::Png) => png_dpi(bytes),
                Some(ImageFormat::Bmp) => bmp_dpi(bytes),
                _ => None,
            };
            let mut decoder = reader.into_decoder()?;
            let orientation = decoder.orientation()?;
            Ok(vec![decoded(
                DynamicImage::from_decoder(decoder)?,
                orientation,
                dpi,
            )])
        }
    }
}

/// A decoded page: grey or RGB at 8 bits, transparency over white.
fn decoded(image: DynamicImage, orientation: Orientation, dpi: Option<f32>) -> PageImage<'static> {
    let (width, height) = (image.width(), image.height());
    let gray = image.color().channel_count() <= 2;
    let samples = match (gray, image.color().has_alpha()) {
        (true, false) => image.into_luma8().into_raw(),
        (false, false) => image.into_rgb8().into_raw(),
        (true, true) => image
            .into_luma_alpha8()
            .pixels()
            .map(|p| over_white(p.0[0], p.0[1]))
            .collect(),
        (false, true) => image
            .into_rgba8()
            .pixels()
            .flat_map(|p| {
                let [r, g, b, a] = p.0;
                [r, g, b].map(|c| over_white(c, a))
            })
            .collect(),
    };
    PageImage {
        width,
        height,
        dpi,
        orientation,
        pixels: Pixels::Raw { gray, samples },
    }
}

/// A sample of coverage `alpha` laid over white paper.
fn over_white(c: u8, alpha: u8) -> u8 {
    let (c, a) = (u16::from(c), u16::from(alpha));
    u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
}

/// What a JPEG's headers say, when a PDF reader's DCTDecode reads it as it is.
#[derive(Debug, PartialEq)]
struct JpegFrame {
    width: u16,
    height: u16,
    components: u8,
    /// An `Adobe` APP14 segment is present.
    adobe: bool,
    dpi: Option<f32>,
}

/// The frame of a baseline, extended or progressive 8-bit JPEG of 1, 3 or 4 components (what
/// DCTDecode reads), with its JFIF density; `None` for anything else.
fn jpeg_frame(bytes: &[u8]) -> Option<JpegFrame> {
    let (mut adobe, mut dpi) = (false, None);
    let mut at = 2;
    loop {
        // Fill bytes may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (&0xFF, &marker) = (bytes.get(at)?, bytes.get(at + 1)?) else {
            return None;
        };
        let length = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let body = bytes.get(at + 4..at + 2 + length)?;
        match marker {
            0xE0 if body.starts_with(b"JFIF\0") => {
                let unit = *body.get(7)?;
                let density = f32::from(u16::from_be_bytes([*body.get(8)?, *body.get(9)?]));
                dpi = match unit {
                    1 => Some(density),
                    2 => Some(density * 2.54),
                    _ => None,
                };
            }
            0xEE if body.starts_with(b"Adobe") => adobe = true,
            0xC0..=0xC2 => {
                let [precision, h0, h1, w0, w1, components, ..] = *body else {
                    return None;
                };
                let frame = JpegFrame {
                    width: u16::from_be_bytes([w0, w1]),
                    height: u16::from_be_bytes([h0, h1]),
                    components,
                    adobe,
                    dpi,
                };
                let readable = precision == 8
                    && matches!(components, 1 | 3 | 4)
                    && frame.width > 0
                    && frame.height > 0;
                // An Adobe segment after the frame header still counts.
                return readable.then(|| JpegFrame {
                    adobe: adobe || later_adobe(bytes, at + 2 + length),
                    ..frame
                });
            }
            // Other frame types (lossless, arithmetic-coded, hierarchical) or the scan: not for
            // DCTDecode, or no frame header before the data.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF | 0xDA | 0xD9 => return None,
            _ => {}
        }
        at += 2 + length;
    }
}

/// Whether an `Adobe` APP14 segment comes between `at` and the scan.
fn later_adobe(bytes: &[u8], mut at: usize) -> bool {
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        if marker == 0xDA {
            return false;
        }
        let (Some(&high), Some(&low)) = (bytes.get(at + 2), bytes.get(at + 3)) else {
            return false;
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        if marker == 0xEE && bytes.get(at + 4..).is_some_and(|b| b.starts_with(b"Adobe")) {
            return true;
        }
        at += 2 + length;
    }
    false
}

/// A PNG's `pHYs` resolution in pixels an inch, when its unit is the metre.
fn png_dpi(bytes: &[u8]) -> Option<f32> {
    let mut at = 8;
    while let (Some(size), Some(kind)) = (bytes.get(at..at + 4), bytes.get(at + 4..at + 8)) {
        let length = usize::try_from(u32::from_be_bytes(size.try_into().ok()?)).ok()?;
        match kind {
            b"pHYs" => {
                let body = bytes.get(at + 8..at + 8 + length)?;
                let per_metre = u32::from_be_bytes(body.get(..4)?.try_into().ok()?);
                // Within u32: f64 is exact, the product is a plausible resolution.
                #[allow(clippy::cast_possible_truncation)]
                return (body.get(8) == Some(&1)).then(|| (f64::from(per_metre) * 0.0254) as f32);
            }
            b"IDAT" | b"IEND" => return None,
            _ => at += 12 + length,
        }
    }
    None
}

/// A BMP's horizontal resolution in pixels an inch (its info header's pixels per metre).
fn bmp_dpi(bytes: &[u8]) -> Option<f32> {
    let per_metre = i32::from_le_bytes(bytes.get(38..42)?.try_into().ok()?);
    // A plausible resolution: within f32's exact integers.
    #[allow(clippy::cast_precision_loss)]
    (per_metre > 0).then_some(per_metre as f32 * 0.0254)
}

/// Every page of a TIFF: read page by page in the scanner layouts (bilevel, grey, RGB, with or
/// without alpha, 8 or 16 bits); a single page in another layout (palette, CMYK, YCbCr) through
/// the general decoder. A TIFF's `Orientation` tag is not applied, as the OCR engines read the
/// pages as stored.
fn tiff_pages(bytes: &[u8]) -> Result<Vec<PageImage<'static>>, OriginalError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};

    let mut decoder = Decoder::new(Cursor::new(bytes))?;
    let mut pages = Vec::new();
    loop {
        let (width, height) = decoder.dimensions()?;
        let dpi = tiff_dpi(&mut decoder);
        let color = decoder.colortype()?;
        let (samples, bits) = match color {
            ColorType::Gray(b) => (1, b),
            ColorType::GrayA(b) => (2, b),
            ColorType::RGB(b) => (3, b),
            ColorType::RGBA(b) => (4, b),
            other if pages.is_empty() && !decoder.more_images() => {
                let image = ImageReader::with_format(Cursor::new(bytes), ImageFormat::Tiff)
                    .decode()
                    .map_err(|e| OriginalError::Layout(format!("TIFF page ({other:?}): {e}")))?;
                return Ok(vec![decoded(image, Orientation::NoTransforms, dpi)]);
            }
            other => {
                return Err(OriginalError::Layout(format!(
                    "a TIFF page of several in an unsupported colour layout ({other:?})"
                )));
            }
        };
        let values: Vec<u8> = match decoder.read_image()? {
            DecodingResult::U8(v) if bits == 8 => v,
            DecodingResult::U8(v) if bits == 1 && samples == 1 => unpack_bits(&v, width, height),
            DecodingResult::U16(v) => v.iter().map(|x| x.to_be_bytes()[0]).collect(),
            _ => {
                return Err(OriginalError::Layout(format!(
                    "a TIFF page with {bits}-bit samples"
                )));
            }
        };
        let pixels = usize::try_from(u64::from(width) * u64::from(height))
            .map_err(|_| OriginalError::Layout("a TIFF page too large".to_owned()))?;
        if values.len() < pixels * samples {
            return Err(OriginalError::Layout(
                "a TIFF page shorter than its dimensions".to_owned(),
            ));
        }
        let gray = samples <= 2;
        let mut out = Vec::with_capacity(pixels * if gray { 1 } else { 3 });
        for px in values.chunks_exact(samples).take(pixels) {
            match *px {
                [g] => out.push(g),
                [g, a] => out.push(over_white(g, a)),
                [r, g, b] => out.extend([r, g, b]),
                [r, g, b, a] => out.extend([r, g, b].map(|c| over_white(c, a))),
                _ => {}
            }
        }
        pages.push(PageImage {
            width,
            height,
            dpi,
            orientation: Orientation::NoTransforms,
            pixels: Pixels::Raw { gray, samples: out },
        });
        if !decoder.more_images() {
            return Ok(pages);
        }
        decoder.next_image()?;
    }
}

/// A TIFF page's horizontal resolution in pixels an inch (`XResolution` in its `ResolutionUnit`).
fn tiff_dpi<R: std::io::Read + std::io::Seek>(
    decoder: &mut tiff::decoder::Decoder<R>,
) -> Option<f32> {
    use tiff::decoder::ifd::Value;
    use tiff::tags::Tag;

    let Ok(Some(Value::Rational(n, d))) = decoder.find_tag(Tag::XResolution) else {
        return None;
    };
    let unit = decoder
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let per_unit = (d > 0).then(|| f64::from(n) / f64::from(d))?;
    // A plausible resolution: f32 holds it.
    #[allow(clippy::cast_possible_truncation)]
    match unit {
        2 => Some(per_unit as f32),
        3 => Some((per_unit * 2.54) as f32),
        _ => None,
    }
}

/// Bilevel rows (1 bit a pixel, rows padded to a byte, 1 white as `BlackIsZero` reads) to bytes.
fn unpack_bits(packed: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let row = w.div_ceil(8);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let byte = packed.get(y * row + x / 8).copied().unwrap_or(0xFF);
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
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A JPEG's markers: SOI, the segments given, EOI.
    fn jpeg(segments: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, body) in segments {
            out.extend([0xFF, *marker]);
            out.extend(u16::try_from(body.len() + 2).unwrap().to_be_bytes());
            out.extend(*body);
        }
        out.extend([0xFF, 0xD9]);
        out
    }

    #[test]
    fn a_jpeg_frame_is_read_with_its_density_and_adobe_marker() {
        let jfif = b"JFIF\0\x01\x02\x02\x00\x76\x00\x76\0\0";
        let sof = [
            8, 0, 20, 0, 30, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
        ];
        let frame = jpeg_frame(&jpeg(&[
            (0xE0, jfif),
            (0xC2, &sof),
            (0xEE, b"Adobe\0d\0\0\0\0\x02"),
        ]))
        .unwrap();
        assert_eq!((frame.width, frame.height, frame.components), (30, 20, 4));
        assert!(frame.adobe);
        // 118 dots a centimetre: 299.72 an inch.
        assert!((frame.dpi.unwrap() - 299.72).abs() < 0.01);
        // 12-bit or arithmetic-coded frames are left to the decoder.
        let mut twelve = sof;
        twelve[0] = 12;
        assert_eq!(jpeg_frame(&jpeg(&[(0xC1, &twelve)])), None);
        assert_eq!(jpeg_frame(&jpeg(&[(0xC9, &sof)])), None);
        assert_eq!(jpeg_frame(&jpeg(&[(0xE0, jfif)])), None);
    }

    #[test]
    fn transparency_is_paper() {
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(100, 128), 177);
        assert_eq!(
            unpack_bits(&[0b1010_0000, 0b0100_0000], 3, 2),
            [255, 0, 255, 0, 255, 0]
        );
    }
}
