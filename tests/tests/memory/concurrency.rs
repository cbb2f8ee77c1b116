use std::collections::HashSet;

use intake_domain::model::ImageStatus;
use intake_domain::services::ProcessOutcome;
use intake_memory::MemoryHarness;

use super::{created, page, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_deliveries_run_ocr_once() {
    let h = MemoryHarness::default();
    let (id, key) = upload(&h, "cheque.png", &page(1)).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (h, event) = (h.clone(), created(&h, &key));
            tokio::spawn(async move { h.intake.process_object_created(&event).await })
        })
        .collect();
    let mut processed = 0;
    for task in tasks {
        match task.await.expect("task").expect("process") {
            ProcessOutcome::Processed(_) => processed += 1,
            ProcessOutcome::AlreadyDone(_) | ProcessOutcome::InProgress { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(processed, 1);
    assert_eq!(h.ocr.call_count(), 1);
    let record = h
        .intake
        .get_image(
            &intake_domain::testkit::default_owner(),
            id,
            intake_domain::ports::OcrDetail::Lines,
        )
        .await
        .unwrap()
        .record;
    assert_eq!(
        (record.status(), record.attempts()),
        (ImageStatus::Processed, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_images_processed_in_parallel_are_all_recorded_once() {
    let h = MemoryHarness::default();
    let mut keys = Vec::new();
    for seed in 0..50 {
        keys.push(upload(&h, &format!("page {seed}.png"), &page(100 + seed)).await);
    }
    let tasks: Vec<_> = keys
        .iter()
        .flat_map(|(_, key)| {
            // every notification delivered twice, as S3 may
            let event = created(&h, key);
            [event.clone(), event]
        })
        .map(|event| {
            let h = h.clone();
            tokio::spawn(async move {
                h.intake
                    .process_object_created(&event)
                    .await
                    .expect("process")
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(h.ocr.call_count(), 50);
    let listed = h
        .intake
        .list_images(
            &intake_domain::testkit::default_owner(),
            &intake_domain::services::ListRequest::default().with_limit(1000),
        )
        .await
        .unwrap();
    let ids: HashSet<_> = listed.images.iter().map(|r| r.image_id()).collect();
    assert_eq!(ids.len(), 50);
    assert!(
        listed
            .images
            .iter()
            .all(|r| r.status() == ImageStatus::Processed)
    );
    assert!(
        listed
            .images
            .windows(2)
            .all(|w| w[0].image_id() > w[1].image_id()),
        "not newest first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_storm_on_four_threads_runs_ocr_once() {
    intake_domain::testkit::scenarios::replay_storm_runs_ocr_once(&MemoryHarness::default()).await;
}
