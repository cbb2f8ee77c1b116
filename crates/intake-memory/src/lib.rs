//! # intake-memory
//!
//! Every Intake port in memory: for tests, for embedders who want Intake's rules without a back-end,
//! and as the reference adapters every conformance suite is first run against.
//!
//! All types are `Default + Clone`; clones share state, so a test keeps a handle to inspect what the
//! services did (objects stored, OCR calls made, the time) while [`intake_domain::Intake`] owns another.
//!
//! [`MemoryGateway`] plays the part of the storage endpoint: it performs presigned requests made by
//! [`MemoryUrlSigner`] against a [`MemoryObjectStore`], enforcing everything the URL binds.

mod clock;
mod events;
mod fingerprints;
mod gateway;
mod keys;
mod ocr;
mod queue;
mod repository;
mod signer;
mod store;
mod webhooks;

#[cfg(feature = "testkit")]
mod harness;

pub use clock::{ManualClock, SequentialIds};
pub use events::{MemoryPublisher, PublisherDown};
pub use fingerprints::MemoryFingerprintIndex;
pub use gateway::{GatewayError, MemoryGateway};
pub use intake_signing::{UrlRefusal, VerifiedUrl};
pub use keys::MemoryKeyStore;
pub use ocr::{OcrCall, SCRIPTED_ENGINE, Scripted, ScriptedError, ScriptedOcr};
pub use queue::MemoryJobQueue;
pub use repository::MemoryRepository;
pub use signer::MemoryUrlSigner;
pub use store::MemoryObjectStore;
pub use webhooks::{MemoryWebhookSender, MemoryWebhookStore, SentWebhook, Unreachable};

#[cfg(feature = "testkit")]
pub use harness::MemoryHarness;
