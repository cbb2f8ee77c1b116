//! Whether a document page's text layer can be trusted, or the page must be read from its pixels:
//! one pure rule, applied by every document reader to every page before it renders anything.
//!
//! A born-digital page's text layer is exact (its text, words and boxes come from the document
//! itself). A scanned page has no text layer, or an invisible one laid over its picture by an OCR
//! tool. Some layers are garbage: fonts without a Unicode map give private-use or replacement
//! characters. And a page may be mostly a picture (a receipt photographed and pasted into a PDF)
//! with only a caption in its layer: what is printed in the picture is not in the layer.

/// What a reader found on one page, before deciding how to read it.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
#[non_exhaustive]
pub struct TextLayerFacts {
    /// Characters in the page's text layer that are not whitespace.
    pub chars: u32,
    /// Of those, characters that carry no text: U+FFFD, private-use code points and control
    /// characters (a font without a Unicode map).
    pub unreadable_chars: u32,
    /// The share of the page's area covered by pictures (0 to 1; pictures that overlap count once
    /// or more, capped at 1).
    pub picture_coverage: f32,
    /// Characters of the text layer that lie on a picture (an OCR tool's invisible layer over a
    /// scan lies on it; a caption beside a photo does not).
    pub chars_on_pictures: u32,
}

impl TextLayerFacts {
    /// Facts of a page: its layer's characters, the unreadable ones among them, the share of the
    /// page pictures cover, and the characters lying on those pictures.
    pub fn new(
        chars: u32,
        unreadable_chars: u32,
        picture_coverage: f32,
        chars_on_pictures: u32,
    ) -> Self {
        Self {
            chars,
            unreadable_chars,
            picture_coverage: if picture_coverage.is_finite() {
                picture_coverage.clamp(0.0, 1.0)
            } else {
                0.0
            },
            chars_on_pictures,
        }
    }

    /// Whether a character carries no text (see [`TextLayerFacts::unreadable_chars`]).
    pub fn is_unreadable(c: char) -> bool {
        c == char::REPLACEMENT_CHARACTER
            || (c.is_control() && !c.is_whitespace())
            || matches!(u32::from(c), 0xE000..=0xF8FF | 0xF_0000..=0xF_FFFD | 0x10_0000..=0x10_FFFD)
    }
}

/// The thresholds of the rule; [`TextLayerRule::default`] holds the measured defaults.
#[derive(Clone, Copy, PartialEq, Debug)]
#[non_exhaustive]
pub struct TextLayerRule {
    /// The fewest readable characters a layer needs to be used at all (a page with only a page
    /// number in its layer is read from its pixels).
    pub min_chars: u32,
    /// The largest share of unreadable characters a usable layer may have.
    pub max_unreadable_share: f32,
    /// From this share of the page covered by pictures, the page counts as a picture page: its
    /// layer is used only if it lies on the pictures (an OCR tool's layer over a scan).
    pub picture_page_coverage: f32,
    /// On a picture page, the share of the layer's characters that must lie on the pictures.
    pub min_share_on_pictures: f32,
}

impl Default for TextLayerRule {
    fn default() -> Self {
        Self {
            min_chars: 16,
            max_unreadable_share: 0.1,
            picture_page_coverage: 0.5,
            min_share_on_pictures: 0.5,
        }
    }
}

impl TextLayerRule {
    /// Whether the page's text layer covers what is printed, so that it is used instead of OCR.
    pub fn uses_text_layer(&self, facts: &TextLayerFacts) -> bool {
        if facts.chars == 0 {
            return false;
        }
        let readable = facts.chars.saturating_sub(facts.unreadable_chars);
        if readable < self.min_chars {
            return false;
        }
        if share(facts.unreadable_chars, facts.chars) > self.max_unreadable_share {
            return false;
        }
        if facts.picture_coverage >= self.picture_page_coverage {
            return share(facts.chars_on_pictures, facts.chars) >= self.min_share_on_pictures;
        }
        true
    }
}

#[allow(clippy::cast_precision_loss)]
fn share(part: u32, whole: u32) -> f32 {
    if whole == 0 {
        0.0
    } else {
        part as f32 / whole as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> TextLayerRule {
        TextLayerRule::default()
    }

    #[test]
    fn a_born_digital_page_uses_its_layer() {
        assert!(rule().uses_text_layer(&TextLayerFacts::new(900, 0, 0.0, 0)));
        // A letterhead logo does not make it a picture page.
        assert!(rule().uses_text_layer(&TextLayerFacts::new(900, 2, 0.1, 0)));
    }

    #[test]
    fn a_page_without_a_layer_or_with_a_page_number_only_is_read() {
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(0, 0, 1.0, 0)));
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(0, 0, 0.0, 0)));
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(7, 0, 0.98, 0)));
    }

    #[test]
    fn a_garbage_layer_is_read_from_the_pixels() {
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(500, 400, 0.0, 0)));
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(500, 60, 0.0, 0)));
        assert!(rule().uses_text_layer(&TextLayerFacts::new(500, 40, 0.0, 0)));
    }

    #[test]
    fn a_scan_with_an_ocr_layer_uses_it_but_a_captioned_photo_is_read() {
        // OCRmyPDF's invisible layer lies on the scan.
        assert!(rule().uses_text_layer(&TextLayerFacts::new(1200, 0, 0.97, 1180)));
        // A photographed receipt pasted under a caption.
        assert!(!rule().uses_text_layer(&TextLayerFacts::new(60, 0, 0.7, 0)));
    }

    #[test]
    fn unreadable_characters_are_replacements_private_use_and_controls() {
        for c in ['\u{fffd}', '\u{e000}', '\u{f8ff}', '\u{1}', '\u{10fffd}'] {
            assert!(TextLayerFacts::is_unreadable(c), "{c:?}");
        }
        for c in ['a', 'é', '€', '漢', '\n', ' '] {
            assert!(!TextLayerFacts::is_unreadable(c), "{c:?}");
        }
    }

    #[test]
    fn coverage_is_clamped() {
        assert!((TextLayerFacts::new(1, 0, f32::NAN, 0).picture_coverage).abs() < f32::EPSILON);
        assert!((TextLayerFacts::new(1, 0, 3.0, 0).picture_coverage - 1.0).abs() < f32::EPSILON);
    }
}
