//! The log of each delivery: its state, its attempts, and what a delivery job carries.

#[allow(
    clippy::wildcard_imports,
    reason = "the model's values and imports, one module apart"
)]
use super::*;

/// Where a delivery stands.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up on after its last allowed attempt (or its subscription was disabled).
    Failed,
}

impl DeliveryState {
    /// The stable text form (`PENDING`, `DELIVERED`, `FAILED`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the text form (`None` for any other text).
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One event's delivery to one subscription, as its log shows it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Delivery {
    /// The subscription.
    pub webhook_id: WebhookId,
    /// The event (its id is the `webhook-id` header of every attempt).
    pub event_id: EventId,
    /// The event's kind.
    pub event_kind: EventKind,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<Timestamp>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<Timestamp>,
    /// The HTTP status the receiver last answered, if it answered.
    pub last_status: Option<u16>,
    /// What went wrong with the last attempt, if anything.
    pub last_error: Option<String>,
}

impl Delivery {
    /// A delivery as a store read it back.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        webhook_id: WebhookId,
        event_id: EventId,
        event_kind: EventKind,
        created_at: Timestamp,
        state: DeliveryState,
        attempts: u32,
    ) -> Self {
        Self {
            webhook_id,
            event_id,
            event_kind,
            created_at,
            state,
            attempts,
            next_attempt_at: None,
            last_attempt_at: None,
            last_status: None,
            last_error: None,
        }
    }
}

/// A delivery leased for one attempt: everything the sender needs, and the lease's token.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct DeliveryJob {
    /// The subscription.
    pub webhook_id: WebhookId,
    /// The owner of the subscription.
    pub owner: Owner,
    /// Where to send.
    pub url: WebhookUrl,
    /// The signing key.
    pub secret: WebhookSecret,
    /// The event.
    pub event_id: EventId,
    /// The event's document (the request body).
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// The lease's token: a report with another is refused.
    pub token: u64,
}

impl DeliveryJob {
    /// A leased delivery (for store adapters).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        subscription: &WebhookSubscription,
        event_id: EventId,
        body: String,
        attempts: u32,
        token: u64,
    ) -> Self {
        Self {
            webhook_id: subscription.id,
            owner: subscription.owner.clone(),
            url: subscription.url.clone(),
            secret: subscription.secret.clone(),
            event_id,
            body,
            attempts,
            token,
        }
    }
}

/// What an attempt came to, as the store records it. Exhaustive: a store must record every case.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DeliveryReport {
    /// The receiver answered 2xx: the delivery is done.
    Delivered {
        /// When.
        at: Timestamp,
        /// The status.
        status: u16,
    },
    /// It failed; try again at `next`.
    Retry {
        /// When the attempt was made.
        at: Timestamp,
        /// The status, if the receiver answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// When to try again.
        next: Timestamp,
    },
    /// It failed for the last time: the delivery is given up on.
    GiveUp {
        /// When the attempt was made.
        at: Timestamp,
        /// The status, if the receiver answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
    },
}
