//! API throughput of the local server under load (`GET /images/{id}`, `POST /uploads`) vs a bare axum
//! handler returning a fixed JSON body (figure 4), measured with the same load generator: concurrent
//! keep-alive connections on 127.0.0.1 for a fixed duration, requests/s and p99 latency.

use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::get;
use serde_json::json;

use crate::Plan;
use crate::pipeline::{api_client, render_pages, start_server, upload};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

const CONCURRENCY: usize = 32;

/// Requests/s and p99 latency.
struct Load {
    rps: f64,
    p99: Duration,
}

/// Sends requests made by `make` from `CONCURRENCY` tasks for `duration`.
async fn load<F>(duration: Duration, make: F) -> Result<Load, BenchError>
where
    F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
{
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .map_err(fail("client"))?;
    // Warm the connections.
    for _ in 0..CONCURRENCY {
        let _ = make(&http).send().await;
    }
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, make) = (http.clone(), make.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match make(&http).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mut l, e) = task.await.map_err(fail("load task"))?;
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = start.elapsed();
    if errors > 0 {
        return Err(BenchError::Failed(format!(
            "{errors} requests failed under load"
        )));
    }
    latencies.sort_unstable();
    let p99 = latencies
        .get(latencies.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();
    Ok(Load {
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p99,
    })
}

/// Waits for a processed image and returns its id.
async fn first_processed(http: &reqwest::Client, url: &str) -> Result<String, BenchError> {
    loop {
        let listed: serde_json::Value = http
            .get(format!("{url}/images?status=PROCESSED"))
            .send()
            .await
            .map_err(fail("list"))?
            .json()
            .await
            .map_err(fail("list"))?;
        if let Some(id) = listed["images"][0]["imageId"].as_str() {
            return Ok(id.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let duration = Duration::from_secs(if plan.quick { 2 } else { 10 });
    let mut section = Section::new("4. API throughput (local server vs a bare axum handler)");
    println!("{}", section.title);

    // The reference: axum with one handler returning a fixed JSON body of about a record's size.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail("bind"))?;
    let bare_url = format!(
        "http://{}/fixed",
        listener.local_addr().map_err(fail("addr"))?
    );
    let body = json!({
        "imageId": "0190b4c6-7d2a-7cc0-8c3a-4e2f1a9b0c11", "status": "PROCESSED",
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "ocrText": "INVOICE 4711", "ocrAvgConfidencePct": 96.5, "sizeBytes": 12345
    });
    let bare = tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route(
                "/fixed",
                get(move || {
                    let body = body.clone();
                    async move { Json(body) }
                }),
            ),
        )
        .await
    });

    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let server = start_server(&dir.path().join("data"), 2).await?;
    let url = server.url().to_owned();
    let pages = render_pages(dir.path(), 1)?;
    let (http, key) = api_client(&server).await?;
    for page in &pages {
        upload(&http, &url, page).await?;
    }
    let id = first_processed(&http, &url).await?;

    let reference = {
        let bare_url = bare_url.clone();
        load(duration, move |http| http.get(&bare_url)).await?
    };
    let image_url = format!("{url}/images/{id}");
    let get_key = key.clone();
    let get_image = load(duration, move |http| {
        http.get(&image_url).bearer_auth(&get_key)
    })
    .await?;
    let uploads_url = format!("{url}/uploads");
    let post_upload = load(duration, move |http| {
        http.post(&uploads_url).bearer_auth(&key).json(&json!({
            "filename": "cheque.png", "contentType": "image/png", "sizeBytes": 120_000
        }))
    })
    .await?;
    for (name, measured) in [
        ("GET /images/{id}", &get_image),
        ("POST /uploads", &post_upload),
    ] {
        let ratio = measured.rps / reference.rps;
        section.figure(Figure {
            name: format!(
                "{name}, {CONCURRENCY} connections, {} s",
                duration.as_secs()
            ),
            ours: format!(
                "{:.0} req/s, p99 {:.2} ms",
                measured.rps,
                measured.p99.as_secs_f64() * 1e3
            ),
            reference_name: "bare axum".into(),
            reference: format!(
                "{:.0} req/s, p99 {:.2} ms",
                reference.rps,
                reference.p99.as_secs_f64() * 1e3
            ),
            ratio,
            target: "≥ 0.5×".into(),
            met: ratio >= 0.5,
        });
    }
    section.note(
        "The load generator (this harness, reqwest, keep-alive) runs in the same process as both servers, \
         so all three share the machine's cores alike. GET /images/{id} reads SQLite and signs a download \
         URL; POST /uploads validates, signs an upload URL and commits a record (WAL, synchronous=FULL)."
            .to_owned(),
    );
    server.shutdown().await.map_err(fail("shutdown"))?;
    bare.abort();
    Ok(section)
}
