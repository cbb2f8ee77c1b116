//! Webhook subscriptions for the local server: `POST /webhooks`, `GET /webhooks`,
//! `GET /webhooks/{webhookId}`, `DELETE /webhooks/{webhookId}`, `POST /webhooks/{webhookId}/enable`
//! and `GET /webhooks/{webhookId}/deliveries`. Each caller sees and manages their own subscriptions
//! only; another owner's answers 404. On AWS, events go to EventBridge instead (rules route them).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use intake_domain::model::{EventId, EventKind, Timestamp};
use intake_webhooks::{Delivery, EventFilter, WebhookId, WebhookSubscription};
use intake_webhooks::{Webhooks, WebhooksError};
use serde::{Deserialize, Serialize};

use crate::extract::{ApiJson, ApiQuery, Id};
use crate::{ApiError, Caller, Route};

/// A subscription as shown: everything but its secret, which only the answer to its creation holds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookView {
    webhook_id: WebhookId,
    url: String,
    events: Vec<EventKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    created_at: Timestamp,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    consecutive_failures: u32,
    /// The signing secret: only in the answer to the creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl From<WebhookSubscription> for WebhookView {
    fn from(s: WebhookSubscription) -> Self {
        Self {
            webhook_id: s.id,
            url: s.url.to_string(),
            events: s.events.kinds().to_vec(),
            description: s.description,
            created_at: s.created_at,
            enabled: s.disabled_at.is_none(),
            disabled_at: s.disabled_at,
            disabled_reason: s.disabled_reason,
            consecutive_failures: s.failures_in_a_row,
            secret: None,
        }
    }
}

/// One delivery of the log.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryView {
    event_id: EventId,
    event_type: EventKind,
    created_at: Timestamp,
    state: &'static str,
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_attempt_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            event_id: d.event_id,
            event_type: d.event_kind,
            created_at: d.created_at,
            state: d.state.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
        }
    }
}

/// The body of `POST /webhooks`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewWebhookBody {
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

/// The query of `GET /webhooks/{webhookId}/deliveries`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    #[serde(default)]
    limit: Option<u32>,
}

/// The webhook routes with their handlers, in one table (see [`WEBHOOK_ROUTES`]).
fn table() -> [(Route, MethodRouter<Webhooks>); 6] {
    let route = Route::authenticated;
    [
        (route("POST", "/webhooks"), post(create_webhook)),
        (route("GET", "/webhooks"), get(list_webhooks)),
        (route("GET", "/webhooks/{webhookId}"), get(get_webhook)),
        (
            route("DELETE", "/webhooks/{webhookId}"),
            delete(delete_webhook),
        ),
        (
            route("POST", "/webhooks/{webhookId}/enable"),
            post(enable_webhook),
        ),
        (
            route("GET", "/webhooks/{webhookId}/deliveries"),
            get(list_deliveries),
        ),
    ]
}

/// The local server's webhook routes: documented in `openapi.yaml` as `x-local-only` (on AWS, events
/// go to EventBridge), and checked against it like [`crate::ROUTES`].
pub static WEBHOOK_ROUTES: std::sync::LazyLock<Vec<Route>> =
    std::sync::LazyLock::new(|| crate::routes::listed(table()));

/// The webhook routes over `webhooks`. Serve them behind authentication (the `authenticated` routes
/// of [`crate::app_with_routes`]).
pub fn webhook_routes(webhooks: Webhooks) -> Router {
    crate::routes::build(table(), webhooks)
}

async fn create_webhook(
    State(webhooks): State<Webhooks>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let events = EventFilter::parse(body.events.iter().map(String::as_str))
        .map_err(WebhooksError::Invalid)?;
    let created = webhooks
        .subscribe(
            &caller.owner,
            &body.url,
            events,
            body.description.as_deref(),
        )
        .await?;
    let secret = created.subscription.secret.expose();
    let mut view = WebhookView::from(created.subscription);
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn list_webhooks(
    State(webhooks): State<Webhooks>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let all: Vec<WebhookView> = webhooks
        .list(&caller.owner)
        .await?
        .into_iter()
        .map(WebhookView::from)
        .collect();
    Ok(Json(serde_json::json!({ "webhooks": all })))
}

async fn get_webhook(
    State(webhooks): State<Webhooks>,
    caller: Caller,
    Id(id): Id<WebhookId>,
) -> Result<Json<WebhookView>, ApiError> {
    let found = webhooks.get(&caller.owner, id).await?;
    Ok(Json(WebhookView::from(found)))
}

async fn delete_webhook(
    State(webhooks): State<Webhooks>,
    caller: Caller,
    Id(id): Id<WebhookId>,
) -> Result<StatusCode, ApiError> {
    webhooks.unsubscribe(&caller.owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable_webhook(
    State(webhooks): State<Webhooks>,
    caller: Caller,
    Id(id): Id<WebhookId>,
) -> Result<Json<WebhookView>, ApiError> {
    let enabled = webhooks.enable(&caller.owner, id).await?;
    Ok(Json(WebhookView::from(enabled)))
}

async fn list_deliveries(
    State(webhooks): State<Webhooks>,
    caller: Caller,
    Id(id): Id<WebhookId>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(intake_domain::IntakeError::InvalidLimit {
            limit: u64::from(limit),
            max: 1000,
        }
        .into());
    }
    let log: Vec<DeliveryView> = webhooks
        .deliveries(&caller.owner, id, limit)
        .await?
        .into_iter()
        .map(DeliveryView::from)
        .collect();
    Ok(Json(serde_json::json!({ "deliveries": log })))
}
