//! Starting the emulators the AWS adapters are tested against, on 127.0.0.1 ephemeral ports.
//!
//! The binaries come from `scripts/backends.sh` (`INTAKE_MOTO_SERVER`, `INTAKE_S3S_FS`, or its default
//! install folder). A missing binary skips the test with a message, except under `CI=true`, where it is
//! a failure: CI must install what it tests against.
#![allow(dead_code, clippy::missing_panics_doc)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use tokio::process::{Child, Command};

/// A running emulator; killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub(crate) endpoint: String,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn binary(variable: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(variable).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|home| {
            PathBuf::from(home)
                .join(".cache/intake/tools")
                .join(default)
        })
    })?;
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |ci| ci != "true"),
        "{} is not installed at {}: run scripts/backends.sh",
        variable,
        path.display()
    );
    eprintln!(
        "SKIPPED: {} not found at {}; run scripts/backends.sh to install it",
        variable,
        path.display()
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn wait_until_listening(endpoint: &str, child: &mut Child) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the emulator exited early with {status}");
        }
        if client.get(endpoint).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the emulator at {endpoint} did not start within 20 s");
}

/// moto server (DynamoDB, S3, Rekognition), or `None` when not installed outside CI.
pub(crate) async fn moto() -> Option<Server> {
    let path = binary("INTAKE_MOTO_SERVER", "moto-5.2.5/bin/moto_server")?;
    let port = free_port();
    let mut child = Command::new(path)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_listening(&endpoint, &mut child).await;
    Some(Server {
        child,
        endpoint,
        _dir: None,
    })
}

/// The access key and secret s3s-fs is started with.
pub(crate) const S3S_KEY: (&str, &str) = ("AKIAINTAKETEST", "intake-test-secret");

/// s3s-fs (an S3 server on a folder that checks SigV4), or `None` when not installed outside CI.
pub(crate) async fn s3s_fs() -> Option<Server> {
    let path = binary("INTAKE_S3S_FS", "s3s-fs-0.14.1/bin/s3s-fs")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = Command::new(path)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            S3S_KEY.0,
            "--secret-key",
            S3S_KEY.1,
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start s3s-fs");
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_listening(&endpoint, &mut child).await;
    Some(Server {
        child,
        endpoint,
        _dir: Some(dir),
    })
}

/// SDK configuration pointing at an emulator.
pub(crate) async fn sdk_config(endpoint: &str, key: (&str, &str)) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key.0, key.1, None, None, "intake-tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}
