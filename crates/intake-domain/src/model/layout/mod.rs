//! Reading order: one engine-independent rule that turns what an engine found on a page into
//! visual lines in the order a person reads them.
//!
//! Detectors such as PP-OCR report one box per text *fragment*: a receipt's `Total Amount:` and its
//! `31.00` are two fragments, and fragments of two columns come interleaved. The rule
//! - turns the page into its **text frame** ([`frame`]): the direction the text runs in is estimated
//!   from the fragments (first word to last word of each, the median of those), so a skewed photo or
//!   a page turned a quarter turn is measured along its lines;
//! - builds **visual lines** ([`lines`]): fragments on one baseline (overlapping vertically by half
//!   a height, of similar height) are linked to their nearest neighbour on the right and joined,
//!   words in order, a space between fragments, the box their union, the confidence their mean
//!   weighted by words; except across a **column gutter**: a white strip several rows share whose
//!   gap is narrow beside the text on either side (running text in columns). Wide gaps beside short
//!   text (a label and its amount, a table's cells) join, so tables and receipts read row by row;
//! - **orders** them ([`order`]): top to bottom; where gutters divide the page into columns, the
//!   band of columns reads column by column. Lines across a gutter (headers, footers) bound it.
//!
//! Pure functions: every threshold is a named constant with its reason.

mod frame;
mod lines;
mod order;
#[cfg(test)]
mod tests;

use super::{OcrLine, OcrResult, PageSource};

/// Past this many lines a page is left as it was read: the rule compares fragments pairwise, and a
/// detector reports at most a thousand a page (PP-OCR's candidate limit), so only a hostile text
/// layer comes near it.
pub const MAX_ARRANGED_LINES: usize = 5000;

/// A page's lines (fragments as an engine reported them, all on one page) as visual lines in
/// reading order. `size` is the page's size in pixels, when known: directions are measured in
/// pixels (boxes are relative to the page, so without it the page is taken as square). A page of
/// more than [`MAX_ARRANGED_LINES`] is returned as it is.
pub fn arrange_page(lines: &[OcrLine], size: Option<(u32, u32)>) -> Vec<OcrLine> {
    if lines.len() < 2 || lines.len() > MAX_ARRANGED_LINES {
        return lines.to_vec();
    }
    let frame = frame::Frame::of(lines, size);
    let placed: Vec<frame::Placed> = lines.iter().map(|l| frame.place(l)).collect();
    let (visual, gutters) = lines::visual_lines(&placed);
    order::reading_order(visual, &placed, gutters)
        .iter()
        .filter_map(|members| {
            OcrLine::joined(
                &members
                    .iter()
                    .filter_map(|&i| lines.get(i))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

impl OcrResult {
    /// The same result with its pages' lines in reading order ([`arrange_page`]): the pages read
    /// from a document's text layer (their lines are in the order the document drew them), and,
    /// when `fragments` (the engine reports text fragments rather than lines, see
    /// [`OcrCapabilities::reports_fragments`](crate::ports::OcrCapabilities::reports_fragments)),
    /// the pages read by OCR. Lines of a page not listed are taken as read by OCR.
    #[must_use]
    pub fn in_reading_order(self, fragments: bool) -> Self {
        let arranges = |page| {
            let source = self
                .pages()
                .iter()
                .find(|p| p.page() == page)
                .map_or(PageSource::Ocr, super::OcrPage::source);
            match source {
                PageSource::TextLayer => true,
                _ => fragments,
            }
        };
        let mut out: Vec<OcrLine> = Vec::with_capacity(self.lines().len());
        for chunk in self.lines().chunk_by(|a, b| a.page() == b.page()) {
            let Some(page) = chunk.first().map(OcrLine::page) else {
                continue;
            };
            if arranges(page) {
                let size = self
                    .pages()
                    .iter()
                    .find(|p| p.page() == page)
                    .and_then(super::OcrPage::size);
                out.extend(arrange_page(chunk, size));
            } else {
                out.extend_from_slice(chunk);
            }
        }
        self.with_lines(out)
    }
}
