//! Cross-origin requests: preflights and exposed headers.

use super::*;

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
