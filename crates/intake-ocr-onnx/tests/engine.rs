//! The PP-OCR engine on real models (installed by scripts/ocr-models.sh): the OCR conformance suite,
//! golden reads of rendered text (rotations, low contrast, noise, a receipt, a dense page, a
//! multi-page TIFF) and hostile images. Images are rendered here with DejaVu Sans; nothing is copied
//! from a data set.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{png_input, setup};

use std::io::Cursor;

use bytes::Bytes;
use image::{GrayImage, ImageFormat};
use intake_domain::model::{ContentType, Sha256Digest};
use intake_domain::ports::{ImageFacts, OcrEngine, OcrError, OcrInput, PortError};
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_pixels, tiff_gray};
use intake_domain::testkit::ocr::{Sample, assert_result_invariants, run_suite};
use intake_ocr_onnx::{LoadError, ModelError, ModelTier, PpOcr, PpOcrOptions};

fn gray(lines: &[&str], font: &[u8]) -> GrayImage {
    let (pixels, (w, h)) = render_pixels(lines, font).expect("font renders");
    GrayImage::from_raw(w, h, pixels).expect("pixel buffer")
}

fn encode(img: &GrayImage, format: ImageFormat) -> Bytes {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    Bytes::from(out.into_inner())
}

fn input(bytes: Bytes, content_type: ContentType, dims: Option<(u32, u32)>) -> OcrInput {
    let facts = ImageFacts::new(
        content_type,
        bytes.len() as u64,
        dims,
        Sha256Digest::of(&bytes),
    );
    OcrInput::Bytes { bytes, facts }
}

async fn read_text(engine: &PpOcr, input: &OcrInput) -> String {
    let result = engine.detect(input).await.expect("OCR succeeds");
    assert_result_invariants(&result);
    result.text().to_lowercase()
}

fn assert_words(text: &str, words: &[&str]) {
    for w in words {
        assert!(
            text.contains(&w.to_lowercase()),
            "expected {w:?} in {text:?}"
        );
    }
}

#[tokio::test]
async fn conforms_and_reads_rendered_text() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let invoice = gray(&["INVOICE 4721.08", "Total due RM9.00"], font);
    let jpeg = gray(&["Pay to the order of", "Jane Smith"], font);
    let samples = [
        Sample::new(png_input(&invoice), &["invoice", "4721.08", "rm9.00"]),
        Sample::new(
            input(
                encode(&jpeg, ImageFormat::Jpeg),
                ContentType::Jpeg,
                Some(jpeg.dimensions()),
            ),
            &["order", "smith"],
        ),
    ];
    let mut truncated = encode(&invoice, ImageFormat::Png).to_vec();
    truncated.truncate(truncated.len() / 2);
    let refused = [
        input(
            Bytes::from_static(b"this is not an image at all"),
            ContentType::Png,
            None,
        ),
        input(
            Bytes::from(truncated),
            ContentType::Png,
            Some(invoice.dimensions()),
        ),
    ];
    run_suite(engine, &samples, &refused).await;
    assert_eq!(engine.capabilities().engine, "ppocr-v6-tiny");
}

#[tokio::test]
async fn words_carry_boxes_and_confidences_in_reading_order() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let result = engine
        .detect(&png_input(&gray(&["alpha beta gamma"], font)))
        .await
        .expect("OCR succeeds");
    let line = result.lines().first().expect("one line");
    let words: Vec<&str> = line
        .words()
        .iter()
        .map(intake_domain::model::OcrWord::text)
        .collect();
    assert_eq!(words, ["alpha", "beta", "gamma"]);
    let mut previous_right = 0.0_f32;
    for w in line.words() {
        let b = w.bounding_box();
        assert!(b.width() > 0.0 && b.height() > 0.0, "{b:?}");
        assert!(b.left() + 0.01 >= previous_right, "words overlap: {b:?}");
        assert!(b.left() >= line.bounding_box().left() - 0.01);
        assert!(
            b.left() + b.width() <= line.bounding_box().left() + line.bounding_box().width() + 0.01
        );
        previous_right = b.left() + b.width();
        assert!(w.confidence() > 80.0, "{} at {}", w.text(), w.confidence());
    }
    assert!(result.avg_confidence_pct().is_some_and(|c| c > 80.0));
}

#[tokio::test]
async fn pages_turned_a_quarter_half_or_three_quarters_are_read_upright() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let page = gray(
        &[
            "QUARTERLY STATEMENT",
            "Account number 0038-221",
            "Opening balance 1,204.50",
            "Closing balance 987.15",
            "Thank you for banking with us",
        ],
        font,
    );
    for (name, turned) in [
        ("90", image::imageops::rotate90(&page)),
        ("180", image::imageops::rotate180(&page)),
        ("270", image::imageops::rotate270(&page)),
    ] {
        let text = read_text(engine, &png_input(&turned)).await;
        assert_words(&text, &["statement", "balance", "987.15"]);
        assert!(
            !text.contains("aoue"),
            "turned {name}: read upside down: {text}"
        );
    }
}

#[tokio::test]
async fn low_contrast_and_noisy_scans_are_read() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let page = gray(&["Reference 55120", "Amount 310.75"], font);
    // Grey ink on grey paper.
    let faint = GrayImage::from_fn(page.width(), page.height(), |x, y| {
        image::Luma([150 + page.get_pixel(x, y).0[0] / 4])
    });
    assert_words(
        &read_text(engine, &png_input(&faint)).await,
        &["reference", "55120", "310.75"],
    );
    // Salt-and-pepper noise on about 3% of the pixels (a fixed pseudo-random sequence).
    let mut state = 0x2545_f491_u32;
    let noisy = GrayImage::from_fn(page.width(), page.height(), |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        match state % 64 {
            0 => image::Luma([0]),
            1 => image::Luma([255]),
            _ => *page.get_pixel(x, y),
        }
    });
    assert_words(
        &read_text(engine, &png_input(&noisy)).await,
        &["reference", "amount"],
    );
}

#[tokio::test]
async fn a_narrow_receipt_and_a_dense_page_are_read_line_by_line() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let receipt = [
        "CORNER CAFE",
        "2 Latte 9.00",
        "1 Bagel 3.50",
        "SUBTOTAL 12.50",
        "TAX 0.75",
        "TOTAL 13.25",
        "VISA 4417",
    ];
    let result = engine
        .detect(&png_input(&gray(&receipt, font)))
        .await
        .expect("OCR succeeds");
    let text = result.text().to_lowercase();
    assert_words(
        &text,
        &["cafe", "latte", "bagel", "subtotal", "13.25", "4417"],
    );
    assert!(
        result.lines().len() >= receipt.len(),
        "{} lines: {text}",
        result.lines().len()
    );
    // Reading order: the lines come top to bottom.
    let tops: Vec<f32> = result
        .lines()
        .iter()
        .map(|l| l.bounding_box().top())
        .collect();
    assert!(tops.windows(2).all(|w| w[0] <= w[1] + 0.01), "{tops:?}");

    let dense: Vec<String> = (1..=30)
        .map(|i| format!("Line {i} item code {} qty {}", 1000 + i * 7, i % 9 + 1))
        .collect();
    let refs: Vec<&str> = dense.iter().map(String::as_str).collect();
    let text = read_text(engine, &png_input(&gray(&refs, font))).await;
    let found = (1..=30)
        .filter(|i| text.contains(&format!("{}", 1000 + i * 7)))
        .count();
    assert!(found >= 28, "read {found} of 30 item codes: {text}");
}

#[tokio::test]
async fn every_page_of_a_tiff_is_read() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let first = gray(&["FIRST PAGE 111"], font);
    let second = gray(&["SECOND PAGE 222"], font);
    let tiff = tiff_gray(&[
        (first.dimensions(), first.as_raw()),
        (second.dimensions(), second.as_raw()),
    ]);
    let result = engine
        .detect(&input(tiff, ContentType::Tiff, Some(first.dimensions())))
        .await
        .expect("OCR succeeds");
    assert_result_invariants(&result);
    let text = result.text().to_lowercase();
    assert_words(&text, &["first", "111", "second", "222"]);
    let (page_one, page_two) = text.split_once('\u{c}').expect("two pages");
    assert_words(page_one, &["first", "111"]);
    assert_words(page_two, &["second", "222"]);
    let sizes: Vec<(u32, u32, u32)> = result
        .pages()
        .iter()
        .map(|p| (p.page().get(), p.width_px(), p.height_px()))
        .collect();
    assert_eq!(
        sizes,
        [
            (1, first.width(), first.height()),
            (2, second.width(), second.height())
        ]
    );
}

/// A phone photo as HEIC: a page the sensor saw turned a quarter clockwise, with the `irot` that
/// shows it upright (encoded by `heif-enc` here; skipped without it outside CI). The engine reads
/// its text, on a page of the upright size, its lines running across it.
#[tokio::test]
async fn a_heic_photo_is_read_upright() {
    use intake_heic::testkit::{heif_enc, heif_enc_available, with_rotation};
    let Some((engine, font)) = setup() else {
        return;
    };
    if !heif_enc_available() {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI must install heif-enc (scripts/system-deps.sh)"
        );
        eprintln!("SKIPPED: needs heif-enc (libheif-examples)");
        return;
    }
    let page = gray(&["RECEIPT 7713", "Paid with card 42.90"], font);
    let sensor = image::imageops::rotate90(&page);
    let plain = heif_enc(&encode(&page, ImageFormat::Png), 90).expect("encodes");
    let sideways = heif_enc(&encode(&sensor, ImageFormat::Png), 90).expect("encodes");
    let upright = with_rotation(&sideways, 1).expect("turned");
    for heic in [plain, upright] {
        let result = engine
            .detect(&input(
                Bytes::from(heic),
                ContentType::Heic,
                Some(page.dimensions()),
            ))
            .await
            .expect("OCR succeeds");
        assert_result_invariants(&result);
        assert_words(&result.text().to_lowercase(), &["receipt", "7713", "42.90"]);
        let size = result
            .pages()
            .first()
            .map(|p| (p.width_px(), p.height_px()));
        assert_eq!(size, Some(page.dimensions()));
        // Boxes are relative to the page: in its pixels, every line is wider than tall.
        let (w, h) = page.dimensions();
        #[allow(clippy::cast_precision_loss)]
        for line in result.lines() {
            let bounds = line.bounding_box();
            assert!(
                bounds.width() * w as f32 > bounds.height() * h as f32,
                "{}: {bounds:?}",
                line.text()
            );
        }
    }
}

#[tokio::test]
async fn hostile_images_end_with_a_typed_result() {
    let Some((engine, _)) = setup() else { return };
    // A one-pixel strip, a huge blank page and an all-black page: no text, no failure.
    for img in [
        GrayImage::from_pixel(1, 3000, image::Luma([255])),
        GrayImage::from_pixel(3000, 1, image::Luma([0])),
        GrayImage::from_pixel(9000, 9000, image::Luma([255])),
        GrayImage::from_pixel(600, 600, image::Luma([0])),
    ] {
        let result = engine
            .detect(&png_input(&img))
            .await
            .expect("a typed result");
        assert_result_invariants(&result);
        assert!(
            result.lines().is_empty(),
            "{}x{}: {:?}",
            img.width(),
            img.height(),
            result.text()
        );
    }
    // More pixels than the engine decodes: refused as too large, permanently.
    let small_limit = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_max_pixels(1000),
    )
    .expect("models load");
    let err = small_limit
        .detect(&png_input(&GrayImage::from_pixel(
            100,
            100,
            image::Luma([255]),
        )))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OcrError::TooLarge { .. }) && !err.is_retryable(),
        "{err}"
    );
    // A format the engine does not take.
    let err = engine
        .detect(&input(
            Bytes::from_static(b"%PDF-1.7"),
            ContentType::Pdf,
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, OcrError::UnsupportedFormat { .. }));
}

#[tokio::test]
async fn concurrent_pages_each_get_their_own_text() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let pages: Vec<(String, OcrInput)> = (0..6)
        .map(|i| {
            let word = format!("ORDER{}", 4100 + i);
            let img = png_input(&gray(&[&word], font));
            (word, img)
        })
        .collect();
    let reads = futures_join(engine, &pages).await;
    for ((word, _), text) in pages.iter().zip(reads) {
        assert!(text.contains(&word.to_lowercase()), "{word} not in {text}");
    }
}

async fn futures_join(engine: &PpOcr, pages: &[(String, OcrInput)]) -> Vec<String> {
    let mut handles = Vec::new();
    for (_, page) in pages {
        let engine = engine.clone();
        let page = page.clone();
        handles.push(tokio::spawn(async move { read_text(&engine, &page).await }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[test]
fn missing_models_are_a_clear_start_up_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = PpOcr::load(&PpOcrOptions::default().with_models_dir(dir.path())).unwrap_err();
    assert!(
        matches!(err, LoadError::Model(ModelError::Missing { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("scripts/ocr-models.sh"), "{err}");
}

#[tokio::test]
async fn the_balanced_tier_reads_with_small_recognition_and_names_itself() {
    let Some((_, font)) = setup() else {
        return;
    };
    let engine = PpOcr::load(
        &PpOcrOptions::default()
            .with_tier(ModelTier::Balanced)
            .with_workers(1),
    )
    .expect("the balanced tier loads the installed tiny and small files");
    assert_eq!(engine.capabilities().engine, "ppocr-v6-balanced");
    let page = gray(&["Receipt 20931 Oak Street", "Total RM31.00 paid"], font);
    let result = engine
        .detect(&png_input(&page))
        .await
        .expect("OCR succeeds");
    assert_result_invariants(&result);
    assert_eq!(result.engine(), "ppocr-v6-balanced");
    assert_words(
        &result.text().to_lowercase(),
        &["receipt", "20931", "oak", "street", "rm31.00", "paid"],
    );
}

#[tokio::test]
async fn other_typefaces_and_small_print_are_read() {
    let Some((engine, font)) = setup() else {
        return;
    };
    // The serif and bold monospace faces that fonts-dejavu-core installs beside DejaVu Sans.
    let dir = DEJAVU_SANS_PATHS
        .iter()
        .map(std::path::Path::new)
        .find(|p| p.is_file())
        .and_then(std::path::Path::parent)
        .expect("the font folder");
    for face in ["DejaVuSerif.ttf", "DejaVuSansMono-Bold.ttf"] {
        let other = std::fs::read(dir.join(face)).expect("fonts-dejavu-core installs it");
        let text = read_text(
            engine,
            &png_input(&gray(&["Cheque no 004417", "Memo rent March"], &other)),
        )
        .await;
        assert_words(&text, &["cheque", "004417", "memo", "rent", "march"]);
    }
    // Small print: the 40 px page scaled to 20 px and 14 px letters.
    let page = gray(
        &["Invoice 88213 due 30 days", "Ship to Oak Street 12"],
        font,
    );
    for (num, den) in [(1_u32, 2_u32), (7, 20)] {
        let (w, h) = (page.width() * num / den, page.height() * num / den);
        let small = image::imageops::resize(&page, w, h, image::imageops::FilterType::Triangle);
        let text = read_text(engine, &png_input(&small)).await;
        assert_words(&text, &["invoice", "88213", "ship", "street"]);
    }
}

#[tokio::test]
async fn an_image_past_its_time_limit_ends_in_a_retryable_timeout() {
    let Some((_, font)) = setup() else { return };
    let page = png_input(&gray(&["Statement of account", "Balance 1,204.50"], font));
    let hurried = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_time_limit(std::time::Duration::ZERO),
    )
    .expect("models load");
    let err = hurried.detect(&page).await.unwrap_err();
    assert!(
        matches!(err, OcrError::Timeout) && err.is_retryable(),
        "{err}"
    );
    // The worker went back to the pool: the same engine reads the next image (and times it out again,
    // rather than answering that no worker is free).
    let again = hurried.detect(&page).await.unwrap_err();
    assert!(matches!(again, OcrError::Timeout), "{again}");
    // A generous limit reads the page.
    let patient = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_time_limit(std::time::Duration::from_secs(600)),
    )
    .expect("models load");
    assert_words(
        &read_text(&patient, &page).await,
        &["statement", "1,204.50"],
    );
}

#[tokio::test]
async fn with_the_line_classifier_a_line_printed_upside_down_is_read() {
    let Some((_, font)) = setup() else { return };
    // An upright form with one stamp printed upside down in its lower half.
    let upright = gray(
        &[
            "PURCHASE ORDER 7781",
            "Supplier Northwind Traders",
            "Delivery within 30 days",
            "Authorised by the buyer",
        ],
        font,
    );
    let stamp = image::imageops::rotate180(&gray(&["RECEIVED 2026 MARCH"], font));
    let mut page = GrayImage::from_pixel(
        upright.width().max(stamp.width()),
        upright.height() + stamp.height() + 40,
        image::Luma([255]),
    );
    image::imageops::overlay(&mut page, &upright, 0, 0);
    image::imageops::overlay(&mut page, &stamp, 0, i64::from(upright.height() + 40));
    let input = png_input(&page);
    let classifier = PpOcr::load(
        &PpOcrOptions::default()
            .with_workers(1)
            .with_line_orientation(true),
    )
    .expect("models load");
    let text = read_text(&classifier, &input).await;
    assert_words(
        &text,
        &["purchase", "7781", "northwind", "received", "march"],
    );
    // Without the classifier the stamp is not read upright (what the option exists for).
    let Some((plain, _)) = setup() else { return };
    let without = read_text(plain, &input).await;
    assert!(!without.contains("received"), "{without}");
}
