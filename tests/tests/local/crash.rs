//! Kill the server with SIGKILL while jobs are in flight, restart it on the same data directory, and
//! every upload still reaches a terminal state, once. The server is the real `intake serve` command,
//! run as a child process.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use intake_domain::ports::JobQueue as _;
use intake_local::SqliteJobQueue;

use super::{prerequisites, text_png, wait_terminal};

/// `intake serve` in a child process, killed when dropped so a failing test leaves nothing behind.
pub(crate) struct ChildServer {
    child: Child,
    /// The base URL the server printed.
    pub(crate) url: String,
}

impl ChildServer {
    /// Starts `intake serve` on `dir` with an ephemeral port and one worker, and waits until it serves.
    pub(crate) fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[], None)
    }

    /// As [`ChildServer::start`], with more arguments, and with at most `open_files` open files
    /// (`prlimit`) when given.
    pub(crate) fn start_with(dir: &Path, args: &[&str], open_files: Option<u64>) -> Self {
        let binary = env!("CARGO_BIN_EXE_intake-test-cli");
        let mut command = match open_files {
            Some(limit) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={limit}:{limit}"))
                    .arg("--")
                    .arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let mut child = command
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--workers",
                "1",
                "--data-dir",
            ])
            .arg(dir)
            .args(args)
            .env("INTAKE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server exited before serving")
                .unwrap();
            if let Some(rest) = line.split_once("serving at ").map(|(_, rest)| rest) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url }
    }

    /// SIGINT (Ctrl-C), then waits for the process to exit; returns whether it exited successfully.
    pub(crate) fn interrupt(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap().success()
    }

    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Uploads `count` rendered receipts through `url`; returns (image id, text) pairs.
async fn upload_receipts(
    http: &reqwest::Client,
    url: &str,
    font: &[u8],
    count: u32,
) -> Vec<(String, String)> {
    // Rendered first, so that the uploads come as a burst the workers cannot keep up with.
    let pages: Vec<(u32, String, bytes::Bytes)> = (0..count)
        .map(|n| {
            let text = format!("RECEIPT {:04}", 1000 + n);
            let png = text_png(font, &[&text]);
            (n, text, png)
        })
        .collect();
    let mut uploads = Vec::new();
    for (n, text, png) in pages {
        let ticket = super::request_ticket(http, url, &format!("r{n}.png"), &png).await;
        assert_eq!(super::put_ticket(http, &ticket, &png).await.status(), 200);
        uploads.push((ticket["imageId"].as_str().unwrap().to_owned(), text));
    }
    uploads
}

async fn assert_all_processed(http: &reqwest::Client, url: &str, uploads: &[(String, String)]) {
    for (id, text) in uploads {
        let record = wait_terminal(http, url, id, Duration::from_secs(120)).await;
        assert_eq!(record["status"], "PROCESSED", "{record:#}");
        assert!(
            record["ocrText"].as_str().unwrap().contains(text.as_str()),
            "{id}: {:?} is not {text:?}",
            record["ocrText"]
        );
    }
}

#[tokio::test]
async fn ctrl_c_finishes_work_in_progress_and_the_rest_resumes() {
    let Some(font) = prerequisites() else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = ChildServer::start(dir.path());
    let http = super::client_with_key(&super::admin_key(dir.path()));
    let uploads = upload_receipts(&http, &first.url, &font, 6).await;
    assert!(first.interrupt(), "Ctrl-C is a clean exit");
    let stats = SqliteJobQueue::open(dir.path().join("intake.db"))
        .unwrap()
        .stats()
        .await
        .unwrap();
    assert_eq!(
        stats.leased, 0,
        "a graceful stop leaves no job leased: {stats:?}"
    );
    let second = ChildServer::start(dir.path());
    assert_all_processed(&http, &second.url, &uploads).await;
    second.kill();
}

#[tokio::test]
async fn a_killed_server_resumes_every_upload() {
    let Some(font) = prerequisites() else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = ChildServer::start(dir.path());
    let http = super::client_with_key(&super::admin_key(dir.path()));
    let uploads = upload_receipts(&http, &first.url, &font, 40).await;
    let page: serde_json::Value = http
        .get(format!("{}/images?limit=100", first.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Images still awaiting their worker are not listed by default, so count the finished ones.
    let finished = page["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| ["PROCESSED", "REJECTED", "FAILED"].contains(&i["status"].as_str().unwrap()))
        .count();
    let unfinished = uploads.len() - finished;
    first.kill();
    assert!(
        unfinished > 0,
        "every job finished before the kill: the test proves nothing"
    );

    let second = ChildServer::start(dir.path());
    assert_all_processed(&http, &second.url, &uploads).await;
    // A worker writes its record before it acknowledges its job: the queue drains just after the
    // last record is finished, and only then may the server go.
    let queue = SqliteJobQueue::open(dir.path().join("intake.db")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let stats = queue.stats().await.unwrap();
        if stats.outstanding() == 0 || std::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.kill();
    assert_eq!((stats.outstanding(), stats.dead), (0, 0), "{stats:?}");
    let leftovers = std::fs::read_dir(dir.path().join("store/tmp"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0);
}
