//! `GET /metrics`: the figures of what the server did, in the OpenMetrics text format, for admin keys.

use super::{client_with_key, prerequisites, spawn_app, text_png};

/// The value of the sample `line` starts with (a name and its labels), if present.
fn sample(text: &str, line: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_what_the_server_did() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let png = text_png(&font, &["METRICS 42"]);
    let id = app.upload("m.png", &png).await;
    app.wait_terminal(&id).await;
    let response = app.http.get(app.api("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.unwrap();
    let engine = app.server.intake().ocr_capabilities().engine.clone();
    for (line, expected) in [
        ("intake_uploads_total ", 1.0),
        ("intake_records{status=\"PROCESSED\",code=\"\"} ", 1.0),
        (
            "intake_processed_total{status=\"PROCESSED\",code=\"\"} ",
            1.0,
        ),
        ("intake_jobs{state=\"dead\"} ", 0.0),
        ("intake_near_duplicates_total ", 0.0),
        ("intake_fingerprint_index_failures_total ", 0.0),
        ("intake_field_extractor_failures_total ", 0.0),
        ("intake_jobs{state=\"waiting\"} ", 0.0),
        (
            "intake_http_requests_total{route=\"/uploads\",method=\"POST\",class=\"2xx\"} ",
            1.0,
        ),
        (
            &format!("intake_ocr_duration_seconds_count{{engine=\"{engine}\"}} "),
            1.0,
        ),
    ] {
        assert_eq!(sample(&text, line), Some(expected), "{line}\n{text}");
    }
    assert!(
        sample(
            &text,
            &format!("intake_queue_wait_seconds_count{{engine=\"{engine}\"}} ")
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    let read: f64 = ["receipt", "invoice", "cheque", "form", "other"]
        .iter()
        .filter_map(|kind| {
            sample(
                &text,
                &format!("intake_documents_read_total{{document_type=\"{kind}\"}} "),
            )
        })
        .sum();
    assert!(
        (read - 1.0).abs() < f64::EPSILON,
        "one document read: {text}"
    );
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );

    let user = app
        .server
        .keys()
        .create(
            intake_domain::model::Owner::parse("user").unwrap(),
            "user",
            false,
        )
        .await
        .unwrap();
    let refused = client_with_key(&user.secret.expose())
        .get(app.api("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let anonymous = reqwest::get(app.api("/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}
