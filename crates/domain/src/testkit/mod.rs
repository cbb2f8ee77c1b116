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

pub mod images;
pub mod keys;
pub mod ocr;
pub mod queue;
pub mod repository;
pub mod scenarios;
pub mod search;
pub mod signer;
pub mod store;

mod counting;

pub use counting::CountingOcr;

use crate::model::{ContentType, FileName, ImageId, ImageRecord, NewUpload, Owner, Timestamp};

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
    ImageRecord::awaiting_upload(NewUpload::new(
        id,
        owner,
        "conformance",
        FileName::sanitize(&format!("scan {id}.png")).expect("valid name"),
        ContentType::Png,
        Some(1234),
        None,
        created,
        created.saturating_add(std::time::Duration::from_secs(300)),
    ))
}
