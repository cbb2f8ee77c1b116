//! `GET /images/{imageId}/similar` and the record's `nearDuplicates`: a re-photographed receipt is
//! flagged with its original and listed both ways, only to their owner.

use intake_domain::model::{
    BoundingBox, FIRST_PAGE, ImageHash, OcrLine, OcrPage, OcrResult, OcrWord, PageSource,
};

use super::*;

const RECEIPT: &str =
    "ACME MARKET\nMilk 2.50\nBread 3.20\nTOTAL 5.70\n2026-11-25 14:02\nReceipt 004417";

/// What an engine that saw a page as `picture` and read `text` answers.
fn read(picture: u64, text: &str) -> OcrResult {
    let bbox = BoundingBox::new(0.1, 0.1, 0.6, 0.05).unwrap();
    let lines = text
        .lines()
        .map(|line| {
            OcrLine::from_words(
                line.split_whitespace()
                    .map(|w| OcrWord::new(w, 95.0, bbox).unwrap())
                    .collect(),
            )
            .unwrap()
        })
        .collect();
    OcrResult::new("scripted", lines, false)
        .unwrap()
        .with_pages(vec![
            OcrPage::new(FIRST_PAGE, 320, 120, PageSource::Ocr).with_image_hash(ImageHash(picture)),
        ])
}

#[tokio::test]
async fn a_rephotographed_receipt_is_flagged_and_listed_both_ways() {
    let h = MemoryHarness::default();
    assert!(h.script_ocr(&png(320, 120, 51), read(0xABCD_0000_1234_5678, RECEIPT)));
    assert!(h.script_ocr(
        &png(320, 120, 52),
        read(
            0xABCD_0000_1234_5678 ^ 0b101,
            &RECEIPT.replace("Bread", "Brcad")
        )
    ));
    let original = uploaded(&h, 51).await;
    let photo = uploaded(&h, 52).await;

    let first = call(&h, Method::GET, &format!("/images/{original}"), None).await;
    assert_eq!(first.body["nearDuplicates"], json!([]), "{}", first.body);
    let again = call(&h, Method::GET, &format!("/images/{photo}"), None).await;
    let flags = again.body["nearDuplicates"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{}", again.body);
    assert_eq!(flags[0]["imageId"], original.as_str());
    assert_eq!(flags[0]["basis"], "image+text");
    assert_eq!(flags[0]["imageDistance"], 2);
    assert!(flags[0]["similarity"].as_f64().unwrap() > 0.9);
    assert!(
        flags[0]["matchedTokens"]
            .as_array()
            .unwrap()
            .contains(&json!("5.70"))
    );
    assert_eq!(again.body["status"], "PROCESSED", "a flag never rejects");

    let similar = call(
        &h,
        Method::GET,
        &format!("/images/{original}/similar"),
        None,
    )
    .await;
    assert_eq!(similar.status, StatusCode::OK, "{}", similar.body);
    assert_eq!(similar.body["imageId"], original.as_str());
    assert_eq!(similar.body["similar"][0]["imageId"], photo.as_str());
    assert_eq!(similar.body["similar"].as_array().unwrap().len(), 1);

    // The same rules as `GET /images/{imageId}`.
    let path = format!("/images/{original}/similar");
    let anonymous = call_as(&h, None, Method::GET, &path, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let foreign = call_as(&h, Some(&key_b()), Method::GET, &path, None).await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "NOT_FOUND");
    let bad_id = call(&h, Method::GET, "/images/nope/similar", None).await;
    assert_error(&bad_id, StatusCode::BAD_REQUEST, "INVALID_IMAGE_ID");
    let deleted = call(&h, Method::DELETE, &format!("/images/{photo}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = call(&h, Method::GET, &format!("/images/{photo}/similar"), None).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "NOT_FOUND");
    let after = call(&h, Method::GET, &path, None).await;
    assert_eq!(after.body["similar"], json!([]), "{}", after.body);
}

#[tokio::test]
async fn a_deployment_without_a_fingerprint_index_says_so() {
    let intake = intake_domain::Intake::builder()
        .store(intake_memory::MemoryObjectStore::default())
        .signer(intake_memory::MemoryUrlSigner::default())
        .repository(intake_memory::MemoryRepository::default())
        .ocr(ScriptedOcr::default())
        .build()
        .unwrap();
    let id = intake_domain::testkit::id_at(0, 1);
    let response = app(intake)
        .await
        .oneshot(
            Request::builder()
                .uri(format!("/images/{id}/similar"))
                .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"]["code"], "SIMILAR_UNAVAILABLE");
}
