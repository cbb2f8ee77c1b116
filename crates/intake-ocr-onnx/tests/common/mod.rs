//! What the engine's test files share: the installed models and the font (skipped without them
//! outside CI, a failure in CI), the engine loaded once per test binary, and pictures as the
//! engine's input.
#![allow(dead_code, reason = "each test binary uses its part")]

use std::io::Cursor;
use std::sync::OnceLock;

use bytes::Bytes;
use image::{DynamicImage, ImageFormat};
use intake_domain::model::{ContentType, Sha256Digest};
use intake_domain::ports::{ImageFacts, OcrInput};
use intake_domain::testkit::images::DEJAVU_SANS_PATHS;
use intake_ocr_onnx::{PpOcr, PpOcrOptions, default_models_dir};

/// DejaVu Sans, when it and the tiny models are installed; `None` (the test is skipped) where they
/// are not, outside CI.
pub(crate) fn font() -> Option<Vec<u8>> {
    let installed = default_models_dir()
        .join("ppocr-v6-tiny/rec.onnx")
        .is_file();
    let font = DEJAVU_SANS_PATHS.iter().find_map(|p| std::fs::read(p).ok());
    match font {
        Some(font) if installed => Some(font),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI must install the OCR models and fonts (scripts/ocr-models.sh, scripts/system-deps.sh)"
            );
            eprintln!("SKIPPED: needs scripts/ocr-models.sh and fonts-dejavu-core");
            None
        }
    }
}

/// The default engine (two workers) and the font, loaded once for the test binary, or `None` as
/// [`font`].
pub(crate) fn setup() -> Option<(&'static PpOcr, &'static [u8])> {
    static ENGINE: OnceLock<Option<(PpOcr, Vec<u8>)>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let font = font()?;
            let engine =
                PpOcr::load(&PpOcrOptions::default().with_workers(2)).expect("models load");
            Some((engine, font))
        })
        .as_ref()
        .map(|(e, f)| (e, f.as_slice()))
}

/// `img` as PNG bytes with the facts the processor would have found.
pub(crate) fn png_input<I: Clone + Into<DynamicImage>>(img: &I) -> OcrInput {
    let img: DynamicImage = img.clone().into();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encode");
    let bytes = Bytes::from(out.into_inner());
    let facts = ImageFacts::new(
        ContentType::Png,
        bytes.len() as u64,
        Some((img.width(), img.height())),
        Sha256Digest::of(&bytes),
    );
    OcrInput::Bytes { bytes, facts }
}
