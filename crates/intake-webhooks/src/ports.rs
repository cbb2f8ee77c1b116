//! The webhook ports: where subscriptions and deliveries are kept ([`WebhookStore`]) and how a
//! signed request reaches a subscriber ([`WebhookSender`]).

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;

use intake_domain::model::{EventId, ImageEvent, Owner, Timestamp};
use intake_domain::ports::{BoxError, Failure, FailureKind, PortError};

use crate::model::{
    Delivery, DeliveryJob, DeliveryReport, WebhookId, WebhookSecret, WebhookSubscription,
    WebhookUrl,
};

/// Why a webhook store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookStoreError {
    /// A subscription with this id exists already.
    #[error("webhook {id} already exists")]
    AlreadyExists {
        /// The id.
        id: WebhookId,
    },
    /// The delivery's lease expired and another worker took it (or it was reported): the report was
    /// not applied.
    #[error("the lease on the delivery of {event} to {webhook} was lost")]
    LeaseLost {
        /// The subscription.
        webhook: WebhookId,
        /// The event.
        event: EventId,
    },
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("the webhook store {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for WebhookStoreError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// Subscriptions, and their deliveries as a durable queue and a log.
///
/// A delivery is one event for one subscription, identified by the pair; queuing it again is a no-op,
/// so an event published twice (the outbox delivers at least once) is delivered as one delivery.
/// Deliveries are leased like jobs: a worker that dies leaves a lease that expires, and the delivery
/// is attempted again. The retry and give-up rules are this crate's
/// ([`crate::Webhooks::deliver_next`]).
#[async_trait]
pub trait WebhookStore: Send + Sync + Debug {
    /// Stores a new subscription.
    ///
    /// # Errors
    /// [`WebhookStoreError::AlreadyExists`] when the id is taken.
    async fn add(&self, subscription: &WebhookSubscription) -> Result<(), WebhookStoreError>;

    /// The subscription with `id`, if any.
    ///
    /// # Errors
    /// As the storage fails.
    async fn get(&self, id: &WebhookId) -> Result<Option<WebhookSubscription>, WebhookStoreError>;

    /// `owner`'s subscriptions, oldest first.
    ///
    /// # Errors
    /// As the storage fails.
    async fn list(&self, owner: &Owner) -> Result<Vec<WebhookSubscription>, WebhookStoreError>;

    /// Removes the subscription with `id` and its deliveries (pending ones are never sent); `false`
    /// when there was none.
    ///
    /// # Errors
    /// As the storage fails.
    async fn remove(&self, id: &WebhookId) -> Result<bool, WebhookStoreError>;

    /// Disables the subscription at `at` for `reason` (`Some`), or enables it again (`None`),
    /// clearing its count of failures; `false` when there is no such subscription. Pending
    /// deliveries of a disabled subscription are given up on when they come due.
    ///
    /// # Errors
    /// As the storage fails.
    async fn set_disabled(
        &self,
        id: &WebhookId,
        disabled: Option<(Timestamp, String)>,
    ) -> Result<bool, WebhookStoreError>;

    /// Queues a delivery of `event` to each of `webhooks`, due at `now`; a pair already queued (or
    /// delivered, or given up on) is left as it is.
    ///
    /// # Errors
    /// As the storage fails; then none of them may have been queued, and the caller tries again.
    async fn enqueue(
        &self,
        event: &ImageEvent,
        webhooks: &[WebhookId],
        now: Timestamp,
    ) -> Result<(), WebhookStoreError>;

    /// Leases the pending delivery that has been due longest (due at or before `now`, not leased or
    /// with a lease that ended) until `now + lease`, counting an attempt. `None` when none is due.
    ///
    /// # Errors
    /// As the storage fails.
    async fn lease(
        &self,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Option<DeliveryJob>, WebhookStoreError>;

    /// Records what the leased attempt came to and ends the lease. Returns the subscription's count
    /// of deliveries given up on since its last success, after this report: a delivery resets it, a
    /// give-up adds one, a retry leaves it.
    ///
    /// # Errors
    /// [`WebhookStoreError::LeaseLost`] when `job`'s lease is no longer held (nothing recorded).
    async fn report(
        &self,
        job: &DeliveryJob,
        report: &DeliveryReport,
    ) -> Result<u32, WebhookStoreError>;

    /// The subscription's deliveries, newest first, at most `limit`: its delivery log.
    ///
    /// # Errors
    /// As the storage fails.
    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, WebhookStoreError>;

    /// When the next pending delivery is due or the earliest lease ends; `None` when nothing is
    /// pending.
    ///
    /// # Errors
    /// As the storage fails.
    async fn next_due(&self) -> Result<Option<Timestamp>, WebhookStoreError>;

    /// Ends every lease, making those deliveries due at once: only for a caller that knows no worker
    /// is alive (a server starting). Returns how many ended.
    ///
    /// # Errors
    /// As the storage fails.
    async fn release_all(&self) -> Result<u64, WebhookStoreError>;
}

/// One signed request to a subscriber, as the service hands it to a sender.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WebhookRequest<'a> {
    /// Where to send.
    pub url: &'a WebhookUrl,
    /// The signing key.
    pub secret: &'a WebhookSecret,
    /// The message id (`webhook-id`): the event's id, the same on every attempt.
    pub id: EventId,
    /// The attempt's time (`webhook-timestamp`).
    pub timestamp: Timestamp,
    /// The body: the event's document.
    pub body: &'a str,
}

impl<'a> WebhookRequest<'a> {
    /// A request for `job`'s attempt at `timestamp`.
    pub fn of(job: &'a DeliveryJob, timestamp: Timestamp) -> Self {
        Self {
            url: &job.url,
            secret: &job.secret,
            id: job.event_id,
            timestamp,
            body: &job.body,
        }
    }
}

/// Why a webhook request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No answer within the sender's time limit.
    #[error("the receiver did not answer in time")]
    Timeout,
    /// The receiver could not be reached (DNS, connection refused, TLS).
    #[error("the receiver could not be reached")]
    Unreachable {
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Anything else.
    #[error("the request failed")]
    Other {
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// Sends one webhook request, signed the way the Standard Webhooks specification describes
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`), as a `POST` with a JSON body. Never
/// follows redirects.
#[async_trait]
pub trait WebhookSender: Send + Sync + Debug {
    /// Sends `request`; returns the HTTP status the receiver answered (any status: the service decides
    /// what it means).
    ///
    /// # Errors
    /// [`SendError`] when no answer came.
    async fn send(&self, request: &WebhookRequest<'_>) -> Result<u16, SendError>;
}
