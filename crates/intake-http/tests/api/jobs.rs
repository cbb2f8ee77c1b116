//! The dead-job routes: admins list, retry and drop; others are refused.

use super::*;

async fn send(app: &axum::Router, key: &str, method: Method, uri: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn dead_jobs_are_listed_retried_and_dropped_by_admins_only() {
    use intake_domain::ports::JobQueue as _;
    let h = MemoryHarness::default();
    let queue = intake_memory::MemoryJobQueue::default();
    let mut ids = Vec::new();
    for n in 0..2 {
        let bytes = png(64, 64, n);
        let request = intake_domain::services::UploadRequest::named(
            &format!("{n}.png"),
            intake_domain::model::ContentType::Png,
        )
        .unwrap();
        let (id, key) = intake_domain::testkit::scenarios::upload(&h, request, bytes).await;
        queue.enqueue(&key, epoch()).await.unwrap();
        let job = queue
            .lease(epoch(), std::time::Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        queue
            .bury(&job, "given up by a test", epoch())
            .await
            .unwrap();
        ids.push(id);
    }
    let app = intake_http::app_with_routes(
        h.intake.clone(),
        std::sync::Arc::new(ApiKeyAuth::new(keys().await)),
        intake_http::ApiOptions::default(),
        axum::Router::new(),
        intake_http::job_routes(h.intake.clone(), std::sync::Arc::new(queue.clone())),
    );
    let (status, listed) = send(&app, &key_admin(), Method::GET, "/jobs?state=dead").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed["stats"],
        json!({"waiting": 0, "leased": 0, "dead": 2})
    );
    let jobs = listed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["imageId"], ids[1].to_string(), "newest first");
    assert_eq!(jobs[0]["reason"], "given up by a test");
    assert_eq!(jobs[0]["attempts"], 1);

    for (method, uri) in [
        (Method::GET, "/jobs?state=dead".to_owned()),
        (Method::POST, format!("/jobs/{}/retry", ids[0])),
        (Method::DELETE, format!("/jobs/{}", ids[0])),
    ] {
        let (status, error) = send(&app, &key_a(), method, &uri).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("ADMIN_REQUIRED"))
        );
    }
    for uri in [
        "/jobs",
        "/jobs?state=waiting",
        "/jobs?state=dead&limit=0",
        "/jobs?state=dead&x=1",
    ] {
        let (status, _) = send(&app, &key_admin(), Method::GET, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
    }

    let (status, _) = send(
        &app,
        &key_admin(),
        Method::POST,
        &format!("/jobs/{}/retry", ids[0]),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        &key_admin(),
        Method::DELETE,
        &format!("/jobs/{}", ids[1]),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.waiting, stats.dead), (1, 0));
    for (method, uri) in [
        (Method::POST, format!("/jobs/{}/retry", ids[0])),
        (Method::DELETE, format!("/jobs/{}", ids[1])),
        (Method::DELETE, "/jobs/not-an-id".to_owned()),
    ] {
        let (status, _) = send(&app, &key_admin(), method, &uri).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{uri}: {status}"
        );
    }
}
