//! Figure 7's order-sensitive part: the character error rate of the *whole page text in order*
//! against the truth in reading order, whitespace normalised (every run of whitespace, line breaks
//! included, is one space). `score.py` sorts lines before its CER, so it cannot see order; this
//! can. Measured on pages rendered here with known order (`testkit::layouts`: receipts, columns, a
//! table, photos turned a few degrees) and on the development set (its truth lists entities top to
//! bottom, then left to right), for PP-OCR with the layout rule, PP-OCR's fragments as returned,
//! and Tesseract.

use std::path::{Path, PathBuf};

use intake_domain::testkit::images::DEJAVU_SANS_PATHS;
use intake_domain::testkit::layouts;
use intake_ocr_onnx::ModelTier;

use crate::ocr::{ocr_child, stem};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// Where `ocr-child` writes each page's fragments as the engine returned them, beside the arranged
/// text it writes as `<stem>.txt`.
pub(crate) const FRAGMENTS_DIR: &str = "fragments";

/// The text with every run of whitespace made one space, trimmed.
fn normalise(text: &str) -> Vec<char> {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect()
}

/// The Levenshtein distance between two texts, in characters.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Errors and truth characters of one page read against its truth.
fn page_errors(read: &str, truth: &str) -> (usize, usize) {
    let (read, truth) = (normalise(read), normalise(truth));
    (levenshtein(&read, &truth), truth.len())
}

/// The in-order CER over pages (micro: all errors over all truth characters); a missing output
/// reads as empty.
fn cer(out: &Path, truths: &[(String, String)]) -> f64 {
    let (errors, chars) = truths.iter().fold((0, 0), |(e, c), (name, truth)| {
        let read = std::fs::read_to_string(out.join(format!("{name}.txt"))).unwrap_or_default();
        let (pe, pc) = page_errors(&read, truth);
        (e + pe, c + pc)
    });
    errors as f64 / chars.max(1) as f64
}

/// The three in-order CERs of one set of pages: arranged, fragments, Tesseract.
struct Cers {
    arranged: f64,
    fragments: f64,
    tesseract: f64,
}

/// The ratio of two in-order CERs as the ratio of their character accuracies (1 − CER, ours over
/// the reference's): bounded and comparable where a CER reaches 0 (rendered pages read without an
/// error would otherwise give a ratio of millions).
fn accuracy_ratio(ours: f64, reference: f64) -> f64 {
    (1.0 - ours).max(0.0) / (1.0 - reference).max(1e-9)
}

fn figures(section: &mut Section, set: &str, cers: &Cers) {
    section.figure(Figure {
        name: format!("page text in order, CER, {set}: PP-OCR tiny arranged vs Tesseract"),
        ours: format!("{:.4}", cers.arranged),
        reference_name: "tesseract psm 3".into(),
        reference: format!("{:.4}", cers.tesseract),
        ratio: accuracy_ratio(cers.arranged, cers.tesseract),
        target: "≤ Tesseract".into(),
        met: Some(cers.arranged <= cers.tesseract),
    });
    section.figure(Figure {
        name: format!("page text in order, CER, {set}: arranged vs fragments as returned"),
        ours: format!("{:.4}", cers.arranged),
        reference_name: "PP-OCR tiny fragments".into(),
        reference: format!("{:.4}", cers.fragments),
        ratio: accuracy_ratio(cers.arranged, cers.fragments),
        target: "< fragments".into(),
        met: Some(cers.arranged < cers.fragments),
    });
}

/// The order-sensitive figures: on the development set, from what the quality runs wrote in `work`
/// (PP-OCR tiny on one core, Tesseract on one core), and on the rendered layouts.
pub(crate) async fn run(
    section: &mut Section,
    dev: &Path,
    pages: &[PathBuf],
    work: &Path,
) -> Result<(), BenchError> {
    dev_set(
        section,
        dev,
        pages,
        &work.join(format!("ppocr-{}-1", ModelTier::Tiny)),
        &work.join("t1"),
    )?;
    rendered(section, work).await
}

/// The development set's figures, from the outputs the quality runs wrote: `ppocr` (one core,
/// arranged, with its fragments beside) and `tesseract`.
fn dev_set(
    section: &mut Section,
    dev: &Path,
    pages: &[PathBuf],
    ppocr: &Path,
    tesseract: &Path,
) -> Result<(), BenchError> {
    let truths = pages
        .iter()
        .map(|page| {
            let name = stem(page);
            let truth = std::fs::read_to_string(dev.join("truth").join(format!("{name}.txt")))
                .map_err(fail("truth"))?;
            Ok((name, truth))
        })
        .collect::<Result<Vec<_>, BenchError>>()?;
    let cers = Cers {
        arranged: cer(ppocr, &truths),
        fragments: cer(&ppocr.join(FRAGMENTS_DIR), &truths),
        tesseract: cer(tesseract, &truths),
    };
    figures(section, "development set", &cers);
    Ok(())
}

/// The rendered layouts' figures: each page written as a PNG, read by PP-OCR tiny (one worker) and
/// by Tesseract, scored against its known reading.
async fn rendered(section: &mut Section, work: &Path) -> Result<(), BenchError> {
    let Some(font) = DEJAVU_SANS_PATHS.iter().find_map(|p| std::fs::read(p).ok()) else {
        section.note("rendered layouts skipped: no DejaVu Sans (fonts-dejavu-core)");
        return Ok(());
    };
    let dir = work.join("layouts");
    std::fs::create_dir_all(&dir).map_err(fail("layouts dir"))?;
    let layouts = layouts::all(&font).ok_or_else(|| BenchError::Failed("font".into()))?;
    let mut truths = Vec::new();
    let mut files = Vec::new();
    for (i, page) in layouts.iter().enumerate() {
        let name = format!("layout-{i}");
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, page.png()).map_err(fail("write layout"))?;
        files.push(file);
        truths.push((name, page.text()));
    }
    let ppocr = dir.join("ppocr");
    std::fs::create_dir_all(&ppocr).map_err(fail("output dir"))?;
    ocr_child(ModelTier::Tiny, 1, &ppocr, &files).await?;
    let tesseract = dir.join("tesseract");
    std::fs::create_dir_all(&tesseract).map_err(fail("output dir"))?;
    for file in &files {
        let output = tokio::process::Command::new("tesseract")
            .arg(file)
            .args(["stdout", "-l", "eng", "--psm", "3"])
            .env("OMP_THREAD_LIMIT", "1")
            .output()
            .await
            .map_err(fail("tesseract"))?;
        std::fs::write(
            tesseract.join(format!("{}.txt", stem(file))),
            &output.stdout,
        )
        .map_err(fail("write text"))?;
    }
    let cers = Cers {
        arranged: cer(&ppocr, &truths),
        fragments: cer(&ppocr.join(FRAGMENTS_DIR), &truths),
        tesseract: cer(&tesseract, &truths),
    };
    figures(section, "rendered layouts", &cers);
    let per_page: Vec<String> = layouts
        .iter()
        .zip(&truths)
        .map(|(page, truth)| {
            let one = std::slice::from_ref(truth);
            format!(
                "{} {:.3} / {:.3} / {:.3}",
                page.name,
                cer(&ppocr, one),
                cer(&ppocr.join(FRAGMENTS_DIR), one),
                cer(&tesseract, one)
            )
        })
        .collect();
    section.note(format!(
        "in-order CER per rendered page (arranged / fragments / Tesseract): {}",
        per_page.join("; ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_order_cer_counts_order_and_ignores_whitespace() {
        assert_eq!(page_errors("a  b\nc", "a b c"), (0, 5));
        assert_eq!(page_errors("kitten", "sitting"), (3, 7));
        // The same lines in another order cost characters.
        assert!(page_errors("Total\n31.00\nTea", "Tea\nTotal 31.00").0 > 0);
        assert_eq!(page_errors("", "abc"), (3, 3));
    }
}
