//! What is refused, and before what: mismatched, non-image and too-small objects without OCR, declared checksums and sizes, write-once upload URLs, invalid requests, foreign objects.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;

/// A PNG declared as JPEG is `REJECTED` with `TYPE_MISMATCH`, and OCR is never called.
pub async fn mismatched_type_is_rejected_without_ocr(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 5);
    let (_, key) = upload(
        h,
        UploadRequest::named("photo.jpg", crate::model::ContentType::Jpeg).expect("file name"),
        bytes,
    )
    .await;
    let record = rejected(h, &key).await;
    assert_eq!(record.rejection_code(), Some(RejectionCode::TypeMismatch));
    assert_eq!(record.ocr_status(), OcrStatus::Skipped);
    assert!(
        record.sha256().is_some(),
        "a rejected record still carries its hash for audit"
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// Text bytes and a truncated PNG are rejected before OCR.
pub async fn non_image_is_rejected_without_ocr(h: &impl Harness) {
    let (_, key) = upload(
        h,
        UploadRequest::named("notes.png", crate::model::ContentType::Png).expect("file name"),
        Bytes::from_static(b"just some text, honestly"),
    )
    .await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::UnsupportedType)
    );
    let whole = png(min_side(h), min_side(h), 6);
    let truncated = whole.slice(..whole.len() - 100);
    let (_, key) = upload(
        h,
        UploadRequest::named("cut.png", crate::model::ContentType::Png).expect("file name"),
        truncated,
    )
    .await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::Corrupt)
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// An image below the engine's minimum dimensions is `TOO_SMALL`.
pub async fn too_small_image_is_rejected(h: &impl Harness) {
    let min = h.intake().ocr_capabilities().min_dimension_px;
    if min < 2 {
        return;
    }
    let bytes = png(min - 1, min + 10, 7);
    let (_, key) = upload(h, png_request("tiny.png", &bytes), bytes).await;
    assert_eq!(
        rejected(h, &key).await.rejection_code(),
        Some(RejectionCode::TooSmall)
    );
    assert_eq!(h.ocr_calls(), 0);
}

/// A body that differs from the declared SHA-256 or size is refused by the store, or rejected by the
/// processor; it is never processed.
pub async fn declared_checksum_and_size_are_enforced(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 8);
    let other = png(min_side(h), min_side(h), 9);
    let wrong_sha = UploadRequest::named("a.png", crate::model::ContentType::Png)
        .expect("file name")
        .with_sha256(Sha256Digest::of(&other));
    let wrong_size = UploadRequest::named("b.png", crate::model::ContentType::Png)
        .expect("file name")
        .with_size(bytes.len() as u64 + 1);
    for (request, code) in [
        (wrong_sha, RejectionCode::ChecksumMismatch),
        (wrong_size, RejectionCode::SizeMismatch),
    ] {
        let ticket = h
            .intake()
            .request_upload(&default_owner(), request)
            .await
            .expect("request");
        match h.send(&ticket.request(), Some(bytes.clone())).await {
            Err(refusal) => {
                assert!(
                    (400..500).contains(&refusal.status),
                    "refusal status {refusal:?}"
                );
                if h.store_enforces_urls() {
                    continue;
                }
            }
            Ok(_) => assert!(
                !h.store_enforces_urls(),
                "the store accepted a body that breaks the URL's {code:?} binding"
            ),
        }
        match h.notify(&ticket.object_key).await.expect("process") {
            ProcessOutcome::Rejected(record) => assert_eq!(record.rejection_code(), Some(code)),
            ProcessOutcome::Skipped {
                reason: SkipReason::ObjectMissing,
                ..
            } => {}
            other => panic!("a body breaking the declared {code:?} was not rejected: {other:?}"),
        }
    }
    assert_eq!(h.ocr_calls(), 0);
}

/// A second PUT through the same URL does not overwrite the object.
pub async fn upload_urls_are_write_once(h: &impl Harness) {
    if !h.store_enforces_urls() {
        return;
    }
    let first = png(min_side(h), min_side(h), 10);
    let second = png(min_side(h), min_side(h), 11);
    let ticket = h
        .intake()
        .request_upload(
            &default_owner(),
            UploadRequest::named("once.png", crate::model::ContentType::Png).expect("file name"),
        )
        .await
        .expect("request");
    h.send(&ticket.request(), Some(first.clone()))
        .await
        .expect("first PUT");
    let refusal = h
        .send(&ticket.request(), Some(second))
        .await
        .expect_err("second PUT overwrote the object");
    assert!((400..500).contains(&refusal.status), "{refusal:?}");
    let record = processed(h, &ticket.object_key).await;
    assert_eq!(record.sha256(), Some(Sha256Digest::of(&first)));
}

/// Bad requests fail with typed errors and leave no record behind.
pub async fn invalid_requests_are_refused_before_anything_is_written(h: &impl Harness) {
    let intake = h.intake();
    let too_big = intake.max_upload_bytes() + 1;
    // What the parsers refuse never becomes a request (the API answers with the same codes).
    let png = crate::model::ContentType::Png;
    let parsed: [(Result<UploadRequest, IntakeError>, &str); 3] = [
        (
            UploadRequest::named("../", png).map_err(IntakeError::from),
            "INVALID_FILE_NAME",
        ),
        (
            crate::model::ContentType::parse("image/svg+xml")
                .map(|svg| UploadRequest::named("a.svg", svg).expect("file name"))
                .map_err(|e| IntakeError::from_content_type(&e, intake.accepted_types())),
            "UNSUPPORTED_CONTENT_TYPE",
        ),
        (
            Sha256Digest::parse("abc")
                .map(|sha| {
                    UploadRequest::named("a.png", png)
                        .expect("file name")
                        .with_sha256(sha)
                })
                .map_err(IntakeError::from),
            "INVALID_SHA256",
        ),
    ];
    for (result, code) in parsed {
        assert_eq!(result.expect_err("parsed a bad request").code(), code);
    }
    let request = UploadRequest::named("a.png", png).expect("file name");
    let cases: Vec<(UploadRequest, &str)> = vec![
        (request.clone().with_size(too_big), "TOO_LARGE"),
        (request.with_size(0), "EMPTY_UPLOAD"),
    ];
    for (request, code) in cases {
        let error = intake
            .request_upload(&default_owner(), request.clone())
            .await
            .expect_err("accepted a bad request");
        assert_eq!(error.code(), code, "{request:?}: {error}");
    }
    let all = intake
        .list_images(
            &default_owner(),
            &ListRequest::default().with_status(ImageStatus::AwaitingUpload),
        )
        .await
        .expect("list");
    assert!(all.images.is_empty(), "a refused request left a record");
}

/// Notifications for keys Intake never issued, or for another bucket, are refused.
pub async fn foreign_objects_are_refused(h: &impl Harness) {
    let intake = h.intake();
    for key in ["elsewhere/x.png", "uploads/not-an-id/x.png"] {
        assert!(
            ObjectKey::parse(key).is_err(),
            "{key} is not a key Intake issues"
        );
    }
    let unissued = ObjectKey::parse(&format!("uploads/{}/x.png", crate::testkit::id_at(0, 77)))
        .expect("a well-formed key");
    let error = intake
        .process_object_created(&ObjectCreated::new(intake.bucket(), unissued.clone()))
        .await
        .expect_err("an unissued key");
    assert_eq!(error.code(), "UNKNOWN_OBJECT", "{unissued}");
    let error = intake
        .process_object_created(&ObjectCreated::new("another-bucket", unissued))
        .await
        .expect_err("foreign bucket");
    assert_eq!(error.code(), "FOREIGN_BUCKET");
    assert_eq!(h.ocr_calls(), 0);
}
