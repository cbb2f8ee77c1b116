//! Every route and error case of the API, in-process with `tower::ServiceExt::oneshot` over the memory
//! adapters; and the route table against `openapi.yaml` and the router.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use intake_domain::IntakeConfig;
use intake_domain::model::Sha256Digest;
use intake_domain::model::{ApiKeyRecord, ApiKeySecret, KeyId};
use intake_domain::ports::KeyStore as _;
use intake_domain::services::ApiKeys;
use intake_domain::services::ObjectCreated;
use intake_domain::testkit::images::png;
use intake_domain::testkit::scenarios::Harness;
use intake_domain::testkit::{default_owner, epoch, owner};
use intake_http::{ApiKeyAuth, ROUTES};
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

/// The API as the local server serves it: API keys, and the key routes.
fn app_with_keys(intake: intake_domain::Intake, keys: ApiKeys) -> axum::Router {
    intake_http::app_with_routes(
        intake,
        std::sync::Arc::new(ApiKeyAuth::new(keys.clone())),
        intake_http::ApiOptions::default(),
        axum::Router::new(),
        intake_http::key_routes(keys),
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

#[tokio::test]
async fn post_uploads_answers_the_seed_fields() {
    let h = MemoryHarness::default();
    let reply = post_json(
        &h,
        "/uploads",
        &json!({"filename": "example.png", "contentType": "image/png"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    for field in [
        "uploadUrl",
        "bucket",
        "objectKey",
        "imageId",
        "expiresInSeconds",
        "requiredHeaders",
        "expiresAt",
    ] {
        assert!(
            reply.body.get(field).is_some(),
            "{field} missing: {}",
            reply.body
        );
    }
    assert_eq!(reply.body["expiresInSeconds"], 300);
    assert_eq!(reply.body["requiredHeaders"]["if-none-match"], "*");
    assert_eq!(reply.body["requiredHeaders"]["content-type"], "image/png");
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    assert_eq!(
        location,
        format!("/images/{}", reply.body["imageId"].as_str().unwrap())
    );
}

/// One table row per refused request (the table is long by design).
#[tokio::test]
#[allow(clippy::too_many_lines, clippy::type_complexity)]
async fn bad_upload_requests_are_typed_4xx() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_upload_bytes(1000),
        ScriptedOcr::default(),
    );
    let cases: Vec<(Option<(&str, String)>, StatusCode, &str)> = vec![
        (
            Some(("application/json", "{not json".into())),
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
        ),
        // deep nesting is refused at the first bracket, without recursing
        (
            Some(("application/json", "[".repeat(10_000))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some((
                "application/json",
                format!(r#"{{"filename":{}"#, "{\"a\":".repeat(5_000)),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some(("application/json", r#"{"filename":"a.png"}"#.into())),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png","owner":"x"}"#.into(),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        // the same fields as an array: serde alone would take it
        (
            Some((
                "application/json",
                r#"["a.png","image/png",null,null]"#.into(),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":7,"contentType":"image/png"}"#.into(),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png","sizeBytes":-1}"#.into(),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            Some((
                "text/plain",
                r#"{"filename":"a.png","contentType":"image/png"}"#.into(),
            )),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            Some((
                "application/json",
                format!(
                    r#"{{"filename":"{}","contentType":"image/png"}}"#,
                    "a".repeat(100_000)
                ),
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"../","contentType":"image/png"}"#.into(),
            )),
            StatusCode::BAD_REQUEST,
            "INVALID_FILE_NAME",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.svg","contentType":"image/svg+xml"}"#.into(),
            )),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_CONTENT_TYPE",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png","sizeBytes":1001}"#.into(),
            )),
            StatusCode::PAYLOAD_TOO_LARGE,
            "TOO_LARGE",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png","sizeBytes":0}"#.into(),
            )),
            StatusCode::BAD_REQUEST,
            "EMPTY_UPLOAD",
        ),
        (
            Some((
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png","sha256":"xyz"}"#.into(),
            )),
            StatusCode::BAD_REQUEST,
            "INVALID_SHA256",
        ),
    ];
    for (body, status, code) in cases {
        let reply = call(&h, Method::POST, "/uploads", body.clone()).await;
        assert_error(&reply, status, code);
    }
    assert!(h.repository.is_empty(), "a refused request left a record");
}

#[tokio::test]
async fn list_shows_metadata_newest_first_with_cursors_and_filters() {
    let h = MemoryHarness::default();
    let mut ids = Vec::new();
    for seed in 1..=3 {
        ids.push(uploaded(&h, seed).await);
    }
    ids.reverse();
    let page = call(&h, Method::GET, "/images?limit=2", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let images = page.body["images"].as_array().unwrap();
    assert_eq!(
        images
            .iter()
            .map(|i| i["imageId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ids[..2]
    );
    assert!(
        images
            .iter()
            .all(|i| i.get("ocrText").is_none() && i.get("ocrLines").is_none()),
        "listing carries OCR text"
    );
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = call(
        &h,
        Method::GET,
        &format!("/images?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(rest.body["images"][0]["imageId"], ids[2].as_str());
    assert!(rest.body.get("nextCursor").is_none());
    let processed = call(&h, Method::GET, "/images?status=PROCESSED", None).await;
    assert_eq!(processed.body["images"].as_array().unwrap().len(), 3);
    let sha = Sha256Digest::of(&png(320, 120, 2)).to_hex();
    let same = call(&h, Method::GET, &format!("/images?sha256={sha}"), None).await;
    assert_eq!(same.body["images"][0]["imageId"], ids[1].as_str());
}

#[tokio::test]
async fn bad_list_queries_are_400() {
    let h = MemoryHarness::default();
    for (query, code) in [
        ("limit=0", "INVALID_LIMIT"),
        ("limit=1001", "INVALID_LIMIT"),
        ("limit=ten", "INVALID_QUERY"),
        ("limit=-1", "INVALID_QUERY"),
        ("status=DONE", "INVALID_STATUS"),
        ("sha256=abc", "INVALID_SHA256"),
        ("cursor=not-a-cursor", "INVALID_CURSOR"),
        ("cursor=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "INVALID_CURSOR"),
        ("owner=someone", "INVALID_QUERY"),
    ] {
        assert_error(
            &call(&h, Method::GET, &format!("/images?{query}"), None).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }
}

#[tokio::test]
async fn search_finds_ocr_text_with_snippets_filters_and_pages() {
    let h = MemoryHarness::default();
    let png_sha = |seed| Sha256Digest::of(&png(320, 120, seed));
    h.ocr.respond_to(
        png_sha(1),
        intake_memory::Scripted::Text(
            ScriptedOcr::text(
                "scripted",
                &["ACME Café", "Total RM9.00", "Paid 4721.08"],
                90.0,
            )
            .unwrap(),
        ),
    );
    let receipt = uploaded(&h, 1).await;
    let cheque = uploaded(&h, 2).await;
    let other = uploaded(&h, 3).await;

    let reply = call(&h, Method::GET, "/images?q=rm9.00", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let images = reply.body["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{}", reply.body);
    assert_eq!(images[0]["imageId"], receipt.as_str());
    assert_eq!(images[0]["match"]["lines"], json!([1]));
    assert_eq!(
        images[0]["match"]["snippet"],
        json!([{"text": "Total ", "matched": false}, {"text": "RM9.00", "matched": true}])
    );
    assert!(images[0].get("ocrText").is_none(), "{}", reply.body);

    // Diacritics folded, prefixes, the default scripted text of the other two.
    let reply = call(&h, Method::GET, "/images?q=cafe", None).await;
    assert_eq!(reply.body["images"][0]["imageId"], receipt.as_str());
    let reply = call(&h, Method::GET, "/images?q=thous&limit=1", None).await;
    assert_eq!(reply.body["images"].as_array().unwrap().len(), 1);
    let cursor = reply.body["nextCursor"].as_str().unwrap().to_owned();
    let first = reply.body["images"][0]["imageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = call(
        &h,
        Method::GET,
        &format!("/images?q=thous&limit=1&cursor={cursor}"),
        None,
    )
    .await;
    let second = reply.body["images"][0]["imageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut both = vec![first, second];
    both.sort();
    let mut want = vec![cheque.clone(), other.clone()];
    want.sort();
    assert_eq!(both, want);
    assert!(reply.body.get("nextCursor").is_none(), "{}", reply.body);
    // A search's cursor is refused by another search and by the listing.
    for uri in [
        format!("/images?q=dollars&limit=1&cursor={cursor}"),
        format!("/images?limit=1&cursor={cursor}"),
    ] {
        assert_error(
            &call(&h, Method::GET, &uri, None).await,
            StatusCode::BAD_REQUEST,
            "INVALID_CURSOR",
        );
    }
    // Filters combine; another owner finds nothing.
    let reply = call(&h, Method::GET, "/images?q=thousand&status=REJECTED", None).await;
    assert_eq!(reply.body["images"], json!([]));
    let reply = call_as(&h, Some(&key_b()), Method::GET, "/images?q=thousand", None).await;
    assert_eq!(reply.body["images"], json!([]));
    for q in ["%20", ";;", &"w%20".repeat(17), &"a".repeat(257)] {
        assert_error(
            &call(&h, Method::GET, &format!("/images?q={q}"), None).await,
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH",
        );
    }
}

#[tokio::test]
async fn search_without_a_search_adapter_is_501() {
    let h = MemoryHarness::default();
    let intake = intake_domain::Intake::builder()
        .store(h.store.clone())
        .signer(intake_memory::MemoryUrlSigner::default())
        .repository(h.repository.clone())
        .ocr(h.ocr.clone())
        .build()
        .unwrap();
    let response = app(intake)
        .await
        .oneshot(
            Request::builder()
                .uri("/images?q=invoice")
                .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "SEARCH_UNAVAILABLE", "{body}");
}

#[tokio::test]
async fn get_returns_ocr_text_and_a_download_url_and_delete_hides_the_image() {
    let h = MemoryHarness::default();
    let id = uploaded(&h, 7).await;
    let reply = call(&h, Method::GET, &format!("/images/{id}"), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["ocrText"],
        "PAY TO THE ORDER OF\nONE THOUSAND DOLLARS"
    );
    assert_eq!(reply.body["ocrLineCount"], 2);
    assert_eq!(reply.body["ocrAvgConfidencePct"], 93.5);
    assert!(
        reply.body.get("ocrLines").is_none(),
        "lines without include"
    );
    let with_lines = call(
        &h,
        Method::GET,
        &format!("/images/{id}?include=ocrLines"),
        None,
    )
    .await;
    assert_eq!(with_lines.status, StatusCode::OK);
    assert_eq!(with_lines.body["ocrLines"][0]["words"][0]["text"], "PAY");
    assert_eq!(with_lines.body["ocrText"], reply.body["ocrText"]);
    for query in [
        "include=ocrText",
        "include=",
        "detail=lines",
        "include=ocrLines&include=ocrLines",
    ] {
        assert_error(
            &call(&h, Method::GET, &format!("/images/{id}?{query}"), None).await,
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        );
    }
    assert!(
        reply.body["downloadUrl"]
            .as_str()
            .unwrap()
            .starts_with("http://memory.invalid/")
    );
    assert!(reply.body["downloadUrlExpiresAt"].is_string());
    let delete = call(&h, Method::DELETE, &format!("/images/{id}"), None).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    assert_eq!(delete.body, Value::Null);
    assert_eq!(
        call(&h, Method::DELETE, &format!("/images/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT,
        "not idempotent"
    );
    assert_error(
        &call(&h, Method::GET, &format!("/images/{id}"), None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
    assert!(
        call(&h, Method::GET, "/images", None).await.body["images"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids_routes_and_methods() {
    let h = MemoryHarness::default();
    let unknown = intake_domain::testkit::id_at(0, 1);
    assert_error(
        &call(&h, Method::GET, &format!("/images/{unknown}"), None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
    assert_error(
        &call(&h, Method::DELETE, &format!("/images/{unknown}"), None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    );
    for bad in [
        "not-a-uuid",
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "%00",
        "..%2F..%2Fetc",
    ] {
        assert_error(
            &call(&h, Method::GET, &format!("/images/{bad}"), None).await,
            StatusCode::BAD_REQUEST,
            "INVALID_IMAGE_ID",
        );
    }
    assert_error(
        &call(&h, Method::GET, "/nope", None).await,
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
    );
    assert_error(
        &call(&h, Method::PUT, "/images", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    );
}

#[tokio::test]
async fn health_and_request_ids() {
    let h = MemoryHarness::default();
    let reply = call(&h, Method::GET, "/health", None).await;
    assert_eq!(
        (reply.status, reply.body.clone()),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let generated = reply.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "{generated}");
    let request = Request::builder()
        .uri("/health")
        .header("x-request-id", "client-chosen-42")
        .body(Body::empty())
        .unwrap();
    let response = app(h.intake.clone()).await.oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-chosen-42");
}

#[test]
fn the_route_table_and_openapi_yaml_agree() {
    let spec: Value = serde_norway::from_str(include_str!("../openapi.yaml")).unwrap();
    assert_eq!(spec["openapi"].as_str().unwrap(), "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, served);
    assert!(
        spec["security"].as_array().is_some_and(|s| !s.is_empty()),
        "no global security"
    );
    for route in ROUTES.iter() {
        let operation = &spec["paths"][route.path][route.method.to_lowercase()];
        let public = operation["security"].as_array().is_some_and(Vec::is_empty);
        assert_eq!(
            public, !route.authenticated,
            "{} {}: security differs",
            route.method, route.path
        );
        if route.authenticated {
            assert!(
                operation["responses"].get("401").is_some(),
                "{} {} does not document 401",
                route.method,
                route.path
            );
        }
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let h = MemoryHarness::default();
    let id = intake_domain::testkit::id_at(0, 1).to_string();
    for route in ROUTES.iter() {
        let uri = route.path.replace("{imageId}", &id);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let body = (method == Method::POST).then(|| {
            (
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png"}"#.to_owned(),
            )
        });
        let reply = call(&h, method, &uri, body).await;
        assert!(
            reply.body["error"]["code"] != "ROUTE_NOT_FOUND"
                && reply.body["error"]["code"] != "METHOD_NOT_ALLOWED",
            "{} {} is in the table but not served",
            route.method,
            route.path
        );
    }
}

/// A repository whose every call fails with the error `make` builds.
#[derive(Debug)]
struct Failing(fn() -> intake_domain::ports::RepoError);

#[async_trait::async_trait]
impl intake_domain::ports::ImageRepository for Failing {
    async fn create(
        &self,
        _: &intake_domain::model::ImageRecord,
    ) -> Result<(), intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn get(
        &self,
        _: &intake_domain::model::ImageId,
    ) -> Result<Option<intake_domain::model::ImageRecord>, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn replace(
        &self,
        _: &intake_domain::model::ImageRecord,
        _: u64,
    ) -> Result<(), intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn list(
        &self,
        _: &intake_domain::ports::ListQuery,
    ) -> Result<intake_domain::ports::Page, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn find_processed_by_sha256(
        &self,
        _: &intake_domain::model::Owner,
        _: &Sha256Digest,
        _: u32,
    ) -> Result<Vec<intake_domain::model::ImageRecord>, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
}

#[tokio::test]
async fn dependency_failures_are_429_503_or_500_without_leaking_details() {
    use intake_domain::ports::RepoError;
    type MakeError = fn() -> RepoError;
    let cases: [(MakeError, StatusCode, &str); 3] = [
        (
            || RepoError::Throttled {
                source: "ProvisionedThroughputExceededException: table secret-table".into(),
            },
            StatusCode::TOO_MANY_REQUESTS,
            "THROTTLED",
        ),
        (
            || RepoError::Unavailable {
                source: "connection refused to 10.0.0.7".into(),
            },
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
        ),
        (
            || RepoError::Other {
                source: "item secret-table#42 has no record attribute".into(),
            },
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
        ),
    ];
    for (make, status, code) in cases {
        let intake = intake_domain::Intake::builder()
            .store(intake_memory::MemoryObjectStore::default())
            .signer(intake_memory::MemoryUrlSigner::default())
            .ocr(ScriptedOcr::default())
            .repository(Failing(make))
            .build()
            .unwrap();
        let response = app(intake)
            .await
            .oneshot(
                Request::builder()
                    .uri("/images")
                    .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        if status != StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
        let body: Value =
            serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes())
                .unwrap();
        assert_eq!(body["error"]["code"], code);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("secret") && !message.contains("10.0.0.7"),
            "internal detail leaked: {message}"
        );
    }
}

#[tokio::test]
async fn every_route_but_health_requires_a_valid_key() {
    let h = MemoryHarness::default();
    let revoked = keys().await;
    let extra = revoked
        .create(default_owner(), "soon revoked", false)
        .await
        .unwrap();
    revoked.revoke(extra.record.key_id).await.unwrap();
    let router = app_with_keys(h.intake.clone(), revoked);
    let wrong = ApiKeySecret::new(KeyId::from_bytes([1; 8]), [9; 32]).expose();
    let credentials: [(&str, Option<String>, &str); 6] = [
        ("no credentials", None, "no API key"),
        ("wrong secret", Some(format!("Bearer {wrong}")), "not valid"),
        ("not a key", Some("Bearer hunter2".into()), "not valid"),
        (
            "another scheme",
            Some(format!("Basic {}", key_a())),
            "not valid",
        ),
        (
            "revoked",
            Some(format!("Bearer {}", extra.secret.expose())),
            "revoked",
        ),
        ("empty bearer", Some("Bearer ".into()), "not valid"),
    ];
    let mut routes: Vec<(&str, String)> = ROUTES
        .iter()
        .filter(|r| r.authenticated)
        .map(|r| {
            (
                r.method,
                r.path
                    .replace("{imageId}", "0190a0e0-0000-7000-8000-000000000000"),
            )
        })
        .collect();
    routes.extend([("GET", "/keys".to_owned()), ("POST", "/keys".to_owned())]);
    for (method, path) in &routes {
        for (what, authorization, message) in &credentials {
            let mut request = Request::builder()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(path.as_str());
            if let Some(value) = authorization {
                request = request.header(header::AUTHORIZATION, value);
            }
            let response = router
                .clone()
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {what}"
            );
            assert_eq!(
                response.headers()[header::WWW_AUTHENTICATE],
                "Bearer realm=\"intake\""
            );
            let body: Value =
                serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes())
                    .unwrap();
            assert_eq!(body["error"]["code"], "UNAUTHENTICATED", "{what}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(message),
                "{what}: {body}"
            );
        }
    }
    let health = call_as(&h, None, Method::GET, "/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    // The key also works in X-Api-Key.
    let response = router
        .oneshot(
            Request::builder()
                .uri("/images")
                .header("x-api-key", key_a())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_owners_image_is_indistinguishable_from_a_missing_one() {
    let h = MemoryHarness::default();
    let bytes = png(64, 64, 3);
    let upload = h
        .intake
        .request_upload(
            &default_owner(),
            intake_domain::services::UploadRequest::named(
                "x.png",
                intake_domain::model::ContentType::Png,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    h.send(&upload.request(), Some(bytes.clone()))
        .await
        .unwrap();
    h.intake
        .process_object_created(&ObjectCreated::new(
            h.intake.bucket(),
            upload.object_key.clone(),
        ))
        .await
        .unwrap();
    let id = upload.image_id;
    let mine = call(&h, Method::GET, &format!("/images/{id}"), None).await;
    assert_eq!(mine.status, StatusCode::OK);

    let theirs = call_as(
        &h,
        Some(&key_b()),
        Method::GET,
        &format!("/images/{id}"),
        None,
    )
    .await;
    let missing_id = "0190a0e0-0000-7000-8000-000000000000";
    let missing = call_as(
        &h,
        Some(&key_b()),
        Method::GET,
        &format!("/images/{missing_id}"),
        None,
    )
    .await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(
        theirs.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&id.to_string(), "ID"),
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .replace(missing_id, "ID"),
        "the answers differ"
    );
    let delete = call_as(
        &h,
        Some(&key_b()),
        Method::DELETE,
        &format!("/images/{id}"),
        None,
    )
    .await;
    assert_error(&delete, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(
        call(&h, Method::GET, &format!("/images/{id}"), None)
            .await
            .status,
        StatusCode::OK
    );

    let listed = call_as(&h, Some(&key_b()), Method::GET, "/images", None).await;
    assert_eq!(listed.body["images"], json!([]));
    let dup = call_as(
        &h,
        Some(&key_b()),
        Method::POST,
        "/uploads",
        Some((
            "application/json",
            json!({"filename": "same.png", "contentType": "image/png",
                   "sha256": Sha256Digest::of(&bytes).to_hex()})
            .to_string(),
        )),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CREATED);
    assert!(dup.body.get("duplicateOf").is_none(), "{}", dup.body);
}

#[tokio::test]
async fn admin_keys_manage_keys_and_others_cannot() {
    let h = MemoryHarness::default();
    let router = app(h.intake.clone()).await;
    let send = |key: String, method: Method, uri: String, body: Option<Value>| {
        let router = router.clone();
        async move {
            let mut request = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {key}"));
            if body.is_some() {
                request = request.header(header::CONTENT_TYPE, "application/json");
            }
            let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
            let response = router.oneshot(request.body(body).unwrap()).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let new_key = json!({"owner": "carol", "name": "scanner 3"});
    let (status, body) = send(key_a(), Method::POST, "/keys".into(), Some(new_key.clone())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("ADMIN_REQUIRED"))
    );
    let (status, body) = send(key_a(), Method::GET, "/keys".into(), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, created) = send(key_admin(), Method::POST, "/keys".into(), Some(new_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["owner"].as_str(), created["admin"].as_bool()),
        (Some("carol"), Some(false))
    );
    let carol = created["apiKey"].as_str().unwrap().to_owned();
    let (status, _) = send(carol.clone(), Method::GET, "/images".into(), None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, listed) = send(key_admin(), Method::GET, "/keys".into(), None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = listed["keys"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 4);
    assert!(
        listed
            .iter()
            .all(|k| k.get("apiKey").is_none() && k.get("secretSha256").is_none()),
        "{listed:?}"
    );

    let id = created["keyId"].as_str().unwrap();
    let (status, revoked) = send(key_admin(), Method::DELETE, format!("/keys/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revokedAt"].is_string());
    let (status, _) = send(carol, Method::GET, "/images".into(), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked key still works"
    );

    for (body, code) in [
        (json!({"owner": "", "name": "x"}), "INVALID_OWNER"),
        (json!({"owner": "dave", "name": "\n"}), "INVALID_KEY_NAME"),
    ] {
        let (status, answer) = send(key_admin(), Method::POST, "/keys".into(), Some(body)).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code))
        );
    }
    let (status, answer) = send(key_admin(), Method::DELETE, "/keys/not-hex".into(), None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_KEY_ID"))
    );
    let (status, answer) = send(
        key_admin(),
        Method::DELETE,
        "/keys/00000000000000ff".into(),
        None,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("KEY_NOT_FOUND"))
    );
    let admin_id = KeyId::from_bytes([3; 8]);
    let (status, answer) = send(
        key_admin(),
        Method::DELETE,
        format!("/keys/{admin_id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("LAST_ADMIN_KEY"))
    );
}

/// A preflight for `POST /uploads` from `origin`, through an API allowing `allowed`.
async fn preflight(allowed: &str, origin: &str) -> axum::response::Response {
    let h = MemoryHarness::new(IntakeConfig::default(), ScriptedOcr::default());
    let keys = keys().await;
    let app = intake_http::app_with_routes(
        h.intake.clone(),
        std::sync::Arc::new(ApiKeyAuth::new(keys.clone())),
        intake_http::ApiOptions::default().with_cors(allowed.parse().unwrap()),
        axum::Router::new(),
        intake_http::key_routes(keys),
    );
    app.oneshot(
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/uploads")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn browsers_on_allowed_origins_pass_preflight_and_no_one_else_does() {
    let allowed = preflight("https://app.example.com", "https://app.example.com").await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let h = allowed.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    let methods = h[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("PUT"),
        "{methods}"
    );
    let headers = h[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("x-amz-checksum-sha256"),
        "{headers}"
    );
    assert!(
        h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none(),
        "credentials are never allowed"
    );
    assert!(h.contains_key("x-request-id"), "preflights carry an id");
    // Another origin gets no permission.
    let other = preflight("https://app.example.com", "https://evil.example").await;
    assert!(
        other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    // `*` lets every origin in, without credentials.
    let any = preflight("*", "https://anyone.example").await;
    assert_eq!(any.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    // By default nothing is allowed: the preflight is a plain OPTIONS, which the route does not take.
    let default = preflight("", "https://app.example.com").await;
    assert_eq!(default.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        default
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn cross_origin_answers_expose_the_headers_clients_read() {
    let h = MemoryHarness::new(IntakeConfig::default(), ScriptedOcr::default());
    let keys = keys().await;
    let app = intake_http::app_with_routes(
        h.intake.clone(),
        std::sync::Arc::new(ApiKeyAuth::new(keys.clone())),
        intake_http::ApiOptions::default().with_cors("http://localhost:5173".parse().unwrap()),
        axum::Router::new(),
        intake_http::key_routes(keys),
    );
    let response = app
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/uploads")
                .header(header::ORIGIN, "http://localhost:5173")
                .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"filename":"a.png","contentType":"image/png"}"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let h = response.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:5173"
    );
    let exposed = h[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["x-request-id", "etag", "location", "retry-after"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
}
