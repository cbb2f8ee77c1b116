//! Image files built in code, so suites need no binary fixtures.

use bytes::Bytes;

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk fits").to_be_bytes());
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[&kind, data]).to_be_bytes());
}

/// A valid 8-bit grayscale PNG of `width` × `height` pixels whose pixels depend on `seed`, so different
/// seeds give different bytes (and SHA-256s). Stored (uncompressed) deflate blocks keep it simple and
/// make the file size predictable: about `width * height` bytes.
pub fn png(width: u32, height: u32, seed: u64) -> Bytes {
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    pixels.extend((0..u64::from(width) * u64::from(height)).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        0xC0 | (state.to_le_bytes()[0] & 0x3F)
    }));
    png_gray(width, height, &pixels)
}

/// A valid 8-bit grayscale PNG of the given pixels (row by row, `width * height` bytes; missing pixels
/// are white). Used to render text for OCR tests.
pub fn png_gray(width: u32, height: u32, pixels: &[u8]) -> Bytes {
    let mut raw = Vec::with_capacity((width as usize + 1) * height as usize);
    for row in 0..height as usize {
        raw.push(0); // filter type: none
        let start = row * width as usize;
        raw.extend((start..start + width as usize).map(|i| pixels.get(i).copied().unwrap_or(0xFF)));
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    if blocks.is_empty() {
        zlib.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).expect("block fits");
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = signature_and_header(width, height);
    chunk(&mut out, *b"IDAT", &zlib);
    chunk(&mut out, *b"IEND", &[]);
    Bytes::from(out)
}

/// Only a PNG header claiming `width` × `height` pixels, with no image data: what a decompression bomb
/// or a truncated upload looks like to the processor.
pub fn png_header_only(width: u32, height: u32) -> Bytes {
    Bytes::from(signature_and_header(width, height))
}

/// The PNG signature and an `IHDR` chunk for an 8-bit grayscale image.
fn signature_and_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, *b"IHDR", &ihdr);
    out
}

/// Where DejaVu Sans (Debian's `fonts-dejavu-core`, which `scripts/system-deps.sh` installs) lives on
/// the systems Intake is tested on: the font [`render_text`] is used with.
pub const DEJAVU_SANS_PATHS: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Renders `lines` of text in black on white at 40 px with the TrueType/OpenType `font`, as a
/// grayscale PNG, and its dimensions: images whose text an OCR engine must read back. `None` when the
/// font cannot be parsed.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap
)]
pub fn render_text(lines: &[&str], font: &[u8]) -> Option<(Bytes, (u32, u32))> {
    let (pixels, (width, height)) = render_pixels(lines, font)?;
    Some((png_gray(width, height, &pixels), (width, height)))
}

/// A grayscale TIFF (uncompressed, little-endian) with one page per `(dimensions, pixels)`, as a
/// scanner or fax writes a multi-page document, in libtiff's layout: each page's pixels, then its
/// directory, so the first directory is as far into the file as the first page is large.
#[allow(clippy::cast_possible_truncation)]
pub fn tiff_gray(pages: &[((u32, u32), &[u8])]) -> Bytes {
    let mut tiff: Vec<u8> = b"II\x2A\x00".to_vec();
    let mut next_ifd_at = tiff.len();
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for ((width, height), pixels) in pages {
        let strip = tiff.len() as u32;
        tiff.extend_from_slice(pixels);
        if tiff.len() % 2 == 1 {
            tiff.push(0);
        }
        let ifd = tiff.len() as u32;
        if let Some(link) = tiff.get_mut(next_ifd_at..next_ifd_at + 4) {
            link.copy_from_slice(&ifd.to_le_bytes());
        }
        // (tag, type: 3 SHORT or 4 LONG, value), in ascending tag order.
        let entries: [(u16, u16, u32); 9] = [
            (256, 4, *width),
            (257, 4, *height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, strip),
            (277, 3, 1),
            (278, 4, *height),
            (279, 4, pixels.len() as u32),
        ];
        tiff.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, value) in entries {
            tiff.extend_from_slice(&tag.to_le_bytes());
            tiff.extend_from_slice(&kind.to_le_bytes());
            tiff.extend_from_slice(&1u32.to_le_bytes());
            if kind == 3 {
                tiff.extend_from_slice(&(value as u16).to_le_bytes());
                tiff.extend_from_slice(&[0, 0]);
            } else {
                tiff.extend_from_slice(&value.to_le_bytes());
            }
        }
        next_ifd_at = tiff.len();
        tiff.extend_from_slice(&0u32.to_le_bytes());
    }
    Bytes::from(tiff)
}

/// A valid baseline JPEG of `width` × `height` mid-grey pixels whose frame header follows about
/// `metadata` bytes of metadata segments, as phones and editors write them: JFIF, an EXIF segment
/// holding a thumbnail, then Photoshop (APP13) segments and a comment. The metadata is full of
/// bytes that look like markers (the thumbnail is a JPEG: start, frame of 16 × 16, scan, end), so only
/// a reader that passes over each segment by its length finds the real frame. Every decoder reads
/// it: one grey component, one quantisation table, and Huffman tables of one code each, so every
/// 8 × 8 block is two bits (DC unchanged, end of block).
#[allow(clippy::missing_panics_doc)]
pub fn jpeg_gray(width: u16, height: u16, metadata: usize) -> Bytes {
    fn segment(out: &mut Vec<u8>, code: u8, payload: &[u8]) {
        let length = u16::try_from(payload.len() + 2).expect("segment fits");
        out.extend_from_slice(&[0xFF, code]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
    }
    const MOST: usize = 65_533;
    let thumbnail = [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00,
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xFF, 0xD9,
    ];
    let filler = |len: usize| thumbnail.iter().copied().cycle().take(len);
    let mut out = vec![0xFF, 0xD8];
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    // EXIF: a TIFF header and an empty first directory, then the thumbnail's bytes.
    let mut exif = b"Exif\0\0II\x2A\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend(filler(metadata.min(MOST).saturating_sub(exif.len())));
    segment(&mut out, 0xE1, &exif);
    let mut left = metadata.saturating_sub(exif.len());
    while left > MOST {
        let mut photoshop = b"Photoshop 3.0\0".to_vec();
        photoshop.extend(filler(MOST - photoshop.len()));
        segment(&mut out, 0xED, &photoshop);
        left -= MOST;
    }
    segment(&mut out, 0xFE, &filler(left).collect::<Vec<_>>());
    let mut quantisation = vec![0x00];
    quantisation.extend_from_slice(&[1; 64]);
    segment(&mut out, 0xDB, &quantisation);
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.extend_from_slice(&[1, 1, 0x11, 0]);
    segment(&mut out, 0xC0, &frame);
    // One code (`0`, one bit) each: DC difference category 0, AC end of block.
    for class in [0x00, 0x10] {
        let mut table = vec![class, 1];
        table.extend_from_slice(&[0; 15]);
        table.push(0x00);
        segment(&mut out, 0xC4, &table);
    }
    segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    let blocks = usize::from(width).div_ceil(8) * usize::from(height).div_ceil(8);
    let bits = blocks * 2;
    out.extend(std::iter::repeat_n(0, bits / 8));
    if bits % 8 != 0 {
        // The last byte's unused bits are ones.
        out.push((1 << (8 - bits % 8)) - 1);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Bytes::from(out)
}

/// The grayscale pixels (row by row, one byte each) and dimensions of `lines` rendered as
/// [`render_text`] renders them.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap
)]
pub fn render_pixels(lines: &[&str], font: &[u8]) -> Option<(Vec<u8>, (u32, u32))> {
    use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
    let font = FontRef::try_from_slice(font).ok()?;
    let scale = PxScale::from(40.0);
    let scaled = font.as_scaled(scale);
    let (width, height) = (900u32, 80 + 60 * lines.len() as u32);
    let mut pixels = vec![0xFFu8; (width * height) as usize];
    for (row, line) in lines.iter().enumerate() {
        let mut x = 40.0f32;
        let baseline = 70.0 + 60.0 * row as f32;
        for c in line.chars() {
            let glyph = scaled.scaled_glyph(c);
            let advance = scaled.h_advance(glyph.id);
            let glyph = glyph.id.with_scale_and_position(scale, point(x, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                    );
                    if (0..i64::from(width)).contains(&px) && (0..i64::from(height)).contains(&py) {
                        let i = (py as u32 * width + px as u32) as usize;
                        if let Some(pixel) = pixels.get_mut(i) {
                            *pixel = (*pixel).min((255.0 * (1.0 - coverage)) as u8);
                        }
                    }
                });
            }
            x += advance;
        }
    }
    Some((pixels, (width, height)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContentType;
    use crate::sniff::{PNG_TRAILER, sniff};

    #[test]
    fn generated_png_is_recognised_with_its_size_and_trailer() {
        let png = png(300, 70, 1);
        let s = sniff(&png);
        assert_eq!(s.content_type, Some(ContentType::Png));
        assert_eq!(s.dimensions, Some((300, 70)));
        assert_eq!(&png[png.len() - 12..], &PNG_TRAILER);
        assert_ne!(png, super::png(300, 70, 2));
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }

    #[test]
    fn generated_jpeg_has_its_frame_after_its_metadata() {
        let jpeg = jpeg_gray(1700, 2200, 600 * 1024);
        let frame = jpeg
            .windows(4)
            .rposition(|w| w == [0xFF, 0xC0, 0x00, 0x0B])
            .unwrap();
        assert!(frame > 600 * 1024, "the frame is at {frame}");
        let s = sniff(&jpeg);
        assert_eq!(s.content_type, Some(ContentType::Jpeg));
        assert_eq!(s.dimensions, Some((1700, 2200)));
        assert_eq!(sniff(&jpeg_gray(9, 17, 0)).dimensions, Some((9, 17)));
        assert!(jpeg.ends_with(&[0xFF, 0xD9]));
    }
}
