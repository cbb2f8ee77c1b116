//! API key management for the local server: `GET /keys`, `POST /keys`, `DELETE /keys/{keyId}`, for
//! admin keys only. Documented in `openapi.yaml` as `x-local-only`: on AWS, identities come from the
//! authorizer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use intake_domain::model::Owner;
use intake_keys::{ApiKeyRecord, KeyId};
use intake_keys::{ApiKeys, KeyError};
use serde::{Deserialize, Serialize};

use crate::extract::{ApiJson, Id};
use crate::{ApiError, Caller, Route};

/// A key as listed: everything but its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyView {
    key_id: KeyId,
    owner: Owner,
    name: String,
    admin: bool,
    created_at: intake_domain::model::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<intake_domain::model::Timestamp>,
    /// The key itself: only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            key_id: key.key_id,
            owner: key.owner,
            name: key.name,
            admin: key.admin,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
            api_key: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewKey {
    owner: String,
    name: String,
    #[serde(default)]
    admin: bool,
}

/// The key routes with their handlers, in one table (see [`KEY_ROUTES`]).
fn table() -> [(Route, MethodRouter<ApiKeys>); 3] {
    let route = Route::authenticated;
    [
        (route("GET", "/keys"), get(list_keys)),
        (route("POST", "/keys"), post(create_key)),
        (route("DELETE", "/keys/{keyId}"), delete(revoke_key)),
    ]
}

/// The local server's key routes: documented in `openapi.yaml` as `x-local-only`, and checked against
/// it like [`crate::ROUTES`].
pub static KEY_ROUTES: std::sync::LazyLock<Vec<Route>> =
    std::sync::LazyLock::new(|| crate::routes::listed(table()));

/// The key management routes over `keys`. Serve them behind authentication (the `authenticated`
/// routes of [`crate::app_with_routes`]); each also requires an admin caller (403 `ADMIN_REQUIRED`).
pub fn key_routes(keys: ApiKeys) -> Router {
    crate::routes::build(table(), keys)
}

async fn list_keys(
    State(keys): State<ApiKeys>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin("managing API keys")?;
    let all: Vec<KeyView> = keys.list().await?.into_iter().map(KeyView::from).collect();
    Ok(Json(serde_json::json!({ "keys": all })))
}

async fn create_key(
    State(keys): State<ApiKeys>,
    caller: Caller,
    ApiJson(new): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    caller.require_admin("managing API keys")?;
    let owner = Owner::parse(&new.owner).map_err(KeyError::from)?;
    let issued = keys.create(owner, &new.name, new.admin).await?;
    tracing::info!(key_id = %issued.record.key_id, admin = new.admin, "API key created");
    let mut view = KeyView::from(issued.record);
    view.api_key = Some(issued.secret.expose());
    Ok((StatusCode::CREATED, Json(view)))
}

async fn revoke_key(
    State(keys): State<ApiKeys>,
    caller: Caller,
    Id(id): Id<KeyId>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require_admin("managing API keys")?;
    let revoked = keys.revoke(id).await?;
    tracing::info!(key_id = %id, "API key revoked");
    Ok(Json(KeyView::from(revoked)))
}
