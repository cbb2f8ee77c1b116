//! End-to-end tests of the local server over real HTTP: each test starts `LocalServer` on 127.0.0.1 with
//! an ephemeral port and a temporary data directory, drives it with `reqwest` exactly as a client would
//! (POST /uploads, PUT to the presigned URL, poll GET /images/{id}), real Tesseract on rendered text,
//! and stops it. The crash test runs the server in a child process and kills it with SIGKILL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc,
    clippy::too_many_lines,
    clippy::type_complexity,
    missing_docs
)]

mod browser;
mod cli;
mod crash;
mod flow;
mod full_disk;
mod hostile;
mod metrics;
mod near_duplicates;
mod pdf;
mod scenarios;
mod slow;
mod storm;
mod urls;
mod webhooks;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use intake_domain::IntakeConfig;
use intake_domain::testkit::images;
use intake_server::{LocalServer, ServeOptions};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

/// A running server and a client for it.
pub struct TestApp {
    pub server: LocalServer,
    pub url: String,
    /// A client sending the admin key with every request.
    pub http: reqwest::Client,
    /// The admin key, as the server wrote it to `admin-key`.
    pub admin_key: String,
    pub dir: TempDir,
}

/// The admin key a server wrote to `dir/admin-key` on its first start (which must be private).
pub fn admin_key(dir: &std::path::Path) -> String {
    let path = dir.join("admin-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the admin key file is readable by others");
    }
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// A client sending `key` as a bearer token with every request.
pub fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Whether the default OCR engine's models (scripts/ocr-models.sh), Tesseract and the DejaVu font are
/// present; on CI they must be (`.ci/run` installs them).
pub fn prerequisites() -> Option<Vec<u8>> {
    let tesseract = std::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && intake_ocr_onnx::default_models_dir()
            .join("ppocr-v6-tiny/rec.onnx")
            .is_file();
    let font = intake_domain::testkit::images::DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(PathBuf::from(p)).ok());
    match font {
        Some(font) if tesseract => Some(font),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "the OCR models, tesseract and fonts-dejavu-core must be installed on CI (scripts/ocr-models.sh, scripts/system-deps.sh)"
            );
            eprintln!(
                "SKIPPED: needs the OCR models, tesseract and DejaVu Sans (scripts/ocr-models.sh and scripts/system-deps.sh install them)"
            );
            None
        }
    }
}

/// Options for a test server in `dir`: an ephemeral port, two workers, a short shutdown grace, and
/// PDFs read by workers that are the `intake` command built for the tests (`intake pdf-worker`).
pub fn options(dir: &std::path::Path, config: IntakeConfig) -> ServeOptions {
    let pdf = intake_pdf::PdfOptions::new(
        env!("CARGO_BIN_EXE_intake-test-cli"),
        vec![intake_pdf::WORKER_ARG.into()],
        intake_pdf::library_path(&intake_ocr_onnx::default_models_dir()),
    );
    ServeOptions::default()
        .with_pdf(Some(pdf))
        .with_data_dir(dir)
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_workers(2)
        .with_config(config)
        .with_shutdown_grace(Duration::from_secs(5))
}

/// Asks `url`'s server for an upload URL for `name` (declaring its size), as a client over plain HTTP.
pub async fn request_ticket(http: &reqwest::Client, url: &str, name: &str, bytes: &[u8]) -> Value {
    http.post(format!("{url}/uploads"))
        .json(&json!({"filename": name, "contentType": "image/png", "sizeBytes": bytes.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// PUTs `bytes` to a ticket's (the answer of `POST /uploads`) URL with its required headers.
pub async fn put_ticket(http: &reqwest::Client, ticket: &Value, bytes: &[u8]) -> reqwest::Response {
    let mut put = http
        .put(ticket["uploadUrl"].as_str().unwrap())
        .body(bytes.to_vec());
    for (name, value) in ticket["requiredHeaders"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
    }
    put.send().await.unwrap()
}

/// Starts a server with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(IntakeConfig::default()).await
}

/// Starts a server with `config`.
pub async fn spawn_app_with(config: IntakeConfig) -> TestApp {
    spawn_app_from(|dir| options(dir, config)).await
}

/// Starts a server with the options `make` gives for its data directory.
pub async fn spawn_app_from(make: impl FnOnce(&std::path::Path) -> ServeOptions) -> TestApp {
    spawn_app_at(tempfile::tempdir().unwrap(), make).await
}

/// Starts a server on the data directory `dir` with the options `make` gives for it.
pub async fn spawn_app_at(
    dir: TempDir,
    make: impl FnOnce(&std::path::Path) -> ServeOptions,
) -> TestApp {
    let server = LocalServer::start(make(dir.path()))
        .await
        .expect("the server starts");
    let admin_key = admin_key(dir.path());
    TestApp {
        url: server.url().to_owned(),
        server,
        http: client_with_key(&admin_key),
        admin_key,
        dir,
    }
}

/// A text image rendered with DejaVu Sans.
pub fn text_png(font: &[u8], lines: &[&str]) -> Bytes {
    images::render_text(lines, font).unwrap().0
}

/// `lines` rendered as a grey page, then, as a re-scan would give it, `pad` white pixels more on
/// every side and its tones pressed into `floor..=255` (lighter, less contrast).
pub fn rescanned_png(font: &[u8], lines: &[&str], pad: u32, floor: u8) -> Bytes {
    let (pixels, (width, height)) =
        intake_domain::testkit::images::render_pixels(lines, font).expect("rendered");
    let (w, h) = (width + 2 * pad, height + 2 * pad);
    let mut out = vec![255u8; (w * h) as usize];
    for y in 0..height {
        for x in 0..width {
            let tone = u32::from(pixels[(y * width + x) as usize]);
            let pressed = u32::from(floor) + tone * (255 - u32::from(floor)) / 255;
            out[((y + pad) * w + x + pad) as usize] = u8::try_from(pressed).unwrap_or(255);
        }
    }
    intake_domain::testkit::images::png_gray(w, h, &out)
}

/// Hex SHA-256, computed here independently of Intake.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// An issued upload.
pub struct Ticket {
    pub image_id: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl TestApp {
    pub async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// POST /uploads with the declared size and checksum of `bytes`.
    pub async fn ticket(&self, name: &str, content_type: &str, bytes: &[u8]) -> Ticket {
        let response = self
            .http
            .post(self.api("/uploads"))
            .json(&json!({
                "filename": name,
                "contentType": content_type,
                "sizeBytes": bytes.len(),
                "sha256": sha256_hex(bytes),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        Ticket {
            image_id: body["imageId"].as_str().unwrap().to_owned(),
            url: body["uploadUrl"].as_str().unwrap().to_owned(),
            headers: body["requiredHeaders"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
            body,
        }
    }

    /// PUTs `bytes` to the ticket's URL with its required headers, except those `change`s override
    /// (a `None` value drops the header).
    pub async fn put(
        &self,
        ticket: &Ticket,
        bytes: Bytes,
        change: &[(&str, Option<&str>)],
    ) -> reqwest::Response {
        self.put_to(&ticket.url, ticket, bytes, change).await
    }

    /// As [`TestApp::put`], to another URL.
    pub async fn put_to(
        &self,
        url: &str,
        ticket: &Ticket,
        bytes: Bytes,
        change: &[(&str, Option<&str>)],
    ) -> reqwest::Response {
        let mut request = self.http.put(url).body(bytes);
        for (name, value) in &ticket.headers {
            if change.iter().any(|(n, _)| n == name) || name == "content-length" {
                continue;
            }
            request = request.header(name, value);
        }
        for (name, value) in change {
            if let (Some(value), false) = (value, *name == "content-length") {
                request = request.header(*name, *value);
            }
        }
        request.send().await.unwrap()
    }

    /// Issues a ticket, uploads, and returns the image id.
    pub async fn upload(&self, name: &str, bytes: &Bytes) -> String {
        let ticket = self.ticket(name, "image/png", bytes).await;
        let response = self.put(&ticket, bytes.clone(), &[]).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        ticket.image_id
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.api(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls GET /images/{id} until the image is PROCESSED, REJECTED or FAILED.
    pub async fn wait_terminal(&self, id: &str) -> Value {
        wait_terminal(&self.http, &self.url, id, Duration::from_secs(60)).await
    }
}

/// Polls `{url}/images/{id}` until a terminal status, for up to `timeout`.
pub async fn wait_terminal(
    http: &reqwest::Client,
    url: &str,
    id: &str,
    timeout: Duration,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let response = http.get(format!("{url}/images/{id}")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let record: Value = response.json().await.unwrap();
        if ["PROCESSED", "REJECTED", "FAILED"].contains(&record["status"].as_str().unwrap()) {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "{id} still {} after {timeout:?}",
            record["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
