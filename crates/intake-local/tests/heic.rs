//! Tesseract reading HEIC photos (which it cannot decode itself: the adapter hands it the picture
//! decoded and upright): a page as `heif-enc` writes it, the same page as a phone stores a sideways
//! shot (the pixels turned, an `irot` to show them upright), and one beyond the pixel budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use bytes::Bytes;
use image::{GrayImage, ImageFormat};
use intake_domain::model::{ContentType, Sha256Digest};
use intake_domain::ports::{ImageFacts, OcrEngine as _, OcrError, OcrInput};
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_pixels};
use intake_heic::testkit::{heif_enc, heif_enc_available, with_rotation};
use intake_local::{TesseractOcr, TesseractOptions};

/// The font, when Tesseract, heif-enc and DejaVu are all here; `None` (skipped) outside CI.
fn setup() -> Option<Vec<u8>> {
    let tesseract = std::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let font = DEJAVU_SANS_PATHS.iter().find_map(|p| std::fs::read(p).ok());
    match font {
        Some(font) if tesseract && heif_enc_available() => Some(font),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI must install tesseract, heif-enc and fonts-dejavu-core (scripts/system-deps.sh)"
            );
            eprintln!("SKIPPED: needs tesseract-ocr, libheif-examples and fonts-dejavu-core");
            None
        }
    }
}

fn heic(page: &GrayImage) -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    page.write_to(&mut png, ImageFormat::Png).unwrap();
    heif_enc(&png.into_inner(), 90).expect("heif-enc encodes")
}

fn input(heic: Vec<u8>, size: (u32, u32)) -> OcrInput {
    let bytes = Bytes::from(heic);
    let facts = ImageFacts::new(
        ContentType::Heic,
        bytes.len() as u64,
        Some(size),
        Sha256Digest::of(&bytes),
    );
    OcrInput::Bytes { bytes, facts }
}

#[tokio::test]
async fn tesseract_reads_heic_photos_upright() {
    let Some(font) = setup() else {
        return;
    };
    let (pixels, (w, h)) =
        render_pixels(&["INVOICE 5512", "Amount due 64.20"], &font).expect("renders");
    let page = GrayImage::from_raw(w, h, pixels).unwrap();
    let sideways = with_rotation(&heic(&image::imageops::rotate90(&page)), 1).expect("turned");
    for (name, file, options) in [
        ("as stored", heic(&page), TesseractOptions::default()),
        ("turned by irot", sideways, TesseractOptions::default()),
        // A budget a quarter of the page: read grey and scaled down.
        (
            "beyond the budget",
            heic(&page),
            TesseractOptions::default().with_max_pixels(u64::from(w * h) / 4),
        ),
    ] {
        let engine = TesseractOcr::new(options);
        let result = engine.detect(&input(file, (w, h))).await.expect(name);
        let text = result.text();
        for word in ["INVOICE", "5512", "64.20"] {
            assert!(text.contains(word), "{name}: {word} in {text:?}");
        }
        // Lines run across the page: in pixels, every line box is wider than tall.
        for line in result.lines() {
            let b = line.bounding_box();
            assert!(
                b.width() * w as f32 > b.height() * h as f32,
                "{name}: {}: {b:?}",
                line.text()
            );
        }
    }
    let engine = TesseractOcr::new(TesseractOptions::default());
    assert!(engine.capabilities().formats.contains(&ContentType::Heic));
    let cut = heic(&page);
    let cut = cut[..cut.len() / 2].to_vec();
    assert!(matches!(
        engine.detect(&input(cut, (w, h))).await,
        Err(OcrError::InvalidImage { .. })
    ));
}
