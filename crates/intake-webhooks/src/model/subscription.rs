//! An owner's subscription: where it points, what it receives, and its secret.

#[allow(
    clippy::wildcard_imports,
    reason = "the model's values and imports, one module apart"
)]
use super::*;

/// One owner's subscription to their images' events.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct WebhookSubscription {
    /// The id.
    pub id: WebhookId,
    /// Whose images' events it receives.
    pub owner: Owner,
    /// Where they go.
    pub url: WebhookUrl,
    /// Which events.
    pub events: EventFilter,
    /// The signing key.
    pub secret: WebhookSecret,
    /// A label for people.
    pub description: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was disabled (after repeated failures, or a `410 Gone`); a disabled subscription gets
    /// no new deliveries until it is enabled again.
    pub disabled_at: Option<Timestamp>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Deliveries given up on since the last one that succeeded.
    pub failures_in_a_row: u32,
}

impl WebhookSubscription {
    /// A new, enabled subscription.
    ///
    /// # Errors
    /// [`WebhookError::Description`] for an overlong description or one with control characters.
    pub fn new(
        owner: Owner,
        url: WebhookUrl,
        events: EventFilter,
        secret: WebhookSecret,
        description: Option<&str>,
        created_at: Timestamp,
    ) -> Result<Self, WebhookError> {
        if description.is_some_and(|d| {
            d.chars().count() > MAX_WEBHOOK_DESCRIPTION_CHARS || d.chars().any(char::is_control)
        }) {
            return Err(WebhookError::Description);
        }
        let description = description.map(str::trim).filter(|d| !d.is_empty());
        Ok(Self {
            id: WebhookId::generate(created_at),
            owner,
            url,
            events,
            secret,
            description: description.map(str::to_owned),
            created_at,
            disabled_at: None,
            disabled_reason: None,
            failures_in_a_row: 0,
        })
    }

    /// Whether it receives `event`: enabled, the event's owner's, and of a kind it asked for.
    pub fn wants(&self, event: &ImageEvent) -> bool {
        self.disabled_at.is_none()
            && self.owner == *event.owner()
            && self.events.wants(event.kind())
    }
}
