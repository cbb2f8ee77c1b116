//! Slow and idle clients: half-sent request heads and idle connections are closed after the header
//! timeout, the number of open connections stays below the open-file limit, and a body trickled in is
//! cut off with a typed error, leaving nothing behind.

use std::fmt::Write as _;
use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_domain::testkit::images;
use intake_server::ConnectionLimits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::crash::ChildServer;
use super::{admin_key, client_with_key, options, spawn_app_from};

/// The host and port of a base URL (`http://127.0.0.1:PORT`).
fn authority(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn half_open_connections_beyond_the_file_limit_do_not_lock_out_a_client() {
    let dir = tempfile::tempdir().unwrap();
    // 256 open files at most; the default cap on connections is half of that.
    let server = ChildServer::start_with(dir.path(), &["--header-timeout", "2"], Some(256));
    let address = authority(&server.url);
    // 300 clients that start a request and never finish its head.
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let Ok(Ok(mut stream)) =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&address)).await
        else {
            continue;
        };
        let _ = stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await;
        stalled.push(stream);
    }
    assert!(stalled.len() >= 250, "only {} connected", stalled.len());
    // A well-behaved client is still served, and can upload.
    let http = client_with_key(&admin_key(dir.path()));
    let health = tokio::time::timeout(
        Duration::from_secs(60),
        http.get(format!("{}/health", server.url)).send(),
    )
    .await
    .expect("/health answered while 300 connections stall")
    .unwrap();
    assert_eq!(health.status(), 200);
    let png = images::png(320, 120, 1);
    let ticket = super::request_ticket(&http, &server.url, "a.png", &png).await;
    assert_eq!(super::put_ticket(&http, &ticket, &png).await.status(), 200);
    // The stalled connections were closed by the server, not left open.
    let mut closed = 0;
    for stream in &mut stalled {
        let mut buf = [0_u8; 512];
        // Closed: the read ends (0 bytes, an answer or a reset) instead of waiting.
        if tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .is_ok()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, stalled.len(), "half-open connections left open");
    drop(server);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let app = spawn_app_from(|dir| {
        options(dir, IntakeConfig::default()).with_connections(
            ConnectionLimits::default().with_header_timeout(Duration::from_secs(1)),
        )
    })
    .await;
    let mut stream = TcpStream::connect(authority(&app.url)).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0_u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // Kept alive, then idle: closed (read returns 0) within a few seconds.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "an idle connection was kept open");
    app.stop().await;
}

#[tokio::test]
async fn a_trickled_upload_is_cut_off_and_leaves_nothing_behind() {
    let app = spawn_app_from(|dir| {
        options(dir, IntakeConfig::default()).with_connections(
            ConnectionLimits::default().with_min_body_rate(1000, Duration::from_secs(1)),
        )
    })
    .await;
    let png = images::png(320, 120, 1);
    let ticket = app.ticket("slow.png", "image/png", &png).await;
    let path = ticket.url.trim_start_matches(&app.url).to_owned();
    let mut head = format!("PUT {path} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in &ticket.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(authority(&app.url)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // One byte every 200 ms: 5 bytes a second against a minimum of 1000.
    let mut response = Vec::new();
    let answered = tokio::time::timeout(Duration::from_secs(20), async {
        for byte in &png {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut buf = [0_u8; 1024];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await
            {
                if n == 0 {
                    break;
                }
                response.extend_from_slice(&buf[..n]);
                if response.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    })
    .await;
    assert!(answered.is_ok(), "the trickle was not cut off");
    let text = String::from_utf8_lossy(&response).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // The rest of the answer (its JSON body) names the code.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut rest)).await;
    let whole = format!("{text}{}", String::from_utf8_lossy(&rest));
    assert!(whole.contains("BODY_TOO_SLOW"), "{whole}");
    // Nothing was stored: the image still awaits its upload, and the same URL takes it now.
    let (_, record) = app.get_json(&format!("/images/{}", ticket.image_id)).await;
    assert_eq!(record["status"], "AWAITING_UPLOAD", "{record:#}");
    let response = app.put(&ticket, png.clone(), &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.stop().await;
}
