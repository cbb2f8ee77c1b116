//! Queue-driven processing (`Intake::run_next_job`) over the memory queue: the rules the local
//! server's workers follow.

use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_domain::model::{ImageStatus, ObjectKey};
use intake_domain::ports::{Clock as _, ImageRepository, JobQueue};
use intake_domain::services::{JobPolicy, JobReport, ProcessOutcome};
use intake_memory::{MemoryHarness, MemoryJobQueue, Scripted, ScriptedError, ScriptedOcr};

use super::{page, upload};

fn policy(h: &MemoryHarness) -> JobPolicy {
    JobPolicy::for_config(h.intake.config())
        .with_backoff(Duration::from_secs(1), Duration::from_secs(8))
}

async fn drain(h: &MemoryHarness, queue: &MemoryJobQueue) -> Vec<JobReport> {
    let mut reports = Vec::new();
    while let Some(report) = h.intake.run_next_job(queue, &policy(h)).await.unwrap() {
        reports.push(report);
    }
    reports
}

#[tokio::test]
async fn queued_uploads_are_processed_once_and_leave_the_queue() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let mut keys = Vec::new();
    for n in 0..3 {
        let (_, key) = upload(&h, &format!("p{n}.png"), &page(n)).await;
        queue.enqueue(&key, h.clock.now()).await.unwrap();
        queue.enqueue(&key, h.clock.now()).await.unwrap();
        keys.push(key);
    }
    let reports = drain(&h, &queue).await;
    let done: Vec<&ObjectKey> = reports
        .iter()
        .filter(|r| {
            matches!(
                r,
                JobReport::Finished {
                    outcome: ProcessOutcome::Processed(_),
                    ..
                }
            )
        })
        .map(JobReport::key)
        .collect();
    assert_eq!(
        done,
        keys.iter().collect::<Vec<_>>(),
        "first come, first served"
    );
    assert_eq!(h.ocr.call_count(), 3);
    assert_eq!(queue.stats().await.unwrap().outstanding(), 0);
}

#[tokio::test]
async fn retryable_failures_back_off_then_succeed() {
    let h = MemoryHarness::default();
    h.ocr.then(Scripted::Fail(ScriptedError::Throttled));
    let queue = MemoryJobQueue::default();
    let (id, key) = upload(&h, "a.png", &page(7)).await;
    queue.enqueue(&key, h.clock.now()).await.unwrap();

    let first = h
        .intake
        .run_next_job(&queue, &policy(&h))
        .await
        .unwrap()
        .unwrap();
    let JobReport::Retrying {
        attempts,
        due,
        error,
        ..
    } = first
    else {
        panic!("expected a retry, got {first:?}");
    };
    assert_eq!(attempts, 1);
    assert!(error.is_throttled());
    assert!(due > h.clock.now() && due <= h.clock.now().saturating_add(Duration::from_secs(1)));
    assert!(
        h.intake
            .run_next_job(&queue, &policy(&h))
            .await
            .unwrap()
            .is_none(),
        "not due yet"
    );

    h.clock.advance(Duration::from_secs(1));
    let reports = drain(&h, &queue).await;
    assert!(matches!(
        reports.as_slice(),
        [JobReport::Finished {
            outcome: ProcessOutcome::Processed(_),
            ..
        }]
    ));
    let record = h.repository.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (record.status(), record.attempts()),
        (ImageStatus::Processed, 2)
    );
}

#[tokio::test]
async fn permanent_errors_are_buried_with_their_code() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let (_, key) = upload(&h, "a.png", &page(3)).await;
    let stranger = ObjectKey::parse(&key.as_str().replace(
        &key.image_id().to_string(),
        "0190b4c6-7d2a-7cc0-8c3a-4e2f1a9b0c11",
    ))
    .unwrap();
    queue.enqueue(&stranger, h.clock.now()).await.unwrap();
    let reports = drain(&h, &queue).await;
    let [JobReport::Buried { reason, .. }] = reports.as_slice() else {
        panic!("expected a burial, got {reports:?}");
    };
    assert!(reason.starts_with("UNKNOWN_OBJECT"), "{reason}");
    let dead = queue.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].key, stranger);
    assert_eq!(h.ocr.call_count(), 0);
}

#[tokio::test]
async fn failures_before_any_claim_are_buried_after_the_lease_limit() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let (_, key) = upload(&h, "a.png", &page(4)).await;
    queue.enqueue(&key, h.clock.now()).await.unwrap();
    // A worker leases the job and dies, twice.
    for _ in 0..2 {
        let job = queue
            .lease(h.clock.now(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(job.is_some());
        h.clock.advance(Duration::from_secs(6));
    }
    let strict = policy(&h).with_max_attempts(2);
    let report = h
        .intake
        .run_next_job(&queue, &strict)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(report, JobReport::Buried { .. }), "{report:?}");
    assert_eq!(queue.dead_jobs(1).await.unwrap()[0].attempts, 3);
    assert_eq!(h.ocr.call_count(), 0);

    // An operator sees the dead job and takes it back: it runs as a fresh job and the image is read.
    let listed = h.intake.dead_jobs(&queue, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, key);
    assert_eq!(
        h.intake
            .retry_dead_job(&queue, key.image_id())
            .await
            .unwrap(),
        1
    );
    assert!(h.intake.dead_jobs(&queue, 10).await.unwrap().is_empty());
    let reports = drain(&h, &queue).await;
    assert!(
        matches!(
            reports.as_slice(),
            [JobReport::Finished {
                outcome: ProcessOutcome::Processed(_),
                ..
            }]
        ),
        "{reports:?}"
    );
    // Nothing left to retry or drop.
    for error in [
        h.intake
            .retry_dead_job(&queue, key.image_id())
            .await
            .unwrap_err(),
        h.intake
            .drop_dead_job(&queue, key.image_id())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(error.code(), "NOT_FOUND");
    }
}

#[tokio::test]
async fn a_dropped_dead_job_is_gone_and_its_image_untouched() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let (id, key) = upload(&h, "a.png", &page(5)).await;
    queue.enqueue(&key, h.clock.now()).await.unwrap();
    let job = queue
        .lease(h.clock.now(), Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    queue
        .bury(&job, "given up by a test", h.clock.now())
        .await
        .unwrap();
    h.intake.drop_dead_job(&queue, id).await.unwrap();
    assert_eq!(queue.stats().await.unwrap().dead, 0);
    assert_eq!(
        h.repository.get(&id).await.unwrap().unwrap().status(),
        ImageStatus::AwaitingUpload
    );
}

#[tokio::test]
async fn a_restart_ends_stale_claims_and_leases_and_finishes_the_work_once() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_processing_lease(Duration::from_secs(900)),
        ScriptedOcr::default(),
    );
    let queue = MemoryJobQueue::default();
    let (id, key) = upload(&h, "a.png", &page(5)).await;
    queue.enqueue(&key, h.clock.now()).await.unwrap();
    // The previous process leased the job and claimed the image, then was killed.
    let _dead_worker = queue
        .lease(h.clock.now(), Duration::from_secs(960))
        .await
        .unwrap();
    let stored = h.repository.get(&id).await.unwrap().unwrap();
    let claimed = stored
        .claim(h.clock.now(), Duration::from_secs(900))
        .unwrap();
    h.repository
        .replace(&claimed, stored.version(), &[])
        .await
        .unwrap();

    // Restart: the new process owns the data alone.
    assert_eq!(h.intake.end_stale_claims().await.unwrap(), 1);
    assert_eq!(queue.release_all().await.unwrap(), 1);
    let reports = drain(&h, &queue).await;
    assert!(
        matches!(
            reports.as_slice(),
            [JobReport::Finished {
                outcome: ProcessOutcome::Processed(_),
                ..
            }]
        ),
        "{reports:?}"
    );
    assert_eq!(h.ocr.call_count(), 1);
    assert_eq!(h.intake.end_stale_claims().await.unwrap(), 0);
}

#[tokio::test]
async fn a_job_for_an_image_another_processor_holds_waits_for_its_claim() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let (id, key) = upload(&h, "a.png", &page(6)).await;
    let stored = h.repository.get(&id).await.unwrap().unwrap();
    let until = h.clock.now().saturating_add(Duration::from_secs(30));
    let claimed = stored
        .claim(h.clock.now(), Duration::from_secs(30))
        .unwrap();
    h.repository
        .replace(&claimed, stored.version(), &[])
        .await
        .unwrap();
    queue.enqueue(&key, h.clock.now()).await.unwrap();

    let report = h
        .intake
        .run_next_job(&queue, &policy(&h))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(report, JobReport::Deferred { due, .. } if due == until),
        "{report:?}"
    );
    h.clock.advance(Duration::from_secs(30));
    let reports = drain(&h, &queue).await;
    assert!(
        matches!(
            reports.as_slice(),
            [JobReport::Finished {
                outcome: ProcessOutcome::Processed(_),
                ..
            }]
        ),
        "{reports:?}"
    );
}

#[tokio::test]
async fn many_workers_on_one_queue_run_each_job_once() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    for n in 0..40 {
        let (_, key) = upload(&h, &format!("p{n}.png"), &page(100 + n)).await;
        queue.enqueue(&key, h.clock.now()).await.unwrap();
    }
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (intake, queue, policy) = (h.intake.clone(), queue.clone(), policy(&h));
            tokio::spawn(async move {
                let mut done = 0;
                while let Some(report) = intake.run_next_job(&queue, &policy).await.unwrap() {
                    assert!(matches!(report, JobReport::Finished { .. }), "{report:?}");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    assert_eq!(total, 40);
    assert_eq!(h.ocr.call_count(), 40);
}

#[tokio::test]
async fn a_stored_upload_is_listed_at_once_before_a_worker_takes_it() {
    let h = MemoryHarness::default();
    let queue = MemoryJobQueue::default();
    let (id, key) = upload(&h, "burst.png", &page(11)).await;
    let owner = intake_domain::testkit::default_owner();
    let listed = |h: &MemoryHarness| {
        let owner = owner.clone();
        let intake = h.intake.clone();
        async move {
            intake
                .list_images(&owner, &intake_domain::services::ListRequest::default())
                .await
                .unwrap()
                .images
                .iter()
                .map(|listed| (listed.record.image_id(), listed.record.status()))
                .collect::<Vec<_>>()
        }
    };
    assert!(listed(&h).await.is_empty(), "a ticket alone is not listed");

    h.intake
        .accept_upload(&key, &queue, Duration::from_secs(60))
        .await
        .unwrap();
    h.intake.upload_stored(&key, &queue).await.unwrap();
    assert_eq!(listed(&h).await, vec![(id, ImageStatus::Processing)]);
    let received = h.repository.get(&id).await.unwrap().unwrap();
    assert_eq!(
        (received.attempts(), received.lease_expires_at()),
        (0, None),
        "received, not claimed"
    );

    let reports = drain(&h, &queue).await;
    assert!(
        reports.iter().any(|r| matches!(
            r,
            JobReport::Finished {
                outcome: ProcessOutcome::Processed(_),
                ..
            }
        )),
        "{reports:?}"
    );
    assert_eq!(listed(&h).await, vec![(id, ImageStatus::Processed)]);
    let done = h.repository.get(&id).await.unwrap().unwrap();
    assert_eq!(done.attempts(), 1, "one claim, by the worker");
}
