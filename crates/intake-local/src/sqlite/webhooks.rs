//! Webhook subscriptions and their deliveries in SQLite, next to the records. A delivery is a row per
//! (subscription, event), leased like a job (a random token and an expiry written in one
//! transaction), and kept after it ends as the subscription's delivery log. The signing secret is
//! stored as it is (the HMAC needs it): the database file is as private as the server's own key.

use std::time::Duration;

use async_trait::async_trait;
use intake_domain::model::{EventId, EventKind, ImageEvent, Owner, Timestamp};
use intake_webhooks::{
    Delivery, DeliveryJob, DeliveryReport, DeliveryState, EventFilter, WebhookId, WebhookSecret,
    WebhookSubscription, WebhookUrl,
};
use intake_webhooks::{WebhookStore, WebhookStoreError};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::Database;

/// The webhook store over one SQLite database file (see [`super::SqliteDatabase::webhooks`]).
#[derive(Debug, Clone)]
pub struct SqliteWebhookStore {
    db: Database,
}

port_errors!(WebhookStoreError);

const SUBSCRIPTION_COLUMNS: &str = "webhook_id, owner, url, events, secret, description, created_ms, disabled_ms, disabled_reason, failures_in_a_row";

/// A subscription's row, as read.
type SubscriptionRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    u32,
);

fn instant(ms: i64) -> Result<Timestamp, WebhookStoreError> {
    Timestamp::from_unix_millis(ms).map_err(other)
}

fn subscription_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<SubscriptionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

fn decode_subscription(row: SubscriptionRow) -> Result<WebhookSubscription, WebhookStoreError> {
    let (id, owner, url, events, secret, description, created, disabled, reason, failures) = row;
    let mut subscription = WebhookSubscription::new(
        Owner::parse(&owner).map_err(other)?,
        WebhookUrl::parse(&url).map_err(other)?,
        EventFilter::parse(events.split(',')).map_err(other)?,
        WebhookSecret::parse(&secret).map_err(other)?,
        description.as_deref(),
        instant(created)?,
    )
    .map_err(other)?;
    subscription.id = WebhookId::parse(&id).map_err(other)?;
    subscription.disabled_at = disabled.map(instant).transpose()?;
    subscription.disabled_reason = reason;
    subscription.failures_in_a_row = failures;
    Ok(subscription)
}

fn read_subscription(
    conn: &Connection,
    id: &str,
) -> Result<Option<WebhookSubscription>, WebhookStoreError> {
    conn.prepare_cached(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhooks WHERE webhook_id = ?1"
    ))
    .and_then(|mut select| select.query_row(params![id], subscription_of).optional())
    .map_err(db_error)?
    .map(decode_subscription)
    .transpose()
}

/// A random lease token.
fn new_token() -> i64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
    i64::from_le_bytes(first)
}

fn events_text(filter: &EventFilter) -> String {
    filter
        .kinds()
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl SqliteWebhookStore {
    /// The store of a database opened with [`super::SqliteDatabase`].
    pub(super) fn on(db: Database) -> Self {
        Self { db }
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`WebhookStoreError`] when SQLite cannot start.
    pub fn in_memory() -> Result<Self, WebhookStoreError> {
        Ok(Self {
            db: Database::in_memory().map_err(db_error)?,
        })
    }
}

#[async_trait]
impl WebhookStore for SqliteWebhookStore {
    async fn add(&self, subscription: &WebhookSubscription) -> Result<(), WebhookStoreError> {
        let s = subscription.clone();
        self.db
            .with(move |conn| {
                let inserted = conn
                    .execute(
                        "INSERT INTO webhooks (webhook_id, owner, url, events, secret, description, created_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (webhook_id) DO NOTHING",
                        params![
                            s.id.to_string(),
                            s.owner.as_str(),
                            s.url.as_str(),
                            events_text(&s.events),
                            s.secret.expose(),
                            s.description,
                            s.created_at.unix_millis(),
                        ],
                    )
                    .map_err(db_error)?;
                if inserted == 0 {
                    return Err(WebhookStoreError::AlreadyExists { id: s.id });
                }
                Ok(())
            })
            .await
    }

    async fn get(&self, id: &WebhookId) -> Result<Option<WebhookSubscription>, WebhookStoreError> {
        let id = id.to_string();
        self.db.read(move |conn| read_subscription(conn, &id)).await
    }

    async fn list(&self, owner: &Owner) -> Result<Vec<WebhookSubscription>, WebhookStoreError> {
        let owner = owner.as_str().to_owned();
        self.db
            .read(move |conn| {
                let mut select = conn
                    .prepare_cached(&format!(
                        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhooks WHERE owner = ?1 ORDER BY seq"
                    ))
                    .map_err(db_error)?;
                let rows = select
                    .query_map(params![owner], subscription_of)
                    .map_err(db_error)?;
                rows.map(|row| decode_subscription(row.map_err(db_error)?))
                    .collect()
            })
            .await
    }

    async fn remove(&self, id: &WebhookId) -> Result<bool, WebhookStoreError> {
        let id = id.to_string();
        self.db
            .with(move |conn| {
                conn.execute(
                    "DELETE FROM webhook_deliveries WHERE webhook_id = ?1",
                    params![id],
                )
                .map_err(db_error)?;
                let removed = conn
                    .execute("DELETE FROM webhooks WHERE webhook_id = ?1", params![id])
                    .map_err(db_error)?;
                Ok(removed > 0)
            })
            .await
    }

    async fn set_disabled(
        &self,
        id: &WebhookId,
        disabled: Option<(Timestamp, String)>,
    ) -> Result<bool, WebhookStoreError> {
        let id = id.to_string();
        self.db
            .with(move |conn| {
                let changed = match disabled {
                    Some((at, reason)) => conn.execute(
                        "UPDATE webhooks SET disabled_ms = ?2, disabled_reason = ?3 WHERE webhook_id = ?1",
                        params![id, at.unix_millis(), reason],
                    ),
                    None => conn.execute(
                        "UPDATE webhooks SET disabled_ms = NULL, disabled_reason = NULL, failures_in_a_row = 0
                         WHERE webhook_id = ?1",
                        params![id],
                    ),
                }
                .map_err(db_error)?;
                Ok(changed > 0)
            })
            .await
    }

    async fn enqueue(
        &self,
        event: &ImageEvent,
        webhooks: &[WebhookId],
        now: Timestamp,
    ) -> Result<(), WebhookStoreError> {
        if webhooks.is_empty() {
            return Ok(());
        }
        let event_id = event.id().to_string();
        let kind = event.kind().as_str();
        let body = event.body().to_owned();
        let webhooks: Vec<String> = webhooks.iter().map(ToString::to_string).collect();
        self.db
            .with(move |conn| {
                let mut insert = conn
                    .prepare_cached(
                        // Only for a subscription that still exists (in the same statement, so a
                        // removal cannot slip in between): no delivery without its subscription.
                        "INSERT INTO webhook_deliveries
                           (webhook_id, event_id, event_type, body, created_ms, state, due_ms, free_at_ms)
                         SELECT ?1, ?2, ?3, ?4, ?5, 'PENDING', ?5, ?5
                         WHERE EXISTS (SELECT 1 FROM webhooks WHERE webhook_id = ?1)
                         ON CONFLICT (webhook_id, event_id) DO NOTHING",
                    )
                    .map_err(db_error)?;
                for webhook in &webhooks {
                    insert
                        .execute(params![webhook, event_id, kind, body, now.unix_millis()])
                        .map_err(db_error)?;
                }
                Ok(())
            })
            .await
    }

    async fn lease(
        &self,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Option<DeliveryJob>, WebhookStoreError> {
        let until = now.saturating_add(lease).unix_millis();
        self.db
            .with(move |conn| {
                let found: Option<(i64, String, String, String, u32)> = conn
                    .query_row(
                        "SELECT seq, webhook_id, event_id, body, attempts FROM webhook_deliveries
                         WHERE free_at_ms <= ?1 ORDER BY free_at_ms, seq LIMIT 1",
                        params![now.unix_millis()],
                        |row| {
                            Ok((
                                row.get(0)?,
                                row.get(1)?,
                                row.get(2)?,
                                row.get(3)?,
                                row.get(4)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(db_error)?;
                let Some((seq, webhook, event, body, attempts)) = found else {
                    return Ok(None);
                };
                let Some(subscription) = read_subscription(conn, &webhook)? else {
                    return Ok(None);
                };
                let token = new_token();
                let attempts = attempts.saturating_add(1);
                conn.execute(
                    "UPDATE webhook_deliveries SET attempts = ?2, lease_token = ?3, free_at_ms = ?4
                     WHERE seq = ?1",
                    params![seq, attempts, token, until],
                )
                .map_err(db_error)?;
                Ok(Some(DeliveryJob::new(
                    &subscription,
                    EventId::parse(&event).map_err(other)?,
                    body,
                    attempts,
                    u64::from_le_bytes(token.to_le_bytes()),
                )))
            })
            .await
    }

    async fn report(
        &self,
        job: &DeliveryJob,
        report: &DeliveryReport,
    ) -> Result<u32, WebhookStoreError> {
        let webhook = job.webhook_id.to_string();
        let event = job.event_id.to_string();
        let token = i64::from_le_bytes(job.token.to_le_bytes());
        let lost = WebhookStoreError::LeaseLost {
            webhook: job.webhook_id,
            event: job.event_id,
        };
        let report = report.clone();
        self.db
            .with(move |conn| {
                let held: Option<i64> = conn
                    .query_row(
                        "SELECT seq FROM webhook_deliveries
                         WHERE webhook_id = ?1 AND event_id = ?2 AND lease_token = ?3 AND state = 'PENDING'",
                        params![webhook, event, token],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(db_error)?;
                let Some(seq) = held else {
                    return Err(lost);
                };
                let (state, at, status, error, next, failures) = match &report {
                    DeliveryReport::Delivered { at, status } => {
                        (DeliveryState::Delivered, *at, Some(*status), None, None, "0")
                    }
                    DeliveryReport::Retry { at, status, error, next } => (
                        DeliveryState::Pending,
                        *at,
                        *status,
                        Some(error.clone()),
                        Some(next.unix_millis()),
                        "failures_in_a_row",
                    ),
                    DeliveryReport::GiveUp { at, status, error } => (
                        DeliveryState::Failed,
                        *at,
                        *status,
                        Some(error.clone()),
                        None,
                        "failures_in_a_row + 1",
                    ),
                };
                conn.execute(
                    "UPDATE webhook_deliveries SET state = ?2, lease_token = NULL, due_ms = ?3, free_at_ms = ?3,
                       last_attempt_ms = ?4, last_status = ?5, last_error = ?6 WHERE seq = ?1",
                    params![seq, state.as_str(), next, at.unix_millis(), status, error],
                )
                .map_err(db_error)?;
                conn.prepare_cached(&format!(
                    "UPDATE webhooks SET failures_in_a_row = {failures} WHERE webhook_id = ?1
                     RETURNING failures_in_a_row"
                ))
                .and_then(|mut update| {
                    update
                        .query_row(params![webhook], |row| row.get::<_, u32>(0))
                        .optional()
                })
                .map(Option::unwrap_or_default)
                .map_err(db_error)
            })
            .await
    }

    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, WebhookStoreError> {
        let id = id.to_string();
        self.db
            .read(move |conn| {
                let mut select = conn
                    .prepare_cached(
                        "SELECT webhook_id, event_id, event_type, created_ms, state, attempts, due_ms,
                                last_attempt_ms, last_status, last_error
                         FROM webhook_deliveries WHERE webhook_id = ?1 ORDER BY seq DESC LIMIT ?2",
                    )
                    .map_err(db_error)?;
                let rows = select
                    .query_map(params![id, i64::from(limit)], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                            row.get::<_, String>(4)?,
                            row.get::<_, u32>(5)?,
                            row.get::<_, Option<i64>>(6)?,
                            row.get::<_, Option<i64>>(7)?,
                            row.get::<_, Option<u16>>(8)?,
                            row.get::<_, Option<String>>(9)?,
                        ))
                    })
                    .map_err(db_error)?;
                let mut log = Vec::new();
                for row in rows {
                    let (webhook, event, kind, created, state, attempts, due, last, status, error) =
                        row.map_err(db_error)?;
                    let state = DeliveryState::parse(&state)
                        .ok_or_else(|| other(UnknownState(state.clone())))?;
                    let mut delivery = Delivery::new(
                        WebhookId::parse(&webhook).map_err(other)?,
                        EventId::parse(&event).map_err(other)?,
                        kind.parse::<EventKind>().map_err(other)?,
                        instant(created)?,
                        state,
                        attempts,
                    );
                    delivery.next_attempt_at = due.map(instant).transpose()?;
                    delivery.last_attempt_at = last.map(instant).transpose()?;
                    delivery.last_status = status;
                    delivery.last_error = error;
                    log.push(delivery);
                }
                Ok(log)
            })
            .await
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, WebhookStoreError> {
        self.db
            .read(|conn| {
                conn.query_row(
                    "SELECT min(free_at_ms) FROM webhook_deliveries",
                    [],
                    |row| row.get::<_, Option<i64>>(0),
                )
                .map_err(db_error)?
                .map(instant)
                .transpose()
            })
            .await
    }

    async fn release_all(&self) -> Result<u64, WebhookStoreError> {
        self.db
            .with(|conn| {
                let released = conn
                    .execute(
                        "UPDATE webhook_deliveries SET lease_token = NULL, free_at_ms = due_ms
                         WHERE lease_token IS NOT NULL AND state = 'PENDING'",
                        [],
                    )
                    .map_err(db_error)?;
                Ok(u64::try_from(released).unwrap_or(u64::MAX))
            })
            .await
    }
}

/// A delivery row whose state is none of the known ones.
#[derive(Debug, thiserror::Error)]
#[error("unknown delivery state {0:?}")]
struct UnknownState(String);
