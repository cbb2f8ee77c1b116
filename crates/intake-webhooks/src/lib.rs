//! # intake-webhooks
//!
//! Webhooks, a bounded context of their own beside the image pipeline: owners subscribe URLs to their
//! images' events ([`WebhookSubscription`]), published events fan out into durable deliveries, and
//! each delivery is signed, sent, retried with exponential back-off and logged ([`Webhooks`]). The
//! crate depends on the domain for what it reacts to (events, owners, time) and for the shared port
//! failure and service error protocol; the domain knows nothing of webhooks.
//!
//! The storage and the HTTP client are ports ([`WebhookStore`], [`WebhookSender`]), implemented by
//! the adapter crates. With the `testkit` feature, [`testkit`] offers the store's conformance suite.

pub mod model;
pub mod ports;
pub mod service;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use model::{
    Delivery, DeliveryJob, DeliveryReport, DeliveryState, EventFilter, HostAllowList,
    MAX_WEBHOOK_DESCRIPTION_CHARS, MAX_WEBHOOK_URL_BYTES, WebhookError, WebhookId, WebhookSecret,
    WebhookSubscription, WebhookUrl,
};
pub use ports::{SendError, WebhookRequest, WebhookSender, WebhookStore, WebhookStoreError};
pub use service::{AttemptOutcome, NewWebhook, WebhookPolicy, Webhooks, WebhooksError};
