//! End-to-end behaviour of Intake over the in-memory adapters: what the shared scenario suites do not
//! cover (true parallelism on a multi-threaded runtime, retries, leases, URL refusals, escalation, the
//! JSON contract).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc
)]

mod concurrency;
mod contract;
mod engines;
mod erasure;
mod events;
mod hostile;
mod jobs;
mod pages;
mod retries;
mod urls;
mod webhooks;

use bytes::Bytes;
use intake_domain::model::{ImageId, ObjectKey};
use intake_domain::services::{ObjectCreated, ProcessOutcome};
use intake_domain::testkit::images::png;
use intake_domain::testkit::scenarios;
use intake_memory::MemoryHarness;

/// A page-like PNG that passes every rule of the default engine.
pub fn page(seed: u64) -> Bytes {
    png(320, 120, seed)
}

/// Requests a URL with declared size and checksum and uploads `bytes` (a PNG) through it.
pub async fn upload(h: &MemoryHarness, name: &str, bytes: &Bytes) -> (ImageId, ObjectKey) {
    upload_typed(h, name, "image/png", bytes).await
}

/// As [`upload`], declaring `content_type`.
pub async fn upload_typed(
    h: &MemoryHarness,
    name: &str,
    content_type: &str,
    bytes: &Bytes,
) -> (ImageId, ObjectKey) {
    let content_type = intake_domain::model::ContentType::parse(content_type).unwrap();
    scenarios::upload(
        h,
        scenarios::request_for(name, content_type, bytes),
        bytes.clone(),
    )
    .await
}

/// The notification for `key` in the harness's bucket.
pub fn created(h: &MemoryHarness, key: &ObjectKey) -> ObjectCreated {
    ObjectCreated::new(h.intake.bucket(), key.clone())
}

/// Processes and expects `Processed`.
pub async fn process_ok(h: &MemoryHarness, key: &ObjectKey) -> intake_domain::model::ImageRecord {
    match h
        .intake
        .process_object_created(&created(h, key))
        .await
        .expect("process")
    {
        ProcessOutcome::Processed(r) => *r,
        other => panic!("expected Processed, got {other:?}"),
    }
}
