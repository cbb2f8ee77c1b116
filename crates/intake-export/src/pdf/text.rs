//! The invisible text layer: every word of a page shown in render mode 3 (neither filled nor
//! stroked) in a glyphless font, on its box, so that a viewer finds and selects the text where it
//! is on the image, as Tesseract's and OCRmyPDF's PDFs do.
//!
//! The font is Tesseract's GlyphLessFont (`assets/GlyphLessFont.ttf`, Apache-2.0, see
//! `assets/NOTICE`): a TrueType program of one empty-looking glyph, used as a Type0 font with
//! Identity-H encoding whose every CID is drawn with that glyph and is half an em wide. Each
//! distinct character of the document gets a CID of its own, and the ToUnicode map gives each CID
//! back its character (any Unicode scalar, astral ones as surrogate pairs), which is what text
//! extraction and search read.

use std::collections::BTreeMap;

use intake_domain::model::OcrLine;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str};

use crate::layout;

/// Tesseract's GlyphLessFont program.
const GLYPHLESS: &[u8] = include_bytes!("../../assets/GlyphLessFont.ttf");

/// The width of every CID, in thousandths of the font size.
const CID_WIDTH: f32 = 500.0;

/// The font resource's name on every page.
pub(crate) const FONT: Name<'static> = Name(b"F0");

/// The characters of a document and the CIDs they are shown with (from 1, in order of first use).
#[derive(Debug, Default)]
pub(crate) struct Cids(BTreeMap<char, u16>);

impl Cids {
    /// The CID of `c`, given one on first use; `None` past the 65 535 a 2-byte code can name.
    fn of(&mut self, c: char) -> Option<u16> {
        let next = u16::try_from(self.0.len() + 1).ok()?;
        Some(*self.0.entry(c).or_insert(next))
    }

    /// `text` as Identity-H codes (two bytes a character, big-endian), with how many there are.
    fn encode(&mut self, text: &str) -> (Vec<u8>, usize) {
        let codes: Vec<u16> = text.chars().filter_map(|c| self.of(c)).collect();
        (
            codes.iter().flat_map(|c| c.to_be_bytes()).collect(),
            codes.len(),
        )
    }
}

/// A box in a page's text frame, in points from its bottom-left corner.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

/// Shows `lines` (relative boxes in `frame`) invisibly into `content`, inside a text object.
pub(crate) fn write_lines(
    content: &mut Content,
    lines: &[&OcrLine],
    frame: Frame,
    cids: &mut Cids,
) {
    content.begin_text();
    content.set_text_rendering_mode(TextRenderingMode::Invisible);
    for line in lines {
        let words: Vec<(String, [f32; 4])> = layout::words(line)
            .into_iter()
            .map(|w| {
                let text: String = w.text.chars().filter(|c| !c.is_control()).collect();
                let b = w.bounding_box;
                let (left, top, width, height) = (b.left(), b.top(), b.width(), b.height());
                let place = [
                    left * frame.width,
                    (1.0 - top - height) * frame.height,
                    width * frame.width,
                    height * frame.height,
                ];
                (text.trim().to_owned(), place)
            })
            .filter(|(text, _)| !text.is_empty())
            .collect();
        for (i, (text, [x, y, width, height])) in words.iter().enumerate() {
            let (codes, count) = cids.encode(text);
            if count == 0 {
                continue;
            }
            let size = height.max(0.5);
            content
                .set_font(FONT, size)
                .set_horizontal_scaling(scaling(*width, count, size))
                .set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y])
                .show(Str(&codes));
            // A space after every word but the line's last, spanning the gap to the next word,
            // so that extracted text has its word breaks.
            if let Some((_, [next, ..])) = words.get(i + 1) {
                let (space, _) = cids.encode(" ");
                content
                    .set_horizontal_scaling(scaling(next - x - width, 1, size))
                    .show(Str(&space));
            }
        }
    }
    content.end_text();
}

/// The horizontal scaling (`Tz`, percent) that makes `count` characters of `size` span `width`
/// points (at least a hundredth of a point: a gap between words that overlap is still a space).
fn scaling(width: f32, count: usize, size: f32) -> f32 {
    // Lossless: a character count far below f32's exact integers.
    #[allow(clippy::cast_precision_loss)]
    let natural = count as f32 * CID_WIDTH / 1000.0 * size;
    100.0 * width.max(0.01) / natural
}

/// Writes the font (Type0 over a CIDFontType2 of the glyphless program, with its CID-to-glyph
/// map and ToUnicode map of `cids`) under `font`, allocating the objects it needs with `next`.
pub(crate) fn write_font(pdf: &mut Pdf, font: Ref, cids: &Cids, next: &mut impl FnMut() -> Ref) {
    let (cid_font, descriptor, program, to_gid, to_unicode) =
        (next(), next(), next(), next(), next());
    let name = Name(b"GlyphLessFont");
    pdf.type0_font(font)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(to_unicode);
    pdf.cid_font(cid_font)
        .subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor)
        .default_width(CID_WIDTH)
        .cid_to_gid_map_stream(to_gid);
    pdf.font_descriptor(descriptor)
        .name(name)
        .flags(FontFlags::FIXED_PITCH | FontFlags::SYMBOLIC)
        .bbox(Rect::new(0.0, 0.0, CID_WIDTH, 1000.0))
        .italic_angle(0.0)
        .ascent(1000.0)
        // Not 0, which readers take for "unknown" and replace with their own (Poppler: -0.35 em),
        // making a word taller than its box: the glyphs stand on the baseline, at the box's bottom.
        .descent(-1.0)
        .cap_height(1000.0)
        .stem_v(80.0)
        .font_file2(program);
    let length = i32::try_from(GLYPHLESS.len()).unwrap_or(i32::MAX);
    pdf.stream(program, GLYPHLESS)
        .pair(Name(b"Length1"), length);
    // CID 0 is the missing glyph; every other CID used is drawn with glyph 1.
    let mut map = vec![0_u8, 0];
    for _ in 0..cids.0.len() {
        map.extend([0, 1]);
    }
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&map, 6);
    pdf.stream(to_gid, &packed).filter(Filter::FlateDecode);
    let mut cmap = UnicodeCmap::new(
        Name(b"Intake-UCS"),
        SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        },
    );
    for (&c, &cid) in &cids.0 {
        cmap.pair(cid, c);
    }
    pdf.cmap(to_unicode, &cmap.finish());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_character_has_one_cid_from_1() {
        let mut cids = Cids::default();
        let (codes, count) = cids.encode("aba 𝔘");
        assert_eq!(count, 5);
        assert_eq!(codes, [0, 1, 0, 2, 0, 1, 0, 3, 0, 4]);
        assert_eq!(cids.encode("b").0, [0, 2]);
    }

    #[test]
    fn the_font_program_is_tesseracts() {
        // TrueType 1.0, 572 bytes: the file Debian's libtesseract5 ships as pdf.ttf.
        assert_eq!(GLYPHLESS.len(), 572);
        assert!(GLYPHLESS.starts_with(&[0, 1, 0, 0]));
    }
}
