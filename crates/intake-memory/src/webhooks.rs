use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{EventId, EventKind, ImageEvent, Owner, Timestamp};
use intake_webhooks::{
    Delivery, DeliveryJob, DeliveryReport, DeliveryState, WebhookId, WebhookSubscription,
};
use intake_webhooks::{SendError, WebhookRequest, WebhookSender, WebhookStore, WebhookStoreError};

/// Subscriptions and deliveries in memory, in the order they were made (the reference behaviour of
/// [`WebhookStore`]).
#[derive(Debug, Clone, Default)]
pub struct MemoryWebhookStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    subscriptions: Vec<WebhookSubscription>,
    deliveries: Vec<Row>,
    tokens: u64,
}

#[derive(Debug, Clone)]
struct Row {
    log: Delivery,
    body: String,
    due: Timestamp,
    lease: Option<(u64, Timestamp)>,
}

impl MemoryWebhookStore {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Row {
    fn leasable(&self, now: Timestamp) -> bool {
        self.log.state == DeliveryState::Pending
            && self.due <= now
            && self.lease.is_none_or(|(_, until)| until <= now)
    }

    /// When it may be leased next (pending deliveries only).
    fn free_at(&self) -> Option<Timestamp> {
        (self.log.state == DeliveryState::Pending)
            .then(|| self.lease.map_or(self.due, |(_, until)| until))
    }
}

fn with_log(webhook_id: WebhookId, event_id: EventId, kind: EventKind, now: Timestamp) -> Delivery {
    let mut log = Delivery::new(webhook_id, event_id, kind, now, DeliveryState::Pending, 0);
    log.next_attempt_at = Some(now);
    log
}

#[async_trait]
impl WebhookStore for MemoryWebhookStore {
    async fn add(&self, subscription: &WebhookSubscription) -> Result<(), WebhookStoreError> {
        let mut state = self.state();
        if state.subscriptions.iter().any(|s| s.id == subscription.id) {
            return Err(WebhookStoreError::AlreadyExists {
                id: subscription.id,
            });
        }
        state.subscriptions.push(subscription.clone());
        Ok(())
    }

    async fn get(&self, id: &WebhookId) -> Result<Option<WebhookSubscription>, WebhookStoreError> {
        Ok(self
            .state()
            .subscriptions
            .iter()
            .find(|s| s.id == *id)
            .cloned())
    }

    async fn list(&self, owner: &Owner) -> Result<Vec<WebhookSubscription>, WebhookStoreError> {
        Ok(self
            .state()
            .subscriptions
            .iter()
            .filter(|s| s.owner == *owner)
            .cloned()
            .collect())
    }

    async fn remove(&self, id: &WebhookId) -> Result<bool, WebhookStoreError> {
        let mut state = self.state();
        let before = state.subscriptions.len();
        state.subscriptions.retain(|s| s.id != *id);
        state.deliveries.retain(|d| d.log.webhook_id != *id);
        Ok(state.subscriptions.len() < before)
    }

    async fn set_disabled(
        &self,
        id: &WebhookId,
        disabled: Option<(Timestamp, String)>,
    ) -> Result<bool, WebhookStoreError> {
        let mut state = self.state();
        let Some(subscription) = state.subscriptions.iter_mut().find(|s| s.id == *id) else {
            return Ok(false);
        };
        if let Some((at, reason)) = disabled {
            subscription.disabled_at = Some(at);
            subscription.disabled_reason = Some(reason);
        } else {
            subscription.disabled_at = None;
            subscription.disabled_reason = None;
            subscription.failures_in_a_row = 0;
        }
        Ok(true)
    }

    async fn enqueue(
        &self,
        event: &ImageEvent,
        webhooks: &[WebhookId],
        now: Timestamp,
    ) -> Result<(), WebhookStoreError> {
        let mut state = self.state();
        for webhook in webhooks {
            if !state.subscriptions.iter().any(|s| s.id == *webhook) {
                continue;
            }
            let queued = state
                .deliveries
                .iter()
                .any(|d| d.log.webhook_id == *webhook && d.log.event_id == event.id());
            if !queued {
                state.deliveries.push(Row {
                    log: with_log(*webhook, event.id(), event.kind(), now),
                    body: event.body().to_owned(),
                    due: now,
                    lease: None,
                });
            }
        }
        Ok(())
    }

    async fn lease(
        &self,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Option<DeliveryJob>, WebhookStoreError> {
        let mut state = self.state();
        state.tokens += 1;
        let token = state.tokens;
        let State {
            subscriptions,
            deliveries,
            ..
        } = &mut *state;
        // The delivery due longest: earliest due, then the oldest queued.
        let Some(row) = deliveries
            .iter_mut()
            .filter(|row| row.leasable(now))
            .min_by_key(|row| row.free_at())
        else {
            return Ok(None);
        };
        let Some(subscription) = subscriptions.iter().find(|s| s.id == row.log.webhook_id) else {
            return Ok(None);
        };
        row.lease = Some((token, now.saturating_add(lease)));
        row.log.attempts += 1;
        Ok(Some(DeliveryJob::new(
            subscription,
            row.log.event_id,
            row.body.clone(),
            row.log.attempts,
            token,
        )))
    }

    async fn report(
        &self,
        job: &DeliveryJob,
        report: &DeliveryReport,
    ) -> Result<u32, WebhookStoreError> {
        let mut state = self.state();
        let State {
            subscriptions,
            deliveries,
            ..
        } = &mut *state;
        let row = deliveries
            .iter_mut()
            .find(|row| {
                row.log.webhook_id == job.webhook_id
                    && row.log.event_id == job.event_id
                    && row.lease.is_some_and(|(token, _)| token == job.token)
            })
            .ok_or(WebhookStoreError::LeaseLost {
                webhook: job.webhook_id,
                event: job.event_id,
            })?;
        row.lease = None;
        let subscription = subscriptions.iter_mut().find(|s| s.id == job.webhook_id);
        let mut failures = subscription.as_ref().map_or(0, |s| s.failures_in_a_row);
        match report {
            DeliveryReport::Delivered { at, status } => {
                row.log.state = DeliveryState::Delivered;
                row.log.last_attempt_at = Some(*at);
                row.log.last_status = Some(*status);
                row.log.last_error = None;
                row.log.next_attempt_at = None;
                failures = 0;
            }
            DeliveryReport::Retry {
                at,
                status,
                error,
                next,
            } => {
                row.log.last_attempt_at = Some(*at);
                row.log.last_status = *status;
                row.log.last_error = Some(error.clone());
                row.log.next_attempt_at = Some(*next);
                row.due = *next;
            }
            DeliveryReport::GiveUp { at, status, error } => {
                row.log.state = DeliveryState::Failed;
                row.log.last_attempt_at = Some(*at);
                row.log.last_status = *status;
                row.log.last_error = Some(error.clone());
                row.log.next_attempt_at = None;
                failures += 1;
            }
        }
        if let Some(subscription) = subscription {
            subscription.failures_in_a_row = failures;
        }
        Ok(failures)
    }

    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, WebhookStoreError> {
        Ok(self
            .state()
            .deliveries
            .iter()
            .rev()
            .filter(|row| row.log.webhook_id == *id)
            .take(limit as usize)
            .map(|row| row.log.clone())
            .collect())
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, WebhookStoreError> {
        Ok(self
            .state()
            .deliveries
            .iter()
            .filter_map(Row::free_at)
            .min())
    }

    async fn release_all(&self) -> Result<u64, WebhookStoreError> {
        let mut state = self.state();
        let mut released = 0;
        for row in &mut state.deliveries {
            if row.lease.take().is_some() && row.log.state == DeliveryState::Pending {
                released += 1;
            }
        }
        Ok(released)
    }
}

/// One request a [`MemoryWebhookSender`] was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentWebhook {
    /// Where it went.
    pub url: String,
    /// Its `webhook-id`.
    pub id: EventId,
    /// Its `webhook-timestamp`.
    pub timestamp: Timestamp,
    /// Its body.
    pub body: String,
}

/// A sender that records requests and answers with a scripted status (200 unless told otherwise), or
/// fails to connect: for tests of the delivery rules without a network.
#[derive(Debug, Clone)]
pub struct MemoryWebhookSender {
    sent: Arc<Mutex<Vec<SentWebhook>>>,
    answer: Arc<Mutex<Option<u16>>>,
}

impl Default for MemoryWebhookSender {
    fn default() -> Self {
        Self {
            sent: Arc::default(),
            answer: Arc::new(Mutex::new(Some(200))),
        }
    }
}

/// The fault a [`MemoryWebhookSender`] reports when told the receiver is unreachable.
#[derive(Debug, thiserror::Error)]
#[error("connection refused (scripted)")]
pub struct Unreachable;

impl MemoryWebhookSender {
    /// Answers `status` from now on (`None`: the receiver cannot be reached).
    pub fn answer(&self, status: Option<u16>) {
        *self.answer.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }

    /// Every request so far, oldest first.
    pub fn sent(&self) -> Vec<SentWebhook> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl WebhookSender for MemoryWebhookSender {
    async fn send(&self, request: &WebhookRequest<'_>) -> Result<u16, SendError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(SentWebhook {
                url: request.url.to_string(),
                id: request.id,
                timestamp: request.timestamp,
                body: request.body.to_owned(),
            });
        let answer = *self.answer.lock().unwrap_or_else(PoisonError::into_inner);
        answer.ok_or_else(|| SendError::Unreachable {
            source: Box::new(Unreachable),
        })
    }
}
