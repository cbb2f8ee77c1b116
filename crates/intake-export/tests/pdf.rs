//! The searchable PDF, read back by tools other than its writer: Poppler's `pdftotext` (the words,
//! in order, and where they are), `pdfinfo` and `pdfimages` (pages, sizes, images), `pdftoppm`
//! (what a viewer shows) and `qpdf --check` (the file's structure). The tools come from Debian
//! (`poppler-utils`, `qpdf`: `scripts/system-deps.sh`); a missing one fails the test under
//! `CI=true` and is reported, not skipped silently, elsewhere.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use std::io::Cursor;
use std::num::NonZeroU32;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{GrayImage, ImageEncoder as _, Luma, Rgba, RgbaImage};
use intake_domain::model::{
    BoundingBox, ContentType, ExportFormat, FileName, ImageRecord, Measurements, ObjectKey,
    OcrLine, OcrPage, OcrResult, OcrWord, PageSource,
};
use intake_domain::ports::{ExportRenderer as _, RenderError};
use intake_domain::testkit::{LEASE, epoch, id_at, record};
use intake_export::Renderer;

/// A word on `page` at a relative box.
type Spec<'a> = (u32, &'a str, [f32; 4]);

/// A processed record of `content_type` whose lines are `lines` (a line per inner list) and whose
/// pages were read at `sizes`.
fn processed(
    content_type: ContentType,
    sizes: &[(u32, u32)],
    lines: &[Vec<Spec<'_>>],
) -> ImageRecord {
    let lines = lines
        .iter()
        .map(|words| {
            let page = words[0].0;
            let words = words
                .iter()
                .map(|&(_, text, [l, t, w, h])| {
                    OcrWord::new(text, 90.0, BoundingBox::new(l, t, w, h).unwrap()).unwrap()
                })
                .collect();
            OcrLine::from_words(words)
                .unwrap()
                .on_page(NonZeroU32::new(page).unwrap())
        })
        .collect();
    let pages = sizes
        .iter()
        .zip(1..)
        .map(|(&(w, h), n)| OcrPage::new(NonZeroU32::new(n).unwrap(), w, h, PageSource::Ocr))
        .collect();
    let result = OcrResult::new("e", lines, false).unwrap().with_pages(pages);
    let measured = Measurements {
        size_bytes: Some(1),
        content_type: Some(content_type),
        dimensions: sizes.first().copied(),
        page_count: u32::try_from(sizes.len()).ok(),
        ..Measurements::default()
    };
    let at = epoch().saturating_add(Duration::from_secs(5));
    let mut parts = record(id_at(0, 1)).into_parts();
    parts.file_name = FileName::sanitize("scan.jpg").unwrap();
    parts.object_key = ObjectKey::for_upload(parts.image_id, &parts.file_name);
    ImageRecord::from_parts(parts)
        .unwrap()
        .claim(at, LEASE)
        .and_then(|r| r.complete(at, &measured, &result))
        .unwrap()
}

fn pdf_of(record: &ImageRecord, original: &[u8]) -> Vec<u8> {
    Renderer
        .render(record, ExportFormat::Pdf, Some(original))
        .unwrap()
}

/// A white grey page with a black square of `side` pixels at (`x`, `y`).
fn page_with_mark(width: u32, height: u32, (x, y, side): (u32, u32, u32)) -> GrayImage {
    GrayImage::from_fn(width, height, |px, py| {
        let inside = (x..x + side).contains(&px) && (y..y + side).contains(&py);
        Luma([if inside { 0 } else { 255 }])
    })
}

/// `image` as a JPEG at `dpi`, with an EXIF orientation when given.
fn jpeg(image: &GrayImage, dpi: u16, orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, 95);
    encoder.set_pixel_density(PixelDensity::dpi(dpi));
    encoder
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    let Some(orientation) = orientation else {
        return out;
    };
    // An APP1 EXIF segment right after SOI: a big-endian TIFF header and one directory entry,
    // Orientation (0x0112), SHORT, 1.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    exif.extend(orientation.to_be_bytes());
    exif.extend([0, 0, 0, 0, 0, 0]);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    segment.extend(exif);
    out.splice(2..2, segment);
    out
}

/// Runs a Poppler or qpdf tool; `None` (said on stderr) when it is not installed outside CI.
fn run(tool: &str, args: &[&str]) -> Option<String> {
    match Command::new(tool).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success() || (tool == "qpdf" && out.status.code() == Some(3)),
                "{tool} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is not installed (scripts/system-deps.sh installs it)"
            );
            eprintln!("SKIPPED: {tool} is not installed (scripts/system-deps.sh installs it)");
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `qpdf --check` finds nothing wrong (no errors, no warnings).
fn assert_qpdf_clean(path: &str) {
    if let Some(report) = run("qpdf", &["--check", path]) {
        assert!(
            report.contains("No syntax or stream encoding errors found"),
            "{report}"
        );
        assert!(!report.to_lowercase().contains("warning"), "{report}");
    }
}

/// A word and its box in points: xMin, yMin, xMax, yMax from the page's top-left.
type Placed = (String, [f32; 4]);

/// The words `pdftotext -bbox` finds, with their boxes in points (xMin, yMin, xMax, yMax from the
/// top-left), page by page.
fn words_with_boxes(path: &str) -> Option<Vec<Vec<Placed>>> {
    let html = run("pdftotext", &["-bbox", path, "-"])?;
    let mut pages = Vec::new();
    for page in html.split("<page ").skip(1) {
        let mut words = Vec::new();
        for word in page.split("<word ").skip(1) {
            let number = |name: &str| -> f32 {
                let from = word.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                word[from..].split('"').next().unwrap().parse().unwrap()
            };
            let text = word.split('>').nth(1).unwrap().split('<').next().unwrap();
            let text = text
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">");
            words.push((text, ["xMin", "yMin", "xMax", "yMax"].map(number)));
        }
        pages.push(words);
    }
    Some(pages)
}

fn record_words(record: &ImageRecord) -> Vec<String> {
    record
        .ocr_lines()
        .unwrap()
        .iter()
        .flat_map(|l| l.words().iter().map(|w| w.text().to_owned()))
        .collect()
}

fn near(a: f32, b: f32) -> bool {
    (a - b).abs() < 1.5
}

#[test]
fn a_jpeg_is_embedded_as_it_is_under_its_words() {
    let original = jpeg(&page_with_mark(600, 400, (10, 10, 40)), 200, None);
    let lines = vec![
        vec![
            (1, "Invoice", [0.1, 0.1, 0.25, 0.08]),
            (1, "Nº", [0.4, 0.1, 0.08, 0.08]),
            (1, "Straße", [0.55, 0.1, 0.3, 0.08]),
        ],
        vec![
            (1, "€1,234.50", [0.1, 0.5, 0.4, 0.1]),
            (1, "𝔘nicode", [0.6, 0.5, 0.3, 0.1]),
        ],
    ];
    let record = processed(ContentType::Jpeg, &[(600, 400)], &lines);
    let pdf = pdf_of(&record, &original);
    // The JPEG's bytes are in the file unchanged, once, as the page's DCTDecode image.
    let found = pdf
        .windows(original.len())
        .filter(|w| *w == original.as_slice())
        .count();
    assert_eq!(found, 1);
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Filter /DCTDecode"), "{text}");
    // 600 × 400 pixels at 200 dpi: 216 × 144 points.
    assert!(text.contains("/MediaBox [0 0 216 144]"), "{text}");
    assert_eq!(
        text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count(),
        1
    );
    assert!(text.contains("3 Tr"), "the text is invisible");

    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "scan.pdf", &pdf);
    assert_qpdf_clean(&path);
    if let Some(listed) = run("pdfimages", &["-list", &path]) {
        let rows: Vec<&str> = listed.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "{listed}");
        let columns: Vec<&str> = rows[0].split_whitespace().collect();
        // page num type width height color comp bpc enc
        assert_eq!(
            &columns[..9],
            ["1", "0", "image", "600", "400", "gray", "1", "8", "jpeg"]
        );
    }
    if let Some(extracted) = run("pdftotext", &["-raw", &path, "-"]) {
        let words: Vec<&str> = extracted.split_whitespace().collect();
        assert_eq!(words, record_words(&record));
        assert_eq!(extracted, "Invoice Nº Straße\n€1,234.50 𝔘nicode\n\u{c}");
    }
    if let Some(pages) = words_with_boxes(&path) {
        // Each word spans its box: "Invoice" from 0.1 to 0.35 of 216 points, 0.1 to 0.18 of 144.
        let (word, [x0, y0, x1, y1]) = &pages[0][0];
        assert_eq!(word, "Invoice");
        assert!(near(*x0, 21.6) && near(*x1, 75.6), "{x0} {x1}");
        assert!(near(*y0, 14.4) && near(*y1, 25.92), "{y0} {y1}");
    }
}

#[test]
fn a_turned_jpeg_shows_upright_with_its_words_on_them() {
    // Stored 200 × 600 with a mark at the stored top-left; EXIF 6: a viewer turns it a quarter
    // clockwise, showing 600 × 200 with the mark at the top-right.
    let original = jpeg(&page_with_mark(200, 600, (0, 0, 60)), 72, Some(6));
    let upright_box = [0.1, 0.2, 0.3, 0.2];
    // PP-OCR reads the upright image (600 × 200): its boxes are the page's.
    let upright = processed(
        ContentType::Jpeg,
        &[(600, 200)],
        &[vec![(1, "Upright", upright_box)]],
    );
    // Tesseract reads the stored pixels (200 × 600): the same word, as it lies in them (x 40..80,
    // y 360..540: turned clockwise, x' = 600 - y and y' = x).
    let stored_box = [0.2, 0.6, 0.2, 0.3];
    let stored = processed(
        ContentType::Jpeg,
        &[(200, 600)],
        &[vec![(1, "Upright", stored_box)]],
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, record) in [("upright", &upright), ("stored", &stored)] {
        let pdf = pdf_of(record, &original);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 600 200]"), "{name}");
        let path = write(dir.path(), &format!("{name}.pdf"), &pdf);
        assert_qpdf_clean(&path);
        let Some(pages) = words_with_boxes(&path) else {
            return;
        };
        // The word's box on the page, as a viewer shows it: x 0.1..0.4 of 600, y 0.2..0.4 of 200.
        let (word, [x0, y0, x1, y1]) = &pages[0][0];
        assert_eq!(word, "Upright", "{name}");
        let (lo, hi) = (x0.min(*x1), x0.max(*x1));
        assert!(near(lo, 60.0) && near(hi, 240.0), "{name}: {x0} {x1}");
        let (top, bottom) = (y0.min(*y1), y0.max(*y1));
        assert!(near(top, 40.0) && near(bottom, 80.0), "{name}: {y0} {y1}");
    }
    // What a viewer shows: the mark at the top-right corner, none at the top-left.
    let path = write(dir.path(), "shown.pdf", &pdf_of(&upright, &original));
    let prefix = dir.path().join("shown");
    if run(
        "pdftoppm",
        &[
            "-r",
            "72",
            "-gray",
            "-png",
            "-singlefile",
            &path,
            prefix.to_str().unwrap(),
        ],
    )
    .is_some()
    {
        let shown = image::open(dir.path().join("shown.png"))
            .unwrap()
            .into_luma8();
        assert_eq!(shown.dimensions(), (600, 200));
        assert!(
            shown.get_pixel(570, 30).0[0] < 64,
            "the mark is at the top-right"
        );
        assert!(
            shown.get_pixel(30, 30).0[0] > 192,
            "nothing at the top-left"
        );
        assert!(
            shown.get_pixel(570, 170).0[0] > 192,
            "nothing at the bottom-right"
        );
    }
}

#[test]
fn every_page_of_a_tiff_is_a_page() {
    let sizes = [(300, 400), (400, 300), (200, 200)];
    let mut original = Cursor::new(Vec::new());
    {
        let mut encoder = tiff::encoder::TiffEncoder::new(&mut original).unwrap();
        for (i, &(w, h)) in sizes.iter().enumerate() {
            let page = page_with_mark(w, h, (u32::try_from(i).unwrap() * 20, 0, 20));
            encoder
                .write_image::<tiff::encoder::colortype::Gray8>(w, h, page.as_raw())
                .unwrap();
        }
    }
    let original = original.into_inner();
    let lines = vec![
        vec![
            (1, "first", [0.1, 0.1, 0.3, 0.1]),
            (1, "page", [0.5, 0.1, 0.3, 0.1]),
        ],
        vec![(3, "third", [0.1, 0.5, 0.5, 0.2])],
    ];
    let record = processed(ContentType::Tiff, &sizes, &lines);
    let pdf = pdf_of(&record, &original);
    let text = String::from_utf8_lossy(&pdf);
    // No resolution in the file: 300 dpi, so 300 pixels are 72 points.
    for media in ["[0 0 72 96]", "[0 0 96 72]", "[0 0 48 48]"] {
        assert!(text.contains(&format!("/MediaBox {media}")), "{media}");
    }
    assert!(text.contains("/Count 3"));
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "pages.pdf", &pdf);
    assert_qpdf_clean(&path);
    if let Some(info) = run("pdfinfo", &[&path]) {
        assert!(
            info.lines()
                .any(|l| l.split_whitespace().eq(["Pages:", "3"])),
            "{info}"
        );
    }
    if let Some(listed) = run("pdfimages", &["-list", &path]) {
        let rows: Vec<Vec<&str>> = listed
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().collect())
            .collect();
        let images: Vec<[&str; 4]> = rows.iter().map(|r| [r[0], r[3], r[4], r[5]]).collect();
        assert_eq!(
            images,
            [
                ["1", "300", "400", "gray"],
                ["2", "400", "300", "gray"],
                ["3", "200", "200", "gray"]
            ]
        );
    }
    if let Some(extracted) = run("pdftotext", &["-raw", &path, "-"]) {
        let pages: Vec<&str> = extracted.split('\u{c}').collect();
        assert_eq!(pages, ["first page\n", "", "third\n", ""]);
    }
}

#[test]
fn a_transparent_png_is_laid_over_white_losslessly() {
    let image = RgbaImage::from_fn(40, 30, |x, _| {
        if x < 20 {
            Rgba([200, 10, 10, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut original = Vec::new();
    image::codecs::png::PngEncoder::new(&mut original)
        .write_image(image.as_raw(), 40, 30, image::ExtendedColorType::Rgba8)
        .unwrap();
    let record = processed(
        ContentType::Png,
        &[(40, 30)],
        &[vec![(1, "red", [0.0, 0.0, 0.5, 1.0])]],
    );
    let pdf = pdf_of(&record, &original);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "png.pdf", &pdf);
    assert_qpdf_clean(&path);
    let prefix = dir.path().join("img");
    if run("pdfimages", &["-png", &path, prefix.to_str().unwrap()]).is_some() {
        let embedded = image::open(dir.path().join("img-000.png"))
            .unwrap()
            .into_rgb8();
        assert_eq!(embedded.dimensions(), (40, 30));
        // Exactly the pixels: opaque ones as they were, transparent ones white.
        assert_eq!(embedded.get_pixel(5, 5).0, [200, 10, 10]);
        assert_eq!(embedded.get_pixel(30, 5).0, [255, 255, 255]);
    }
    if let Some(extracted) = run("pdftotext", &["-raw", &path, "-"]) {
        assert_eq!(extracted.split_whitespace().collect::<Vec<_>>(), ["red"]);
    }
}

#[test]
fn an_original_that_is_no_image_is_refused_with_a_reason() {
    let record = processed(
        ContentType::Png,
        &[(40, 30)],
        &[vec![(1, "x", [0.0, 0.0, 0.5, 1.0])]],
    );
    let error = Renderer
        .render(
            &record,
            ExportFormat::Pdf,
            Some(b"\x89PNG\r\n\x1a\nnot really"),
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            RenderError::Undecodable {
                format: ExportFormat::Pdf,
                ..
            }
        ),
        "{error}"
    );
    let error = Renderer
        .render(&record, ExportFormat::Pdf, None)
        .unwrap_err();
    assert!(
        matches!(error, RenderError::NoOriginal(ExportFormat::Pdf)),
        "{error}"
    );
}
