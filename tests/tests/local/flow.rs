//! The seed's flow on the local server: upload, OCR, list, show, download, duplicates, delete.

use std::collections::BTreeSet;

use bytes::Bytes;
use intake_domain::testkit::images;
use serde_json::Value;

use super::{prerequisites, sha256_hex, spawn_app, text_png};

#[tokio::test]
async fn rendered_text_is_uploaded_read_and_downloaded_intact() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let png = text_png(&font, &["INVOICE 4711", "PAY TO INTAKE"]);
    let id = app.upload("scans/../invoice 4711.png", &png).await;

    let record = app.wait_terminal(&id).await;
    assert_eq!(record["status"], "PROCESSED", "{record:#}");
    assert_eq!(record["ocrStatus"], "COMPLETED");
    assert_eq!(record["ocrEngine"], "ppocr-v6-tiny");
    assert_eq!(record["sha256"].as_str().unwrap(), sha256_hex(&png));
    assert_eq!(record["sizeBytes"], png.len());
    assert_eq!(record["contentType"], "image/png");
    assert_eq!(record["fileName"], "invoice 4711.png");
    let text = record["ocrText"].as_str().unwrap();
    for word in ["INVOICE", "4711", "PAY", "INTAKE"] {
        assert!(text.contains(word), "{word:?} not in {text:?}");
    }
    assert_eq!(record["ocrLineCount"], 2);
    assert!(record["ocrAvgConfidencePct"].as_f64().unwrap() > 80.0);
    assert!(
        record.get("ocrLines").is_none(),
        "lines without being asked for"
    );
    let with_lines: serde_json::Value = app
        .http
        .get(format!("{}/images/{id}?include=ocrLines", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines = with_lines["ocrLines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let joined: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(joined.join("\n"), text, "the lines do not make the text");
    assert_eq!(with_lines["ocrText"], record["ocrText"]);

    let url = record["downloadUrl"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/objects/", app.url)));
    let response = app.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("invoice"),
        "{disposition}"
    );
    assert_eq!(
        response.bytes().await.unwrap(),
        png,
        "downloaded bytes differ"
    );
    // The download URL is for GET (and HEAD) only.
    let put = app.http.put(url).body("x").send().await.unwrap();
    assert_eq!(put.status(), 403);
    check_ranges_and_head(&app.http, url, &png).await;

    // Health and the error envelope on the same server.
    assert_eq!(app.get_json("/health").await.0, 200);
    let (status, body) = app.get_json("/images/not-a-uuid").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_IMAGE_ID"))
    );
    app.stop().await;
}

#[tokio::test]
async fn listing_is_newest_first_and_cursors_walk_every_page_once() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let png = text_png(&font, &[&format!("PAGE {n}")]);
        ids.push(app.upload(&format!("page-{n}.png"), &png).await);
    }
    for id in &ids {
        assert_eq!(app.wait_terminal(id).await["status"], "PROCESSED");
    }
    let mut seen = Vec::new();
    let mut path = "/images?limit=2".to_owned();
    for _ in 0..10 {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200);
        let images = page["images"].as_array().unwrap();
        assert!(images.len() <= 2);
        for image in images {
            assert!(
                image.get("ocrText").is_none(),
                "listings carry metadata only"
            );
            seen.push(image["imageId"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/images?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let (status, body) = app.get_json("/images?cursor=forged").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_CURSOR"))
    );
    let (_, processed) = app.get_json("/images?status=PROCESSED&limit=100").await;
    assert_eq!(processed["images"].as_array().unwrap().len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn identical_bytes_are_flagged_as_duplicates_and_reuse_the_text() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let png = text_png(&font, &["CHEQUE 000123"]);
    let first = app.upload("a.png", &png).await;
    let first_record = app.wait_terminal(&first).await;
    assert_eq!(first_record["status"], "PROCESSED");

    let ticket = app.ticket("b.png", "image/png", &png).await;
    assert_eq!(ticket.body["duplicateOf"].as_str(), Some(first.as_str()));
    assert_eq!(app.put(&ticket, png.clone(), &[]).await.status(), 200);
    let second = app.wait_terminal(&ticket.image_id).await;
    assert_eq!(second["status"], "PROCESSED");
    assert_eq!(second["duplicateOf"].as_str(), Some(first.as_str()));
    assert_eq!(second["ocrText"], first_record["ocrText"]);
    assert_eq!(second["sha256"], first_record["sha256"]);
    let (_, same) = app
        .get_json(&format!("/images?sha256={}", sha256_hex(&png)))
        .await;
    let found: BTreeSet<&str> = same["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["imageId"].as_str().unwrap())
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([first.as_str(), ticket.image_id.as_str()])
    );
    app.stop().await;
}

/// Downloads answer `HEAD`, byte ranges (`206`, `416` outside the object, the whole object for a
/// header that does not parse or asks for several ranges) and never let a browser sniff another type.
async fn check_ranges_and_head(http: &reqwest::Client, url: &str, png: &[u8]) {
    let head = http.head(url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], png.len().to_string());
    assert_eq!(head.headers()["accept-ranges"], "bytes");
    assert_eq!(head.headers()["x-content-type-options"], "nosniff");
    assert!(head.bytes().await.unwrap().is_empty());
    let len = png.len();
    for (range, from, to) in [
        ("bytes=0-7".to_owned(), 0, 7),
        (format!("bytes={}-", len - 10), len - 10, len - 1),
        ("bytes=-4".to_owned(), len - 4, len - 1),
        (format!("bytes=5-{}", len + 100), 5, len - 1),
    ] {
        let part = http.get(url).header("range", &range).send().await.unwrap();
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            part.headers()["content-range"],
            format!("bytes {from}-{to}/{len}"),
            "{range}"
        );
        assert_eq!(part.headers()["content-type"], "image/png");
        assert_eq!(part.bytes().await.unwrap(), png[from..=to], "{range}");
    }
    let outside = http
        .get(url)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 416);
    assert_eq!(outside.headers()["content-range"], format!("bytes */{len}"));
    for whole in ["bytes=0-1,4-5", "pages=1", "bytes=abc"] {
        let response = http.get(url).header("range", whole).send().await.unwrap();
        assert_eq!(response.status(), 200, "{whole}");
        assert_eq!(response.bytes().await.unwrap(), png, "{whole}");
    }
}

#[tokio::test]
async fn previews_are_listed_and_deleted_images_disappear_and_delete_is_idempotent() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let png = text_png(&font, &["DELETE ME"]);
    let id = app.upload("gone.png", &png).await;
    let record = app.wait_terminal(&id).await;
    let download = record["downloadUrl"].as_str().unwrap().to_owned();
    // Processing made a preview, which the image and lists link to: a small JPEG, served like the
    // image.
    assert!(
        record["thumbnailUrl"]
            .as_str()
            .is_some_and(|url| url.contains(&format!("previews/{id}.jpg"))),
        "{record:#}"
    );
    let (_, page) = app.get_json("/images").await;
    let thumbnail = page["images"][0]["thumbnailUrl"]
        .as_str()
        .expect("a thumbnail URL")
        .to_owned();
    let preview = app.http.get(&thumbnail).send().await.unwrap();
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], "image/jpeg");
    let jpeg = preview.bytes().await.unwrap();
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
    assert!(jpeg.len() < png.len(), "{} bytes", jpeg.len());
    for _ in 0..2 {
        let response = app
            .http
            .delete(app.api(&format!("/images/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let (status, body) = app.get_json(&format!("/images/{id}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let (_, page) = app.get_json("/images").await;
    assert!(page["images"].as_array().unwrap().is_empty());
    // Soft delete keeps the object for audit by default, but a URL issued before the delete no longer
    // serves it (nor answers a HEAD).
    let refused = app.http.get(&download).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    assert_eq!(app.http.head(&download).send().await.unwrap().status(), 404);
    assert_eq!(app.http.get(&thumbnail).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn bytes_that_are_not_what_was_declared_are_rejected_not_ocrd() {
    let Some(_font) = prerequisites() else { return };
    let app = spawn_app().await;
    // A GIF declared (and signed) as PNG.
    let gif = Bytes::from_static(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;");
    let id = app.upload("fake.png", &gif).await;
    let record = app.wait_terminal(&id).await;
    assert_eq!(record["status"], "REJECTED");
    assert_eq!(record["rejectionCode"], "TYPE_MISMATCH");
    assert_eq!(record["ocrStatus"], "SKIPPED");
    // A truncated PNG.
    let png = images::png(200, 80, 3);
    let truncated = png.slice(..png.len() - 20);
    let id = app.upload("cut.png", &truncated).await;
    let record = app.wait_terminal(&id).await;
    assert_eq!(record["status"], "REJECTED", "{record:#}");
    assert_eq!(record["rejectionCode"], "CORRUPT");
    let (_, all) = app.get_json("/images?status=REJECTED").await;
    assert_eq!(all["images"].as_array().map(Vec::len), Some(2));
    let _: &Value = &all;
    app.stop().await;
}
