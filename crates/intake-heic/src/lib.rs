//! # intake-heic
//!
//! HEIC and HEIF pictures (what iPhones send) decoded for Intake's image adapters, the PP-OCR
//! engine, the previewer and the Tesseract adapter alike, on the local server and in the Lambda
//! functions (x86_64 and arm64) alike: one place that knows the format.
//!
//! [`decode`] returns the file's primary image as 8-bit RGB (RGBA when it has an alpha channel),
//! **upright**: the file's own transformations (`clap` crop, `irot` rotation, `imir` mirror) are
//! carried out while decoding, as an EXIF-rotated JPEG is turned by the `image` crate's
//! orientation. The EXIF orientation that phones also write into a HEIC is *not* applied on top:
//! the HEIF specification makes `irot`/`imir` the image's orientation, and EXIF only repeats it (an
//! iPhone writes both), so applying both would turn the picture twice.
//!
//! The pixel limit is checked on the primary image's size as displayed (its `ispe` after the crop
//! and rotation) before any pixel is decoded, and the decoder refuses any coded or derived picture
//! (grid tile, overlay, alpha plane) past it too, so a hostile file costs no more than the limit.
//!
//! The decoder is `heifer` (pure Rust, no `unsafe`, MIT or Apache-2.0): the container, grids and
//! overlays, and the HEVC still-picture decoder. No system library is needed, so the same code
//! runs in the Lambda functions (Amazon Linux has no libheif) and builds on a fresh machine with
//! nothing installed; HEVC from hostile uploads is parsed in safe code.

#[cfg(feature = "testkit")]
pub mod testkit;

use image::{DynamicImage, RgbImage, RgbaImage};

/// Why a HEIC could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeicError {
    /// The bytes are not a HEIF file, are damaged, or use a coding the decoder does not support.
    #[error("cannot decode the HEIC image: {0}")]
    Invalid(String),
    /// The primary image holds more pixels than allowed.
    #[error("the HEIC image has {pixels} pixels, more than the limit of {limit}")]
    TooLarge {
        /// Pixels of the primary image, as displayed.
        pixels: u64,
        /// The limit.
        limit: u64,
    },
}

fn invalid(e: impl std::fmt::Display) -> HeicError {
    HeicError::Invalid(e.to_string())
}

/// Coded pictures may be a little larger than the image they display (HEVC codes whole 8-pixel
/// blocks; a `clap` crop trims them): the decoder's own limit leaves them this much room (1/16)
/// beyond the limit on the displayed image, which is checked exactly.
const CODED_SLACK_DIVISOR: u64 = 16;

/// The primary image's width and height as displayed (after its crop and rotation), read from the
/// file's boxes without decoding a pixel.
///
/// # Errors
/// [`HeicError::Invalid`] for bytes that are not a HEIF file or whose primary image has no size.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), HeicError> {
    use heifer::heifer_isobmff::{HeifFile, boxes::Property};
    let file = HeifFile::parse(bytes).map_err(invalid)?;
    let id = file.primary_id;
    let (mut width, mut height) = file
        .image_size(id)
        .map_err(invalid)?
        .ok_or_else(|| HeicError::Invalid("the primary image has no size (ispe)".to_owned()))?;
    // The transformations in association order, as the decoder applies them.
    for property in file.item_properties(id).map_err(invalid)? {
        match *property {
            Property::CleanAperture {
                width: (wn, wd),
                height: (hn, hd),
                ..
            } if wd > 0 && hd > 0 => {
                width = width.min(wn / wd);
                height = height.min(hn / hd);
            }
            Property::Rotation(quarters) if quarters % 2 == 1 => {
                std::mem::swap(&mut width, &mut height);
            }
            _ => {}
        }
    }
    Ok((width, height))
}

/// The file's primary image, upright, in 8-bit RGB, or RGBA when it has an alpha channel (straight,
/// not premultiplied), holding at most `max_pixels` pixels.
///
/// # Errors
/// [`HeicError::TooLarge`] past the limit (before decoding), [`HeicError::Invalid`] for bytes that
/// do not decode.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, HeicError> {
    let (width, height) = dimensions(bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(HeicError::TooLarge {
            pixels,
            limit: max_pixels,
        });
    }
    // One thread: Intake runs one OCR job per worker, and the workers already use every core.
    let options = heifer::Options {
        max_threads: 1,
        max_pixels: max_pixels
            .saturating_add(max_pixels / CODED_SLACK_DIVISOR)
            .max(1),
    };
    // heifer is safe code and was fuzzed here without a panic, but a decoder of hostile input
    // failing must stay one upload's error, never a worker's end.
    let decoded = std::panic::catch_unwind(|| heifer::decode_rgba8(bytes, &options))
        .map_err(|_| HeicError::Invalid("the HEVC decoder failed on this file".to_owned()))?
        .map_err(invalid)?;
    let (width, height) = (decoded.width, decoded.height);
    let decoded_pixels = u64::from(width) * u64::from(height);
    if decoded_pixels > max_pixels {
        return Err(HeicError::TooLarge {
            pixels: decoded_pixels,
            limit: max_pixels,
        });
    }
    let short = || HeicError::Invalid("inconsistent pixel buffer".to_owned());
    Ok(if decoded.has_alpha {
        DynamicImage::ImageRgba8(
            RgbaImage::from_raw(width, height, decoded.data).ok_or_else(short)?,
        )
    } else {
        DynamicImage::ImageRgb8(
            RgbImage::from_raw(width, height, decoded.into_rgb8()).ok_or_else(short)?,
        )
    })
}
