//! Every route and error case of the API, in-process with `tower::ServiceExt::oneshot` over the memory
//! adapters, one file per feature; and the route table against `openapi.yaml` and the router.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::wildcard_imports
)]

mod auth;
mod cors;
mod exports;
mod failures;
mod fields;
mod images;
mod jobs;
mod routes;
mod similar;
mod uploads;
mod webhooks;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use intake_domain::IntakeConfig;
use intake_domain::model::Sha256Digest;
use intake_domain::services::ObjectCreated;
use intake_domain::testkit::images::png;
use intake_domain::testkit::scenarios::Harness;
use intake_domain::testkit::{default_owner, epoch, owner};
use intake_http::{ApiKeyAuth, ROUTES};
use intake_keys::ApiKeys;
use intake_keys::KeyStore as _;
use intake_keys::{ApiKeyRecord, ApiKeySecret, KeyId};
use intake_memory::{MemoryHarness, MemoryKeyStore, ScriptedOcr};
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

/// A fixed key: `n` in every byte of its id and secret.
fn key_secret(n: u8) -> ApiKeySecret {
    ApiKeySecret::new(KeyId::from_bytes([n; 8]), [n; 32])
}

/// The key of [`default_owner`], the one `call` sends.
fn key_a() -> String {
    key_secret(1).expose()
}

/// The key of owner `b`.
fn key_b() -> String {
    key_secret(2).expose()
}

/// The admin key.
fn key_admin() -> String {
    key_secret(3).expose()
}

/// Keys for the default owner (1), owner `b` (2) and an admin (3).
async fn keys() -> ApiKeys {
    let store = MemoryKeyStore::default();
    for (n, who, admin) in [
        (1, default_owner(), false),
        (2, owner("b"), false),
        (3, owner("admin"), true),
    ] {
        let record = ApiKeyRecord::new(&key_secret(n), who, "test", admin, epoch()).unwrap();
        store.create(&record).await.unwrap();
    }
    ApiKeys::new(std::sync::Arc::new(store))
}

/// The API as the local server serves it: API keys, and the key and webhook routes (webhooks over
/// memory adapters).
fn app_with_keys(intake: intake_domain::Intake, keys: ApiKeys) -> axum::Router {
    let webhooks = intake_webhooks::Webhooks::new(
        std::sync::Arc::new(intake_memory::MemoryWebhookStore::default()),
        std::sync::Arc::new(intake_memory::MemoryWebhookSender::default()),
        intake_webhooks::WebhookPolicy::default(),
    );
    let jobs = intake_http::job_routes(
        intake.clone(),
        std::sync::Arc::new(intake_memory::MemoryJobQueue::default()),
    );
    intake_http::app_with_routes(
        intake,
        std::sync::Arc::new(ApiKeyAuth::new(keys.clone())),
        intake_http::ApiOptions::default(),
        axum::Router::new(),
        intake_http::key_routes(keys)
            .merge(intake_http::webhook_routes(webhooks))
            .merge(jobs),
    )
}

async fn app(intake: intake_domain::Intake) -> axum::Router {
    app_with_keys(intake, keys().await)
}

async fn call(h: &MemoryHarness, method: Method, uri: &str, body: Option<(&str, String)>) -> Reply {
    call_as(h, Some(&key_a()), method, uri, body).await
}

async fn call_as(
    h: &MemoryHarness,
    key: Option<&str>,
    method: Method,
    uri: &str,
    body: Option<(&str, String)>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let body = match body {
        Some((content_type, text)) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(text)
        }
        None => Body::empty(),
    };
    let response = app(h.intake.clone())
        .await
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}"))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn post_json(h: &MemoryHarness, uri: &str, body: &Value) -> Reply {
    call(
        h,
        Method::POST,
        uri,
        Some(("application/json", body.to_string())),
    )
    .await
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.body);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.body
    );
    assert!(reply.headers.contains_key("x-request-id"), "no request id");
}

/// Uploads an image through the API and the gateway and processes it; returns its id.
async fn uploaded(h: &MemoryHarness, seed: u64) -> String {
    let bytes = png(320, 120, seed);
    let reply = post_json(
        h,
        "/uploads",
        &json!({"filename": format!("scan {seed}.png"), "contentType": "image/png", "sizeBytes": bytes.len(), "sha256": Sha256Digest::of(&bytes).to_hex()}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let ticket: intake_domain::ports::PresignedRequest =
        intake_domain::ports::PresignedRequest::new(
            intake_domain::ports::HttpMethod::Put,
            reply.body["uploadUrl"].as_str().unwrap(),
            serde_json::from_value(reply.body["requiredHeaders"].clone()).unwrap(),
            intake_domain::ports::Clock::now(&h.clock),
        );
    h.send(&ticket, Some(bytes)).await.unwrap();
    let key = reply.body["objectKey"].as_str().unwrap();
    h.intake
        .process_object_created(&ObjectCreated::new(h.intake.bucket(), key.parse().unwrap()))
        .await
        .unwrap();
    reply.body["imageId"].as_str().unwrap().to_owned()
}
