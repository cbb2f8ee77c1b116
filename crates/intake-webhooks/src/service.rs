//! Webhooks: owners subscribe URLs to their images' events; published events fan out into durable
//! deliveries; each delivery is signed, sent, retried with exponential back-off and logged; a
//! subscription whose deliveries keep failing is disabled.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{ImageEvent, Owner, Timestamp};
use intake_domain::ports::{
    Clock, EventPublisher, Failure, FailureKind, PortError, PublishError, SystemClock,
};
use intake_domain::services::{JobPolicy, jitter};
use intake_domain::{ErrorKind, IntakeConfig, ServiceError, error_chain};

use crate::model::{
    Delivery, DeliveryJob, DeliveryReport, EventFilter, HostAllowList, WebhookError, WebhookId,
    WebhookSecret, WebhookSubscription, WebhookUrl,
};
use crate::ports::{SendError, WebhookRequest, WebhookSender, WebhookStore, WebhookStoreError};

/// How webhook deliveries are retried and when a subscription is disabled.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WebhookPolicy {
    /// Where deliveries may go (checked when subscribing and again before every attempt).
    pub allowed_hosts: HostAllowList,
    /// Retry delays (exponential, with jitter) and the lease of an attempt. `max_attempts` is the
    /// number of attempts before a delivery is given up on.
    pub retries: JobPolicy,
    /// After this many deliveries given up on in a row, the subscription is disabled.
    pub disable_after: u32,
    /// The most subscriptions one owner may have.
    pub max_per_owner: usize,
}

impl Default for WebhookPolicy {
    /// Local hosts only; attempts after 10 s, 20 s, 40 s ... at most 2 hours apart, 12 attempts in
    /// all (about 5 hours); disabled after 5 deliveries given up on in a row; 20 per owner.
    fn default() -> Self {
        Self {
            allowed_hosts: HostAllowList::local(),
            retries: JobPolicy::for_config(&IntakeConfig::default())
                .with_lease(Duration::from_secs(60))
                .with_backoff(Duration::from_secs(10), Duration::from_secs(2 * 3600))
                .with_max_attempts(12),
            disable_after: 5,
            max_per_owner: 20,
        }
    }
}

impl WebhookPolicy {
    /// With another allow-list.
    #[must_use]
    pub fn with_allowed_hosts(mut self, hosts: HostAllowList) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    /// With other retry delays and attempt limit.
    #[must_use]
    pub fn with_retries(mut self, retries: JobPolicy) -> Self {
        self.retries = retries;
        self
    }

    /// With another threshold for disabling.
    #[must_use]
    pub fn with_disable_after(mut self, deliveries: u32) -> Self {
        self.disable_after = deliveries.max(1);
        self
    }
}

/// Why a webhook operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhooksError {
    /// The request is invalid (URL, host, events, description, id).
    #[error(transparent)]
    Invalid(#[from] WebhookError),
    /// No such subscription (or it is another owner's).
    #[error("webhook {id} not found")]
    NotFound {
        /// The id.
        id: WebhookId,
    },
    /// The owner has as many subscriptions as allowed.
    #[error("an owner may have at most {max} webhooks")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] WebhookStoreError),
}

impl ServiceError for WebhooksError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::InvalidInput,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::TooMany { .. } => ErrorKind::Conflict,
            Self::Store(e) => e
                .failure()
                .map_or(ErrorKind::Internal, FailureKind::error_kind),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(WebhookError::HostNotAllowed { .. }) => "WEBHOOK_HOST_NOT_ALLOWED",
            Self::Invalid(WebhookError::Url(_)) => "INVALID_WEBHOOK_URL",
            Self::Invalid(WebhookError::Events(_)) => "INVALID_EVENT_TYPE",
            Self::Invalid(WebhookError::Id) => "INVALID_WEBHOOK_ID",
            Self::Invalid(_) => "INVALID_WEBHOOK",
            Self::NotFound { .. } => "WEBHOOK_NOT_FOUND",
            Self::TooMany { .. } => "TOO_MANY_WEBHOOKS",
            Self::Store(e) => e.failure().map_or("INTERNAL", FailureKind::code),
        }
    }
}

/// A subscription just made, with the only showing of its secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewWebhook {
    /// The stored subscription.
    pub subscription: WebhookSubscription,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// Delivered (2xx).
    Delivered {
        /// The subscription.
        webhook: WebhookId,
        /// The status.
        status: u16,
    },
    /// Failed; another attempt is due at `next`.
    Retrying {
        /// The subscription.
        webhook: WebhookId,
        /// What went wrong.
        error: String,
        /// When it runs again.
        next: Timestamp,
    },
    /// Failed for the last time; `disabled` when the subscription was disabled as a result.
    GaveUp {
        /// The subscription.
        webhook: WebhookId,
        /// What went wrong.
        error: String,
        /// Whether the subscription was disabled.
        disabled: bool,
    },
}

/// The webhook rules over a [`WebhookStore`] and a [`WebhookSender`]. As an [`EventPublisher`] it
/// fans each event out into a delivery per subscription that wants it; [`Webhooks::deliver_next`]
/// makes one attempt.
#[derive(Clone, Debug)]
pub struct Webhooks {
    store: Arc<dyn WebhookStore>,
    sender: Arc<dyn WebhookSender>,
    clock: Arc<dyn Clock>,
    policy: WebhookPolicy,
}

impl Webhooks {
    /// The rules over `store` and `sender`, on the system clock.
    pub fn new(
        store: Arc<dyn WebhookStore>,
        sender: Arc<dyn WebhookSender>,
        policy: WebhookPolicy,
    ) -> Self {
        Self {
            store,
            sender,
            clock: Arc::new(SystemClock),
            policy,
        }
    }

    /// On another clock (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &WebhookPolicy {
        &self.policy
    }

    /// Subscribes `url` to `owner`'s events of the `events` kinds, with a fresh secret.
    ///
    /// # Errors
    /// [`WebhooksError::Invalid`] for a bad URL, a host not on the allow-list, or a bad description;
    /// [`WebhooksError::TooMany`] past the per-owner limit; store errors.
    pub async fn subscribe(
        &self,
        owner: &Owner,
        url: &str,
        events: EventFilter,
        description: Option<&str>,
    ) -> Result<NewWebhook, WebhooksError> {
        let url = WebhookUrl::parse(url)?;
        self.policy.allowed_hosts.check(&url)?;
        if self.store.list(owner).await?.len() >= self.policy.max_per_owner {
            return Err(WebhooksError::TooMany {
                max: self.policy.max_per_owner,
            });
        }
        let secret = WebhookSecret::generate().map_err(|e| {
            WebhooksError::Store(WebhookStoreError::from(Failure::other(format!(
                "no randomness from the operating system: {e}"
            ))))
        })?;
        let subscription = WebhookSubscription::new(
            owner.clone(),
            url,
            events,
            secret,
            description,
            self.clock.now(),
        )?;
        self.store.add(&subscription).await?;
        // The host only: a URL's path and query may carry the subscriber's own tokens.
        tracing::info!(webhook = %subscription.id, owner = %owner, host = %subscription.url.host(), "webhook subscribed");
        Ok(NewWebhook { subscription })
    }

    /// `owner`'s subscriptions, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, owner: &Owner) -> Result<Vec<WebhookSubscription>, WebhooksError> {
        Ok(self.store.list(owner).await?)
    }

    /// One of `owner`'s subscriptions.
    ///
    /// # Errors
    /// [`WebhooksError::NotFound`] when it does not exist or is another owner's; store errors.
    pub async fn get(
        &self,
        owner: &Owner,
        id: WebhookId,
    ) -> Result<WebhookSubscription, WebhooksError> {
        self.store
            .get(&id)
            .await?
            .filter(|s| s.owner == *owner)
            .ok_or(WebhooksError::NotFound { id })
    }

    /// Removes one of `owner`'s subscriptions; its pending deliveries are dropped.
    ///
    /// # Errors
    /// [`WebhooksError::NotFound`] when it does not exist or is another owner's; store errors.
    pub async fn unsubscribe(&self, owner: &Owner, id: WebhookId) -> Result<(), WebhooksError> {
        self.get(owner, id).await?;
        self.store.remove(&id).await?;
        tracing::info!(webhook = %id, owner = %owner, "webhook removed");
        Ok(())
    }

    /// Enables one of `owner`'s subscriptions again after it was disabled.
    ///
    /// # Errors
    /// [`WebhooksError::NotFound`] when it does not exist or is another owner's; store errors.
    pub async fn enable(
        &self,
        owner: &Owner,
        id: WebhookId,
    ) -> Result<WebhookSubscription, WebhooksError> {
        self.get(owner, id).await?;
        self.store.set_disabled(&id, None).await?;
        self.get(owner, id).await
    }

    /// The delivery log of one of `owner`'s subscriptions, newest first.
    ///
    /// # Errors
    /// [`WebhooksError::NotFound`] when it does not exist or is another owner's; store errors.
    pub async fn deliveries(
        &self,
        owner: &Owner,
        id: WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, WebhooksError> {
        self.get(owner, id).await?;
        Ok(self.store.deliveries(&id, limit.clamp(1, 1000)).await?)
    }

    /// When the next delivery is due (for a worker's sleep).
    ///
    /// # Errors
    /// Store errors.
    pub async fn next_due(&self) -> Result<Option<Timestamp>, WebhooksError> {
        Ok(self.store.next_due().await?)
    }

    /// Ends every delivery lease: for a server starting on storage no other process uses.
    ///
    /// # Errors
    /// Store errors.
    pub async fn release_all(&self) -> Result<u64, WebhooksError> {
        Ok(self.store.release_all().await?)
    }

    /// Makes one attempt at the delivery due longest, if any: checks that its host is still allowed
    /// and its subscription enabled, sends it signed, and records the outcome: done on a 2xx, given
    /// up on after the last allowed attempt (a `410 Gone` gives up and disables at once), otherwise
    /// retried after an exponential back-off. A subscription whose deliveries were given up on
    /// [`WebhookPolicy::disable_after`] times in a row is disabled.
    ///
    /// # Errors
    /// Store errors (the attempt's lease then runs out and it is made again).
    pub async fn deliver_next(&self) -> Result<Option<AttemptOutcome>, WebhooksError> {
        let now = self.clock.now();
        let Some(job) = self.store.lease(now, self.policy.retries.lease).await? else {
            return Ok(None);
        };
        let enabled = self
            .store
            .get(&job.webhook_id)
            .await?
            .is_some_and(|s| s.disabled_at.is_none());
        let (status, error, final_now) = if !enabled {
            (None, "the webhook is disabled".to_owned(), true)
        } else if let Err(refused) = self.policy.allowed_hosts.check(&job.url) {
            (None, refused.to_string(), true)
        } else {
            match self.sender.send(&WebhookRequest::of(&job, now)).await {
                Ok(status) if (200..300).contains(&status) => {
                    return self.settle(&job, now, Ok(status)).await.map(Some);
                }
                Ok(410) => (Some(410), "the receiver answered 410 Gone".to_owned(), true),
                Ok(status) => (
                    Some(status),
                    format!("the receiver answered {status}"),
                    false,
                ),
                Err(error) => (None, send_error(&error), false),
            }
        };
        let attempt = FailedAttempt {
            status,
            error,
            last: final_now || job.attempts >= self.policy.retries.max_attempts,
            disable_now: status == Some(410),
            already_disabled: !enabled,
        };
        self.settle(&job, now, Err(attempt)).await.map(Some)
    }

    /// Records an attempt's outcome and disables the subscription when the rules say so.
    async fn settle(
        &self,
        job: &DeliveryJob,
        at: Timestamp,
        result: Result<u16, FailedAttempt>,
    ) -> Result<AttemptOutcome, WebhooksError> {
        let webhook = job.webhook_id;
        let failed = match result {
            Ok(status) => {
                self.store
                    .report(job, &DeliveryReport::Delivered { at, status })
                    .await?;
                return Ok(AttemptOutcome::Delivered { webhook, status });
            }
            Err(failed) => failed,
        };
        if !failed.last {
            let next = at.saturating_add(self.policy.retries.backoff(job.attempts, jitter()));
            self.store
                .report(
                    job,
                    &DeliveryReport::Retry {
                        at,
                        status: failed.status,
                        error: failed.error.clone(),
                        next,
                    },
                )
                .await?;
            tracing::warn!(webhook = %webhook, event = %job.event_id, attempts = job.attempts, error = %failed.error, next = %next, "webhook delivery failed; will retry");
            return Ok(AttemptOutcome::Retrying {
                webhook,
                error: failed.error,
                next,
            });
        }
        let in_a_row = self
            .store
            .report(
                job,
                &DeliveryReport::GiveUp {
                    at,
                    status: failed.status,
                    error: failed.error.clone(),
                },
            )
            .await?;
        // A delivery given up on because its subscription is disabled already changes nothing more.
        let disable = !failed.already_disabled
            && (failed.disable_now || in_a_row >= self.policy.disable_after);
        let disabled = disable
            && self
                .store
                .set_disabled(
                    &webhook,
                    Some((
                        at,
                        format!(
                            "{in_a_row} deliveries in a row failed; the last: {}",
                            failed.error
                        ),
                    )),
                )
                .await?;
        tracing::error!(webhook = %webhook, event = %job.event_id, attempts = job.attempts, error = %failed.error, disabled, "gave up on a webhook delivery");
        Ok(AttemptOutcome::GaveUp {
            webhook,
            error: failed.error,
            disabled,
        })
    }
}

/// A failed attempt, before it is recorded.
struct FailedAttempt {
    status: Option<u16>,
    error: String,
    /// No attempt follows.
    last: bool,
    /// The receiver asked never to be called again.
    disable_now: bool,
    /// The subscription was disabled before this attempt.
    already_disabled: bool,
}

fn send_error(error: &SendError) -> String {
    let text = error_chain(error);
    text.chars().take(500).collect()
}

/// Fans each event out into one delivery per subscription of its owner that wants it. The deliveries
/// are durable once this returns, so the outbox may forget the events.
#[async_trait]
impl EventPublisher for Webhooks {
    async fn publish(&self, events: &[ImageEvent]) -> Result<(), PublishError> {
        let now = self.clock.now();
        let mut owners: Vec<(Owner, Vec<WebhookSubscription>)> = Vec::new();
        for event in events {
            let index = if let Some(i) = owners.iter().position(|(o, _)| o == event.owner()) {
                i
            } else {
                let subscriptions = self
                    .store
                    .list(event.owner())
                    .await
                    .map_err(store_to_publish)?;
                owners.push((event.owner().clone(), subscriptions));
                owners.len() - 1
            };
            let wanting: Vec<WebhookId> = owners
                .get(index)
                .map(|(_, subs)| {
                    subs.iter()
                        .filter(|s| s.wants(event))
                        .map(|s| s.id)
                        .collect()
                })
                .unwrap_or_default();
            if !wanting.is_empty() {
                self.store
                    .enqueue(event, &wanting, now)
                    .await
                    .map_err(store_to_publish)?;
            }
        }
        Ok(())
    }
}

fn store_to_publish(error: WebhookStoreError) -> PublishError {
    if error.is_retryable() {
        PublishError::from(Failure::unavailable(error))
    } else {
        PublishError::from(Failure::other(error))
    }
}
