//! Retention: images soft-deleted long enough ago are purged, others are left alone, and a run goes
//! on where the last stopped.

use std::time::Duration;

use intake_domain::ports::ImageRepository as _;
use intake_domain::services::RETENTION;
use intake_memory::MemoryHarness;

use crate::{page, process_ok, upload};

#[tokio::test]
async fn retention_purges_only_images_deleted_long_enough_ago() {
    let h = MemoryHarness::default();
    let owner = intake_domain::testkit::default_owner();
    let mut ids = Vec::new();
    for n in 0..3 {
        let (id, key) = upload(&h, &format!("r{n}.png"), &page(n)).await;
        process_ok(&h, &key).await;
        ids.push(id);
    }
    h.intake.delete_image(&owner, ids[0]).await.unwrap();
    h.intake.delete_image(&owner, ids[1]).await.unwrap();
    h.clock.advance(Duration::from_secs(3 * 24 * 3600));
    // Deleted later: not expired yet.
    let (late, late_key) = upload(&h, "late.png", &page(9)).await;
    process_ok(&h, &late_key).await;
    h.intake.delete_image(&owner, late).await.unwrap();
    let week = Duration::from_secs(2 * 24 * 3600);
    assert_eq!(
        h.intake.purge_expired(week, 1).await.unwrap(),
        1,
        "the limit"
    );
    assert_eq!(
        h.intake.purge_expired(week, 100).await.unwrap(),
        1,
        "goes on"
    );
    assert_eq!(h.intake.purge_expired(week, 100).await.unwrap(), 0, "done");
    for id in &ids[..2] {
        let tombstone = h.repository.get(id).await.unwrap().unwrap();
        assert!(tombstone.is_purged(), "{id}");
        assert_eq!(tombstone.purged_by(), Some(RETENTION));
        assert_eq!(tombstone.ocr_text(), None);
    }
    let kept = h.repository.get(&late).await.unwrap().unwrap();
    assert!(
        kept.is_deleted() && !kept.is_purged(),
        "deleted too recently"
    );
    let live = h.repository.get(&ids[2]).await.unwrap().unwrap();
    assert!(!live.is_deleted(), "a live image is never purged");
    assert!(h.store.bytes(&live.object_key().clone()).is_some());
}

#[tokio::test]
async fn a_purge_waits_for_the_processor_holding_the_image() {
    use intake_domain::ports::Clock as _;
    let h = MemoryHarness::default();
    let owner = intake_domain::testkit::default_owner();
    let (id, _key) = upload(&h, "held.png", &page(1)).await;
    // A processor takes the image (its claim holds for the processing lease).
    let record = h.repository.get(&id).await.unwrap().unwrap();
    let claimed = record
        .claim(h.clock.now(), Duration::from_secs(120))
        .unwrap();
    h.repository
        .replace(&claimed, record.version(), &[])
        .await
        .unwrap();
    let error = h
        .intake
        .purge_image(&owner, id, "owner-a")
        .await
        .expect_err("held");
    assert_eq!(error.code(), "INVALID_STATE", "{error}");
    let held = h.repository.get(&id).await.unwrap().unwrap();
    assert!(
        held.is_deleted() && !held.is_purged(),
        "deleted at once, purged later"
    );
    h.clock.advance(Duration::from_secs(121));
    h.intake.purge_image(&owner, id, "owner-a").await.unwrap();
    assert!(h.repository.get(&id).await.unwrap().unwrap().is_purged());
}

#[tokio::test]
async fn an_upload_arriving_after_its_purge_is_erased() {
    use intake_domain::services::{ProcessOutcome, SkipReason, UploadRequest};
    let h = MemoryHarness::default();
    let owner = intake_domain::testkit::default_owner();
    let bytes = page(2);
    let ticket = h
        .intake
        .request_upload(
            &owner,
            UploadRequest::named("late.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    h.intake
        .purge_image(&owner, ticket.image_id, "owner-a")
        .await
        .unwrap();
    // The URL is still valid: the store takes the bytes, and their notification erases them.
    intake_domain::testkit::scenarios::Harness::send(&h, &ticket.request(), Some(bytes))
        .await
        .expect("the store takes a still-valid URL's bytes");
    assert!(h.store.bytes(&ticket.object_key).is_some());
    let outcome = h
        .intake
        .process_object_created(&crate::created(&h, &ticket.object_key))
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            ProcessOutcome::Skipped {
                reason: SkipReason::Deleted,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(h.store.bytes(&ticket.object_key).is_none(), "erased");
}
