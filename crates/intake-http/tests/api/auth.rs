//! API keys: every route but health needs one, owners see only their own images, admins manage keys.

use super::*;

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
    routes.extend(
        intake_http::WEBHOOK_ROUTES
            .iter()
            .chain(intake_http::JOB_ROUTES.iter())
            .map(|r| {
                (
                    r.method,
                    r.path
                        .replace("{webhookId}", "wh_0190a0e000007000800000000000000a")
                        .replace("{imageId}", "0190a0e0-0000-7000-8000-000000000000"),
                )
            }),
    );
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
