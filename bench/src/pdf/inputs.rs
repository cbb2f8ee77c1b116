//! The documents of the PDF section: born-digital text documents, scanned pages (the OCR
//! development set's forms when it is present, read at bench time and never written into the
//! repository; else pages of rendered text), and the PDFs made of them.

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_pixels};
use intake_pdf::testkit::{A2, TestPage, pdf};

use crate::support::{BenchError, fail};

/// The resolution scanned pages are taken to have: their pages measure their pixels at it, so
/// that a page rendered at the reader's 300 DPI has the picture's own pixels.
const SCAN_DPI: f32 = 300.0;

/// One scanned page.
pub(crate) struct Scan {
    pub(crate) name: String,
    /// The page as a grey JPEG (quality 90), as a scanner writes it.
    pub(crate) jpeg: Vec<u8>,
    /// Its grey pixels.
    pub(crate) grey: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// What is written on it, when known (the development set's truth).
    pub(crate) truth: Option<String>,
}

impl Scan {
    fn size(&self) -> (f32, f32) {
        let points = |px: u32| px as f32 * 72.0 / SCAN_DPI;
        (points(self.width), points(self.height))
    }
}

/// The scanned pages and where they come from.
pub(crate) struct Scans {
    pub(crate) pages: Vec<Scan>,
    pub(crate) source: String,
}

fn dev_set() -> PathBuf {
    std::env::var_os("INTAKE_OCR_DEV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ocr-dev"),
        PathBuf::from,
    )
}

fn jpeg(grey: &[u8], width: u32, height: u32) -> Result<Vec<u8>, BenchError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode(grey, width, height, image::ExtendedColorType::L8)
        .map_err(fail("encode a JPEG"))?;
    Ok(out)
}

/// The scanned pages: every page of the development set (10 in a quick run), else 24 (4) pages of
/// eight lines of rendered text.
pub(crate) fn scans(quick: bool) -> Result<Scans, BenchError> {
    let dev = dev_set();
    let take = if quick { 4 } else { usize::MAX };
    if let Ok(pairs) = std::fs::read_to_string(dev.join("pairs.tsv")) {
        let mut pages = Vec::new();
        for line in pairs
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .take(take)
        {
            let mut fields = line.split('\t');
            let (Some(image), truth) = (fields.next(), fields.next()) else {
                continue;
            };
            let grey = image::open(dev.join(image))
                .map_err(fail("read a development page"))?
                .to_luma8();
            let (width, height) = grey.dimensions();
            pages.push(Scan {
                name: Path::new(image)
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                jpeg: jpeg(grey.as_raw(), width, height)?,
                grey: grey.into_raw(),
                width,
                height,
                truth: truth.and_then(|t| std::fs::read_to_string(dev.join(t)).ok()),
            });
        }
        if !pages.is_empty() {
            let source = format!(
                "{} forms of the OCR development set ({}, read at bench time), as grey JPEGs (quality 90), each page its pixels at 300 DPI",
                pages.len(),
                dev.display()
            );
            return Ok(Scans { pages, source });
        }
    }
    let font = DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or_else(|| BenchError::Failed("no DejaVu Sans (scripts/system-deps.sh)".into()))?;
    let count = if quick { 4 } else { 24 };
    let mut pages = Vec::new();
    for n in 0..count {
        let lines: Vec<String> = (0..8).map(|l| sentence(n * 8 + l, 5)).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (grey, (width, height)) =
            render_pixels(&refs, &font).ok_or_else(|| BenchError::Failed("render".into()))?;
        pages.push(Scan {
            name: format!("page-{n:03}"),
            jpeg: jpeg(&grey, width, height)?,
            grey,
            width,
            height,
            truth: Some(lines.join("\n")),
        });
    }
    Ok(Scans {
        pages,
        source: format!(
            "{count} pages of eight lines of DejaVu Sans at 40 px (no development set at {})",
            dev.display()
        ),
    })
}

const WORDS: [&str; 24] = [
    "invoice",
    "total",
    "amount",
    "payable",
    "within",
    "thirty",
    "days",
    "of",
    "receipt",
    "the",
    "customer",
    "account",
    "number",
    "reference",
    "order",
    "delivery",
    "address",
    "tax",
    "net",
    "gross",
    "balance",
    "statement",
    "period",
    "quarterly",
];

/// A deterministic line of `words` words and a number, different for each `n`.
pub(crate) fn sentence(n: usize, words: usize) -> String {
    let mut state = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut line: Vec<String> = (0..words)
        .map(|_| WORDS[(next() % WORDS.len() as u64) as usize].to_owned())
        .collect();
    line.push(format!("{}.{:02}", next() % 100_000, next() % 100));
    let mut line = line.join(" ");
    if let Some(first) = line.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    line
}

/// A born-digital document of `pages` full A4 pages: 46 lines of about 90 characters each.
pub(crate) fn text_document(pages: usize, seed: usize) -> Vec<u8> {
    let pages: Vec<TestPage> = (0..pages)
        .map(|p| {
            TestPage::Text(
                (0..46)
                    .map(|l| sentence(seed * 100_000 + p * 46 + l, 13))
                    .collect(),
            )
        })
        .collect();
    pdf(&pages)
}

/// The scanned pages as one PDF, each page one JPEG over the whole page (passed through).
pub(crate) fn jpeg_pdf(scans: &[Scan]) -> Vec<u8> {
    let pages: Vec<TestPage> = scans
        .iter()
        .map(|s| {
            let (w, h) = s.size();
            TestPage::Jpeg {
                bytes: s.jpeg.clone(),
                width: s.width,
                height: s.height,
            }
            .sized(w, h)
        })
        .collect();
    pdf(&pages)
}

/// The scanned pages as one PDF, each page's pixels compressed with Flate (as a PNG scan is
/// embedded): every page is rendered.
pub(crate) fn grey_pdf(scans: &[Scan]) -> Vec<u8> {
    let pages: Vec<TestPage> = scans
        .iter()
        .map(|s| {
            let (w, h) = s.size();
            TestPage::Grey {
                pixels: s.grey.clone(),
                width: s.width,
                height: s.height,
            }
            .sized(w, h)
        })
        .collect();
    pdf(&pages)
}

/// One A2 page (4962 × 7016 px at 300 DPI: 34.8 million pixels, within the 36 MP budget): a scan
/// at 150 DPI (2481 × 3508 grey pixels, the first scanned page enlarged) drawn over the page.
pub(crate) fn large_pdf(scans: &[Scan]) -> Result<Vec<u8>, BenchError> {
    let first = scans
        .first()
        .ok_or_else(|| BenchError::Failed("no scanned page".into()))?;
    let small = image::GrayImage::from_raw(first.width, first.height, first.grey.clone())
        .ok_or_else(|| BenchError::Failed("a scanned page's pixels".into()))?;
    let (width, height) = (2481, 3508);
    let big = image::imageops::resize(&small, width, height, image::imageops::FilterType::Triangle);
    Ok(pdf(&[TestPage::Grey {
        pixels: big.into_raw(),
        width,
        height,
    }
    .sized(A2.0, A2.1)]))
}
