//! The happy path and the platform's deliveries: upload, process, read back and download; replayed, concurrent and early notifications, and a replay storm, run OCR once.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;

/// Upload → notification → OCR → record → list → details → presigned download of the same bytes.
pub async fn upload_process_get_download(h: &impl Harness) {
    let side = min_side(h);
    let bytes = png(side * 4, side, 1);
    let (id, key) = upload(
        h,
        png_request("../chèque front +#&;=%20 (1).png", &bytes),
        bytes.clone(),
    )
    .await;
    assert_eq!(
        key.as_str(),
        format!("uploads/{id}/chèque front +#&;=%20 (1).png")
    );
    let record = processed(h, &key).await;
    assert_eq!(record.status(), ImageStatus::Processed);
    assert_eq!(record.ocr_status(), OcrStatus::Completed);
    assert_eq!(
        record.sha256(),
        Some(Sha256Digest::of(&bytes)),
        "sha256 differs from an independent computation"
    );
    assert_eq!(record.size_bytes(), Some(bytes.len() as u64));
    assert_eq!(record.width_px(), Some(side * 4));
    assert!(
        record.processed_at().is_some()
            && record.ocr_engine().is_some()
            && record.ocr_text().is_some()
    );
    assert_eq!(
        record.ocr_line_count(),
        record
            .ocr_lines()
            .as_ref()
            .map(|l| u32::try_from(l.len()).expect("fits"))
    );
    assert_eq!(h.ocr_calls(), 1);

    let page = h
        .intake()
        .list_images(&default_owner(), &ListRequest::default())
        .await
        .expect("list");
    assert_eq!(page.images.len(), 1);
    assert_eq!(page.images[0].image_id(), id);
    assert!(
        page.images[0].ocr_text().is_none() && page.images[0].ocr_lines().is_none(),
        "listing carries OCR text"
    );

    let details = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Lines)
        .await
        .expect("get");
    assert_eq!(details.record, record);
    let text_only = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Text)
        .await
        .expect("get without lines");
    assert_eq!(
        text_only.record,
        record.without_ocr_lines(),
        "the text view differs from the record beyond its lines"
    );
    assert_eq!(
        text_only.download_url.is_some(),
        details.download_url.is_some()
    );
    let download = details.download.expect("download URL");
    assert_eq!(download.method, HttpMethod::Get);
    assert_eq!(details.download_url.as_deref(), Some(download.url.as_str()));
    let fetched = h
        .send(&download, None)
        .await
        .expect("GET through the download URL");
    assert_eq!(fetched, bytes, "downloaded bytes differ");
}

/// The same notification five times in a row: one OCR call, then `AlreadyDone`.
pub async fn replayed_notifications_run_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 2);
    let (_, key) = upload(h, png_request("a.png", &bytes), bytes).await;
    let first = processed(h, &key).await;
    for _ in 0..4 {
        match h.notify(&key).await.expect("replay") {
            ProcessOutcome::AlreadyDone(record) => assert_eq!(*record, first),
            other => panic!("a replay did work: {other:?}"),
        }
    }
    assert_eq!(h.ocr_calls(), 1);
}

/// A hundred concurrent deliveries of one notification: exactly one OCR call and one processed record.
pub async fn concurrent_notifications_run_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 3);
    let (id, key) = upload(h, png_request("a.png", &bytes), bytes).await;
    let outcomes = join_all((0..100).map(|_| h.notify(&key))).await;
    let mut processed = 0;
    for outcome in outcomes {
        match outcome.expect("process") {
            ProcessOutcome::Processed(_) => processed += 1,
            ProcessOutcome::AlreadyDone(_) | ProcessOutcome::InProgress { .. } => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(processed, 1);
    assert_eq!(h.ocr_calls(), 1);
    let record = h
        .intake()
        .get_image(&default_owner(), id, OcrDetail::Lines)
        .await
        .expect("get")
        .record;
    assert_eq!(record.status(), ImageStatus::Processed);
    assert_eq!(record.attempts(), 1);
}

/// A notification that arrives before its object leaves the record waiting; the real one processes it.
pub async fn notification_before_upload_changes_nothing(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 4);
    let ticket = h
        .intake()
        .request_upload(&default_owner(), png_request("early.png", &bytes))
        .await
        .expect("request");
    match h
        .notify(&ticket.object_key)
        .await
        .expect("early notification")
    {
        ProcessOutcome::Skipped {
            reason: SkipReason::ObjectMissing,
            ..
        } => {}
        other => panic!("expected Skipped(ObjectMissing), got {other:?}"),
    }
    let waiting = h
        .intake()
        .get_image(&default_owner(), ticket.image_id, OcrDetail::Lines)
        .await
        .expect("get")
        .record;
    assert_eq!(waiting.status(), ImageStatus::AwaitingUpload);
    assert_eq!(waiting.attempts(), 0);
    h.send(&ticket.request(), Some(bytes)).await.expect("PUT");
    processed(h, &ticket.object_key).await;
    assert_eq!(h.ocr_calls(), 1);
}

/// How many times [`replay_storm_runs_ocr_once`] delivers one notification.
pub const STORM_DELIVERIES: usize = 1000;

/// How many processors deliver it at once.
pub const STORM_PROCESSORS: usize = 16;

/// The same notification delivered [`STORM_DELIVERIES`] times by [`STORM_PROCESSORS`] concurrent
/// processors (each delivering its share one after another, as a redelivering queue would): exactly
/// one delivery processes, one OCR call is made, and one record exists for the bytes.
pub async fn replay_storm_runs_ocr_once(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 50);
    let (id, key) = upload(h, png_request("storm.png", &bytes), bytes.clone()).await;
    let processors = (0..STORM_PROCESSORS).map(|p| {
        let key = key.clone();
        async move {
            let mut processed = 0usize;
            for _ in (p..STORM_DELIVERIES).step_by(STORM_PROCESSORS) {
                match h.notify(&key).await.expect("process") {
                    ProcessOutcome::Processed(_) => processed += 1,
                    ProcessOutcome::AlreadyDone(_) | ProcessOutcome::InProgress { .. } => {}
                    other => panic!("unexpected outcome {other:?}"),
                }
            }
            processed
        }
    });
    let processed: usize = join_all(processors).await.into_iter().sum();
    assert_eq!(processed, 1, "deliveries that processed");
    assert_eq!(h.ocr_calls(), 1, "OCR calls");
    let records = h
        .intake()
        .list_images(
            &default_owner(),
            &ListRequest::default().with_sha256(Sha256Digest::of(&bytes)),
        )
        .await
        .expect("list");
    assert_eq!(
        records
            .images
            .iter()
            .map(|r| r.image_id())
            .collect::<Vec<_>>(),
        vec![id],
        "records for the bytes"
    );
    let record = &records.images[0];
    assert_eq!(
        (record.status(), record.attempts()),
        (ImageStatus::Processed, 1)
    );
}
