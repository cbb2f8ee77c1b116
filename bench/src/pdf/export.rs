//! The searchable-PDF export (`intake_export::Renderer`, format `pdf`) against OCRmyPDF (pinned in
//! its own venv by `scripts/ocrmypdf.sh`, over Debian's Tesseract, `--output-type pdf`: no
//! Ghostscript) on the same JPEGs: time per page, and how faithfully each PDF's text layer gives
//! back its engine's text (`pdftotext` of the output against the record's text, and against
//! OCRmyPDF's own `--sidecar` text), and against the development set's truth when it is present.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use intake_domain::model::{
    ContentType, ExportFormat, FileName, ImageRecord, Measurements, ObjectKey, OcrResult,
};
use intake_domain::ports::{ExportRenderer as _, OcrEngine as _};
use intake_domain::testkit::{LEASE, epoch, id_at, record};
use intake_export::Renderer;

use super::inputs::{Scan, Scans};
use super::read::rounds;
use super::scanned::{self, Read};
use super::{Bench, WordMatch, pdftotext, secs, timed};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// The processed record of `scan` read as `result`.
fn processed(scan: &Scan, result: &OcrResult, n: u64) -> Result<ImageRecord, BenchError> {
    let measured = Measurements {
        size_bytes: Some(scan.jpeg.len() as u64),
        content_type: Some(ContentType::Jpeg),
        dimensions: Some((scan.width, scan.height)),
        page_count: Some(1),
        ..Measurements::default()
    };
    let at = epoch().saturating_add(Duration::from_secs(5));
    let mut parts = record(id_at(0, n)).into_parts();
    parts.file_name = FileName::sanitize("scan.jpg").map_err(fail("file name"))?;
    parts.object_key = ObjectKey::for_upload(parts.image_id, &parts.file_name);
    ImageRecord::from_parts(parts)
        .map_err(fail("record"))?
        .claim(at, LEASE)
        .and_then(|r| r.complete(at, &measured, result))
        .map_err(fail("complete the record"))
}

fn export(record: &ImageRecord, scan: &Scan) -> Result<Vec<u8>, BenchError> {
    Renderer
        .render(record, ExportFormat::Pdf, Some(&scan.jpeg))
        .map_err(fail("export"))
}

/// OCRmyPDF's path (installing its venv on first use).
async fn ocrmypdf() -> Result<PathBuf, BenchError> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ocrmypdf.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(fail("scripts/ocrmypdf.sh"))?;
    let program = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || program.is_empty() {
        return Err(BenchError::Failed("scripts/ocrmypdf.sh failed".into()));
    }
    Ok(PathBuf::from(program))
}

/// OCRmyPDF on each JPEG in turn, into `OUT/NAME.pdf` (and its text into `OUT/NAME.txt` when
/// `ocr`; without, `--tesseract-timeout 0`: its PDF with no OCR, the cost of everything else).
async fn run_ocrmypdf(
    program: &Path,
    jpegs: &[PathBuf],
    out: &Path,
    ocr: bool,
) -> Result<(), BenchError> {
    for jpeg in jpegs {
        let stem = jpeg.file_stem().unwrap_or_default().to_string_lossy();
        let pdf = out.join(format!("{stem}.pdf"));
        let sidecar = out.join(format!("{stem}.txt"));
        let mut args: Vec<&OsStr> = ["-q", "--output-type", "pdf", "--image-dpi", "300"]
            .into_iter()
            .map(OsStr::new)
            .collect();
        if ocr {
            args.extend([OsStr::new("--sidecar"), sidecar.as_os_str()]);
        } else {
            args.extend([OsStr::new("--tesseract-timeout"), OsStr::new("0")]);
        }
        args.extend([jpeg.as_os_str(), pdf.as_os_str()]);
        timed(program, &args).await?;
    }
    Ok(())
}

fn per_page(time: Duration, pages: usize) -> Duration {
    time / u32::try_from(pages.max(1)).unwrap_or(u32::MAX)
}

/// One side's figures: the PDF alone and OCR + PDF (per page), its layer against its own text and
/// against the truth.
struct Side {
    pdf: Duration,
    all: Duration,
    fidelity: WordMatch,
    truth: WordMatch,
}

/// Intake: the export alone (the record is already there), and OCR + export, one page at a time.
async fn intake(
    bench: &Bench,
    pages: &[Scan],
    records: &[ImageRecord],
    read: &Read,
) -> Result<Side, BenchError> {
    let dir = bench.file("export-intake");
    std::fs::create_dir_all(&dir).map_err(fail("output dir"))?;
    let (render, _) = rounds(
        bench.rounds(),
        || async {
            for (record, scan) in records.iter().zip(pages) {
                let pdf = export(record, scan)?;
                std::fs::write(dir.join(format!("{}.pdf", scan.name)), pdf)
                    .map_err(fail("write"))?;
            }
            Ok(())
        },
        || async { Ok(()) },
    )
    .await?;
    let start = Instant::now();
    for (n, scan) in (1..).zip(pages) {
        let input = scanned::input(
            &scan.jpeg,
            ContentType::Jpeg,
            Some((scan.width, scan.height)),
        );
        let result = read.engine.detect(&input).await.map_err(fail("OCR"))?;
        export(&processed(scan, &result, n)?, scan)?;
    }
    let all = start.elapsed();
    let (mut fidelity, mut truth) = (WordMatch::default(), WordMatch::default());
    for (record, scan) in records.iter().zip(pages) {
        let text = pdftotext(&dir.join(format!("{}.pdf", scan.name))).await?;
        let recorded = record.ocr_text().unwrap_or_default();
        std::fs::write(dir.join(format!("{}.record.txt", scan.name)), recorded)
            .map_err(fail("write"))?;
        fidelity = fidelity.add(WordMatch::of(&text, recorded));
        if let Some(t) = &scan.truth {
            truth = truth.add(WordMatch::of(&text, t));
        }
    }
    let k = pages.len();
    Ok(Side {
        pdf: per_page(render, k),
        all: per_page(all, k),
        fidelity,
        truth,
    })
}

/// OCRmyPDF on the same JPEGs: with OCR once, without (`--tesseract-timeout 0`) in rounds; and
/// its layer against Intake's records (the engines' agreement).
async fn reference(
    bench: &Bench,
    program: &Path,
    pages: &[Scan],
    records: &[ImageRecord],
) -> Result<(Side, WordMatch), BenchError> {
    let mut jpegs = Vec::new();
    for scan in pages {
        let path = bench.file(&format!("{}.jpg", scan.name));
        std::fs::write(&path, &scan.jpeg).map_err(fail("write a JPEG"))?;
        jpegs.push(path);
    }
    let (full, bare) = (
        bench.file("export-ocrmypdf"),
        bench.file("export-ocrmypdf-bare"),
    );
    for dir in [&full, &bare] {
        std::fs::create_dir_all(dir).map_err(fail("output dir"))?;
    }
    let start = Instant::now();
    run_ocrmypdf(program, &jpegs, &full, true).await?;
    let all = start.elapsed();
    let (_, pdf) = rounds(
        bench.rounds().min(2),
        || async { Ok(()) },
        || run_ocrmypdf(program, &jpegs, &bare, false),
    )
    .await?;
    let (mut fidelity, mut truth, mut engines) = (
        WordMatch::default(),
        WordMatch::default(),
        WordMatch::default(),
    );
    for (record, scan) in records.iter().zip(pages) {
        let text = pdftotext(&full.join(format!("{}.pdf", scan.name))).await?;
        let sidecar = std::fs::read_to_string(full.join(format!("{}.txt", scan.name)))
            .map_err(fail("OCRmyPDF's sidecar"))?;
        fidelity = fidelity.add(WordMatch::of(&text, &sidecar));
        engines = engines.add(WordMatch::of(&text, record.ocr_text().unwrap_or_default()));
        if let Some(t) = &scan.truth {
            truth = truth.add(WordMatch::of(&text, t));
        }
    }
    let k = pages.len();
    let side = Side {
        pdf: per_page(pdf, k),
        all: per_page(all, k),
        fidelity,
        truth,
    };
    Ok((side, engines))
}

/// Figure 9.4.
pub(crate) async fn run(
    bench: &Bench,
    scans: &Scans,
    read: &Read,
    section: &mut Section,
) -> Result<(), BenchError> {
    let k = scans.pages.len().min(if bench.quick { 2 } else { 12 });
    let pages = scans.pages.get(..k).unwrap_or_default();
    let records = pages
        .iter()
        .zip(&read.results)
        .zip(1..)
        .map(|((scan, result), n)| processed(scan, result, n))
        .collect::<Result<Vec<_>, _>>()?;
    let ours = intake(bench, pages, &records, read).await?;
    let program = match ocrmypdf().await {
        Ok(program) => program,
        Err(e) => {
            section.note(format!(
                "Searchable PDF: OCRmyPDF not run ({e}); Intake's export took {} a page ({} with PP-OCR \
                 tiny), and pdftotext gives back its record's words at F1 {:.4}.",
                secs(ours.pdf),
                secs(ours.all),
                ours.fidelity.f1()
            ));
            return Ok(());
        }
    };
    let (theirs, engines) = reference(bench, &program, pages, &records).await?;
    let per_page = |name: &str, ours: Duration, reference: &str, theirs: Duration| Figure {
        name: name.to_owned(),
        ours: secs(ours),
        reference_name: reference.to_owned(),
        reference: secs(theirs),
        ratio: theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9),
        target: "context".into(),
        met: None,
    };
    section.figure(per_page(
        &format!("searchable PDF of a scanned JPEG, the PDF alone, per page ({k} pages)"),
        ours.pdf,
        "OCRmyPDF 17.13 --tesseract-timeout 0 (its PDF without OCR)",
        theirs.pdf,
    ));
    section.figure(per_page(
        "OCR + searchable PDF, per page, one page at a time (Intake: PP-OCR tiny)",
        ours.all,
        "OCRmyPDF 17.13 (Tesseract, one process per page)",
        theirs.all,
    ));
    section.figure(Figure {
        name: "text layer fidelity: word F1 of pdftotext(output) vs the engine's own text".into(),
        ours: format!("{:.4} (vs the record)", ours.fidelity.f1()),
        reference_name: "OCRmyPDF (vs its --sidecar text)".into(),
        reference: format!("{:.4}", theirs.fidelity.f1()),
        ratio: ours.fidelity.f1() / theirs.fidelity.f1().max(1e-9),
        target: "≥ OCRmyPDF's − 0.01".into(),
        met: Some(ours.fidelity.f1() >= theirs.fidelity.f1() - 0.01),
    });
    if pages.iter().all(|p| p.truth.is_some()) {
        section.figure(Figure {
            name: "word F1 of pdftotext(output) vs the pages' truth".into(),
            ours: format!("{:.4}", ours.truth.f1()),
            reference_name: "OCRmyPDF (Tesseract)".into(),
            reference: format!("{:.4}", theirs.truth.f1()),
            ratio: ours.truth.f1() / theirs.truth.f1().max(1e-9),
            target: "context".into(),
            met: None,
        });
    }
    section.note(format!(
        "Searchable PDF: the first {k} scanned pages; Intake's export is `Renderer::render(record, \
         ExportFormat::Pdf, jpeg)` on the record of the page read as an image (the JPEG embedded as it is, \
         the words on their boxes in Tesseract's glyphless font), OCR + export runs PP-OCR tiny then the \
         export, page after page; OCRmyPDF runs `ocrmypdf -q --output-type pdf --image-dpi 300 [--sidecar \
         TXT] PAGE.jpg OUT.pdf` per page (img2pdf, Tesseract, its hOCR text layer; no Ghostscript, which \
         only PDF/A output needs). Neither layer gives back every word: pdftotext splits a word \
         whose glyphs it finds far apart (on these forms, the document number printed up the margin, \
         read as one tall narrow word: `82092117` comes back as `820921 7`). OCRmyPDF's text layer \
         against Intake's record (the two engines' agreement): word F1 {:.4}.",
        engines.f1()
    ));
    Ok(())
}
