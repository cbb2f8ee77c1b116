//! Conformance suites for every port and scenario suites for the services (feature `testkit`).
//!
//! Every adapter of a port runs the whole suite of that port, the way `object_store`'s adapters share
//! one `integration.rs`. The functions panic with a message on the first broken expectation, so they
//! are meant to be called from `#[test]` functions:
//!
//! ```text
//! #[tokio::test]
//! async fn memory_repository_conforms() {
//!     intake_domain::testkit::repository::run_suite(|| async { MemoryRepository::default() }).await;
//! }
//! ```
#![allow(
    clippy::missing_panics_doc,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod documents;
pub mod events;
pub mod field_filters;
pub mod fields;
pub mod fingerprints;
pub mod fixtures;
pub mod images;
pub mod layout;
pub mod layouts;
pub mod ocr;
pub mod queue;
pub mod repository;
pub mod scenarios;
pub mod search;
pub mod signer;
pub mod store;

mod counting;

pub use counting::CountingOcr;

use crate::model::{
    ContentType, FailureCode, FileName, ImageId, ImageRecord, ImageStatus, Measurements, NewUpload,
    OcrResult, Owner, RecordParts, RejectionCode, Sha256Digest, Timestamp,
};

/// A fixed instant the suites build records at (2026-01-01T00:00:00Z).
pub fn epoch() -> Timestamp {
    Timestamp::from_unix_millis(1_767_225_600_000).expect("valid instant")
}

/// An id created `offset_ms` after [`epoch`], with `n` in its random bits so ids at the same instant differ.
pub fn id_at(offset_ms: i64, n: u64) -> ImageId {
    let mut random = [0u8; 10];
    random[2..].copy_from_slice(&n.to_be_bytes());
    ImageId::from_parts(
        Timestamp::from_unix_millis(epoch().unix_millis() + offset_ms).expect("valid"),
        random,
    )
}

/// An owner named `name` (panics if the name is not a valid owner).
pub fn owner(name: &str) -> Owner {
    Owner::parse(name).expect("valid owner")
}

/// The owner of the suites' records unless a test says otherwise.
pub fn default_owner() -> Owner {
    owner("owner-a")
}

/// A fresh `AWAITING_UPLOAD` record for `id`, owned by [`default_owner`].
pub fn record(id: ImageId) -> ImageRecord {
    record_of(id, default_owner())
}

/// A fresh `AWAITING_UPLOAD` record for `id`, owned by `owner`.
pub fn record_of(id: ImageId, owner: Owner) -> ImageRecord {
    let created = id.created_at();
    ImageRecord::awaiting_upload(NewUpload {
        image_id: id,
        owner,
        bucket: "conformance".into(),
        file_name: FileName::sanitize(&format!("scan {id}.png")).expect("valid name"),
        content_type: ContentType::Png,
        size_bytes: Some(1234),
        sha256: None,
        created_at: created,
        upload_expires_at: created.saturating_add(std::time::Duration::from_secs(300)),
    })
}

/// How long the suites' claims hold.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(900);

/// `record` changed through its parts by `change` (panics if the result is inconsistent): for tests
/// that need a field no transition sets, such as another bucket.
pub fn with_parts(record: ImageRecord, change: impl FnOnce(&mut RecordParts)) -> ImageRecord {
    let mut parts = record.into_parts();
    change(&mut parts);
    ImageRecord::from_parts(parts).expect("consistent parts")
}

/// `record` taken to `status` through its transitions at `now` (claimed first, then completed with
/// `result`, rejected or failed), with `sha256` as the measured hash.
pub fn advanced_with(
    record: &ImageRecord,
    status: ImageStatus,
    sha256: Option<Sha256Digest>,
    result: &OcrResult,
    now: Timestamp,
) -> ImageRecord {
    if status == ImageStatus::AwaitingUpload {
        return record.next(now);
    }
    let claimed = record.claim(now, LEASE).expect("claim");
    let measured = Measurements {
        sha256,
        ..Measurements::default()
    };
    match status {
        ImageStatus::Processed => claimed.complete(now, &measured, result),
        ImageStatus::Rejected => {
            claimed.reject(now, &measured, RejectionCode::Corrupt, "rejected by a test")
        }
        ImageStatus::Failed => claimed.fail(
            now,
            Some(&measured),
            FailureCode::OcrError,
            "failed by a test",
        ),
        _ => Ok(claimed),
    }
    .expect("transition")
}

/// `record` taken to `status` as [`advanced_with`] does, with an empty OCR result.
pub fn advanced(
    record: &ImageRecord,
    status: ImageStatus,
    sha256: Option<Sha256Digest>,
    now: Timestamp,
) -> ImageRecord {
    let empty = OcrResult::new("conformance-engine", Vec::new(), false).expect("result");
    advanced_with(record, status, sha256, &empty, now)
}
