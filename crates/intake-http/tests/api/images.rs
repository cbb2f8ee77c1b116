//! `GET /images` (listing, filters, search) and `GET`/`DELETE /images/{imageId}`; unknown ids, routes and methods; health and request ids.

use super::*;

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

#[tokio::test]
async fn reprocessing_takes_an_optional_engine_and_refuses_bad_bodies() {
    let h = MemoryHarness::default();
    let id = uploaded(&h, 71).await;
    let uri = format!("/images/{id}/reprocess");
    for (body, status, code) in [
        (
            r#"{"engine":"no-such-engine"}"#,
            StatusCode::BAD_REQUEST,
            "UNKNOWN_ENGINE",
        ),
        ("{", StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
        ("[1]", StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
        (
            r#"{"engine":"x","more":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
        (
            r#"{"engine":7}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
        ),
    ] {
        let reply = call(
            &h,
            Method::POST,
            &uri,
            Some(("application/json", body.to_owned())),
        )
        .await;
        assert_error(&reply, status, code);
    }
    let engine = h.ocr.capabilities_name();
    let reply = call(
        &h,
        Method::POST,
        &uri,
        Some(("application/json", format!(r#"{{"engine":"{engine}"}}"#))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.body["status"], "PROCESSING");
    assert_eq!(reply.body["history"][0]["status"], "PROCESSED");
    let again = call(&h, Method::POST, &uri, None).await;
    assert_error(&again, StatusCode::CONFLICT, "INVALID_STATE");
}
