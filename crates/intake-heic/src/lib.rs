//! # intake-heic
//!
//! HEIC and HEIF pictures (what iPhones send) decoded for Intake's image adapters, the PP-OCR
//! engine, the previewer and the Tesseract adapter alike: one place that knows libheif.
//!
//! [`decode`] returns the file's primary image as 8-bit RGB (RGBA when it has an alpha channel),
//! **upright**: libheif carries out the file's own transformations (`irot` rotation, `imir` mirror,
//! `clap` crop) while decoding, as an EXIF-rotated JPEG is turned by the `image` crate's
//! orientation. The EXIF orientation that phones also write into a HEIC is *not* applied on top:
//! the HEIF specification makes `irot`/`imir` the image's orientation, and EXIF only repeats it (an
//! iPhone writes both), so applying both would turn the picture twice.
//!
//! The pixel limit is checked on the primary image's size (after its transformations) before any
//! pixel is decoded, so a hostile file costs no more than the limit allows; libheif keeps its own
//! limits (on the image size, the number of tiles and items) beneath that.
//!
//! libheif is Debian's `libheif1` (bookworm: 1.15), reached through `libheif-rs` 0.20 over
//! `libheif-sys` 1.14, whose bindings are pre-generated (no bindgen at build time); building needs
//! `libheif-dev` (pkg-config finds it), which `scripts/system-deps.sh` installs.

#[cfg(feature = "testkit")]
pub mod testkit;

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

/// Why a HEIC could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeicError {
    /// The bytes are not a HEIF file libheif reads, or are damaged (or use a codec it lacks).
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

/// libheif's library state, set up once for the process (`heif_init`) and kept: initialising it
/// for every picture would load and unload its plugins each time.
fn libheif() -> &'static LibHeif {
    static LIBHEIF: OnceLock<LibHeif> = OnceLock::new();
    LIBHEIF.get_or_init(LibHeif::new)
}

fn invalid(e: impl std::fmt::Display) -> HeicError {
    HeicError::Invalid(e.to_string())
}

/// The primary image's width and height as displayed (after its rotation and crop), read from the
/// file's boxes without decoding a pixel.
///
/// # Errors
/// [`HeicError::Invalid`] for bytes libheif does not read as HEIF or that have no primary image.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), HeicError> {
    let context = HeifContext::read_from_bytes(bytes).map_err(invalid)?;
    let handle = context.primary_image_handle().map_err(invalid)?;
    Ok((handle.width(), handle.height()))
}

/// The file's primary image, upright, in 8-bit RGB, or RGBA when it has an alpha channel (straight,
/// not premultiplied), holding at most `max_pixels` pixels.
///
/// # Errors
/// [`HeicError::TooLarge`] past the limit (before decoding), [`HeicError::Invalid`] for bytes that
/// do not decode.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, HeicError> {
    let context = HeifContext::read_from_bytes(bytes).map_err(invalid)?;
    let handle = context.primary_image_handle().map_err(invalid)?;
    let pixels = u64::from(handle.width()) * u64::from(handle.height());
    if pixels > max_pixels {
        return Err(HeicError::TooLarge {
            pixels,
            limit: max_pixels,
        });
    }
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    // No decoding options: libheif's defaults carry out the transformations (the picture comes
    // out upright, see the crate's docs) and give 8-bit samples for the interleaved RGB asked for.
    // libheif-rs 0.20's `decode` frees the options it is given before libheif reads them, so
    // passing any would hand libheif freed memory.
    let decoded = libheif()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(invalid)?;
    let planes = decoded.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| HeicError::Invalid("libheif returned no interleaved plane".to_owned()))?;
    let (width, height) = (plane.width, plane.height);
    let decoded_pixels = u64::from(width) * u64::from(height);
    if decoded_pixels > max_pixels {
        return Err(HeicError::TooLarge {
            pixels: decoded_pixels,
            limit: max_pixels,
        });
    }
    let channels = if alpha { 4 } else { 3 };
    let row = width as usize * channels;
    let mut data = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        let start = y * plane.stride;
        let line = plane.data.get(start..start + row).ok_or_else(|| {
            HeicError::Invalid("libheif's plane is shorter than its size".to_owned())
        })?;
        data.extend_from_slice(line);
    }
    let short = || HeicError::Invalid("inconsistent pixel buffer".to_owned());
    Ok(if alpha {
        DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, data).ok_or_else(short)?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, data).ok_or_else(short)?)
    })
}
