//! What happens after processing: committed changes and their events, processing again on request, and purges that leave a tombstone.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;
use crate::model::ExportFormat;
use crate::services::ExportBody;

/// Every committed change reports its events, once: a processed image `image.uploaded` then
/// `image.processed`, a rejected one `image.uploaded` then `image.rejected`, an identical upload
/// `image.duplicate`, a delete `image.deleted`; a replayed notification and a repeated delete report
/// nothing. Each document names its event and image, links to it as the composition's [`EventLinks`]
/// say, and carries no OCR text.
///
/// [`EventLinks`]: crate::model::EventLinks
pub async fn committed_changes_report_their_events(h: &impl Harness) {
    let Some(before) = h.committed_events().await else {
        return;
    };
    let bytes = png(min_side(h), min_side(h), 21);
    let (kept, key) = upload(h, png_request("kept.png", &bytes), bytes.clone()).await;
    processed(h, &key).await;
    processed_again_or_done(h, &key).await;
    let (copy, copy_key) = upload(h, png_request("copy.png", &bytes), bytes).await;
    processed(h, &copy_key).await;
    let (refused, refused_key) = upload(
        h,
        UploadRequest::named("notes.png", crate::model::ContentType::Png).expect("file name"),
        Bytes::from_static(b"just some text, honestly"),
    )
    .await;
    rejected(h, &refused_key).await;
    for _ in 0..2 {
        h.intake()
            .delete_image(&default_owner(), kept)
            .await
            .expect("delete");
    }
    let events = h.committed_events().await.expect("an outbox");
    let events = &events[before.len()..];
    let of = |id: ImageId| -> Vec<EventKind> {
        events
            .iter()
            .filter(|e| e.image_id() == id)
            .map(ImageEvent::kind)
            .collect()
    };
    assert_eq!(
        of(kept),
        [
            EventKind::Uploaded,
            EventKind::Processed,
            EventKind::Deleted
        ]
    );
    assert_eq!(of(copy), [EventKind::Uploaded, EventKind::Duplicate]);
    assert_eq!(of(refused), [EventKind::Uploaded, EventKind::Rejected]);
    for event in events {
        assert_eq!(event.owner(), &default_owner());
        let document: serde_json::Value = serde_json::from_str(event.body()).expect("JSON");
        assert_eq!(document["id"], event.id().to_string());
        assert_eq!(document["type"], event.kind().as_str());
        assert_eq!(
            document["schemaVersion"],
            crate::model::EVENT_SCHEMA_VERSION
        );
        assert_eq!(
            document["data"]["image"]["imageId"],
            event.image_id().to_string()
        );
        assert_eq!(
            document["data"]["links"]["image"],
            serde_json::json!(h.intake().event_links().image(event.image_id())),
            "the document links to the image as the composition says"
        );
        assert!(
            !event.body().contains("ocrText") && !event.body().contains("ORDER OF"),
            "no OCR text in an event: {}",
            event.body()
        );
    }
    let mut ids: Vec<_> = events.iter().map(ImageEvent::id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "every event has its own id");
}

/// A replayed notification of a processed image changes nothing.
async fn processed_again_or_done(h: &impl Harness, key: &ObjectKey) {
    match h.notify(key).await.expect("replay") {
        ProcessOutcome::AlreadyDone(_) => {}
        other => panic!("a replay must find the image done, got {other:?}"),
    }
}

/// A finished image is processed again on its owner's request, under the claim rules (never twice at
/// once), its earlier result kept in the history; an image rejected for its bytes, another owner's
/// and a deleted one are refused.
pub async fn finished_images_are_processed_again_on_request(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 31);
    let (id, key) = upload(h, png_request("again.png", &bytes), bytes).await;
    let first = processed(h, &key).await;
    let calls = h.ocr_calls();
    let queued = h
        .intake()
        .reprocess(&default_owner(), id, None)
        .await
        .expect("reprocess");
    assert_eq!(queued.status(), ImageStatus::Processing);
    assert_eq!(
        queued.lease_expires_at(),
        None,
        "claimable by the next processor"
    );
    assert_eq!(queued.ocr_text(), None);
    let [run] = queued.history() else {
        panic!("one earlier run: {:?}", queued.history())
    };
    assert_eq!(run.status, ImageStatus::Processed);
    assert_eq!(run.ocr_engine.as_deref(), first.ocr_engine());
    assert_eq!(run.ocr_line_count, first.ocr_line_count());
    for (who, code) in [
        (default_owner(), "INVALID_STATE"),
        (owner("someone-else"), "NOT_FOUND"),
    ] {
        let error = h
            .intake()
            .reprocess(&who, id, None)
            .await
            .expect_err("refused");
        assert_eq!(error.code(), code, "{error}");
    }
    let second = processed(h, &key).await;
    assert_eq!(h.ocr_calls(), calls + 1, "OCR ran again");
    assert_eq!(second.ocr_text(), first.ocr_text());
    assert_eq!(second.history().len(), 1);
    assert_eq!(second.sha256(), first.sha256());

    let whole = png(min_side(h), min_side(h), 32);
    let (cut, cut_key) = upload(
        h,
        UploadRequest::named("cut.png", crate::model::ContentType::Png).expect("file name"),
        whole.slice(..whole.len() - 100),
    )
    .await;
    assert_eq!(
        rejected(h, &cut_key).await.rejection_code(),
        Some(RejectionCode::Corrupt)
    );
    let error = h
        .intake()
        .reprocess(&default_owner(), cut, None)
        .await
        .expect_err("the bytes do not change");
    assert_eq!(error.code(), "INVALID_STATE");
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    let error = h
        .intake()
        .reprocess(&default_owner(), id, None)
        .await
        .expect_err("deleted");
    assert_eq!(error.code(), "NOT_FOUND");
}

/// Purging erases an image's bytes (every version), its stored exports (where the harness exports),
/// text and name for good and leaves a tombstone (id, owner, SHA-256, size, type, dates, who); it
/// is idempotent, and another owner can neither do it nor export the image.
pub async fn purged_images_leave_only_a_tombstone(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 41);
    let (id, key) = upload(h, png_request("secret.png", &bytes), bytes.clone()).await;
    let original = processed(h, &key).await;
    let exports = stored_exports(h, id).await;
    let error = h
        .intake()
        .purge_image(&owner("someone-else"), id, "someone-else")
        .await
        .expect_err("not theirs");
    assert_eq!(error.code(), "NOT_FOUND");
    for _ in 0..2 {
        h.intake()
            .purge_image(&default_owner(), id, "owner-a")
            .await
            .expect("purge (again: idempotent)");
    }
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), id, OcrDetail::Text)
            .await
            .expect_err("purged images are gone")
            .code(),
        "NOT_FOUND"
    );
    if let Some(versions) = h.object_versions(&key).await {
        assert_eq!(versions, 0, "every version of the object is erased");
    }
    for (export, url) in &exports {
        if let Some(versions) = h.object_versions(export).await {
            assert_eq!(versions, 0, "every version of {export} is erased");
        }
        assert!(
            h.send(url, None).await.is_err(),
            "{export} is still served after a purge"
        );
    }
    if let Some(stored) = h.stored_record(id).await {
        let tombstone = stored.expect("a tombstone stays");
        assert!(tombstone.is_purged() && tombstone.is_deleted());
        assert_eq!(tombstone.purged_by(), Some("owner-a"));
        assert_eq!(tombstone.ocr_text(), None);
        assert_eq!(tombstone.ocr_lines(), None);
        assert_eq!(tombstone.file_name().as_str(), "purged");
        assert_eq!(tombstone.preview_key(), None);
        assert_eq!(tombstone.sha256(), original.sha256());
        assert_eq!(tombstone.size_bytes(), original.size_bytes());
        assert_eq!(tombstone.content_type(), original.content_type());
        assert_eq!(tombstone.created_at(), original.created_at());
        assert_eq!(tombstone.owner(), original.owner());
    }
    if h.searches() {
        let words = original.ocr_text().unwrap_or_default();
        if let Some(word) = words.split_whitespace().find(|w| w.len() > 3) {
            let page = h
                .intake()
                .list_images(
                    &default_owner(),
                    &ListRequest::default()
                        .with_search(crate::model::SearchText::parse(word).expect("search text")),
                )
                .await
                .expect("search");
            assert!(
                page.images.iter().all(|i| i.record.image_id() != id),
                "a purged image's text is in no index"
            );
        }
    }
    if let Some(events) = h.committed_events().await {
        let kinds: Vec<EventKind> = events
            .iter()
            .filter(|e| e.image_id() == id)
            .map(ImageEvent::kind)
            .collect();
        assert_eq!(
            kinds,
            [
                EventKind::Uploaded,
                EventKind::Processed,
                EventKind::Deleted,
                EventKind::Purged
            ]
        );
        let purged = events
            .iter()
            .find(|e| e.image_id() == id && e.kind() == EventKind::Purged)
            .expect("purged");
        assert!(!purged.body().contains("secret.png"), "{}", purged.body());
    }
}

/// Exports `id` in every format, where the harness's Intake exports, and returns those it stored
/// (an export above the harness's inline limit) with their download URLs, each checked to serve
/// the export; none where the harness has no renderer.
async fn stored_exports(h: &impl Harness, id: ImageId) -> Vec<(ObjectKey, PresignedRequest)> {
    let mut stored = Vec::new();
    for format in ExportFormat::ALL {
        match h.intake().export(&default_owner(), id, format).await {
            Ok(export) => {
                if let ExportBody::Stored(url) = export.body {
                    let served = h
                        .send(&url, None)
                        .await
                        .expect("the stored export downloads");
                    assert!(!served.is_empty(), "{format}: an empty export");
                    stored.push((ObjectKey::for_export(id, format), url));
                }
            }
            Err(IntakeError::ExportUnavailable) => return stored,
            Err(other) => panic!("{format} export: {other}"),
        }
        let foreign = h.intake().export(&owner("someone-else"), id, format).await;
        assert!(
            matches!(foreign, Err(IntakeError::NotFound { .. })),
            "another owner exported {format}"
        );
    }
    stored
}
