//! The processor at the template's memory size on the largest page the limits allow: as many
//! pixels as `INTAKE_MAX_PIXELS` lets through (the default, which the template keeps), as a JPEG
//! (decoded whole before PP-OCR averages it down, unlike a PNG, which is averaged row by row),
//! within the template's upload limit. It must finish, or fail with a stable code: never be killed.

use std::path::Path;

use intake_domain::IntakeConfig;

use super::flow::{Api, process_until_done};
use super::sources::QueueSource;
use super::stack::Stack;

/// A square page of `IntakeConfig::default().max_pixels` pixels: white, with a block of text
/// written three times larger in each quarter.
fn largest_page() -> (image::GrayImage, u32) {
    let side = u32::try_from(IntakeConfig::default().max_pixels.isqrt()).unwrap();
    let font = intake_domain::testkit::images::DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("DejaVu Sans (scripts/system-deps.sh)");
    let (text, (width, height)) = intake_domain::testkit::images::render_pixels(
        &["PAGE LIMIT 9137", "largest page the deployment reads"],
        &font,
    )
    .unwrap();
    let text = image::GrayImage::from_raw(width, height, text).unwrap();
    let text = image::imageops::resize(
        &text,
        width * 3,
        height * 3,
        image::imageops::FilterType::Triangle,
    );
    let mut page = image::GrayImage::from_pixel(side, side, image::Luma([255]));
    for (x, y) in [(1, 1), (5, 1), (1, 5), (5, 5)] {
        image::imageops::replace(
            &mut page,
            &text,
            i64::from(side / 8 * x),
            i64::from(side / 8 * y),
        );
    }
    (page, side)
}

/// The page in colour as a JPEG (a photo's three channels, decoded whole) and as a lossless WebP
/// (decoded whole too, in RGB).
fn encodings(page: &image::GrayImage) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let (side, rgb) = (
        page.width(),
        image::DynamicImage::ImageLuma8(page.clone()).into_rgb8(),
    );
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(rgb.as_raw(), side, side, image::ExtendedColorType::Rgb8)
        .unwrap();
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .encode(rgb.as_raw(), side, side, image::ExtendedColorType::Rgb8)
        .unwrap();
    vec![
        ("largest.jpg", "image/jpeg", jpeg),
        ("largest.webp", "image/webp", webp),
    ]
}

/// Each encoding of the largest page, read by a fresh processor (so that its peak is that page's)
/// in a memory cgroup of the template's size.
pub(crate) async fn the_largest_page_fits_the_template_memory(
    stack: &Stack,
    models: &Path,
    uploads: &QueueSource,
    api: &mut Api,
) {
    let (page, side) = largest_page();
    let max_upload: usize = stack
        .template
        .parameter_default("MaxUploadBytes")
        .parse()
        .unwrap();
    let (_, memory_mib, _) = stack.function("ProcessorFunction", models);
    for (name, content_type, bytes) in encodings(&page) {
        assert!(
            bytes.len() <= max_upload,
            "{name} ({} bytes) fits the upload limit",
            bytes.len()
        );
        let mut processor =
            super::launch(stack, "ProcessorFunction", "processor", models, &[], true).await;
        let id = api.upload_as(name, content_type, &bytes).await;
        let started = std::time::Instant::now();
        let image = process_until_done(uploads, &mut processor, api, &id).await;
        let took = started.elapsed();
        let rss = processor.peak_rss();
        let cgroup = processor.cgroup.as_ref().map(|c| (c.peak(), c.failures()));
        eprintln!(
            "largest page: {side} x {side} {content_type} ({} KiB), {}, in {took:.1?}; processor peak RSS {} MiB, cgroup peak {} of {memory_mib} MiB",
            bytes.len() / 1024,
            image["status"],
            rss >> 20,
            cgroup.map_or_else(
                || "(no cgroup)".to_owned(),
                |(peak, failures)| format!("{} MiB ({failures} limit hits)", peak >> 20)
            ),
        );
        match image["status"].as_str() {
            Some("PROCESSED") => assert!(
                image["ocrText"].as_str().unwrap().contains("9137"),
                "{image}"
            ),
            // A refusal the processor decided is a stable outcome too; a kill fails above.
            Some("REJECTED" | "FAILED") => assert!(image["error"]["code"].is_string(), "{image}"),
            other => panic!("unexpected status {other:?}: {image}"),
        }
        assert!(
            rss < memory_mib << 20,
            "{name}: peak RSS {rss} within the template's {memory_mib} MiB"
        );
    }
}
