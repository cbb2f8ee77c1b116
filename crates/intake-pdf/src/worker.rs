//! The worker process: opens one document with PDFium and answers one request, within the address
//! space and CPU time it was given. PDFium is native code that can be driven into huge allocations
//! or endless work by a hostile document and cannot be cancelled; in a process of its own, a
//! document that goes too far is stopped by the kernel and takes nothing else with it.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use intake_domain::model::TextLayerRule;
use pdfium_render::prelude::*;
use rustix::process::{Resource, Rlimit, setrlimit};

use crate::overlay::add_text_layer;
use crate::protocol::{Frame, Op, PageWords, Problem, Request, read_request, write_frame};
use crate::text::{Rect, coverage, pictures, text_layer};

/// The largest document the worker takes on its standard input.
const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

/// Why the worker stopped early.
pub(crate) struct Stop {
    pub(crate) problem: Problem,
    pub(crate) reason: String,
    pub(crate) count: u32,
}

impl Stop {
    pub(crate) fn new(problem: Problem, reason: impl Into<String>) -> Self {
        Self {
            problem,
            reason: reason.into(),
            count: 0,
        }
    }
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Self::new(
            Problem::Unavailable,
            format!("the worker's output failed: {error}"),
        )
    }
}

/// Runs the worker on this process's standard input and output: what `intake pdf-worker` (and the
/// processor function, started the same way) does. Exit code 0 when it answered, whatever the
/// answer; 2 when it could not even answer.
pub fn serve() -> ExitCode {
    let mut out = BufWriter::new(io::stdout().lock());
    let (request, words, document) = match read_request(&mut io::stdin().lock(), MAX_DOCUMENT_BYTES)
    {
        Ok(read) => read,
        Err(error) => {
            let stop = Frame::Stopped {
                problem: Problem::Unavailable,
                reason: format!("the worker could not read its request: {error}"),
                count: 0,
            };
            return if write_frame(&mut out, &stop, &[]).is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let answer = limit(&request).and_then(|()| answer(&request, &words, &document, &mut out));
    let written = match answer {
        Ok(()) => write_frame(&mut out, &Frame::End, &[]),
        Err(stop) => write_frame(
            &mut out,
            &Frame::Stopped {
                problem: stop.problem,
                reason: stop.reason,
                count: stop.count,
            },
            &[],
        ),
    };
    if written.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Limits this process's address space and CPU time, as the request says.
fn limit(request: &Request) -> Result<(), Stop> {
    let cap = |limit: u64| Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    setrlimit(Resource::As, cap(request.memory_limit))
        .and_then(|()| setrlimit(Resource::Cpu, cap(request.cpu_seconds.max(1))))
        .map_err(|e| {
            Stop::new(
                Problem::Unavailable,
                format!("cannot limit the worker: {e}"),
            )
        })
}

fn answer(
    request: &Request,
    words: &[PageWords],
    document: &[u8],
    out: &mut impl Write,
) -> Result<(), Stop> {
    let bindings = Pdfium::bind_to_library(&request.library).map_err(|e| {
        Stop::new(
            Problem::Unavailable,
            format!(
                "cannot load PDFium from {} ({e:?}); install it with scripts/ocr-models.sh",
                request.library.display()
            ),
        )
    })?;
    let pdfium = Pdfium::new(bindings);
    let mut doc = pdfium
        .load_pdf_from_byte_slice(document, None)
        .map_err(|e| match e {
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
                Stop::new(Problem::Encrypted, "it needs a password to open")
            }
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::SecurityError) => {
                Stop::new(Problem::Encrypted, "its security handler is not supported")
            }
            other => Stop::new(
                Problem::Corrupt,
                format!("PDFium cannot open it ({other:?})"),
            ),
        })?;
    let count = u32::try_from(doc.pages().len()).unwrap_or(0);
    if count == 0 {
        return Err(Stop::new(Problem::Corrupt, "it has no pages"));
    }
    if count > request.max_pages {
        return Err(Stop {
            problem: Problem::TooManyPages,
            reason: format!("{count} pages"),
            count,
        });
    }
    // A page the tree counts but that cannot be found (a tree that lists itself, or one deeper
    // than PDFium follows) makes the document damaged before any page is read, not halfway.
    let counted = doc.pages();
    for index in counted.as_range() {
        counted.page_size(index).map_err(|e| {
            Stop::new(
                Problem::Corrupt,
                format!("page {} cannot be found ({e:?})", index + 1),
            )
        })?;
    }
    write_frame(out, &Frame::Info { page_count: count }, &[])?;
    match request.op {
        Op::Probe => return Ok(()),
        Op::AddTextLayer => {
            let bytes = add_text_layer(&mut doc, words)?;
            let frame = Frame::Document {
                len: bytes.len() as u64,
            };
            return write_frame(out, &frame, &bytes).map_err(Stop::from);
        }
        Op::Picture => return picture(&doc, request, out),
        Op::Read => {}
    }
    let pages = doc.pages();
    let rule = TextLayerRule::from(request.rule);
    for index in 0..pages.len() {
        let page = pages.get(index).map_err(|e| {
            Stop::new(
                Problem::Corrupt,
                format!("page {} cannot be loaded ({e:?})", index + 1),
            )
        })?;
        let number = u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1);
        read_page(request, &rule, number, &page, out)?;
    }
    Ok(())
}

/// The pixel size of a page of `width` × `height` points at `dpi`, scaled down to fit `max_pixels`.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
pub(crate) fn page_pixels(width: f32, height: f32, dpi: u32, max_pixels: u64) -> (u32, u32) {
    let mut scale = f64::from(dpi) / 72.0;
    let (w, h) = (f64::from(width), f64::from(height));
    let pixels = w * scale * h * scale;
    if pixels > max_pixels as f64 {
        scale *= (max_pixels as f64 / pixels).sqrt();
    }
    let side = |points: f64| ((points * scale).floor() as u32).max(1);
    (side(w), side(h))
}

fn read_page(
    request: &Request,
    rule: &TextLayerRule,
    number: u32,
    page: &PdfPage,
    out: &mut impl Write,
) -> Result<(), Stop> {
    let (width, height) = (page.width().value, page.height().value);
    if !(width.is_finite() && height.is_finite() && width > 0.0 && height > 0.0) {
        return Err(Stop::new(
            Problem::Corrupt,
            format!("page {number} has no size"),
        ));
    }
    let (width_px, height_px) = page_pixels(width, height, request.dpi, request.max_page_pixels);
    // The layer's boxes are in the page's own space, which a page rotation turns: such a page is
    // read from its rendering, which PDFium draws upright.
    let upright = matches!(page.rotation(), Ok(PdfPageRenderRotation::None));
    let pictures = pictures(page);
    if upright {
        let (lines, facts) = text_layer(page, &pictures).map_err(|e| {
            Stop::new(
                Problem::Corrupt,
                format!("page {number}'s text cannot be read ({e:?})"),
            )
        })?;
        if rule.uses_text_layer(&facts) {
            let frame = Frame::Text {
                number,
                width_px,
                height_px,
                lines,
            };
            return write_frame(out, &frame, &[]).map_err(Stop::from);
        }
        if let Some((jpeg, w, h)) = scanned_jpeg(page, &pictures, width, height, request) {
            let frame = Frame::Picture {
                number,
                width_px: w,
                height_px: h,
                format: "jpeg".into(),
                len: jpeg.len() as u64,
            };
            return write_frame(out, &frame, &jpeg).map_err(Stop::from);
        }
    }
    let (png, w, h) = render(page, width_px, height_px)
        .map_err(|e| Stop::new(Problem::BeyondLimits, format!("page {number}: {e}")))?;
    let frame = Frame::Picture {
        number,
        width_px: w,
        height_px: h,
        format: "png".into(),
        len: png.len() as u64,
    };
    write_frame(out, &frame, &png).map_err(Stop::from)
}

/// A scanned page that is one JPEG covering the page, drawn upright and unmirrored, in grey or
/// RGB: its bytes as they are (no rendering, no re-encoding), with its size in pixels, when that
/// is within the page's pixel budget.
fn scanned_jpeg(
    page: &PdfPage,
    pictures: &[Rect],
    width: f32,
    height: f32,
    request: &Request,
) -> Option<(Vec<u8>, u32, u32)> {
    if page.objects().len() != 1 || pictures.len() != 1 || coverage(pictures, width, height) < 0.98
    {
        return None;
    }
    let object = page.objects().get(0).ok()?;
    let matrix = object.matrix().ok()?;
    if matrix.b().abs() > f32::EPSILON
        || matrix.c().abs() > f32::EPSILON
        || matrix.a() <= 0.0
        || matrix.d() <= 0.0
    {
        return None;
    }
    let image = object.as_image_object()?;
    let filters: Vec<String> = image
        .filters()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    if filters != ["DCTDecode"] {
        return None;
    }
    let (w, h) = (
        u32::try_from(image.width().ok()?).ok()?,
        u32::try_from(image.height().ok()?).ok()?,
    );
    if u64::from(w) * u64::from(h) > request.max_page_pixels {
        return None;
    }
    let bytes = image.get_raw_image_data().ok()?;
    plain_jpeg(&bytes).then_some((bytes, w, h))
}

/// Whether a JPEG reads the same in an OCR engine as in a PDF viewer: one or three components (no
/// CMYK, whose Adobe inversion a viewer and a decoder may treat differently), and no EXIF
/// orientation (which a viewer ignores in a PDF and an engine applies).
fn plain_jpeg(bytes: &[u8]) -> bool {
    let mut at = 2;
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return false;
    }
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        let (Some(&high), Some(&low)) = (bytes.get(at + 2), bytes.get(at + 3)) else {
            return false;
        };
        let len = usize::from(u16::from_be_bytes([high, low]));
        match marker {
            0xE1 if bytes.get(at + 4..at + 8) == Some(b"Exif") => return false,
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return matches!(bytes.get(at + 9), Some(1 | 3));
            }
            _ => at += 2 + len,
        }
    }
    false
}

/// The quality of page pictures' JPEGs: text stays crisp at a few hundred kilobytes a page.
const PICTURE_QUALITY: u8 = 85;

/// Draws the requested page, upright and in colour, as a JPEG of at most `side` pixels a side.
fn picture(doc: &PdfDocument, request: &Request, out: &mut impl Write) -> Result<(), Stop> {
    let index = request
        .page
        .checked_sub(1)
        .and_then(|i| PdfPageIndex::try_from(i).ok())
        .filter(|&i| i < doc.pages().len())
        .ok_or_else(|| {
            Stop::new(
                Problem::Corrupt,
                format!("the document has no page {}", request.page),
            )
        })?;
    let page = doc.pages().get(index).map_err(|e| {
        Stop::new(
            Problem::Corrupt,
            format!("page {} cannot be loaded ({e:?})", request.page),
        )
    })?;
    let (width, height) = (page.width().value, page.height().value);
    let longest = width.max(height);
    if !(longest.is_finite() && longest > 0.0) {
        return Err(Stop::new(Problem::Corrupt, "the page has no size"));
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let fit = |points: f32| ((points * request.side as f32 / longest).round() as u32).max(1);
    let (rgb, w, h) = render_rgb(&page, fit(width), fit(height))
        .map_err(|e| Stop::new(Problem::BeyondLimits, format!("page {}: {e}", request.page)))?;
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, PICTURE_QUALITY)
        .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
        .map_err(|e| Stop::new(Problem::BeyondLimits, format!("page {}: {e}", request.page)))?;
    let frame = Frame::Picture {
        number: request.page,
        width_px: w,
        height_px: h,
        format: "jpeg".into(),
        len: jpeg.len() as u64,
    };
    write_frame(out, &frame, &jpeg).map_err(Stop::from)
}

/// Renders a page into PDFium's BGRx pixels (rows of a stride at least four bytes a pixel) of at
/// most `width` × `height`, and their columns and rows.
fn render_bgrx(page: &PdfPage, width: u32, height: u32) -> Result<(Vec<u8>, usize, usize), String> {
    let target_width = i32::try_from(width).map_err(|e| e.to_string())?;
    let most_height = i32::try_from(height).map_err(|e| e.to_string())?;
    // Never an 8-bit grey bitmap: PDFium 8149 traps on text drawn into one.
    let config = PdfRenderConfig::new()
        .set_target_width(target_width)
        .set_maximum_width(target_width)
        .set_maximum_height(most_height)
        .set_format(PdfBitmapFormat::BGRx)
        .render_form_data(true)
        .render_annotations(true);
    let bitmap = page
        .render_with_config(&config)
        .map_err(|e| format!("cannot be rendered at {width}×{height} px ({e:?})"))?;
    let cols = usize::try_from(bitmap.width()).map_err(|e| e.to_string())?;
    let rows = usize::try_from(bitmap.height()).map_err(|e| e.to_string())?;
    let raw = bitmap.as_raw_bytes();
    if rows == 0 || cols == 0 || raw.len() < rows * cols * 4 {
        return Err("PDFium returned an empty bitmap".into());
    }
    Ok((raw, cols, rows))
}

/// Renders a page into RGB pixels of at most `width` × `height`.
fn render_rgb(page: &PdfPage, width: u32, height: u32) -> Result<(Vec<u8>, u32, u32), String> {
    let (raw, cols, rows) = render_bgrx(page, width, height)?;
    let stride = raw.len() / rows;
    let mut rgb = Vec::with_capacity(cols * rows * 3);
    for row in raw.chunks_exact(stride).take(rows) {
        for px in row.get(..cols * 4).unwrap_or_default().chunks_exact(4) {
            if let [blue, green, red, _] = *px {
                rgb.extend_from_slice(&[red, green, blue]);
            }
        }
    }
    let (w, h) = (
        u32::try_from(cols).map_err(|e| e.to_string())?,
        u32::try_from(rows).map_err(|e| e.to_string())?,
    );
    Ok((rgb, w, h))
}

/// Renders a page into a grey PNG of at most `width` × `height` pixels.
fn render(page: &PdfPage, width: u32, height: u32) -> Result<(Vec<u8>, u32, u32), String> {
    let (raw, cols, rows) = render_bgrx(page, width, height)?;
    let (bw, bh) = (
        u32::try_from(cols).map_err(|e| e.to_string())?,
        u32::try_from(rows).map_err(|e| e.to_string())?,
    );
    let stride = raw.len() / rows;
    let mut grey = Vec::with_capacity(cols * rows);
    for row in raw.chunks_exact(stride).take(rows) {
        let pixels = row.get(..cols * 4).unwrap_or_default();
        grey.extend(pixels.chunks_exact(4).map(|px| match *px {
            [blue, green, red, _] => {
                let luma = u32::from(red) * 299 + u32::from(green) * 587 + u32::from(blue) * 114;
                u8::try_from((luma + 500) / 1000).unwrap_or(u8::MAX)
            }
            _ => u8::MAX,
        }));
    }
    drop(raw);
    let mut png = Vec::with_capacity(grey.len() / 4);
    let mut encoder = png::Encoder::new(&mut png, bw, bh);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&grey))
        .map_err(|e| format!("cannot be encoded ({e})"))?;
    Ok((png, bw, bh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_sized_at_the_resolution_within_the_budget() {
        // A4 at 300 DPI.
        assert_eq!(page_pixels(595.0, 842.0, 300, 36_000_000), (2479, 3508));
        // A poster is rendered smaller, in proportion.
        let (w, h) = page_pixels(14_400.0, 14_400.0, 300, 36_000_000);
        assert!(u64::from(w) * u64::from(h) <= 36_000_000);
        assert_eq!(w, h);
        assert_eq!(page_pixels(0.01, 0.01, 300, 100), (1, 1));
    }

    #[test]
    fn only_plain_jpegs_are_passed_through() {
        let sof = |components: u8| {
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
            jpeg.extend([0xFF, 0xC0, 0, 11, 8, 0, 10, 0, 10, components]);
            jpeg
        };
        assert!(plain_jpeg(&sof(1)));
        assert!(plain_jpeg(&sof(3)));
        assert!(!plain_jpeg(&sof(4)));
        let mut exif = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 8];
        exif.extend(b"Exif\0\0");
        exif.extend(&sof(3)[2..]);
        assert!(!plain_jpeg(&exif));
        assert!(!plain_jpeg(b"not a jpeg"));
        assert!(!plain_jpeg(&[0xFF, 0xD8, 0xFF]));
    }
}
