//! Recognising image formats and dimensions from the first bytes of an object.
//!
//! The declared content type is a claim; these functions establish what the bytes are, so that the
//! processor rejects mismatches before an OCR engine sees them.

use crate::model::ContentType;

/// How many leading bytes the processor keeps for sniffing: enough for every header Intake reads,
/// including JPEG files whose frame header follows large EXIF segments.
pub const SNIFF_BYTES: usize = 256 * 1024;

/// The last bytes of every well-formed PNG: an empty `IEND` chunk with its CRC.
pub const PNG_TRAILER: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// What the leading bytes of an object say.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sniffed {
    /// The format, if the magic bytes name one Intake knows.
    pub content_type: Option<ContentType>,
    /// Width and height from the header, when the format has them and the header is readable.
    pub dimensions: Option<(u32, u32)>,
}

/// Recognises the format and dimensions from the first bytes of an object.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let content_type =
        infer::get(prefix).and_then(|kind| ContentType::parse(kind.mime_type()).ok());
    let dimensions = match content_type {
        None | Some(ContentType::Pdf) => None,
        // A PNG header whose checksum fails is damaged: its dimensions are not trusted, so the
        // image is rejected as corrupt before any decoder sees it.
        Some(ContentType::Png) if !png_header_intact(prefix) => None,
        Some(_) => imagesize::blob_size(prefix).ok().and_then(|size| {
            Some((
                u32::try_from(size.width).ok()?,
                u32::try_from(size.height).ok()?,
            ))
        }),
    };
    Sniffed {
        content_type,
        dimensions,
    }
}

/// The pages of a multi-page image, read from its headers alone (no pixel is decoded).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Pages {
    /// How many pages, counted up to one past the limit given.
    pub count: u32,
    /// Width × height of every page counted, together.
    pub pixels: u64,
    /// The longest side of any page counted.
    pub longest_side: u32,
}

/// Counts the pages of a TIFF and their pixels from its directory chain (IFDs), stopping one page past
/// `max_pages` so that a file claiming millions of pages costs no more than that.
///
/// # Errors
/// Why the directory chain cannot be read (a damaged or looping TIFF).
pub fn tiff_pages(bytes: &[u8], max_pages: u32) -> Result<Pages, String> {
    let mut decoder =
        tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut pages = Pages {
        count: 0,
        pixels: 0,
        longest_side: 0,
    };
    loop {
        let (width, height) = decoder.dimensions().map_err(|e| e.to_string())?;
        pages.count = pages.count.saturating_add(1);
        pages.pixels = pages
            .pixels
            .saturating_add(u64::from(width) * u64::from(height));
        pages.longest_side = pages.longest_side.max(width).max(height);
        if pages.count > max_pages || !decoder.more_images() {
            return Ok(pages);
        }
        decoder.next_image().map_err(|e| e.to_string())?;
    }
}

/// Whether a PNG starts with an intact `IHDR` chunk: 13 data bytes whose CRC-32 (over the chunk's
/// type and data) matches the one stored after them.
fn png_header_intact(prefix: &[u8]) -> bool {
    let (Some(length), Some(chunk), Some(stored)) =
        (prefix.get(8..12), prefix.get(12..29), prefix.get(29..33))
    else {
        return false;
    };
    length == [0, 0, 0, 13]
        && chunk.starts_with(b"IHDR")
        && crc32fast::hash(chunk).to_be_bytes() == stored
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x03, 0x20, 0x00, 0x00, 0x02, 0x58, 0x08, 0x00, 0x00, 0x00, 0x00, 0xBF,
        0x1D, 0xDD, 0xAC,
    ];

    #[test]
    fn recognises_png_with_its_dimensions() {
        let s = sniff(PNG_1X1);
        assert_eq!(s.content_type, Some(ContentType::Png));
        assert_eq!(s.dimensions, Some((800, 600)));
    }

    #[test]
    fn a_png_header_with_a_wrong_checksum_has_no_dimensions() {
        let mut damaged = PNG_1X1.to_vec();
        if let Some(last) = damaged.last_mut() {
            *last ^= 0xFF;
        }
        let s = sniff(&damaged);
        assert_eq!(s.content_type, Some(ContentType::Png));
        assert_eq!(s.dimensions, None);
        // A changed dimension with the old checksum is caught the same way.
        let mut forged = PNG_1X1.to_vec();
        if let Some(width) = forged.get_mut(18) {
            *width = 0x7F;
        }
        assert_eq!(sniff(&forged).dimensions, None);
        assert_eq!(sniff(&PNG_1X1[..20]).dimensions, None, "a cut header");
    }

    #[test]
    fn recognises_other_magic_and_nothing_from_garbage() {
        assert_eq!(sniff(b"%PDF-1.7\n").content_type, Some(ContentType::Pdf));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0]).content_type,
            Some(ContentType::Jpeg)
        );
        assert_eq!(
            sniff(b"GIF89a\x10\x00\x20\x00\x00\x00\x00\x00\x00\x00").dimensions,
            Some((16, 32))
        );
        let nothing = sniff(b"hello world, not an image");
        assert_eq!(
            nothing,
            Sniffed {
                content_type: None,
                dimensions: None
            }
        );
        assert_eq!(sniff(&[]).content_type, None);
    }
}
