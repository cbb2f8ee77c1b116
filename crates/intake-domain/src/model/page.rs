//! Pages: where in a document a line was read, and what each page of a record holds.
//!
//! A single image is one page; a multi-page TIFF or a PDF has several. Every OCR line carries the
//! page it is on (counted from 1), an engine reports each page it read ([`OcrPage`]), and a
//! processed record keeps a summary per page ([`PageSummary`]) for the API, the web app and exports.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use super::{ImageHash, OcrLine, OcrResult};

/// A page number, counted from 1.
pub type PageNumber = NonZeroU32;

/// The first page: what a line of a single image, or a line stored before pages existed, is on.
pub const FIRST_PAGE: PageNumber = NonZeroU32::MIN;

/// The sizes a page's picture is drawn in (`GET /images/{imageId}/pages/{page}?size=`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum PictureSize {
    /// To read the page: at most 1600 pixels on its longest side.
    #[default]
    Page,
    /// A thumbnail in a strip of pages: at most 320 pixels.
    Thumbnail,
}

impl PictureSize {
    /// Every size, as the API lists them.
    pub const ALL: [Self; 2] = [Self::Page, Self::Thumbnail];

    /// The size's name in the API (`page`, `thumb`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Thumbnail => "thumb",
        }
    }

    /// The longest side of a picture of this size, in pixels.
    pub const fn longest_side(self) -> u32 {
        match self {
            Self::Page => 1600,
            Self::Thumbnail => 320,
        }
    }

    /// The size named `name` (`page`, `thumb`), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Where a page's text came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PageSource {
    /// The page was read by an OCR engine from its pixels.
    Ocr,
    /// The page's text, words and boxes were taken from a PDF's text layer: exact, no OCR.
    TextLayer,
}

/// A page as an engine read it: its number, its size in pixels as read (unknown for an engine that
/// reads a document itself and reports only relative geometry, as Textract does), and where its
/// text came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OcrPage {
    page: PageNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width_px: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height_px: Option<u32>,
    source: PageSource,
    /// The perceptual hash of the upright page, from the engine that saw its pixels (8 bytes, not
    /// the sketch it was computed from: all duplicate detection needs of the pixels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_hash: Option<ImageHash>,
}

impl OcrPage {
    /// A page of `width_px` × `height_px` pixels (as read: a rendered PDF page's pixels at the
    /// rendering's resolution).
    pub fn new(page: PageNumber, width_px: u32, height_px: u32, source: PageSource) -> Self {
        Self {
            page,
            width_px: Some(width_px),
            height_px: Some(height_px),
            source,
            image_hash: None,
        }
    }

    /// A page whose size in pixels the engine does not know (its boxes are relative to the page
    /// all the same): the record's page summary then has no size.
    pub fn of_unknown_size(page: PageNumber, source: PageSource) -> Self {
        Self {
            page,
            width_px: None,
            height_px: None,
            source,
            image_hash: None,
        }
    }

    /// The page number, from 1.
    pub fn page(&self) -> PageNumber {
        self.page
    }
    /// Width and height in pixels, when the engine knows them.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.width_px.zip(self.height_px)
    }
    /// Width in pixels (0 when unknown, see [`OcrPage::size`]).
    pub fn width_px(&self) -> u32 {
        self.size().map_or(0, |(w, _)| w)
    }
    /// Height in pixels (0 when unknown, see [`OcrPage::size`]).
    pub fn height_px(&self) -> u32 {
        self.size().map_or(0, |(_, h)| h)
    }
    /// Where the page's text came from.
    pub fn source(&self) -> PageSource {
        self.source
    }
    /// The same page with the perceptual hash of its picture (see
    /// [`PageSketch`](super::PageSketch)).
    #[must_use]
    pub fn with_image_hash(mut self, hash: ImageHash) -> Self {
        self.image_hash = Some(hash);
        self
    }
    /// The perceptual hash of the upright page, when the engine saw its pixels.
    pub fn image_hash(&self) -> Option<ImageHash> {
        self.image_hash
    }
}

/// What a processed record shows of one page: its size, where its text came from, and what was
/// read on it.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSummary {
    /// The page number, from 1.
    pub page: PageNumber,
    /// Width in pixels, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_px: Option<u32>,
    /// Height in pixels, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_px: Option<u32>,
    /// Where the page's text came from.
    pub source: PageSource,
    /// Lines read on the page.
    pub line_count: u32,
    /// The mean confidence of the page's words in percent (as [`OcrResult::avg_confidence_pct`]);
    /// `None` for a page where nothing was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_confidence_pct: Option<f64>,
}

impl OcrResult {
    /// The pages of this result, one summary each, in page order.
    ///
    /// The pages the engine reported come first-hand; an engine that reports none (one image read
    /// whole) read one page, or as many as its lines name, and `image_size` (the image's own width
    /// and height, from its header) sizes the first of them.
    pub fn page_summaries(&self, image_size: Option<(u32, u32)>) -> Vec<PageSummary> {
        let blank = |page: PageNumber, size: Option<(u32, u32)>, source: PageSource| PageSummary {
            page,
            width_px: size.map(|(w, _)| w),
            height_px: size.map(|(_, h)| h),
            source,
            line_count: 0,
            avg_confidence_pct: None,
        };
        let mut pages: Vec<PageSummary> = if self.pages().is_empty() {
            let last = self
                .lines()
                .iter()
                .map(OcrLine::page)
                .max()
                .unwrap_or(FIRST_PAGE);
            (1..=last.get())
                .filter_map(NonZeroU32::new)
                .map(|page| {
                    let size = if page == FIRST_PAGE { image_size } else { None };
                    blank(page, size, PageSource::Ocr)
                })
                .collect()
        } else {
            self.pages()
                .iter()
                .map(|p| blank(p.page, p.size(), p.source))
                .collect()
        };
        pages.sort_by_key(|p| p.page);
        pages.dedup_by_key(|p| p.page);
        for summary in &mut pages {
            let lines: Vec<&OcrLine> = self
                .lines()
                .iter()
                .filter(|l| l.page() == summary.page)
                .collect();
            summary.line_count = u32::try_from(lines.len()).unwrap_or(u32::MAX);
            summary.avg_confidence_pct = mean_confidence(&lines);
        }
        pages
    }
}

/// The mean confidence over the words of `lines` (over the lines themselves when they have no
/// words), rounded to two decimals; `None` for nothing.
pub(super) fn mean_confidence(lines: &[&OcrLine]) -> Option<f64> {
    let words: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.words().iter().map(|w| f64::from(w.confidence())))
        .collect();
    let values = if words.is_empty() {
        lines.iter().map(|l| f64::from(l.confidence())).collect()
    } else {
        words
    };
    if values.is_empty() {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Some((mean * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BoundingBox, OcrWord};

    fn page(n: u32) -> PageNumber {
        NonZeroU32::new(n).unwrap()
    }

    fn line(text: &str, conf: f32, on: u32) -> OcrLine {
        let b = BoundingBox::new(0.1, 0.1, 0.5, 0.05).unwrap();
        OcrLine::new(text, conf, b, vec![OcrWord::new(text, conf, b).unwrap()])
            .unwrap()
            .on_page(page(on))
    }

    #[test]
    fn text_separates_pages_with_a_form_feed_as_pdftotext_does() {
        let r = OcrResult::new(
            "e",
            vec![
                line("a", 90.0, 1),
                line("b", 90.0, 1),
                line("c", 90.0, 2),
                line("d", 90.0, 4),
            ],
            false,
        )
        .unwrap();
        assert_eq!(r.text(), "a\nb\n\u{c}c\n\u{c}\u{c}d");
        let single = OcrResult::new("e", vec![line("a", 1.0, 1), line("b", 1.0, 1)], false);
        assert_eq!(single.unwrap().text(), "a\nb");
    }

    #[test]
    fn reported_pages_are_summarised_with_their_lines() {
        let r = OcrResult::new(
            "e",
            vec![line("a", 80.0, 1), line("b", 60.0, 1), line("c", 90.0, 3)],
            false,
        )
        .unwrap()
        .with_pages(vec![
            OcrPage::new(page(3), 30, 40, PageSource::TextLayer),
            OcrPage::new(page(1), 10, 20, PageSource::Ocr),
            OcrPage::new(page(2), 10, 20, PageSource::Ocr),
        ]);
        let pages = r.page_summaries(Some((999, 999)));
        let got: Vec<_> = pages
            .iter()
            .map(|p| {
                (
                    p.page.get(),
                    p.width_px,
                    p.source,
                    p.line_count,
                    p.avg_confidence_pct,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, Some(10), PageSource::Ocr, 2, Some(70.0)),
                (2, Some(10), PageSource::Ocr, 0, None),
                (3, Some(30), PageSource::TextLayer, 1, Some(90.0)),
            ]
        );
    }

    #[test]
    fn pages_of_unknown_size_are_summarised_without_one() {
        let r = OcrResult::new("e", vec![line("a", 80.0, 1), line("b", 60.0, 2)], false)
            .unwrap()
            .with_pages(vec![
                OcrPage::of_unknown_size(page(1), PageSource::Ocr),
                OcrPage::of_unknown_size(page(2), PageSource::Ocr),
                OcrPage::of_unknown_size(page(3), PageSource::Ocr),
            ]);
        let pages = r.page_summaries(Some((640, 480)));
        let got: Vec<_> = pages
            .iter()
            .map(|p| (p.page.get(), p.width_px, p.height_px, p.line_count))
            .collect();
        assert_eq!(
            got,
            [(1, None, None, 1), (2, None, None, 1), (3, None, None, 0)]
        );
        // Stored as before for a known size; no size at all when unknown.
        let known = serde_json::to_value(OcrPage::new(page(1), 10, 20, PageSource::Ocr)).unwrap();
        assert_eq!(
            known,
            serde_json::json!({"page": 1, "widthPx": 10, "heightPx": 20, "source": "ocr"})
        );
        let unknown = OcrPage::of_unknown_size(page(2), PageSource::Ocr);
        let json = serde_json::to_value(unknown).unwrap();
        assert_eq!(json, serde_json::json!({"page": 2, "source": "ocr"}));
        assert_eq!(serde_json::from_value::<OcrPage>(json).unwrap(), unknown);
        assert_eq!((unknown.size(), unknown.width_px()), (None, 0));
    }

    #[test]
    fn an_engine_without_pages_read_one_page_the_size_of_the_image() {
        let r = OcrResult::new("e", vec![line("a", 50.0, 1)], false).unwrap();
        let pages = r.page_summaries(Some((640, 480)));
        assert_eq!(pages.len(), 1);
        assert_eq!(
            (pages[0].width_px, pages[0].height_px),
            (Some(640), Some(480))
        );
        assert_eq!(pages[0].line_count, 1);
        let empty = OcrResult::new("e", vec![], false).unwrap();
        let pages = empty.page_summaries(None);
        assert_eq!(pages.len(), 1);
        assert_eq!(
            (pages[0].line_count, pages[0].avg_confidence_pct),
            (0, None)
        );
    }

    #[test]
    fn lines_stored_before_pages_existed_are_on_the_first_page() {
        let json =
            r#"{"text":"x","confidence":50,"boundingBox":{"left":0,"top":0,"width":1,"height":1}}"#;
        let line: OcrLine = serde_json::from_str(json).unwrap();
        assert_eq!(line.page(), FIRST_PAGE);
        let back = serde_json::to_value(line.on_page(page(2))).unwrap();
        assert_eq!(back["page"], 2);
        assert!(serde_json::from_str::<OcrLine>(&json.replace("50,", "50,\"page\":0,")).is_err());
    }
}
