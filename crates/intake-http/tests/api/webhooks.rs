//! The webhook routes in-process: the body's rules, owner isolation, the secret shown once.

use super::*;

fn webhook_body(text: &str) -> (&'static str, String) {
    ("application/json", text.to_owned())
}

#[tokio::test]
async fn webhooks_are_created_listed_and_removed_by_their_owner_only() {
    let h = MemoryHarness::default();
    let app = app(h.intake.clone()).await;
    let send = |key: String, method: Method, uri: String, body: Option<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let mut request = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::AUTHORIZATION, format!("Bearer {key}"));
            let body = match body {
                Some((content_type, text)) => {
                    request = request.header(header::CONTENT_TYPE, content_type);
                    Body::from(text)
                }
                None => Body::empty(),
            };
            let response = app.oneshot(request.body(body).unwrap()).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (status, created) = send(
        key_a(),
        Method::POST,
        "/webhooks".into(),
        Some(webhook_body(r#"{"url":"http://localhost:9000/hook","events":["image.failed","image.processed","image.failed"],"description":" ops "}"#)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["events"],
        json!(["image.processed", "image.failed"])
    );
    assert_eq!(created["description"], "ops");
    assert_eq!(created["enabled"], true);
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["webhookId"].as_str().unwrap().to_owned();

    let (status, listed) = send(key_a(), Method::GET, "/webhooks".into(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(listed["webhooks"][0].get("secret").is_none());
    let (status, theirs) = send(key_b(), Method::GET, "/webhooks".into(), None).await;
    assert_eq!((status, &theirs["webhooks"]), (StatusCode::OK, &json!([])));
    for (method, uri) in [
        (Method::GET, format!("/webhooks/{id}")),
        (Method::DELETE, format!("/webhooks/{id}")),
        (Method::POST, format!("/webhooks/{id}/enable")),
        (Method::GET, format!("/webhooks/{id}/deliveries")),
    ] {
        let (status, error) = send(key_b(), method.clone(), uri.clone(), None).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("WEBHOOK_NOT_FOUND")),
            "{method} {uri}"
        );
    }
    let (status, log) = send(
        key_a(),
        Method::GET,
        format!("/webhooks/{id}/deliveries?limit=5"),
        None,
    )
    .await;
    assert_eq!((status, &log["deliveries"]), (StatusCode::OK, &json!([])));
    for bad in ["0", "1001", "x"] {
        let (status, _) = send(
            key_a(),
            Method::GET,
            format!("/webhooks/{id}/deliveries?limit={bad}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
    }
    let (status, _) = send(key_a(), Method::DELETE, format!("/webhooks/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(key_a(), Method::GET, format!("/webhooks/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_webhook_bodies_are_refused_with_their_codes() {
    let h = MemoryHarness::default();
    for (body, status, code) in [
        (
            r#"{"url":"http://169.254.169.254/"}"#,
            400,
            "WEBHOOK_HOST_NOT_ALLOWED",
        ),
        (
            r#"{"url":"gopher://localhost/"}"#,
            400,
            "INVALID_WEBHOOK_URL",
        ),
        (
            r#"{"url":" http://localhost/"}"#,
            400,
            "INVALID_WEBHOOK_URL",
        ),
        (
            r#"{"url":"http://localhost/","events":["image.nope"]}"#,
            400,
            "INVALID_EVENT_TYPE",
        ),
        (
            r#"{"url":"http://localhost/","description":"a\tb"}"#,
            400,
            "INVALID_WEBHOOK",
        ),
        (
            r#"{"url":"http://localhost/","secret":"mine"}"#,
            422,
            "INVALID_BODY",
        ),
        (
            r#"{"url":"http://localhost/","events":null}"#,
            422,
            "INVALID_BODY",
        ),
        (r#"{"events":[]}"#, 422, "INVALID_BODY"),
        ("[1]", 422, "INVALID_BODY"),
        ("{", 400, "MALFORMED_JSON"),
    ] {
        let reply = call(&h, Method::POST, "/webhooks", Some(webhook_body(body))).await;
        assert_eq!(
            (reply.status.as_u16(), reply.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let reply = call(&h, Method::GET, "/webhooks/wh_nothex", None).await;
    assert_eq!(reply.body["error"]["code"], "INVALID_WEBHOOK_ID");
}

#[tokio::test]
async fn an_owner_may_have_twenty_webhooks() {
    let h = MemoryHarness::default();
    let app = app(h.intake.clone()).await;
    for n in 0..21 {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/webhooks")
            .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(format!(
                r#"{{"url":"http://localhost:9000/{n}"}}"#
            )))
            .unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        let expected = if n < 20 {
            StatusCode::CREATED
        } else {
            StatusCode::CONFLICT
        };
        assert_eq!(status, expected, "webhook {n}");
    }
}
