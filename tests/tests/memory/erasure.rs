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
