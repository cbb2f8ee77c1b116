//! OCR with the `tesseract` 5 command-line program.
//!
//! Each image is piped to `tesseract stdin stdout -l LANG --psm N tsv`, which prints one row per word
//! with its confidence and box; rows are grouped into lines by their page/block/paragraph/line
//! numbers. Every process runs with `OMP_THREAD_LIMIT=1` (Tesseract's own threads slow a small
//! machine down several times; parallelism comes from running several processes, bounded by a
//! semaphore), under a timeout, and is killed if the call is dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{BoundingBox, ContentType, OcrLine, OcrResult, OcrWord};
use intake_domain::ports::{OcrCapabilities, OcrEngine, OcrError, OcrInput};
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;
use tokio::sync::Semaphore;

/// How Tesseract is run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TesseractOptions {
    /// The program (default `tesseract` on the `PATH`).
    pub program: PathBuf,
    /// The language(s), e.g. `eng` or `eng+deu` (default `eng`).
    pub language: String,
    /// The page segmentation mode (default 3: fully automatic).
    pub psm: u8,
    /// How many images are recognised at once (default: the number of cores).
    pub concurrency: usize,
    /// The longest one image may take (default 120 s).
    pub timeout: Duration,
}

impl Default for TesseractOptions {
    fn default() -> Self {
        Self {
            program: PathBuf::from("tesseract"),
            language: "eng".to_owned(),
            psm: 3,
            concurrency: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            timeout: Duration::from_secs(120),
        }
    }
}

impl TesseractOptions {
    /// With a language.
    #[must_use]
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
    /// With a concurrency limit (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
    /// With a timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// With another program path.
    #[must_use]
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }
}

/// The Tesseract engine. Takes image bytes (PNG, JPEG, TIFF, BMP, GIF, WebP), not PDF.
#[derive(Debug, Clone)]
pub struct TesseractOcr {
    options: TesseractOptions,
    capabilities: OcrCapabilities,
    permits: Arc<Semaphore>,
}

impl TesseractOcr {
    /// An engine with `options`.
    pub fn new(options: TesseractOptions) -> Self {
        let capabilities = OcrCapabilities::new(
            "tesseract",
            vec![
                ContentType::Png,
                ContentType::Jpeg,
                ContentType::Tiff,
                ContentType::Bmp,
                ContentType::Gif,
                ContentType::Webp,
            ],
            50 * 1024 * 1024,
            8,
        )
        .with_max_dimension(32_767);
        let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
        Self {
            options,
            capabilities,
            permits,
        }
    }

    /// Checks that the program runs and has the configured language data, so a server can refuse to
    /// start with a clear message rather than fail every job.
    ///
    /// # Errors
    /// [`OcrError::Unavailable`] saying what is missing and how to install it.
    pub async fn check(&self) -> Result<(), OcrError> {
        let install = "install Tesseract 5, e.g. `apt-get install tesseract-ocr tesseract-ocr-eng`";
        let output = Command::new(&self.options.program)
            .arg("--list-langs")
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(30), output)
            .await
            .map_err(|_| OcrError::Timeout)?
            .map_err(|e| OcrError::Unavailable {
                reason: format!(
                    "cannot run {} ({e}); {install}",
                    self.options.program.display()
                ),
                source: None,
            })?;
        let listed = String::from_utf8_lossy(&output.stdout);
        let installed: Vec<&str> = listed.lines().skip(1).map(str::trim).collect();
        let missing: Vec<&str> = self
            .options
            .language
            .split('+')
            .filter(|lang| !installed.contains(lang))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(OcrError::Unavailable {
                reason: format!(
                    "Tesseract has no language data for {} (installed: {}); install e.g. `apt-get install tesseract-ocr-{}`",
                    missing.join(", "),
                    installed.join(", "),
                    missing.first().copied().unwrap_or("eng"),
                ),
                source: None,
            })
        }
    }

    async fn run(&self, image: &[u8]) -> Result<String, OcrError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| OcrError::Unavailable {
                reason: e.to_string(),
                source: None,
            })?;
        let mut child = Command::new(&self.options.program)
            .args(["stdin", "stdout", "-l", &self.options.language, "--psm", &self.options.psm.to_string(), "tsv"])
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| OcrError::Unavailable {
                reason: format!(
                    "cannot run {} ({e}); install Tesseract 5, e.g. `apt-get install tesseract-ocr tesseract-ocr-eng`",
                    self.options.program.display()
                ),
                source: None,
            })?;
        let mut stdin = child.stdin.take().ok_or_else(|| OcrError::Unavailable {
            reason: "no stdin".into(),
            source: None,
        })?;
        let input = image.to_vec();
        let writer = tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
            drop(stdin);
        });
        let output = tokio::time::timeout(self.options.timeout, child.wait_with_output())
            .await
            .map_err(|_| OcrError::Timeout)?;
        let _ = writer.await;
        let output = output.map_err(|e| OcrError::Unavailable {
            reason: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            if stderr.contains("Failed loading language")
                || stderr.contains("Error opening data file")
            {
                return Err(OcrError::Unavailable {
                    reason: format!("Tesseract language data missing: {}", stderr.trim()),
                    source: None,
                });
            }
            return Err(OcrError::InvalidImage {
                reason: stderr.trim().chars().take(500).collect(),
            });
        }
        String::from_utf8(output.stdout).map_err(|e| OcrError::Other {
            source: Box::new(e),
        })
    }
}

#[async_trait]
impl OcrEngine for TesseractOcr {
    fn capabilities(&self) -> &OcrCapabilities {
        &self.capabilities
    }

    async fn detect(&self, input: &OcrInput) -> Result<OcrResult, OcrError> {
        let facts = input.facts();
        if !self.capabilities.formats.contains(&facts.content_type) {
            return Err(OcrError::UnsupportedFormat {
                content_type: facts.content_type,
            });
        }
        let OcrInput::Bytes { bytes, .. } = input else {
            return Err(OcrError::Other {
                source: "Tesseract needs the image bytes".into(),
            });
        };
        let tsv = self.run(bytes).await?;
        parse_tsv(&tsv)
    }
}

/// One word row of Tesseract's TSV.
struct WordRow<'a> {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
    confidence: f32,
    text: &'a str,
}

/// Turns Tesseract's TSV into a result. The page size comes from the level-1 row; words (level 5)
/// with text are grouped into lines by page, block, paragraph and line number, in reading order.
/// Malformed rows are skipped; this never panics, whatever the input.
///
/// # Errors
/// [`OcrError::InvalidImage`] when there is no page row to size the boxes by.
pub fn parse_tsv(tsv: &str) -> Result<OcrResult, OcrError> {
    let mut page: Option<(u32, u32)> = None;
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
        if level == 1 && page.is_none() {
            page = Some((width, height));
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
            lines.entry((p, b, par, l)).or_default().push(WordRow {
                left,
                top,
                width,
                height,
                confidence,
                text,
            });
        }
    }
    let (page_width, page_height) =
        page.filter(|(w, h)| *w > 0 && *h > 0)
            .ok_or_else(|| OcrError::InvalidImage {
                reason: "Tesseract reported no page".into(),
            })?;
    let mut result_lines = Vec::with_capacity(lines.len());
    for words in lines.values() {
        let mut ocr_words = Vec::with_capacity(words.len());
        for w in words {
            let bbox =
                BoundingBox::from_pixels(w.left, w.top, w.width, w.height, page_width, page_height)
                    .map_err(|e| OcrError::Other {
                        source: Box::new(e),
                    })?;
            ocr_words.push(OcrWord::new(w.text, w.confidence, bbox).map_err(|e| {
                OcrError::Other {
                    source: Box::new(e),
                }
            })?);
        }
        result_lines.extend(OcrLine::from_words(ocr_words));
    }
    OcrResult::new("tesseract", result_lines, false).map_err(|e| OcrError::Other {
        source: Box::new(e),
    })
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
