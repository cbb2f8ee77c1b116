//! Scanned PDFs through `DocumentOcr` over PP-OCR (tiny, default options), against the same pages
//! read as images by the same engine, as many at a time as `DocumentOcr` hands it (4). Also the
//! same pages as a PDF whose pictures must be rendered, and the reader alone on both, to show
//! where the time goes.

use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::model::{ContentType, OcrResult, Sha256Digest};
use intake_domain::ports::{ImageFacts, OcrEngine, OcrInput};
use intake_domain::services::DocumentOcr;
use intake_ocr_onnx::{PpOcr, PpOcrOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::inputs::{self, Scans};
use super::read::{read_all, request, rounds};
use super::{Bench, WordMatch, secs};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// Pages `DocumentOcr` hands the engine at once (its `PAGES_IN_FLIGHT`).
const IN_FLIGHT: usize = 4;

/// What the export part reuses: the engine, and each page's result read as an image.
pub(crate) struct Read {
    pub(crate) engine: Arc<PpOcr>,
    pub(crate) results: Vec<OcrResult>,
}

pub(crate) fn input(bytes: &[u8], content_type: ContentType, size: Option<(u32, u32)>) -> OcrInput {
    let bytes = Bytes::copy_from_slice(bytes);
    OcrInput::Bytes {
        facts: ImageFacts::new(
            content_type,
            bytes.len() as u64,
            size,
            Sha256Digest::of(&bytes),
        ),
        bytes,
    }
}

/// Every page as an image, `IN_FLIGHT` at a time.
async fn images(engine: &PpOcr, scans: &Scans) -> Result<Vec<OcrResult>, BenchError> {
    futures::stream::iter(&scans.pages)
        .map(|s| async move {
            engine
                .detect(&input(
                    &s.jpeg,
                    ContentType::Jpeg,
                    Some((s.width, s.height)),
                ))
                .await
                .map_err(fail("OCR an image"))
        })
        .buffered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn document(ocr: &DocumentOcr, pdf: &[u8], pages: usize) -> Result<OcrResult, BenchError> {
    let result = ocr
        .detect(&input(pdf, ContentType::Pdf, None))
        .await
        .map_err(fail("OCR a PDF"))?;
    if result.pages().len() != pages {
        return Err(BenchError::Failed(format!(
            "{} pages read of {pages}",
            result.pages().len()
        )));
    }
    Ok(result)
}

/// Figure 9.2.
pub(crate) async fn run(
    bench: &Bench,
    scans: &Scans,
    section: &mut Section,
) -> Result<Read, BenchError> {
    let n = scans.pages.len();
    let engine = Arc::new(PpOcr::load(&PpOcrOptions::default()).map_err(fail("load PP-OCR"))?);
    let ocr = DocumentOcr::new(
        Arc::clone(&engine) as Arc<dyn OcrEngine>,
        Arc::new(bench.reader(None)?),
        request(),
    );
    let jpeg_pdf = Bytes::from(inputs::jpeg_pdf(&scans.pages));
    let grey_pdf = Bytes::from(inputs::grey_pdf(&scans.pages));
    // Warm-up: the sessions' first runs.
    images(&engine, scans).await?;
    // Each round times the three in turn: the JPEG PDF, the images, the PDF that needs rendering.
    let (mut pdf_time, mut image_time, mut render_time) =
        (Duration::MAX, Duration::MAX, Duration::MAX);
    let (mut results, mut pdf_text, mut render_text) = (Vec::new(), String::new(), String::new());
    for _ in 0..bench.rounds() {
        let start = Instant::now();
        pdf_text = document(&ocr, &jpeg_pdf, n).await?.text();
        pdf_time = pdf_time.min(start.elapsed());
        let start = Instant::now();
        results = images(&engine, scans).await?;
        image_time = image_time.min(start.elapsed());
        let start = Instant::now();
        render_text = document(&ocr, &grey_pdf, n).await?.text();
        render_time = render_time.min(start.elapsed());
    }
    let images_text: Vec<String> = results.iter().map(OcrResult::text).collect();
    let same = pdf_text
        .split_whitespace()
        .eq(images_text.iter().flat_map(|t| t.split_whitespace()));
    let ratio = pdf_time.as_secs_f64() / image_time.as_secs_f64().max(1e-9);
    section.figure(Figure {
        name: format!("{n} scanned pages (one JPEG each) as one PDF: DocumentOcr over PP-OCR tiny"),
        ours: secs(pdf_time),
        reference_name: format!(
            "the {n} JPEGs read as images by the same engine, {IN_FLIGHT} at a time"
        ),
        reference: secs(image_time),
        ratio,
        target: "≤ 1.10× (wall time)".into(),
        met: Some(ratio <= 1.10),
    });
    let agreement = WordMatch::of(&render_text, &pdf_text).f1();
    section.figure(Figure {
        name: format!(
            "the same {n} pages as Flate pictures (each page rendered at 300 DPI, grey PNG)"
        ),
        ours: secs(render_time),
        reference_name: "the JPEGs read as images, as above".into(),
        reference: secs(image_time),
        ratio: render_time.as_secs_f64() / image_time.as_secs_f64().max(1e-9),
        target: "context: the rendering path's cost".into(),
        met: None,
    });
    // Where the time goes: the reader alone (one worker, every page handed over).
    let (pass, render) = rounds(
        bench.rounds(),
        || async { read_all(bench, &jpeg_pdf, &request()).await.map(drop) },
        || async { read_all(bench, &grey_pdf, &request()).await.map(drop) },
    )
    .await?;
    section.note(format!(
        "Scanned PDFs: the reader alone hands over the {n} JPEG pages in {} (worker start, PDFium, the \
         JPEGs' bytes as they are) and renders the {n} Flate pages in {} (render, grey, PNG encode); the \
         engine then decodes a PNG instead of a JPEG. The PDF's text is {} the images' (page by page); \
         the rendered pages' text agrees with the passed-through pages' at word F1 {agreement:.4}.",
        secs(pass),
        secs(render),
        if same { "identical to" } else { "not identical to" },
    ));
    Ok(Read { engine, results })
}
