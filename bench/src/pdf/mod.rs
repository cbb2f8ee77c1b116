//! Figure 9: PDF (issue 25's "Measure" list). Intake's PDF reader (PDFium in a worker process per
//! document, behind the `DocumentReader` port, as the server runs it) against Poppler's tools on
//! the same documents, scanned PDFs through `DocumentOcr` over PP-OCR against the same pages read
//! as images, and the searchable-PDF export against OCRmyPDF. The worker is this very program
//! (`intake-bench pdf-worker`), which runs `intake_pdf::serve` as `intake pdf-worker` does.
//!
//! - `read.rs`: text-layer pages/s vs `pdftotext`, rendering pages/s vs `pdftoppm`, and the peak
//!   memory of one large page;
//! - `scanned.rs`: scanned PDFs (JPEG pass-through, and pages that need rendering) vs images;
//! - `export.rs`: the searchable PDF vs OCRmyPDF, time and text-layer fidelity;
//! - `inputs.rs`: the documents (written with `intake_pdf::testkit`; scanned pages from the OCR
//!   development set when present, read at bench time, else rendered text).

mod export;
mod inputs;
mod read;
mod scanned;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use intake_pdf::{PdfOptions, PdfReader, WORKER_ARG, library_path};

use crate::Plan;
use crate::report::Section;
use crate::support::{BenchError, fail, peak_rss_kib};

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let mut section = Section::new("9. PDF: reading, rendering, scanned documents, searchable PDF");
    println!("{}", section.title);
    let library = library_path(&intake_ocr_onnx::default_models_dir());
    if !library.is_file() {
        section.note(format!(
            "skipped: no libpdfium at {} (scripts/ocr-models.sh)",
            library.display()
        ));
        return Ok(section);
    }
    for tool in ["pdftotext", "pdftoppm"] {
        if !has_program(tool) {
            section.note(format!("skipped: no {tool} (scripts/system-deps.sh)"));
            return Ok(section);
        }
    }
    let work = tempfile::tempdir().map_err(fail("temp dir"))?;
    let work_path = work.path().to_owned();
    if std::env::var_os("INTAKE_BENCH_KEEP").is_some() {
        println!(
            "  (keeping the documents and outputs in {})",
            work.keep().display()
        );
    }
    let bench = Bench {
        library,
        work: work_path,
        quick: plan.quick,
    };
    let scans = inputs::scans(plan.quick)?;
    read::text_pages(&bench, &mut section).await?;
    read::rendering(&bench, &scans, &mut section).await?;
    read::large_page(&bench, &scans, &mut section).await?;
    let read = scanned::run(&bench, &scans, &mut section).await?;
    export::run(&bench, &scans, &read, &mut section).await?;
    section.note(format!(
        "Scanned pages: {}. Each Intake reading starts one worker process per document (`intake-bench \
         pdf-worker`, which is `intake pdf-worker`), as the server does; Poppler's tools run one process \
         per document, as a user runs them. Best of the rounds, each round timing both sides in turn.",
        scans.source
    ));
    Ok(section)
}

/// What every part of the section shares.
pub(crate) struct Bench {
    library: PathBuf,
    work: PathBuf,
    quick: bool,
}

impl Bench {
    /// The reader the server composes, its workers this program; `rss` names a file where each
    /// worker writes its peak resident set (KiB) when it is done.
    fn reader(&self, rss: Option<&Path>) -> Result<PdfReader, BenchError> {
        let mut args = vec![OsString::from(WORKER_ARG)];
        args.extend(rss.map(|p| p.as_os_str().to_owned()));
        let program = std::env::current_exe().map_err(fail("own path"))?;
        Ok(PdfReader::new(PdfOptions::new(
            program,
            args,
            self.library.clone(),
        )))
    }

    /// A file in the work directory.
    fn file(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// Rounds of each timing: fewer in a quick run.
    fn rounds(&self) -> usize {
        if self.quick { 2 } else { 3 }
    }
}

/// `intake-bench pdf-worker [RSS-FILE]`: the PDF worker (`intake_pdf::serve`), then its peak
/// resident set (KiB) into RSS-FILE when given.
pub(crate) fn worker(args: &[String]) -> ExitCode {
    let code = intake_pdf::serve();
    if let Some(path) = args.first() {
        let _ = std::fs::write(path, peak_rss_kib().unwrap_or(0).to_string());
    }
    code
}

fn has_program(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Runs `program args`, failing on a non-zero exit; answers its wall time.
pub(crate) async fn timed(
    program: &Path,
    args: &[&std::ffi::OsStr],
) -> Result<Duration, BenchError> {
    let start = std::time::Instant::now();
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .map_err(fail("start a tool"))?;
    if !output.status.success() {
        return Err(BenchError::Failed(format!(
            "{} failed ({}): {}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(start.elapsed())
}

/// The text of a PDF's text layer as `pdftotext` reads it (raw order: content-stream order).
pub(crate) async fn pdftotext(pdf: &Path) -> Result<String, BenchError> {
    let output = tokio::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .await
        .map_err(fail("pdftotext"))?;
    if !output.status.success() {
        return Err(BenchError::Failed(format!(
            "pdftotext {} failed",
            pdf.display()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Word counts for a bag-of-words F1, as the development set's `score.py` computes it (split on
/// whitespace; matches are the per-word minimum of the two counts; micro-averaged over pages).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordMatch {
    matches: usize,
    hypothesis: usize,
    truth: usize,
}

impl WordMatch {
    pub(crate) fn of(hypothesis: &str, truth: &str) -> Self {
        fn count(text: &str) -> HashMap<&str, usize> {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for word in text.split_whitespace() {
                *counts.entry(word).or_default() += 1;
            }
            counts
        }
        let (hyp, tru) = (count(hypothesis), count(truth));
        Self {
            matches: hyp
                .iter()
                .map(|(w, n)| (*n).min(tru.get(w).copied().unwrap_or(0)))
                .sum(),
            hypothesis: hyp.values().sum(),
            truth: tru.values().sum(),
        }
    }

    pub(crate) fn add(self, other: Self) -> Self {
        Self {
            matches: self.matches + other.matches,
            hypothesis: self.hypothesis + other.hypothesis,
            truth: self.truth + other.truth,
        }
    }

    pub(crate) fn f1(self) -> f64 {
        let total = self.hypothesis + self.truth;
        if total == 0 {
            return 1.0;
        }
        2.0 * self.matches as f64 / total as f64
    }
}

/// Seconds as text, in ms below a second.
pub(crate) fn secs(time: Duration) -> String {
    if time < Duration::from_secs(1) {
        format!("{:.1} ms", time.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", time.as_secs_f64())
    }
}
