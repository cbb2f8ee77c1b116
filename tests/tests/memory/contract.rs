use std::sync::Arc;

use intake_domain::IntakeConfig;
use intake_domain::model::{ContentType, RejectionCode, Sha256Digest};
use intake_domain::ports::OcrCapabilities;
use intake_domain::services::{EscalatingOcr, ListRequest, ProcessOutcome, UploadRequest};
use intake_domain::testkit::images::{png, png_header_only};
use intake_domain::testkit::scenarios::Harness;
use intake_domain::{Intake, ports::ObjectStore};
use intake_memory::{
    MemoryGateway, MemoryHarness, MemoryObjectStore, MemoryRepository, MemoryUrlSigner, Scripted,
    ScriptedOcr,
};
use serde_json::Value;

use super::{created, page, process_ok, upload};

/// The record's bookkeeping is not part of the API.
fn assert_no_bookkeeping(details: &Value) {
    for internal in [
        "owner",
        "version",
        "schemaVersion",
        "attempts",
        "leaseExpiresAt",
        "previewKey",
        "deletedAt",
    ] {
        assert!(
            details.get(internal).is_none(),
            "details show {internal}: {details}"
        );
    }
}

#[tokio::test]
async fn json_uses_the_seed_field_names() {
    let h = MemoryHarness::default();
    let bytes = page(1);
    let ticket = h
        .intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("cheque.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    let json =
        serde_json::to_value(intake_http::views::UploadTicketView::from(ticket.clone())).unwrap();
    for field in [
        "uploadUrl",
        "bucket",
        "objectKey",
        "imageId",
        "expiresInSeconds",
        "requiredHeaders",
    ] {
        assert!(json.get(field).is_some(), "ticket lacks {field}: {json}");
    }
    assert_eq!(json["expiresInSeconds"], 300);
    h.send(&ticket.request(), Some(bytes.clone()))
        .await
        .unwrap();
    process_ok(&h, &ticket.object_key).await;

    let found = h
        .intake
        .get_image(
            &intake_domain::testkit::default_owner(),
            ticket.image_id,
            intake_domain::ports::OcrDetail::Lines,
        )
        .await
        .unwrap();
    let details = serde_json::to_value(intake_http::views::ImageView::of(&found)).unwrap();
    for field in [
        "imageId",
        "bucket",
        "objectKey",
        "sha256",
        "sizeBytes",
        "contentType",
        "processedAt",
        "ocrStatus",
        "ocrText",
        "ocrLineCount",
        "ocrAvgConfidencePct",
        "status",
        "createdAt",
        "fileName",
        "ocrEngine",
        "ocrLines",
        "downloadUrl",
        "downloadUrlExpiresAt",
    ] {
        assert!(
            details.get(field).is_some(),
            "details lack {field}: {details}"
        );
    }
    assert_no_bookkeeping(&details);
    assert_eq!(
        details["sha256"],
        Value::String(Sha256Digest::of(&bytes).to_hex())
    );
    assert_eq!(details["sizeBytes"], bytes.len());
    assert_eq!(details["contentType"], "image/png");
    assert_eq!(details["ocrStatus"], "COMPLETED");
    assert_eq!(
        details["ocrText"],
        "PAY TO THE ORDER OF\nONE THOUSAND DOLLARS"
    );
    assert_eq!(details["ocrLineCount"], 2);
    assert_eq!(details["ocrAvgConfidencePct"], 93.5);

    let listing = h
        .intake
        .list_images(
            &intake_domain::testkit::default_owner(),
            &ListRequest::default(),
        )
        .await
        .unwrap();
    let page = serde_json::to_value(intake_http::views::ImagePageView::of(&listing)).unwrap();
    let listed = &page["images"][0];
    assert!(
        listed.get("ocrText").is_none() && listed.get("ocrLines").is_none(),
        "listing carries OCR text: {listed}"
    );
    assert_eq!(listed["ocrLineCount"], 2);
}

#[tokio::test]
async fn the_auto_policy_escalates_truncated_results_and_names_the_engine() {
    let rekognition = ScriptedOcr::new(
        OcrCapabilities::new(
            "rekognition",
            vec![ContentType::Png, ContentType::Jpeg],
            15 * 1024 * 1024,
            80,
        )
        .reading_objects(),
    );
    let truncated = ScriptedOcr::text("rekognition", &["first hundred words"], 90.0)
        .unwrap()
        .with_truncated(true);
    rekognition.set_default(Scripted::Text(truncated));
    let textract = ScriptedOcr::new(
        OcrCapabilities::new(
            "textract",
            vec![
                ContentType::Png,
                ContentType::Jpeg,
                ContentType::Tiff,
                ContentType::Pdf,
            ],
            10 * 1024 * 1024,
            50,
        )
        .reading_objects(),
    );
    textract.set_default(Scripted::Text(
        ScriptedOcr::text("textract", &["every word", "of the document"], 99.0).unwrap(),
    ));
    let store = MemoryObjectStore::default();
    let signer = MemoryUrlSigner::default();
    let intake = Intake::builder()
        .store(store.clone())
        .signer(signer.clone())
        .repository(MemoryRepository::default())
        .ocr(EscalatingOcr::new(
            Arc::new(rekognition.clone()),
            Arc::new(textract.clone()),
        ))
        .build()
        .unwrap();
    assert!(
        intake.accepted_types().contains(&ContentType::Pdf),
        "auto accepts what either engine accepts"
    );
    let gateway = MemoryGateway::new(signer, store);
    let bytes = png(400, 100, 9);
    let ticket = intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("dense.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    gateway.perform(&ticket.request(), Some(bytes)).unwrap();
    let outcome = intake
        .process_object_created(&intake_domain::services::ObjectCreated::new(
            intake.bucket(),
            ticket.object_key.clone(),
        ))
        .await
        .unwrap();
    let record = outcome.record().unwrap();
    assert_eq!(record.ocr_engine(), Some("textract"));
    assert_eq!(record.ocr_truncated(), Some(false));
    assert_eq!(record.ocr_text(), Some("every word\nof the document"));
    assert_eq!((rekognition.call_count(), textract.call_count()), (1, 1));
}

#[tokio::test]
async fn oversize_objects_and_pixel_bombs_are_rejected_as_too_large() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_upload_bytes(100_000),
        ScriptedOcr::default(),
    );
    let big = png(1000, 300, 1);
    let ticket = h
        .intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("big.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    h.send(&ticket.request(), Some(big.clone())).await.unwrap();
    match h
        .intake
        .process_object_created(&created(&h, &ticket.object_key))
        .await
        .unwrap()
    {
        ProcessOutcome::Rejected(r) => {
            assert_eq!(r.rejection_code(), Some(RejectionCode::TooLarge));
            assert_eq!(r.size_bytes(), Some(big.len() as u64));
            assert_eq!(r.sha256(), None, "an oversize object was hashed whole");
        }
        other => panic!("{other:?}"),
    }
    let ticket = h
        .intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("bomb.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    h.send(&ticket.request(), Some(png_header_only(100_000, 100_000)))
        .await
        .unwrap();
    match h
        .intake
        .process_object_created(&created(&h, &ticket.object_key))
        .await
        .unwrap()
    {
        ProcessOutcome::Rejected(r) => {
            assert_eq!(r.rejection_code(), Some(RejectionCode::TooLarge));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.ocr.call_count(), 0);
}

#[tokio::test]
async fn deleting_objects_is_opt_in() {
    for delete_objects in [false, true] {
        let h = MemoryHarness::new(
            IntakeConfig::default().with_delete_objects(delete_objects),
            ScriptedOcr::default(),
        );
        let (id, key) = upload(&h, "a.png", &page(3)).await;
        process_ok(&h, &key).await;
        h.intake
            .delete_image(&intake_domain::testkit::default_owner(), id)
            .await
            .unwrap();
        assert_eq!(h.store.head(&key).await.is_ok(), !delete_objects);
        let kept = h.repository.all();
        assert_eq!(kept.len(), 1, "metadata is kept for audit");
        assert!(kept[0].deleted_at().is_some());
    }
}

#[tokio::test]
async fn uploads_outside_the_allow_list_are_refused_with_the_accepted_list() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_allowed_types(vec![ContentType::Png]),
        ScriptedOcr::default(),
    );
    let error = h
        .intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("a.jpg", intake_domain::model::ContentType::Jpeg).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "UNSUPPORTED_CONTENT_TYPE");
    assert!(error.to_string().contains("image/png"), "{error}");
}
