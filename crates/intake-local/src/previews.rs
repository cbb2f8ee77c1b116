//! Previews with the `image` crate: decoded (at most 300 MB decoded: a page larger than that gets no
//! preview), scaled by area averaging to at most [`PREVIEW_SIDE`] pixels a side, turned upright (EXIF
//! orientation; a HEIC, decoded by `intake-heic`, comes out of its decoder upright already),
//! transparency laid over white, and encoded as a JPEG of a few kilobytes. The work runs on a
//! blocking thread.

use std::io::Cursor;

use async_trait::async_trait;
use bytes::Bytes;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageReader, Limits};
use intake_domain::model::{ContentType, FIRST_PAGE, PageNumber};
use intake_domain::ports::{ImageFacts, PREVIEW_SIDE, Preview, PreviewError, Previewer};
use intake_heic::HeicError;

/// The JPEG quality of previews.
const QUALITY: u8 = 80;
/// The most a page may take decoded for a preview to be drawn of it: a 100 MP page in 8-bit RGB;
/// larger decodes (16-bit or RGBA at that size) are skipped rather than paid for.
const MAX_DECODED_BYTES: u64 = 300_000_000;

/// Makes previews of every raster format Intake accepts (not PDF).
#[derive(Debug, Clone, Default)]
pub struct ImagePreviewer;

#[async_trait]
impl Previewer for ImagePreviewer {
    async fn preview(
        &self,
        bytes: &Bytes,
        facts: &ImageFacts,
    ) -> Result<Option<Preview>, PreviewError> {
        if facts.content_type == ContentType::Pdf {
            return Ok(None);
        }
        let (bytes, content_type) = (bytes.clone(), facts.content_type);
        blocking(move || draw(&bytes, content_type, PREVIEW_SIDE)).await
    }

    async fn page_picture(
        &self,
        bytes: &Bytes,
        facts: &ImageFacts,
        page: PageNumber,
        longest_side: u32,
    ) -> Result<Option<Preview>, PreviewError> {
        let (bytes, content_type) = (bytes.clone(), facts.content_type);
        match content_type {
            ContentType::Pdf => Ok(None),
            _ if page == FIRST_PAGE => {
                blocking(move || draw(&bytes, content_type, longest_side)).await
            }
            ContentType::Tiff => {
                blocking(move || {
                    let Some(full) = tiff_page(&bytes, page)? else {
                        return Ok(None);
                    };
                    encode(full, Orientation::NoTransforms, longest_side).map(Some)
                })
                .await
            }
            _ => Ok(None),
        }
    }
}

/// Runs `work` on a blocking thread.
async fn blocking(
    work: impl FnOnce() -> Result<Option<Preview>, PreviewError> + Send + 'static,
) -> Result<Option<Preview>, PreviewError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PreviewError::Other {
            source: Box::new(e),
        })?
}

/// Page `page` of a multi-page TIFF in the common scanner layouts (bilevel, grey, RGB, with or
/// without alpha, 8 or 16 bits), or `None` when the TIFF has no such page or it is too large.
fn tiff_page(bytes: &[u8], page: PageNumber) -> Result<Option<DynamicImage>, PreviewError> {
    use image::{GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};

    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(undecodable)?;
    let index = usize::try_from(page.get() - 1).unwrap_or(usize::MAX);
    if decoder.seek_to_image(index).is_err() {
        return Ok(None);
    }
    let (width, height) = decoder.dimensions().map_err(undecodable)?;
    let color = decoder.colortype().map_err(undecodable)?;
    let (samples, bits) = match color {
        ColorType::Gray(b) => (1, b),
        ColorType::GrayA(b) => (2, b),
        ColorType::RGB(b) => (3, b),
        ColorType::RGBA(b) => (4, b),
        other => return Err(undecodable(format!("a TIFF page in {other:?}"))),
    };
    if u64::from(width) * u64::from(height) * samples * 2 > MAX_DECODED_BYTES {
        return Ok(None);
    }
    let (w, h) = (width as usize, height as usize);
    let values: Vec<u8> = match decoder.read_image().map_err(undecodable)? {
        DecodingResult::U8(v) if bits == 8 => v,
        // Bilevel rows, padded to a byte, 1 = white.
        DecodingResult::U8(v) if bits == 1 && samples == 1 => (0..h)
            .flat_map(|y| (0..w).map(move |x| (y, x)))
            .map(|(y, x)| {
                let byte = v.get(y * w.div_ceil(8) + x / 8).copied().unwrap_or(0xff);
                if byte & (0x80 >> (x % 8)) == 0 {
                    0
                } else {
                    255
                }
            })
            .collect(),
        DecodingResult::U16(v) => v
            .iter()
            .map(|x| u8::try_from(x >> 8).unwrap_or(u8::MAX))
            .collect(),
        _ => return Err(undecodable(format!("a TIFF page with {bits}-bit samples"))),
    };
    let short = || undecodable("a TIFF page shorter than its size");
    Ok(Some(match samples {
        1 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, values).ok_or_else(short)?)
        }
        2 => DynamicImage::ImageLumaA8(
            GrayAlphaImage::from_raw(width, height, values).ok_or_else(short)?,
        ),
        3 => DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, values).ok_or_else(short)?),
        _ => {
            DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, values).ok_or_else(short)?)
        }
    }))
}

fn undecodable(e: impl std::fmt::Display) -> PreviewError {
    PreviewError::Undecodable {
        reason: e.to_string(),
    }
}

/// Decodes, scales, turns upright and encodes one picture, at most `side` pixels on its longest
/// side; `None` for a page too large to decode for a preview.
fn draw(
    bytes: &[u8],
    content_type: ContentType,
    side: u32,
) -> Result<Option<Preview>, PreviewError> {
    let decoded = if content_type == ContentType::Heic {
        decode_heic(bytes)?
    } else {
        decode(bytes)?
    };
    let Some((full, orientation)) = decoded else {
        return Ok(None);
    };
    encode(full, orientation, side).map(Some)
}

/// Scales a decoded picture to at most `side` pixels on its longest side, turns it upright, lays
/// transparency over white, and encodes it as a JPEG.
fn encode(
    full: DynamicImage,
    orientation: Orientation,
    side: u32,
) -> Result<Preview, PreviewError> {
    // The longest side fits whichever way the picture is then turned.
    let (width, height) = fit(full.width(), full.height(), side);
    let mut picture = full.thumbnail_exact(width, height);
    drop(full);
    picture.apply_orientation(orientation);
    let (width, height) = (picture.width(), picture.height());
    let rgb = if picture.color().has_alpha() {
        let mut rgba = picture.into_rgba8();
        for pixel in rgba.pixels_mut() {
            let [r, g, b, a] = pixel.0;
            let over = |c: u8| {
                let a = u16::from(a);
                u8::try_from((u16::from(c) * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
            };
            pixel.0 = [over(r), over(g), over(b), 255];
        }
        DynamicImage::ImageRgba8(rgba).into_rgb8()
    } else {
        picture.into_rgb8()
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|e| PreviewError::Other {
            source: Box::new(e),
        })?;
    Ok(Preview::new(
        Bytes::from(out),
        ContentType::Jpeg,
        width,
        height,
    ))
}

/// The picture and how to turn it upright, or `None` when it would take more than
/// [`MAX_DECODED_BYTES`] decoded.
fn decode(bytes: &[u8]) -> Result<Option<(DynamicImage, Orientation)>, PreviewError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(undecodable)?;
    let mut limits = Limits::default();
    // 16-bit RGBA of the largest page the processor lets through, and the decoder's buffers.
    limits.max_alloc = Some(8 * 100_000_000 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    // The decoded page is the only large buffer (everything after works on the small picture): a
    // page that would take more than MAX_DECODED_BYTES gets no preview rather than the memory.
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Ok(None);
    }
    let orientation = decoder.orientation().map_err(undecodable)?;
    let full = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    Ok(Some((full, orientation)))
}

/// A HEIC's primary image, upright as it decodes, or `None` beyond [`MAX_DECODED_BYTES`]
/// (8-bit RGBA at most: four bytes a pixel).
fn decode_heic(bytes: &[u8]) -> Result<Option<(DynamicImage, Orientation)>, PreviewError> {
    match intake_heic::decode(bytes, MAX_DECODED_BYTES / 4) {
        Ok(full) => Ok(Some((full, Orientation::NoTransforms))),
        Err(HeicError::TooLarge { .. }) => Ok(None),
        Err(e) => Err(undecodable(e)),
    }
}

/// `width` × `height` scaled to at most `side` on the longest side, in proportion, at least 1 px.
fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= side {
        return (width.max(1), height.max(1));
    }
    let scale = |v: u32| {
        u32::try_from(u64::from(v) * u64::from(side) / u64::from(longest))
            .unwrap_or(side)
            .max(1)
    };
    (scale(width), scale(height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder as _, codecs::png::PngEncoder};
    use intake_domain::model::Sha256Digest;

    fn facts(bytes: &[u8], content_type: ContentType) -> ImageFacts {
        ImageFacts::new(
            content_type,
            bytes.len() as u64,
            None,
            Sha256Digest::of(bytes),
        )
    }

    #[tokio::test]
    async fn each_page_of_a_tiff_has_its_picture() {
        let dark = vec![0u8; 100 * 50];
        let light = vec![250u8; 60 * 120];
        let tiff =
            intake_domain::testkit::images::tiff_gray(&[((100, 50), &dark), ((60, 120), &light)]);
        let facts = facts(&tiff, ContentType::Tiff);
        let page = |n| PageNumber::new(n).unwrap();
        let first = ImagePreviewer
            .page_picture(&tiff, &facts, page(1), 1600)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((first.width_px, first.height_px), (100, 50));
        let second = ImagePreviewer
            .page_picture(&tiff, &facts, page(2), 60)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((second.width_px, second.height_px), (30, 60));
        let decoded = image::load_from_memory(&second.bytes).unwrap().into_luma8();
        assert!(decoded.get_pixel(15, 30).0[0] > 240);
        assert!(
            ImagePreviewer
                .page_picture(&tiff, &facts, page(3), 1600)
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn sizes_fit_the_side_in_proportion() {
        assert_eq!(fit(3000, 1000, 320), (320, 106));
        assert_eq!(fit(1000, 3000, 320), (106, 320));
        assert_eq!(fit(100, 50, 320), (100, 50));
        assert_eq!(fit(100_000, 1, 320), (320, 1));
    }

    #[tokio::test]
    async fn a_png_becomes_a_small_jpeg_in_proportion() {
        let (w, h) = (1200u32, 600u32);
        let rgba: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                if i % w < w / 2 {
                    [0, 0, 0, 0]
                } else {
                    [200, 10, 10, 255]
                }
            })
            .collect();
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(&rgba, w, h, image::ExtendedColorType::Rgba8)
            .expect("encodes");
        let png = Bytes::from(png);
        let preview = ImagePreviewer
            .preview(&png, &facts(&png, ContentType::Png))
            .await
            .expect("drawn")
            .expect("a preview");
        assert_eq!(preview.content_type, ContentType::Jpeg);
        assert_eq!((preview.width_px, preview.height_px), (320, 160));
        assert!(preview.bytes.len() < 20_000, "{}", preview.bytes.len());
        let decoded = image::load_from_memory(&preview.bytes)
            .expect("a JPEG")
            .into_rgb8();
        assert_eq!(decoded.dimensions(), (320, 160));
        // The transparent half is paper, the opaque half keeps its colour.
        let left = decoded.get_pixel(40, 80).0;
        let right = decoded.get_pixel(280, 80).0;
        assert!(left.iter().all(|&c| c > 240), "{left:?}");
        assert!(right[0] > 150 && right[1] < 60, "{right:?}");
    }

    #[tokio::test]
    async fn a_heic_photo_gets_an_upright_preview() {
        use intake_heic::testkit::{heif_enc, heif_enc_available, with_rotation};
        if !heif_enc_available() {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI must install heif-enc (scripts/system-deps.sh)"
            );
            eprintln!("SKIPPED: needs heif-enc (libheif-examples)");
            return;
        }
        // Red on the left, blue on the right, 640 × 320, as the sensor saw it.
        let (w, h) = (640u32, 320u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                if i % w < w / 2 {
                    [220, 20, 20]
                } else {
                    [20, 20, 220]
                }
            })
            .collect();
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(&rgb, w, h, image::ExtendedColorType::Rgb8)
            .expect("encodes");
        let heic = heif_enc(&png, 80).expect("heif-enc encodes");
        // As stored, and shown a quarter turn anticlockwise: the red half is then at the bottom.
        for (turns, size, red_at) in [(0, (320, 160), (40, 80)), (1, (160, 320), (80, 280))] {
            let file = Bytes::from(with_rotation(&heic, turns).expect("turned"));
            let preview = ImagePreviewer
                .preview(&file, &facts(&file, ContentType::Heic))
                .await
                .expect("drawn")
                .expect("a preview");
            assert_eq!((preview.width_px, preview.height_px), size, "{turns}");
            let decoded = image::load_from_memory(&preview.bytes)
                .expect("a JPEG")
                .into_rgb8();
            assert_eq!(decoded.dimensions(), size);
            let [r, _, b] = decoded.get_pixel(red_at.0, red_at.1).0;
            assert!(r > 150 && b < 90, "{turns}: {r} {b}");
        }
        let cut = Bytes::from(heic.get(..heic.len() / 2).unwrap_or_default().to_vec());
        assert!(matches!(
            ImagePreviewer
                .preview(&cut, &facts(&cut, ContentType::Heic))
                .await,
            Err(PreviewError::Undecodable { .. })
        ));
    }

    #[tokio::test]
    async fn a_page_too_large_to_decode_gets_no_preview() {
        // A header claiming 30000 × 30000 (900 MB decoded), then an empty IDAT chunk: the decoder
        // opens it, and the size it would decode to is refused before a pixel is read.
        let mut png = intake_domain::testkit::images::png_header_only(30_000, 30_000).to_vec();
        png.extend_from_slice(&[0, 0, 0, 0, b'I', b'D', b'A', b'T', 0x35, 0xAF, 0x06, 0x1E]);
        let png = Bytes::from(png);
        assert!(
            ImagePreviewer
                .preview(&png, &facts(&png, ContentType::Png))
                .await
                .expect("no error")
                .is_none()
        );
    }

    #[tokio::test]
    async fn pdfs_have_no_preview_and_garbage_is_undecodable() {
        let pdf = Bytes::from_static(b"%PDF-1.7 whatever");
        assert!(
            ImagePreviewer
                .preview(&pdf, &facts(&pdf, ContentType::Pdf))
                .await
                .expect("no error")
                .is_none()
        );
        let garbage = Bytes::from_static(b"\x89PNG\r\n\x1a\nnot really");
        assert!(matches!(
            ImagePreviewer
                .preview(&garbage, &facts(&garbage, ContentType::Png))
                .await,
            Err(PreviewError::Undecodable { .. })
        ));
    }
}
