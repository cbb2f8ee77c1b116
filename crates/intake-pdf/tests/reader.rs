//! The PDF reader against documents written for the purpose: born-digital, scanned, mixed,
//! encrypted, damaged, too long, and a worker that runs out of memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc
)]

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::model::ContentType;
use intake_domain::ports::{
    DocumentPage, DocumentReadError, DocumentReader, PageContent, ReadRequest,
};
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_pixels};
use intake_pdf::testkit::{TestPage, pages, pdf};
use intake_pdf::{PdfOptions, PdfReader, library_path};

mod common;
use common::{options, reader};

fn request() -> ReadRequest {
    ReadRequest::new(300, 36_000_000, Duration::from_secs(60))
}

async fn read(reader: &PdfReader, bytes: Vec<u8>) -> Result<Vec<DocumentPage>, DocumentReadError> {
    let stream = reader.read(&Bytes::from(bytes), &request()).await?;
    stream.collect::<Vec<_>>().await.into_iter().collect()
}

fn texts(page: &DocumentPage) -> Vec<String> {
    match &page.content {
        PageContent::TextLayer(lines) => lines.iter().map(|l| l.text().to_owned()).collect(),
        PageContent::Picture { .. } => panic!("page {} was rendered", page.number),
        _ => unreachable!(),
    }
}

/// A scanned page: text rendered into a grey JPEG.
fn scan(lines: &[&str]) -> (Vec<u8>, u32, u32) {
    let font = DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("DejaVu Sans (scripts/system-deps.sh)");
    let (pixels, (w, h)) = render_pixels(lines, &font).expect("font");
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode(&pixels, w, h, image::ExtendedColorType::L8)
        .expect("jpeg");
    (jpeg, w, h)
}

#[tokio::test]
async fn born_digital_pages_come_from_their_text_layer() {
    let reader = reader();
    let doc = pdf(&[
        TestPage::text(&[
            "ACME Supplies Ltd",
            "Invoice INV-2041 dated 2026-11-30",
            "Total due: 31.00 EUR",
        ]),
        TestPage::text(&[
            "Page two: thank you for your business",
            "Payment within 30 days please",
        ]),
    ]);
    let info = reader.probe(&Bytes::from(doc.clone()), 10).await.unwrap();
    assert_eq!(info.page_count, 2);
    let pages = read(&reader, doc).await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(
        texts(&pages[0]),
        [
            "ACME Supplies Ltd",
            "Invoice INV-2041 dated 2026-11-30",
            "Total due: 31.00 EUR"
        ]
    );
    assert_eq!(texts(&pages[1])[0], "Page two: thank you for your business");
    // A4 at 300 DPI.
    assert_eq!((pages[0].width_px, pages[0].height_px), (2479, 3508));
    let PageContent::TextLayer(lines) = &pages[0].content else {
        unreachable!()
    };
    let words: Vec<_> = lines[2]
        .words()
        .iter()
        .map(intake_domain::model::OcrWord::text)
        .collect();
    assert_eq!(words, ["Total", "due:", "31.00", "EUR"]);
    // The first line is near the top left (56 pt in, 52 pt down of 595 × 842).
    let first = lines[0].bounding_box();
    assert!((first.left() - 56.0 / 595.0).abs() < 0.01, "{first:?}");
    assert!(first.top() > 0.04 && first.top() < 0.07, "{first:?}");
    assert!(lines[1].bounding_box().top() > first.top());
}

#[tokio::test]
async fn a_scanned_page_hands_over_its_jpeg_as_it_is() {
    let (jpeg, w, h) = scan(&["Cheque no 004512", "Pay Jane Doe 120.00"]);
    let pages = read(
        &reader(),
        pdf(&[TestPage::Jpeg {
            bytes: jpeg.clone(),
            width: w,
            height: h,
        }]),
    )
    .await
    .unwrap();
    assert_eq!(pages.len(), 1);
    match &pages[0].content {
        PageContent::Picture {
            bytes,
            content_type,
        } => {
            assert_eq!(*content_type, ContentType::Jpeg);
            assert_eq!(bytes.as_ref(), jpeg.as_slice(), "not byte for byte");
            assert_eq!((pages[0].width_px, pages[0].height_px), (w, h));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_mixed_document_is_read_page_by_page() {
    let (jpeg, w, h) = scan(&["Receipt 31.00"]);
    let pages = read(
        &reader(),
        pdf(&[
            TestPage::text(&["Expense report for November 2026, three receipts attached"]),
            TestPage::Jpeg {
                bytes: jpeg,
                width: w,
                height: h,
            },
            TestPage::Blank,
        ]),
    )
    .await
    .unwrap();
    let numbers: Vec<u32> = pages.iter().map(|p| p.number.get()).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(matches!(pages[0].content, PageContent::TextLayer(_)));
    assert!(matches!(
        pages[1].content,
        PageContent::Picture {
            content_type: ContentType::Jpeg,
            ..
        }
    ));
    // A page with nothing in its layer is rendered for the engine.
    match &pages[2].content {
        PageContent::Picture {
            bytes,
            content_type: ContentType::Png,
        } => {
            assert!(bytes.starts_with(b"\x89PNG"));
            assert_eq!((pages[2].width_px, pages[2].height_px), (2479, 3508));
        }
        other => panic!("{other:?}"),
    }
}

fn qpdf(args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let (src, dst) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&src, input).ok()?;
    let status = Command::new("qpdf")
        .args(args)
        .arg("--")
        .arg(&src)
        .arg(&dst)
        .status();
    match status {
        Ok(s) if s.success() => std::fs::read(&dst).ok(),
        Ok(s) => panic!("qpdf failed: {s}"),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "qpdf is not installed (scripts/system-deps.sh): {e}"
            );
            None
        }
    }
}

#[tokio::test]
async fn a_document_needing_a_password_is_encrypted_but_an_owner_password_alone_opens() {
    let doc = pdf(&[TestPage::text(&["Statement of account, confidential"])]);
    let Some(locked) = qpdf(&["--encrypt", "user-secret", "owner-secret", "256"], &doc) else {
        return;
    };
    let reader = reader();
    let probed = reader.probe(&Bytes::from(locked), 10).await;
    assert!(
        matches!(probed, Err(DocumentReadError::Encrypted)),
        "{probed:?}"
    );
    let restricted = qpdf(&["--encrypt", "", "owner-secret", "256"], &doc).unwrap();
    let pages = read(&reader, restricted).await.unwrap();
    assert_eq!(texts(&pages[0]), ["Statement of account, confidential"]);
}

#[tokio::test]
async fn damaged_and_long_documents_are_refused_with_their_reason() {
    let reader = reader();
    let garbage = b"%PDF-1.7\n\x00\x01this is not a document at all".to_vec();
    let probed = reader.probe(&Bytes::from(garbage), 10).await;
    assert!(
        matches!(probed, Err(DocumentReadError::Corrupt { .. })),
        "{probed:?}"
    );
    let probed = reader.probe(&Bytes::from(pages(12)), 10).await;
    assert!(
        matches!(
            probed,
            Err(DocumentReadError::TooManyPages { count: 12, .. })
        ),
        "{probed:?}"
    );
    assert_eq!(
        reader
            .probe(&Bytes::from(pages(10)), 10)
            .await
            .unwrap()
            .page_count,
        10
    );
}

#[tokio::test]
async fn a_worker_beyond_its_memory_ends_with_a_stable_error() {
    let reader = PdfReader::new(options().with_memory_limit(48 << 20));
    let started = Instant::now();
    let result = read(&reader, pdf(&[TestPage::Blank])).await;
    assert!(
        matches!(
            result,
            Err(DocumentReadError::BeyondLimits { .. } | DocumentReadError::Corrupt { .. })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_missing_worker_or_library_is_a_retryable_failure() {
    use intake_domain::ports::PortError as _;
    let missing = PdfReader::new(PdfOptions::new(
        "/nonexistent/intake",
        vec![],
        library_path(&intake_ocr_onnx::default_models_dir()),
    ));
    let probed = missing.probe(&Bytes::from(pages(1)), 10).await.unwrap_err();
    assert!(probed.is_retryable(), "{probed:?}");
    let no_library = PdfReader::new(PdfOptions::new(
        env!("CARGO_BIN_EXE_intake-pdf-worker"),
        vec![],
        "/nonexistent/libpdfium.so",
    ));
    assert!(!no_library.is_installed());
    let probed = no_library
        .probe(&Bytes::from(pages(1)), 10)
        .await
        .unwrap_err();
    assert!(probed.is_retryable(), "{probed:?}");
}

/// A word as `pdftotext -bbox` finds it: its text, and its box's left, top, right and bottom in
/// points from the page's top left.
type Found = (String, f32, f32, f32, f32);

/// `pdftotext -bbox` of `doc`: each word with its box.
fn words_with_boxes(doc: &[u8]) -> Option<Vec<Found>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, doc).unwrap();
    let out = match Command::new("pdftotext")
        .arg("-bbox")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is not installed: {e}"
            );
            return None;
        }
    };
    assert!(out.status.success());
    let html = String::from_utf8(out.stdout).unwrap();
    let attr = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    Some(
        html.lines()
            .filter(|l| l.trim_start().starts_with("<word "))
            .map(|l| {
                let text = l.split('>').nth(1).unwrap().split('<').next().unwrap();
                (
                    text.to_owned(),
                    attr(l, "xMin"),
                    attr(l, "yMin"),
                    attr(l, "xMax"),
                    attr(l, "yMax"),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn a_scanned_page_gets_an_invisible_text_layer_where_its_words_were_read() {
    use intake_domain::model::{BoundingBox, OcrLine, OcrWord, PageNumber};
    use intake_domain::ports::PageText;

    let (jpeg, w, h) = scan(&["Cheque 004512"]);
    let doc = pdf(&[
        TestPage::Jpeg {
            bytes: jpeg,
            width: w,
            height: h,
        },
        TestPage::text(&["Remittance advice, born digital"]),
    ]);
    let word = |text: &str, left: f32| {
        OcrWord::new(text, 97.0, BoundingBox::new(left, 0.1, 0.2, 0.03).unwrap()).unwrap()
    };
    let line = OcrLine::from_words(vec![word("Cheque", 0.05), word("004512", 0.3)]).unwrap();
    let searchable = reader()
        .add_text_layer(
            &Bytes::from(doc),
            &[PageText::new(PageNumber::MIN, vec![line])],
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let Some(words) = words_with_boxes(&searchable) else {
        return;
    };
    let texts: Vec<&str> = words.iter().map(|w| w.0.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Cheque",
            "004512",
            "Remittance",
            "advice,",
            "born",
            "digital"
        ]
    );
    // Where it was read: 5 % and 30 % across, 10 % down an A4 page, 20 % wide.
    let (_, x_min, y_min, x_max, _) = words[0];
    assert!((x_min - 0.05 * 595.0).abs() < 4.0, "{words:?}");
    assert!((x_max - 0.25 * 595.0).abs() < 6.0, "{words:?}");
    assert!((y_min - 0.1 * 842.0).abs() < 8.0, "{words:?}");
    assert!((words[1].1 - 0.3 * 595.0).abs() < 4.0, "{words:?}");
    // The pages are still the ones uploaded, and the document is sound.
    let again = read(&reader(), searchable.to_vec()).await.unwrap();
    assert_eq!(again.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("searchable.pdf");
    std::fs::write(&path, &searchable).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let missing = reader()
        .add_text_layer(
            &Bytes::from(pages(1)),
            &[PageText::new(PageNumber::new(3).unwrap(), vec![])],
            Duration::from_secs(30),
        )
        .await;
    assert!(
        matches!(missing, Err(DocumentReadError::Corrupt { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_page_is_drawn_upright_in_colour_for_people() {
    use intake_domain::model::PageNumber;

    let doc = Bytes::from(pdf(&[
        TestPage::Blank,
        TestPage::text(&["A page to look at, with its words drawn in black"]),
    ]));
    let picture = reader()
        .picture(
            &doc,
            PageNumber::new(2).unwrap(),
            800,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(picture.content_type, ContentType::Jpeg);
    assert_eq!(picture.height_px, 800);
    assert!(
        (565..=566).contains(&picture.width_px),
        "{}",
        picture.width_px
    );
    let decoded = image::load_from_memory(&picture.bytes).unwrap().into_rgb8();
    assert_eq!(decoded.dimensions(), (picture.width_px, picture.height_px));
    let dark = decoded
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 200, "{dark} dark pixels: the text was not drawn");
    let missing = reader()
        .picture(
            &doc,
            PageNumber::new(3).unwrap(),
            800,
            Duration::from_secs(30),
        )
        .await;
    assert!(
        matches!(missing, Err(DocumentReadError::Corrupt { .. })),
        "{missing:?}"
    );
}
