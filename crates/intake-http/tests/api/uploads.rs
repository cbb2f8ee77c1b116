//! `POST /uploads`: the seed's answer and every refusal.

use super::*;

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
