//! Tesseract's TSV: one row per page, block, paragraph, line and word, with its box and confidence,
//! turned into a result.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use intake_domain::model::{
    BoundingBox, FIRST_PAGE, OcrLine, OcrPage, OcrResult, OcrWord, PageSource,
};
use intake_domain::ports::{Failure, OcrError};

/// The header Tesseract prints once per process; each image's rows are handed to [`parse_tsv`] under it.
pub(super) const TSV_HEADER: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n";

/// One word row of Tesseract's TSV.
struct WordRow<'a> {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
    confidence: f32,
    text: &'a str,
}

/// Turns Tesseract's TSV into a result. Each page's size comes from its level-1 row (the pages of a
/// multi-page TIFF may differ); words (level 5) with text are grouped into lines by page, block,
/// paragraph and line number, in reading order, each line on its page. Malformed rows are skipped;
/// this never panics, whatever the input.
///
/// # Errors
/// [`OcrError::InvalidImage`] when there is no page row to size the boxes by.
pub fn parse_tsv(tsv: &str) -> Result<OcrResult, OcrError> {
    let mut pages: BTreeMap<NonZeroU32, (u32, u32)> = BTreeMap::new();
    let mut lines: BTreeMap<(u32, u32, u32, u32), Vec<WordRow<'_>>> = BTreeMap::new();
    for row in tsv.lines().skip(1) {
        let cells: Vec<&str> = row.splitn(12, '\t').collect();
        let number = |i: usize| cells.get(i).and_then(|c| c.trim().parse::<u32>().ok());
        let (Some(level), Some(p), Some(b), Some(par), Some(l)) =
            (number(0), number(1), number(2), number(3), number(4))
        else {
            continue;
        };
        let (Some(left), Some(top), Some(width), Some(height)) =
            (number(6), number(7), number(8), number(9))
        else {
            continue;
        };
        // Tesseract counts pages from 1; a 0 is read as the first page.
        let page = NonZeroU32::new(p).unwrap_or(FIRST_PAGE);
        if level == 1 && width > 0 && height > 0 {
            pages.entry(page).or_insert((width, height));
        }
        if level != 5 {
            continue;
        }
        let confidence = cells
            .get(10)
            .and_then(|c| c.trim().parse::<f32>().ok())
            .filter(|c| c.is_finite() && *c >= 0.0);
        let text = cells.get(11).map_or("", |t| t.trim());
        if let (Some(confidence), false) = (confidence, text.is_empty()) {
            lines
                .entry((page.get(), b, par, l))
                .or_default()
                .push(WordRow {
                    left,
                    top,
                    width,
                    height,
                    confidence,
                    text,
                });
        }
    }
    let first = *pages
        .values()
        .next()
        .ok_or_else(|| OcrError::InvalidImage {
            reason: "Tesseract reported no page".into(),
        })?;
    let mut result_lines = Vec::with_capacity(lines.len());
    for (&(p, ..), words) in &lines {
        let page = NonZeroU32::new(p).unwrap_or(FIRST_PAGE);
        // A page without its own row is sized as the first one.
        let (page_width, page_height) = pages.get(&page).copied().unwrap_or(first);
        let mut ocr_words = Vec::with_capacity(words.len());
        for w in words {
            let bbox =
                BoundingBox::from_pixels(w.left, w.top, w.width, w.height, page_width, page_height)
                    .map_err(|e| OcrError::from(Failure::other(e)))?;
            ocr_words.push(
                OcrWord::new(w.text, w.confidence, bbox)
                    .map_err(|e| OcrError::from(Failure::other(e)))?,
            );
        }
        result_lines.extend(OcrLine::from_words(ocr_words).map(|line| line.on_page(page)));
    }
    let read = pages
        .into_iter()
        .map(|(page, (width, height))| OcrPage::new(page, width, height, PageSource::Ocr))
        .collect();
    Ok(OcrResult::new("tesseract", result_lines, false)
        .map_err(|e| OcrError::from(Failure::other(e)))?
        .with_pages(read))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t1000\t500\t-1\t
2\t1\t1\t0\t0\t0\t100\t100\t800\t200\t-1\t
4\t1\t1\t1\t1\t0\t100\t100\t800\t50\t-1\t
5\t1\t1\t1\t1\t1\t100\t100\t200\t50\t96.5\tPAY
5\t1\t1\t1\t1\t2\t320\t100\t100\t50\t91.0\tTO
5\t1\t1\t1\t2\t1\t100\t200\t400\t50\t88.25\tJANE
5\t1\t1\t1\t2\t2\t520\t200\t10\t50\t-1\t 
";

    #[test]
    fn groups_words_into_lines_with_relative_boxes() {
        let r = parse_tsv(SAMPLE).unwrap();
        assert_eq!(r.text(), "PAY TO\nJANE");
        assert_eq!(r.word_count(), 3);
        let first = &r.lines()[0];
        assert!((first.bounding_box().left() - 0.1).abs() < 1e-6);
        assert!((first.bounding_box().width() - 0.32).abs() < 1e-6);
        assert!((first.words()[1].confidence() - 91.0).abs() < 1e-6);
        assert_eq!(r.avg_confidence_pct(), Some(91.92));
    }

    #[test]
    fn each_page_sizes_its_own_boxes_and_lines_name_their_page() {
        let two = format!(
            "{SAMPLE}1\t2\t0\t0\t0\t0\t0\t0\t2000\t1000\t-1\t\n\
             5\t2\t1\t1\t1\t1\t100\t100\t200\t50\t90\tTOTAL\n"
        );
        let r = parse_tsv(&two).unwrap();
        assert_eq!(r.text(), "PAY TO\nJANE\n\u{c}TOTAL");
        let total = &r.lines()[2];
        assert_eq!(total.page().get(), 2);
        assert!(
            (total.bounding_box().left() - 0.05).abs() < 1e-6,
            "sized by page 2"
        );
        let sizes: Vec<_> = r
            .pages()
            .iter()
            .map(|p| (p.page().get(), p.width_px(), p.height_px()))
            .collect();
        assert_eq!(sizes, [(1, 1000, 500), (2, 2000, 1000)]);
    }

    #[test]
    fn garbage_never_panics_and_a_missing_page_is_an_error() {
        for input in [
            "",
            "\n\n",
            "level\n5\t1",
            "x\ty\n1\t1\t0\t0\t0\t0\t0\t0\t0\t0",
            "h\n1\t1\t0\t0\t0\t0\t0\t0\t99999999999\t1\t-1\t",
        ] {
            let _ = parse_tsv(input);
        }
        assert!(parse_tsv("header only").is_err());
        let empty_page = "h\n1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n";
        assert_eq!(parse_tsv(empty_page).unwrap().line_count(), 0);
    }

    /// Rows made of Tesseract's column shapes, with hostile values mixed in.
    fn row() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let cell = prop_oneof![
            "[0-9]{1,3}",
            "-?[0-9]{1,12}",
            "-?[0-9]{0,4}\\.[0-9]{0,4}",
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
            "\\PC{0,12}",
        ];
        proptest::collection::vec(cell, 0..14).prop_map(|cells| cells.join("\t"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,400}") {
            let _ = parse_tsv(&input);
        }

        #[test]
        fn tsv_shaped_garbage_never_panics_and_boxes_stay_on_the_page(
            rows in proptest::collection::vec(row(), 0..40),
        ) {
            let input = format!("header\n1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t\n{}", rows.join("\n"));
            if let Ok(result) = parse_tsv(&input) {
                for line in result.lines() {
                    let b = line.bounding_box();
                    proptest::prop_assert!(b.left() >= 0.0 && b.top() >= 0.0);
                    proptest::prop_assert!(b.left() + b.width() <= 1.0 + 1e-6);
                    proptest::prop_assert!(b.top() + b.height() <= 1.0 + 1e-6);
                    for word in line.words() {
                        proptest::prop_assert!((0.0..=100.0).contains(&word.confidence()));
                    }
                }
            }
        }
    }
}
