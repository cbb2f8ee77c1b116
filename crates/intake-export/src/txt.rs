//! Plain text as `pdftotext` writes it: each line ended by a newline, each page by a form feed
//! (a page where nothing was read is a form feed alone).

use intake_domain::model::ImageRecord;

use crate::layout;

/// The text of `record`, from its lines; for a record without lines (none was stored), its OCR
/// text, whose pages are already separated by form feeds.
pub(crate) fn render(record: &ImageRecord) -> Vec<u8> {
    let mut out = String::new();
    if record.ocr_lines().is_none_or(<[_]>::is_empty) {
        let pages = layout::pages(record).len();
        let text = record.ocr_text().unwrap_or_default();
        let mut written = 0;
        for page in text.split('\u{c}') {
            let page = page.strip_suffix('\n').unwrap_or(page);
            if !page.is_empty() {
                out.push_str(page);
                out.push('\n');
            }
            out.push('\u{c}');
            written += 1;
        }
        for _ in written..pages {
            out.push('\u{c}');
        }
        return out.into_bytes();
    }
    for page in layout::pages(record) {
        for line in &page.lines {
            out.push_str(line.text());
            out.push('\n');
        }
        out.push('\u{c}');
    }
    out.into_bytes()
}
