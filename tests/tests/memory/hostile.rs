//! The hostile-input corpus against the memory adapters, through the API router in process.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt as _;
use intake_domain::model::{ObjectKey, Timestamp};
use intake_domain::ports::{HttpMethod, PresignedRequest};
use intake_domain::testkit::scenarios::Harness;
use intake_http::ApiKeyAuth;
use intake_keys::ApiKeys;
use intake_memory::{MemoryHarness, MemoryKeyStore};
use serde_json::Value;
use tower::ServiceExt as _;

#[path = "../common/hostile.rs"]
mod corpus;

use corpus::{Answer, Target};

struct Memory {
    h: MemoryHarness,
    router: axum::Router,
    key: String,
}

#[async_trait]
impl Target for Memory {
    fn reads_pdf(&self) -> bool {
        false
    }

    async fn api(&self, method: &str, path: &str, json_body: Option<Vec<u8>>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key));
        if json_body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let body = json_body.map_or_else(Body::empty, Body::from);
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> u16 {
        let headers: BTreeMap<String, String> = ticket["requiredHeaders"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let request = PresignedRequest::new(
            HttpMethod::Put,
            ticket["uploadUrl"].as_str().unwrap(),
            headers,
            Timestamp::parse_rfc3339(ticket["expiresAt"].as_str().unwrap()).unwrap(),
        );
        match self.h.send(&request, Some(bytes.into())).await {
            Ok(_) => 200,
            Err(refusal) => refusal.status,
        }
    }

    async fn settle(&self, ticket: &Value) -> Value {
        let key = ObjectKey::parse(ticket["objectKey"].as_str().unwrap()).unwrap();
        self.h.notify(&key).await.unwrap();
        let id = ticket["imageId"].as_str().unwrap();
        self.api("GET", &format!("/images/{id}"), None).await.body
    }
}

#[tokio::test]
async fn the_hostile_corpus_gets_its_expected_answers() {
    let h = MemoryHarness::default();
    let keys = ApiKeys::new(Arc::new(MemoryKeyStore::default()));
    let key = keys
        .create(intake_domain::testkit::default_owner(), "corpus", false)
        .await
        .unwrap()
        .secret
        .expose();
    let router = intake_http::app_with_routes(
        h.intake.clone(),
        Arc::new(ApiKeyAuth::new(keys)),
        intake_http::ApiOptions::default(),
        axum::Router::new(),
        axum::Router::new(),
    );
    corpus::run(&Memory { h, router, key }).await;
}
