//! Reading and rendering: born-digital pages through Intake's reader against `pdftotext`, pages
//! rendered by the worker (render, grey, PNG) against `pdftoppm -gray -r 300 -png`, and the peak
//! memory of one large page in each.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::model::{ContentType, TextLayerRule};
use intake_domain::ports::{DocumentReader as _, PageContent, ReadRequest};
use intake_domain::services::{DOCUMENT_DPI, DOCUMENT_TIME_LIMIT, MAX_PAGE_PIXELS};

use super::inputs::{self, Scans};
use super::{Bench, secs, timed};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// The request the server's composition makes.
pub(crate) fn request() -> ReadRequest {
    ReadRequest::new(DOCUMENT_DPI, MAX_PAGE_PIXELS, DOCUMENT_TIME_LIMIT)
}

/// A request that never trusts a text layer: every page is rendered.
fn render_all() -> ReadRequest {
    let mut rule = TextLayerRule::default();
    rule.min_chars = u32::MAX;
    request().with_text_layer(rule)
}

/// What one reading of a document gave: pages from the text layer, pages as PNG, as JPEG.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kinds {
    pub(crate) text: usize,
    pub(crate) png: usize,
    pub(crate) jpeg: usize,
}

/// Reads `bytes` with Intake's reader, every page, and counts what came back.
pub(crate) async fn read_all(
    bench: &Bench,
    bytes: &Bytes,
    request: &ReadRequest,
) -> Result<Kinds, BenchError> {
    let reader = bench.reader(None)?;
    let mut pages = reader.read(bytes, request).await.map_err(fail("read"))?;
    let mut kinds = Kinds::default();
    while let Some(page) = pages.next().await {
        match page.map_err(fail("read a page"))?.content {
            PageContent::TextLayer(_) => kinds.text += 1,
            PageContent::Picture {
                content_type: ContentType::Png,
                ..
            } => {
                kinds.png += 1;
            }
            PageContent::Picture { .. } => kinds.jpeg += 1,
            _ => return Err(BenchError::Failed("a page of an unknown kind".into())),
        }
    }
    Ok(kinds)
}

/// The shortest of each side's times over `rounds` rounds, the sides timed in turn in each.
pub(crate) async fn rounds<A, B, FA, FB>(
    rounds: usize,
    mut ours: FA,
    mut theirs: FB,
) -> Result<(Duration, Duration), BenchError>
where
    FA: FnMut() -> A,
    FB: FnMut() -> B,
    A: Future<Output = Result<(), BenchError>>,
    B: Future<Output = Result<(), BenchError>>,
{
    let (mut best_ours, mut best_theirs) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        ours().await?;
        best_ours = best_ours.min(start.elapsed());
        let start = Instant::now();
        theirs().await?;
        best_theirs = best_theirs.min(start.elapsed());
    }
    Ok((best_ours, best_theirs))
}

fn pages_per_s(pages: usize, time: Duration) -> f64 {
    pages as f64 / time.as_secs_f64().max(1e-9)
}

fn rate_figure(
    name: &str,
    pages: usize,
    ours: Duration,
    reference: &str,
    theirs: Duration,
) -> Figure {
    Figure {
        name: name.to_owned(),
        ours: format!("{:.0} pages/s", pages_per_s(pages, ours)),
        reference_name: reference.to_owned(),
        reference: format!("{:.0} pages/s", pages_per_s(pages, theirs)),
        ratio: theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9),
        target: "context".into(),
        met: None,
    }
}

/// Runs Poppler's `tool` once per document with `args` before the document and `out` after it.
async fn poppler(
    tool: &str,
    args: &[&str],
    docs: &[std::path::PathBuf],
    out: &Path,
) -> Result<(), BenchError> {
    for doc in docs {
        let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        all.push(doc.as_os_str());
        all.push(out.as_os_str());
        timed(Path::new(tool), &all).await?;
    }
    Ok(())
}

/// Figure 9.1: born-digital pages (every page from its text layer) against `pdftotext`.
pub(crate) async fn text_pages(bench: &Bench, section: &mut Section) -> Result<(), BenchError> {
    let (count, pages) = if bench.quick { (2, 10) } else { (10, 100) };
    let mut docs = Vec::new();
    let mut files = Vec::new();
    for n in 0..count {
        let bytes = inputs::text_document(pages, n);
        let file = bench.file(&format!("text-{n}.pdf"));
        std::fs::write(&file, &bytes).map_err(fail("write a document"))?;
        docs.push(Bytes::from(bytes));
        files.push(file);
    }
    let total = count * pages;
    let request = request();
    let ours = || async {
        for doc in &docs {
            let kinds = read_all(bench, doc, &request).await?;
            if kinds.text != pages {
                return Err(BenchError::Failed(format!("text pages read as {kinds:?}")));
            }
        }
        Ok(())
    };
    let (txt, html) = (bench.file("out.txt"), bench.file("out.html"));
    let (intake, plain) = rounds(bench.rounds(), ours, || {
        poppler("pdftotext", &[], &files, &txt)
    })
    .await?;
    let (_, bbox) = rounds(
        1,
        || async { Ok(()) },
        || poppler("pdftotext", &["-bbox-layout"], &files, &html),
    )
    .await?;
    let name = format!("text-layer pages: {count} documents of {pages} pages, pages/s");
    section.figure(rate_figure(
        &name,
        total,
        intake,
        "pdftotext, one process per document",
        plain,
    ));
    section.figure(rate_figure(
        &name,
        total,
        intake,
        "pdftotext -bbox-layout (words and boxes)",
        bbox,
    ));
    // Where a document's fixed cost goes: one worker (process, PDFium) for a one-page document.
    let one = Bytes::from(inputs::text_document(1, 99));
    let one_file = bench.file("one.pdf");
    std::fs::write(&one_file, &one).map_err(fail("write a document"))?;
    let (start, poppler_start) = rounds(
        5,
        || async { read_all(bench, &one, &request).await.map(drop) },
        || poppler("pdftotext", &[], std::slice::from_ref(&one_file), &txt),
    )
    .await?;
    section.note(format!(
        "Text-layer pages: A4, 46 lines of about 90 characters in Helvetica 12 pt; Intake reads each line's words \
         and boxes and checks the layer against its rule (`DocumentReader::read`, every page's lines to the \
         caller). A one-page document takes {} through Intake's reader (a worker process, libpdfium loaded, \
         the page read) and {} through pdftotext.",
        secs(start),
        secs(poppler_start)
    ));
    Ok(())
}

/// Figure 9.3: rendering (the worker's path: render, grey, PNG) against `pdftoppm -gray -r 300 -png`.
pub(crate) async fn rendering(
    bench: &Bench,
    scans: &Scans,
    section: &mut Section,
) -> Result<(), BenchError> {
    let text_count = if bench.quick { 4 } else { 10 };
    let cases = [
        (
            format!("rendering {text_count} A4 text pages at 300 DPI, pages/s"),
            inputs::text_document(text_count, 7),
            text_count,
            "render-text",
        ),
        (
            format!(
                "rendering {} scanned pages (Flate-compressed grey pixels), pages/s",
                scans.pages.len()
            ),
            inputs::grey_pdf(&scans.pages),
            scans.pages.len(),
            "render-scans",
        ),
    ];
    let request = render_all();
    for (name, bytes, pages, file) in cases {
        let path = bench.file(&format!("{file}.pdf"));
        std::fs::write(&path, &bytes).map_err(fail("write a document"))?;
        let bytes = Bytes::from(bytes);
        let prefix = bench.file(file);
        let ours = || async {
            let kinds = read_all(bench, &bytes, &request).await?;
            if kinds.png != pages {
                return Err(BenchError::Failed(format!("pages rendered as {kinds:?}")));
            }
            Ok(())
        };
        let (intake, pgm) = rounds(bench.rounds(), ours, || {
            self::poppler(
                "pdftoppm",
                &["-gray", "-r", "300"],
                std::slice::from_ref(&path),
                &prefix,
            )
        })
        .await?;
        let (_, png) = rounds(
            1,
            || async { Ok(()) },
            || {
                self::poppler(
                    "pdftoppm",
                    &["-gray", "-r", "300", "-png"],
                    std::slice::from_ref(&path),
                    &prefix,
                )
            },
        )
        .await?;
        section.figure(rate_figure(
            &name,
            pages,
            intake,
            "pdftoppm -gray -r 300 (PGM, uncompressed)",
            pgm,
        ));
        section.figure(rate_figure(
            &name,
            pages,
            intake,
            "pdftoppm -gray -r 300 -png",
            png,
        ));
    }
    Ok(())
}

/// One worker's reading of the first page of `bytes`, every page rendered: its peak RSS (KiB),
/// the time to the page, and the page's size in pixels.
async fn worker_peak(
    bench: &Bench,
    bytes: &Bytes,
    name: &str,
) -> Result<(f64, Duration, (u32, u32)), BenchError> {
    let rss = bench.file(&format!("{name}-rss"));
    let _ = std::fs::remove_file(&rss);
    let start = Instant::now();
    let reader = bench.reader(Some(&rss))?;
    let mut pages = reader
        .read(bytes, &render_all())
        .await
        .map_err(fail("read"))?;
    let page = pages
        .next()
        .await
        .ok_or_else(|| BenchError::Failed("no page was read".into()))?
        .map_err(fail("read a page"))?;
    let time = start.elapsed();
    // The worker writes its peak when it is done; the stream is held until then (dropping it
    // stops the worker).
    let mut waited = 0;
    while !rss.is_file() && waited < 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    drop(pages);
    let kib = std::fs::read_to_string(&rss)
        .map_err(fail("the worker's peak"))?
        .trim()
        .parse()
        .map_err(fail("the worker's peak"))?;
    Ok((kib, time, (page.width_px, page.height_px)))
}

/// `pdftoppm ARGS PDF PREFIX` under `/usr/bin/time`: its peak RSS (KiB) and wall time.
async fn pdftoppm_peak(
    bench: &Bench,
    args: &[&str],
    pdf: &Path,
) -> Result<(f64, Duration), BenchError> {
    let time_out = bench.file("pdftoppm-rss");
    let prefix = bench.file("peak");
    let mut all: Vec<&OsStr> = vec![
        OsStr::new("-f"),
        OsStr::new("%M"),
        OsStr::new("-o"),
        time_out.as_os_str(),
        OsStr::new("pdftoppm"),
    ];
    all.extend(args.iter().map(OsStr::new));
    all.extend([pdf.as_os_str(), prefix.as_os_str()]);
    let time = timed(Path::new("/usr/bin/time"), &all).await?;
    let kib = std::fs::read_to_string(&time_out)
        .map_err(fail("pdftoppm's peak"))?
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(fail("pdftoppm's peak"))?;
    Ok((kib, time))
}

/// Figure 9.3, memory: one A2 page at 300 DPI (34.8 MP), the worker's peak RSS against pdftoppm's.
pub(crate) async fn large_page(
    bench: &Bench,
    scans: &Scans,
    section: &mut Section,
) -> Result<(), BenchError> {
    let bytes = Bytes::from(inputs::large_pdf(&scans.pages)?);
    let path = bench.file("a2.pdf");
    std::fs::write(&path, &bytes).map_err(fail("write a document"))?;
    let (worker, worker_time, (w, h)) = worker_peak(bench, &bytes, "a2").await?;
    let (pgm, pgm_time) = pdftoppm_peak(bench, &["-gray", "-r", "300"], &path).await?;
    let (png, png_time) = pdftoppm_peak(bench, &["-gray", "-r", "300", "-png"], &path).await?;
    let small = Bytes::from(inputs::text_document(1, 5));
    let (floor, ..) = worker_peak(bench, &small, "a4").await?;
    let mib = |kib: f64| kib / 1024.0;
    let name = format!("peak RSS rendering one A2 page at 300 DPI ({w} × {h} px, grey PNG)");
    for (reference, kib, time) in [
        ("pdftoppm -gray -r 300 (PGM)", pgm, pgm_time),
        ("pdftoppm -gray -r 300 -png", png, png_time),
    ] {
        section.figure(Figure {
            name: name.clone(),
            ours: format!("{:.0} MiB, {}", mib(worker), secs(worker_time)),
            reference_name: format!("{reference} (/usr/bin/time %M)"),
            reference: format!("{:.0} MiB, {}", mib(kib), secs(time)),
            ratio: kib / worker.max(1.0),
            target: "context".into(),
            met: None,
        });
    }
    section.note(format!(
        "Peak memory: the worker's own VmHWM as it ends (`intake-bench pdf-worker RSS-FILE`); the same \
         worker rendering one A4 text page peaks at {:.0} MiB (libpdfium, the document, a 8.7 MP page). The \
         A2 page is a 2481 × 3508 grey scan (Flate) drawn over the page; the worker renders it into a BGRx \
         bitmap (4 bytes a pixel: {:.0} MiB at {w} × {h}), turns it grey (1 byte a pixel) and encodes the \
         PNG (`Compression::Fast`); pdftoppm renders into a grey bitmap (1 byte a pixel).",
        mib(floor),
        f64::from(w) * f64::from(h) * 4.0 / 1024.0 / 1024.0,
    ));
    Ok(())
}
