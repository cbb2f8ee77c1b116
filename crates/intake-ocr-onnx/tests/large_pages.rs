//! Pages past the PP-OCR engine's pixel budget (on real models, installed by
//! scripts/ocr-models.sh): read averaged down, not refused, and reported at their own size; past
//! the pixel limit still refused. Pages rendered here with DejaVu Sans.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{font, png_input};

use image::{DynamicImage, ImageBuffer, Luma};
use intake_domain::ports::{OcrEngine, OcrError};
use intake_domain::testkit::images::render_pixels;
use intake_domain::testkit::ocr::assert_result_invariants;
use intake_ocr_onnx::{PpOcr, PpOcrOptions};

/// `lines` rendered, enlarged `factor` times (each pixel a `factor × factor` square), as 16-bit grey.
fn enlarged_16_bit(lines: &[&str], font: &[u8], factor: u32) -> DynamicImage {
    let (pixels, (w, h)) = render_pixels(lines, font).expect("font renders");
    let page = ImageBuffer::from_fn(w * factor, h * factor, |x, y| {
        let v = pixels
            .get(((y / factor) * w + x / factor) as usize)
            .copied()
            .unwrap_or(255);
        Luma([u16::from(v) * 257])
    });
    DynamicImage::ImageLuma16(page)
}

#[tokio::test]
async fn a_page_past_the_budget_is_read_averaged_down_at_its_own_size() {
    let Some(font) = font() else { return };
    let engine = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_page_pixels(1_000_000),
    )
    .expect("models load");
    // 2700 × 600, 1.6 MP of 16-bit grey: read at 1 MP.
    let page = enlarged_16_bit(&["INVOICE 4721.08", "Total due RM9.00"], font.as_slice(), 3);
    let result = engine
        .detect(&png_input(&page))
        .await
        .expect("read, not refused");
    assert_result_invariants(&result);
    let text = result.text().to_lowercase();
    for word in ["invoice", "4721.08", "total", "rm9.00"] {
        assert!(text.contains(word), "{word} in {text:?}");
    }
    let read = result.pages().first().expect("one page");
    assert_eq!(read.size(), Some((page.width(), page.height())));
    // The words are boxed on the page as given: the first line in its upper half.
    let first = result.lines().first().expect("a line").bounding_box();
    assert!(first.top() < 0.5 && first.left() < 0.2, "{first:?}");

    // Past the pixel limit the page is still refused, whatever the budget.
    let limited = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_page_pixels(1_000_000)
            .with_max_pixels(1_500_000),
    )
    .expect("models load");
    let err = limited.detect(&png_input(&page)).await.unwrap_err();
    assert!(matches!(err, OcrError::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn a_huge_16_bit_page_is_read_within_the_default_budget() {
    if font().is_none() {
        return;
    }
    let engine = PpOcr::load(&PpOcrOptions::default().with_workers(1)).expect("models load");
    // 81 MP of 16-bit grey, with a black square in the top-left quarter.
    let page = DynamicImage::ImageLuma16(ImageBuffer::from_fn(9000, 9000, |x, y| {
        Luma([if x < 2000 && y < 2000 { 0 } else { u16::MAX }])
    }));
    let result = engine.detect(&png_input(&page)).await.expect("read");
    assert_result_invariants(&result);
    assert!(result.lines().is_empty(), "{:?}", result.text());
    let read = result.pages().first().expect("one page");
    assert_eq!(read.size(), Some((9000, 9000)));
}
