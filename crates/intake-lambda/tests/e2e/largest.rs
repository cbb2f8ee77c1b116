//! The processor at the template's memory size on the largest page the limits allow: as many
//! pixels as `INTAKE_MAX_PIXELS` lets through (the default, which the template keeps), as a JPEG
//! (decoded whole before PP-OCR averages it down, unlike a PNG, which is averaged row by row),
//! within the template's upload limit. It must finish, or fail with a stable code: never be killed.

use std::path::Path;

use intake_domain::IntakeConfig;

use super::flow::Api;
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
/// (decoded whole too, in RGB); `variant` marks a corner so that each variant's bytes differ.
fn encodings(page: &image::GrayImage, variant: u8) -> Vec<Encoded> {
    let side = page.width();
    let mut rgb = image::DynamicImage::ImageLuma8(page.clone()).into_rgb8();
    for x in 0..8 {
        rgb.put_pixel(u32::from(variant) * 16 + x, 0, image::Rgb([0, 0, 0]));
    }
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

/// The largest page's side and its encodings, two variants of each.
pub(crate) type Pages = (u32, Vec<(Encoded, Encoded)>);
type Encoded = (&'static str, &'static str, Vec<u8>);

/// Renders and encodes the largest pages (seconds of work: the test starts it first, off the async
/// threads, and takes the result when the flow gets there).
pub(crate) fn pages() -> Pages {
    let (page, side) = largest_page();
    (
        side,
        encodings(&page, 0)
            .into_iter()
            .zip(encodings(&page, 1))
            .collect(),
    )
}

/// Each encoding of the largest page, two of them in one batch (the template's processor reads
/// two messages at once: one per GiB), read by a fresh processor (so that its peak is those pages')
/// in a memory cgroup of the template's size.
pub(crate) async fn the_largest_page_fits_the_template_memory(
    stack: &Stack,
    models: &Path,
    uploads: &QueueSource,
    api: &mut Api,
    pages: Pages,
) {
    let (side, pairs) = pages;
    let max_upload: usize = stack
        .template
        .parameter_default("MaxUploadBytes")
        .parse()
        .unwrap();
    let (_, memory_mib, _) = stack.function("ProcessorFunction", models);
    for ((name, content_type, first), (_, _, second)) in pairs {
        assert!(
            first.len() <= max_upload,
            "{name} ({} bytes) fits the upload limit",
            first.len()
        );
        let mut processor =
            super::launch(stack, "ProcessorFunction", "processor", models, &[], true).await;
        let ids = [
            api.upload_as(name, content_type, &first).await,
            api.upload_as(name, content_type, &second).await,
        ];
        let started = std::time::Instant::now();
        let mut messages = Vec::new();
        while messages.len() < 2 {
            messages.extend(uploads.receive(1).await);
            assert!(
                started.elapsed().as_secs() < 20,
                "the two notifications: {messages:?}"
            );
        }
        let batch = uploads.deliver(&mut processor, messages).await;
        assert!(
            batch.failed.is_empty(),
            "{batch:?}\n{}",
            processor.log_tail()
        );
        let took = started.elapsed();
        let rss = processor.peak_rss();
        let cgroup = processor.cgroup.as_ref().map(|c| (c.peak(), c.failures()));
        for id in &ids {
            let image = api.image(id).await;
            eprintln!(
                "largest page: {side} x {side} {content_type} ({} KiB), {}",
                first.len() / 1024,
                image["status"]
            );
            match image["status"].as_str() {
                Some("PROCESSED") => assert!(
                    image["ocrText"].as_str().unwrap().contains("9137"),
                    "{image}"
                ),
                // A refusal the processor decided is a stable outcome too; a kill fails above.
                Some("REJECTED") => assert!(image["rejectionCode"].is_string(), "{image}"),
                Some("FAILED") => assert!(image["failureCode"].is_string(), "{image}"),
                other => panic!("unexpected status {other:?}: {image}"),
            }
        }
        eprintln!(
            "two at once in {took:.1?}; processor peak RSS {} MiB, cgroup peak {} of {memory_mib} MiB",
            rss >> 20,
            cgroup.map_or_else(
                || "(no cgroup)".to_owned(),
                |(peak, failures)| format!("{} MiB ({failures} limit hits)", peak >> 20)
            ),
        );
        assert!(
            rss < memory_mib << 20,
            "{name}: peak RSS {rss} within the template's {memory_mib} MiB"
        );
    }
}
