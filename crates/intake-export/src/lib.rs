//! # intake-export
//!
//! What was read on an image, in the formats other tools read: [`Renderer`] writes a processed
//! record's OCR result (its pages, lines, words, boxes and confidences) as
//!
//! - **hOCR 1.2**, an XHTML document: an `ocr_page` per page with its `bbox` in pixels, the page's
//!   lines in an `ocr_carea` and `ocr_par`, `ocr_line`s and `ocrx_word`s with their `bbox` in the
//!   page's pixels and `x_wconf`, and the `ocr-system` and `ocr-capabilities` metadata;
//! - **ALTO v4** XML (schema 4.2): a `Page` per page with `WIDTH` and `HEIGHT` in pixels, its
//!   `PrintSpace`, one `TextBlock` of `TextLine`s of `String`s (`CONTENT`, `HPOS`, `VPOS`, `WIDTH`,
//!   `HEIGHT`, `WC` from 0 to 1) with an `SP` between words;
//! - **plain text**, as `pdftotext` writes it: lines ended by newlines, pages by form feeds;
//! - a **searchable PDF**, as OCRmyPDF writes one, from the record and the original's bytes: a
//!   page per page of the original, its pixels embedded as they are (a JPEG's own bytes; other
//!   formats' pixels decoded losslessly, every page of a TIFF), turned upright as EXIF says, under
//!   an invisible text layer (render mode 3, Tesseract's glyphless font) with each word on its
//!   box (see `pdf/`; PDF by `pdf-writer`, pixels by `image` and `tiff`).
//!
//! A page's size is its summary's (`ImageRecord::pages`), else for the first page the image's own
//! width and height; where neither is known the page's geometry is left out (both formats allow
//! it). Boxes are the record's (relative to their page) in the page's pixels, rounded outwards. A
//! line without words is written as one word. Text the XML cannot hold (control characters) is
//! left out; everything else is escaped by the XML writer (`quick-xml`), never concatenated. A
//! PDF upload is its own PDF export: the domain returns it as uploaded without asking the renderer.
//!
//! The crate is the domain's [`ExportRenderer`] port: model to bytes, no I/O. The compositions
//! hand it to `IntakeBuilder::exports`.

mod alto;
mod hocr;
mod layout;
mod pdf;
mod txt;

use intake_domain::model::{ExportFormat, ImageRecord};
use intake_domain::ports::{ExportRenderer, RenderError};

pub use pdf::{DEFAULT_DPI, MAX_SIDE_POINTS};

/// Writes hOCR, ALTO, plain text and searchable PDFs (see the crate's documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct Renderer;

impl ExportRenderer for Renderer {
    fn render(
        &self,
        record: &ImageRecord,
        format: ExportFormat,
        original: Option<&[u8]>,
    ) -> Result<Vec<u8>, RenderError> {
        let failed = |source: std::io::Error| RenderError::Failed {
            format,
            source: Box::new(source),
        };
        match format {
            ExportFormat::Hocr => hocr::render(record).map_err(failed),
            ExportFormat::Alto => alto::render(record).map_err(failed),
            ExportFormat::Txt => Ok(txt::render(record)),
            ExportFormat::Pdf => {
                let original = original.ok_or(RenderError::NoOriginal(format))?;
                pdf::render(record, original).map_err(|e| RenderError::Undecodable {
                    format,
                    source: Box::new(e),
                })
            }
            _ => Err(RenderError::Unsupported(format)),
        }
    }
}
