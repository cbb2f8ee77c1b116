//! Replays and bursts against the local adapters: the same object queued a thousand times, and a
//! thousand uploads at once to a running server.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::Intake;
use intake_domain::model::Sha256Digest;
use intake_domain::ports::{Clock as _, JobQueue, SystemClock};
use intake_domain::services::{JobPolicy, JobReport, ListRequest, ProcessOutcome, UploadRequest};
use intake_domain::testkit::scenarios::{STORM_DELIVERIES, STORM_PROCESSORS};
use intake_domain::testkit::{CountingOcr, default_owner};
use intake_local::{
    FsObjectStore, SqliteJobQueue, SqliteRepository, TesseractOcr, TesseractOptions,
};
use intake_server::LOCAL_BUCKET;
use serde_json::Value;

use super::{prerequisites, spawn_app, wait_terminal};

fn control_png() -> Bytes {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/hostile/control.png");
    Bytes::from(std::fs::read(path).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_storm_through_the_local_queue_runs_ocr_once() {
    if prerequisites().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("intake.db");
    let store = FsObjectStore::open(dir.path().join("store"), LOCAL_BUCKET)
        .await
        .unwrap();
    let queue = Arc::new(SqliteJobQueue::open(&db).unwrap());
    let ocr = CountingOcr::new(Arc::new(TesseractOcr::new(TesseractOptions::default())));
    let intake = Intake::builder()
        .store(store.clone())
        .signer(intake_signing::HmacUrlSigner::new(
            "http://127.0.0.1:9/objects",
            &[7u8; 32],
        ))
        .ocr(ocr.clone())
        .repository(SqliteRepository::open(&db).unwrap())
        .build()
        .unwrap();
    let bytes = control_png();
    let ticket = intake
        .request_upload(
            &default_owner(),
            UploadRequest::named("storm.png", intake_domain::model::ContentType::Png).unwrap(),
        )
        .await
        .unwrap();
    store
        .put_new(&ticket.object_key, bytes.clone(), "image/png")
        .await
        .unwrap();

    // Sixteen processors, each queueing the object's notification and running the next job, a
    // thousand times in all; then the queue is drained.
    let policy = JobPolicy::for_config(intake.config());
    let processors = (0..STORM_PROCESSORS).map(|p| {
        let (intake, queue, key, policy) = (
            intake.clone(),
            Arc::clone(&queue),
            ticket.object_key.clone(),
            policy,
        );
        tokio::spawn(async move {
            let mut processed = 0usize;
            for _ in (p..STORM_DELIVERIES).step_by(STORM_PROCESSORS) {
                queue.enqueue(&key, SystemClock.now()).await.unwrap();
                if let Some(JobReport::Finished {
                    outcome: ProcessOutcome::Processed(_),
                    ..
                }) = intake.run_next_job(queue.as_ref(), &policy).await.unwrap()
                {
                    processed += 1;
                }
            }
            processed
        })
    });
    let mut processed = 0;
    for processor in futures::future::join_all(processors).await {
        processed += processor.unwrap();
    }
    while let Some(report) = intake.run_next_job(queue.as_ref(), &policy).await.unwrap() {
        if let JobReport::Finished {
            outcome: ProcessOutcome::Processed(_),
            ..
        } = report
        {
            processed += 1;
        }
    }
    assert_eq!(processed, 1, "jobs that processed");
    assert_eq!(ocr.calls(), 1, "OCR calls");
    let stats = queue.stats().await.unwrap();
    assert_eq!(
        (stats.waiting, stats.leased, stats.dead),
        (0, 0, 0),
        "{stats:?}, dead: {:?}",
        queue.dead_jobs(10).await
    );
    let page = intake
        .list_images(
            &default_owner(),
            &ListRequest::default().with_sha256(Sha256Digest::of(&bytes)),
        )
        .await
        .unwrap();
    assert_eq!(page.images.len(), 1, "records for the bytes");
    assert_eq!(page.images[0].image_id(), ticket.image_id);
    assert_eq!(page.images[0].attempts(), 1);
}

/// How many uploads the burst sends.
const BURST: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_a_thousand_uploads_all_reach_a_terminal_state_once() {
    if prerequisites().is_none() {
        return;
    }
    let app = spawn_app().await;
    let page = control_png();
    // A thousand uploads at once (64 in flight), half of them the same bytes (duplicates), half
    // unique small images; every one must end PROCESSED exactly once.
    let uploads: Vec<String> = futures::stream::iter(0..BURST)
        .map(|n| {
            let app = &app;
            let bytes = if n % 2 == 0 {
                page.clone()
            } else {
                intake_domain::testkit::images::png(160, 48, n as u64)
            };
            async move { app.upload(&format!("burst-{n}.png"), &bytes).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut ids = uploads.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), BURST, "every upload got its own image");

    let mut statuses = std::collections::BTreeMap::new();
    for id in &ids {
        let record = wait_terminal(&app.http, &app.url, id, Duration::from_secs(900)).await;
        *statuses
            .entry(record["status"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(statuses.get("PROCESSED"), Some(&BURST), "{statuses:?}");

    // Listed exactly once each, across pages.
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/images?limit=300&cursor={c}"),
            None => "/images?limit=300".to_owned(),
        };
        let (status, page): (u16, Value) = app.get_json(&path).await;
        assert_eq!(status, 200);
        listed.extend(
            page["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["imageId"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    listed.sort();
    assert_eq!(listed, ids, "listed once each");
    let stats = app.server.queue_stats().await.unwrap();
    assert_eq!(
        (stats.waiting, stats.leased, stats.dead),
        (0, 0, 0),
        "{stats:?}"
    );
    app.stop().await;
}
