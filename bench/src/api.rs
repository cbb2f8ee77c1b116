//! API throughput of the local server under load (`GET /images/{id}`, `POST /uploads`) vs a bare axum
//! handler returning a fixed JSON body (figure 4), measured with the same load generator: concurrent
//! keep-alive connections on 127.0.0.1 for a fixed duration, requests/s and p99 latency.

use std::time::{Duration, Instant};

use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};
use intake_server::OcrChoice;
use serde_json::json;

use crate::Plan;
use crate::pipeline::{api_client, render_pages, start_server, upload};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

const CONCURRENCY: usize = 32;

/// How a request is made (the client keeps its connections between rounds).
type Make = Box<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>;

/// Completed requests, the time they took, and their latencies.
#[derive(Default)]
struct Load {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn p99(&mut self) -> Duration {
        self.latencies.sort_unstable();
        self.latencies
            .get(self.latencies.len().saturating_mul(99) / 100)
            .copied()
            .unwrap_or_default()
    }

    fn show(&mut self) -> String {
        format!(
            "{:.0} req/s, p99 {:.2} ms",
            self.rps(),
            self.p99().as_secs_f64() * 1e3
        )
    }
}

/// Sends requests made by `make` over `http` from `CONCURRENCY` tasks for `duration`, adding to `into`.
async fn load(
    http: &reqwest::Client,
    duration: Duration,
    make: &std::sync::Arc<Make>,
    into: &mut Load,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, make) = (http.clone(), std::sync::Arc::clone(make));
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
    let mut errors = 0;
    for task in tasks {
        let (mut l, e) = task.await.map_err(fail("load task"))?;
        into.latencies.append(&mut l);
        errors += e;
    }
    into.elapsed += start.elapsed();
    if errors > 0 {
        return Err(BenchError::Failed(format!(
            "{errors} requests failed under load"
        )));
    }
    Ok(())
}

/// Loads the reference and ours in alternating rounds (so both see the same machine: it is shared
/// and its speed drifts), `duration` each in all.
async fn compare(
    duration: Duration,
    rounds: u32,
    reference: Make,
    ours: Make,
) -> Result<(Load, Load), BenchError> {
    let client = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(CONCURRENCY)
            .build()
            .map_err(fail("client"))
    };
    let (reference, ours) = (std::sync::Arc::new(reference), std::sync::Arc::new(ours));
    let (reference_http, ours_http) = (client()?, client()?);
    // Warm the connections.
    for (http, make) in [(&reference_http, &reference), (&ours_http, &ours)] {
        let mut warm = Load::default();
        load(http, Duration::from_millis(100), make, &mut warm).await?;
    }
    let (mut theirs, mut mine) = (Load::default(), Load::default());
    let round = duration / rounds;
    for _ in 0..rounds {
        load(&reference_http, round, &reference, &mut theirs).await?;
        load(&ours_http, round, &ours, &mut mine).await?;
    }
    Ok((theirs, mine))
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

/// A bare axum server answering `GET /fixed/{n}` with the `n`th of `gets` and `POST /fixed` (after
/// reading the request body) with `post`, all fixed JSON, and `GET /small` with a small fixed object.
async fn bare_server(
    gets: Vec<bytes::Bytes>,
    post_body: bytes::Bytes,
) -> Result<(String, tokio::task::JoinHandle<std::io::Result<()>>), BenchError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail("bind"))?;
    let url = format!("http://{}", listener.local_addr().map_err(fail("addr"))?);
    let gets = std::sync::Arc::new(gets);
    let router = axum::Router::new()
        .route(
            "/fixed/{n}",
            get(move |axum::extract::Path(n): axum::extract::Path<usize>| {
                let body = gets.get(n).cloned().unwrap_or_default();
                async move { ([(CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route(
            "/fixed",
            post(move |_request: bytes::Bytes| {
                let body = post_body.clone();
                async move {
                    (
                        axum::http::StatusCode::CREATED,
                        [(CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .route("/small", get(|| async { Json(small_body()) }));
    Ok((
        url,
        tokio::spawn(async move { axum::serve(listener, router).await }),
    ))
}

/// A small fixed object (a record without OCR detail), answered for context.
fn small_body() -> serde_json::Value {
    json!({
        "imageId": "0190b4c6-7d2a-7cc0-8c3a-4e2f1a9b0c11", "status": "PROCESSED",
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "ocrText": "INVOICE 4711", "ocrAvgConfidencePct": 96.5, "sizeBytes": 12345
    })
}

/// The body of one successful answer to `request`.
async fn body_of(request: reqwest::RequestBuilder) -> Result<bytes::Bytes, BenchError> {
    let response = request.send().await.map_err(fail("request"))?;
    if !response.status().is_success() {
        return Err(BenchError::Failed(format!(
            "answered {}",
            response.status()
        )));
    }
    response.bytes().await.map_err(fail("body"))
}

/// `GET url`, with `key` as its bearer token if any.
fn get_with(url: String, key: Option<String>) -> Make {
    Box::new(move |http: &reqwest::Client| {
        let request = http.get(&url);
        match &key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    })
}

/// `POST url` with an upload request, with `key` as its bearer token if any.
fn post_with(url: String, key: Option<String>) -> Make {
    Box::new(move |http: &reqwest::Client| {
        let request = http.post(&url).json(&upload_request());
        match &key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    })
}

fn upload_request() -> serde_json::Value {
    json!({ "filename": "cheque.png", "contentType": "image/png", "sizeBytes": 120_000 })
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let (duration, rounds) = if plan.quick {
        (Duration::from_secs(2), 4)
    } else {
        (Duration::from_secs(10), 10)
    };
    let mut section = Section::new("4. API throughput (local server vs a bare axum handler)");
    println!("{}", section.title);

    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let server = start_server(&dir.path().join("data"), 2, OcrChoice::Tesseract).await?;
    let url = server.url().to_owned();
    let pages = render_pages(dir.path(), 1)?;
    let (http, key) = api_client(&server).await?;
    for page in &pages {
        upload(&http, &url, page).await?;
    }
    let id = first_processed(&http, &url).await?;
    let image_url = format!("{url}/images/{id}");
    let lines_url = format!("{image_url}?include=ocrLines");
    let uploads_url = format!("{url}/uploads");

    // Each reference answers with the very bytes Intake answers (the record and a download URL; the
    // record with its OCR lines; an upload ticket), so a ratio measures what Intake does per
    // request, not the size of its answer.
    let get_body = body_of(http.get(&image_url)).await?;
    let lines_body = body_of(http.get(&lines_url)).await?;
    let post_body = body_of(http.post(&uploads_url).json(&upload_request())).await?;
    let sizes = [get_body.len(), lines_body.len(), post_body.len()];
    let (bare_url, bare) = bare_server(vec![get_body, lines_body], post_body).await?;

    let cases = [
        (
            "GET /images/{id}",
            get_with(format!("{bare_url}/fixed/0"), None),
            get_with(image_url, Some(key.clone())),
            sizes[0],
            true,
        ),
        (
            "GET /images/{id}?include=ocrLines",
            get_with(format!("{bare_url}/fixed/1"), None),
            get_with(lines_url, Some(key.clone())),
            sizes[1],
            false,
        ),
        (
            "POST /uploads",
            post_with(format!("{bare_url}/fixed"), None),
            post_with(uploads_url, Some(key.clone())),
            sizes[2],
            true,
        ),
    ];
    for (name, reference, ours, bytes, targeted) in cases {
        let (mut theirs, mut mine) = compare(duration, rounds, reference, ours).await?;
        let ratio = mine.rps() / theirs.rps();
        section.figure(Figure {
            name: format!(
                "{name}, {CONCURRENCY} connections, {} s",
                duration.as_secs()
            ),
            ours: mine.show(),
            reference_name: format!("bare axum, same {bytes}-byte body"),
            reference: theirs.show(),
            ratio,
            target: if targeted { "≥ 0.5×" } else { "(context)" }.into(),
            met: targeted.then_some(ratio >= 0.5),
        });
    }
    let mut small = Load::default();
    let small_make: std::sync::Arc<Make> =
        std::sync::Arc::new(get_with(format!("{bare_url}/small"), None));
    load(&http, duration / rounds, &small_make, &mut small).await?;
    section.note(format!(
        "The load generator (this harness, reqwest, keep-alive) runs in the same process as the servers, \
         so all share the machine's cores alike; reference and Intake alternate in {rounds} rounds. Each \
         reference is a bare axum handler answering the same bytes as the measured route (captured just \
         before), so the ratio is what Intake's work per request costs. GET /images/{{id}} authenticates \
         the API key, reads the record from SQLite, signs a download URL and encodes the answer; with \
         include=ocrLines it also reads, decodes and encodes every OCR line, word and box (a one-page \
         document of eight lines here); POST /uploads authenticates, validates, signs an upload URL and \
         registers the ticket's record, which the database thread commits behind it in groups and syncs \
         within 50 ms (README, \"Durability\"). For context, bare axum with a {}-byte body: {}.",
        small_body().to_string().len(),
        small.show()
    ));
    server.shutdown().await.map_err(fail("shutdown"))?;
    bare.abort();
    Ok(section)
}
