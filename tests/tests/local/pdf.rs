//! PDFs through the local server: born-digital pages from their text layer, scanned pages read by
//! PP-OCR, page by page in the record; encrypted, damaged and too long documents rejected with
//! their codes.

use std::process::Command;

use intake_domain::IntakeConfig;
use intake_domain::testkit::images::render_pixels;
use intake_pdf::testkit::{TestPage, pages, pdf};
use serde_json::{Value, json};

use super::{TestApp, prerequisites, spawn_app_with};

/// Uploads `bytes` as a PDF named `name` and waits for its record.
pub(super) async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> Value {
    let ticket: Value = app
        .http
        .post(app.api("/uploads"))
        .json(
            &json!({"filename": name, "contentType": "application/pdf", "sizeBytes": bytes.len()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ticket["uploadUrl"].is_string(), "{ticket}");
    let status = super::put_ticket(&app.http, &ticket, &bytes).await.status();
    assert!(status.is_success(), "{status}");
    app.wait_terminal(ticket["imageId"].as_str().unwrap()).await
}

fn scanned(font: &[u8], lines: &[&str]) -> TestPage {
    let (pixels, (width, height)) = render_pixels(lines, font).unwrap();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode(&pixels, width, height, image::ExtendedColorType::L8)
        .unwrap();
    TestPage::Jpeg {
        bytes,
        width,
        height,
    }
}

#[tokio::test]
async fn pdfs_are_read_page_by_page_and_hostile_ones_rejected() {
    let Some(font) = prerequisites() else {
        return;
    };
    let app = spawn_app_with(IntakeConfig::default().with_max_pages(10)).await;

    let mixed = pdf(&[
        TestPage::text(&[
            "Invoice INV-2041 from ACME Supplies",
            "Total due: 31.00 EUR",
        ]),
        scanned(&font, &["Cheque 004512", "Pay Jane Doe"]),
    ]);
    let record = upload(&app, "invoice.pdf", mixed).await;
    assert_eq!(record["status"], "PROCESSED", "{record}");
    assert_eq!(record["pageCount"], 2, "{record}");
    let summaries = record["pages"].as_array().unwrap();
    assert_eq!(summaries[0]["source"], "text-layer", "{record}");
    assert_eq!(summaries[1]["source"], "ocr", "{record}");
    assert_eq!(summaries[0]["widthPx"], 2479);
    let text = record["ocrText"].as_str().unwrap();
    let (first, second) = text
        .split_once('\u{c}')
        .expect("pages separated by a form feed");
    assert!(first.contains("Total due: 31.00 EUR"), "{text}");
    assert!(second.to_lowercase().contains("cheque"), "{text}");

    // The searchable PDF: the upload with what OCR read on its scanned page laid over it.
    let id = record["imageId"].as_str().unwrap();
    let export = app
        .http
        .get(app.api(&format!("/images/{id}/export?format=pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let searchable = export.bytes().await.unwrap();
    if let Some(text) = pdftotext(&searchable) {
        assert!(text.contains("Total due: 31.00 EUR"), "{text}");
        assert!(text.to_lowercase().contains("cheque"), "{text}");
    }

    // Pictures of its pages: drawn on first request, 303 to the stored JPEG.
    // A4 in proportion: 1600 px high and about 1131 wide, or 320 and about 226 as a thumbnail.
    for (query, height, widths) in [
        ("1", 1600, 1130..=1132),
        ("2", 1600, 1130..=1132),
        ("2?size=thumb", 320, 225..=227),
    ] {
        let picture = page_picture(&app, &format!("/images/{id}/pages/{query}")).await;
        assert_eq!(picture.height(), height, "{query}");
        assert!(
            widths.contains(&picture.width()),
            "{query}: {}",
            picture.width()
        );
    }
    for (query, status, code) in [
        ("2?size=huge", 400, "INVALID_PAGE"),
        ("3", 404, "PAGE_NOT_FOUND"),
        ("0", 400, "INVALID_PAGE"),
    ] {
        let answer = app
            .http
            .get(app.api(&format!("/images/{id}/pages/{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{query}");
        assert_eq!(
            answer.json::<Value>().await.unwrap()["error"]["code"],
            code,
            "{query}"
        );
    }

    let garbage = b"%PDF-1.7\n\x00\x01this is not a document at all".to_vec();
    let record = upload(&app, "broken.pdf", garbage).await;
    assert_eq!(record["status"], "REJECTED", "{record}");
    assert_eq!(record["rejectionCode"], "CORRUPT", "{record}");

    let record = upload(&app, "long.pdf", pages(11)).await;
    assert_eq!(record["rejectionCode"], "TOO_LARGE", "{record}");

    if let Some(locked) = encrypted(&pdf(&[TestPage::text(&["Statement, confidential"])])) {
        let record = upload(&app, "locked.pdf", locked).await;
        assert_eq!(record["status"], "REJECTED", "{record}");
        assert_eq!(record["rejectionCode"], "ENCRYPTED", "{record}");
    }
    app.stop().await;
}

/// The picture `path` (a page picture's route) redirects to, fetched without the key as any holder
/// of the URL would.
async fn page_picture(app: &TestApp, path: &str) -> image::DynamicImage {
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.api(path))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "{path}");
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let fetched = reqwest::get(&location).await.unwrap();
    assert_eq!(fetched.status(), 200, "{location}");
    image::load_from_memory(&fetched.bytes().await.unwrap()).unwrap()
}

/// The text Poppler's `pdftotext` finds in `doc` (scripts/system-deps.sh installs it).
fn pdftotext(doc: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, doc).unwrap();
    match Command::new("pdftotext").arg(&path).arg("-").output() {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext: {}", out.status);
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is not installed: {error}"
            );
            None
        }
    }
}

/// `doc` encrypted with a user password by qpdf (scripts/system-deps.sh installs it).
fn encrypted(doc: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
    std::fs::write(&src, doc).unwrap();
    match Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&src)
        .arg(&dst)
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "qpdf: {status}");
            Some(std::fs::read(dst).unwrap())
        }
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "qpdf is not installed: {error}"
            );
            None
        }
    }
}
