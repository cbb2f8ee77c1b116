//! Recognising image formats and dimensions from an object's bytes.
//!
//! The declared content type is a claim; these functions establish what the bytes are, so that the
//! processor rejects mismatches before an OCR engine sees them. Most formats say what they are and
//! how large they are in their first bytes; a JPEG's frame header follows its metadata segments,
//! however long, a TIFF's first directory may be anywhere in the file, and a HEIC's primary image
//! size is a property in its `meta` box, after any other boxes, so [`Sniffer`] finds them as the
//! object streams by, keeping none of what it passes over (but a HEIC's `meta` box, at most
//! 256 KiB).

mod heif;
mod jpeg;
mod tiff;

pub use self::tiff::{Pages, PagesError, tiff_pages};

use crate::model::ContentType;

/// How many leading bytes are kept for recognising the format, and for the dimensions of the formats
/// that keep them at a fixed place near the start (PNG, GIF, BMP, WebP): far more than any of them
/// needs. JPEG and TIFF dimensions are read wherever they are, by [`Sniffer`].
pub const SNIFF_BYTES: usize = 4 * 1024;

/// The last bytes of every well-formed PNG: an empty `IEND` chunk with its CRC.
pub const PNG_TRAILER: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// What the bytes of an object say.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sniffed {
    /// The format, if the magic bytes name one Intake knows.
    pub content_type: Option<ContentType>,
    /// Width and height from the header (a multi-page image's first page), when the format has them
    /// and the header is readable.
    pub dimensions: Option<(u32, u32)>,
}

/// Recognises the format and dimensions of an object from its bytes: the whole object, or as much
/// of it as is at hand (a JPEG's or TIFF's dimensions may be further on than a prefix reaches).
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let mut sniffer = Sniffer::default();
    sniffer.feed(bytes);
    sniffer.finish()
}

/// Recognises an object's format and dimensions as its bytes stream by, chunk by chunk, whatever
/// their sizes: the format and most headers from the first [`SNIFF_BYTES`], a JPEG's frame header
/// after any amount of metadata, a TIFF's first directory wherever the header says it is, a HEIC's
/// primary image size (as displayed: a quarter turn by its `irot` swaps width and height) from its
/// `meta` box wherever that is. Its memory is bounded whatever the object.
#[derive(Clone, Debug, Default)]
pub struct Sniffer {
    head: Vec<u8>,
    jpeg: jpeg::FrameWalker,
    tiff: tiff::FirstDirectory,
    heif: heif::PrimaryImage,
}

impl Sniffer {
    /// Takes the next bytes of the object.
    pub fn feed(&mut self, chunk: &[u8]) {
        let wanted = SNIFF_BYTES.saturating_sub(self.head.len()).min(chunk.len());
        self.head
            .extend_from_slice(chunk.get(..wanted).unwrap_or_default());
        self.jpeg.feed(chunk);
        self.tiff.feed(chunk);
        self.heif.feed(chunk);
    }

    /// What the bytes given so far say.
    pub fn finish(&self) -> Sniffed {
        let content_type = content_type(&self.head);
        let dimensions = match content_type {
            None | Some(ContentType::Pdf) => None,
            Some(ContentType::Jpeg) => self.jpeg.dimensions(),
            Some(ContentType::Tiff) => self.tiff.dimensions(),
            Some(ContentType::Heic) => self.heif.dimensions(),
            // A PNG header whose checksum fails is damaged: its dimensions are not trusted, so the
            // image is rejected as corrupt before any decoder sees it.
            Some(ContentType::Png) if !png_header_intact(&self.head) => None,
            Some(ContentType::Png | ContentType::Gif | ContentType::Bmp | ContentType::Webp) => {
                imagesize::blob_size(&self.head).ok().and_then(|size| {
                    Some((
                        u32::try_from(size.width).ok()?,
                        u32::try_from(size.height).ok()?,
                    ))
                })
            }
        };
        Sniffed {
            content_type,
            dimensions,
        }
    }
}

/// The format the magic bytes name. `infer` misses a TIFF whose ninth byte is `C` or tenth is `R`
/// (its test that tells Canon's CR2 raw files apart rejects either, not both together), which the
/// first pixels of a TIFF written the usual way, right after its header, can be; such a TIFF is one.
/// HEIC is recognised by its brands first: `infer` knows only two of the HEVC brands.
fn content_type(head: &[u8]) -> Option<ContentType> {
    if heif::is_heic(head) {
        return Some(ContentType::Heic);
    }
    match infer::get(head) {
        Some(kind) => ContentType::parse(kind.mime_type()).ok(),
        None if tiff::is_tiff(head) => Some(ContentType::Tiff),
        None => None,
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
    fn a_jpeg_frame_after_more_than_the_head_is_found_as_the_bytes_stream_by() {
        let mut jpeg = vec![0xFF, 0xD8];
        for _ in 0..10 {
            jpeg.extend_from_slice(&[0xFF, 0xE1, 0xFF, 0xFF]);
            jpeg.extend(std::iter::repeat_n(0xFF, 65_533));
        }
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0x0D, 0xB4, 0x09, 0xB0, 1, 1, 0x11, 0]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let mut sniffer = Sniffer::default();
        for chunk in jpeg.chunks(4093) {
            sniffer.feed(chunk);
        }
        assert_eq!(sniffer.head.len(), SNIFF_BYTES, "the head stays small");
        let expected = Sniffed {
            content_type: Some(ContentType::Jpeg),
            dimensions: Some((2480, 3508)),
        };
        assert_eq!(sniffer.finish(), expected);
        assert_eq!(sniff(&jpeg), expected);
        assert_eq!(
            sniff(&jpeg[..SNIFF_BYTES]).dimensions,
            None,
            "not in a prefix"
        );
    }

    #[test]
    fn a_tiff_written_the_usual_way_is_a_tiff_whatever_its_first_pixels() {
        // The header, 2 × 2 pixels `C R C R`, then the directory: width and height, no next one.
        let mut bytes = b"II\x2A\x00\x0C\x00\x00\x00CRCR\x02\x00".to_vec();
        for (tag, value) in [(256_u16, 2_u16), (257, 2)] {
            bytes.extend_from_slice(&tag.to_le_bytes());
            bytes.extend_from_slice(&[3, 0, 1, 0, 0, 0]);
            bytes.extend_from_slice(&value.to_le_bytes());
            bytes.extend_from_slice(&[0, 0]);
        }
        bytes.extend_from_slice(&[0; 4]);
        assert!(infer::get(&bytes).is_none(), "infer misses it");
        assert_eq!(
            sniff(&bytes),
            Sniffed {
                content_type: Some(ContentType::Tiff),
                dimensions: Some((2, 2)),
            }
        );
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
