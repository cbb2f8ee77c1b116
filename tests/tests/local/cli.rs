//! The `intake` client commands against a live local server: output, files written, exit codes;
//! in `fields`, the document fields printed and exported as CSV; and, in `sigv4`, against an
//! endpoint that checks SigV4 signatures as API Gateway does.

mod export;
mod fields;
mod sigv4;

use std::path::Path;
use std::process::{Command, Output};

use intake_domain::testkit::images;
use serde_json::Value;

use super::{TestApp, prerequisites, spawn_app, text_png};

/// Runs `intake ARGS --api URL` to completion, with the admin key the server wrote to its data
/// directory (found through `INTAKE_DATA_DIR`, as on the server's machine).
async fn intake(app: &TestApp, args: &[&str], cwd: &Path) -> Output {
    intake_at(&app.url, Some(app.dir.path()), args, cwd).await
}

/// Runs `intake ARGS --api URL` with the admin key of `data_dir`, if any, and nothing else.
async fn intake_at(api: &str, data_dir: Option<&Path>, args: &[&str], cwd: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intake-test-cli"));
    command
        .args(args)
        .args(["--api", api])
        .current_dir(cwd)
        .env_remove("INTAKE_API")
        .env_remove("INTAKE_API_KEY")
        .env_remove("INTAKE_API_KEY_FILE");
    match data_dir {
        Some(dir) => command.env("INTAKE_DATA_DIR", dir),
        None => command.env_remove("INTAKE_DATA_DIR"),
    };
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn upload_list_show_download_delete_with_the_cli() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let scans = work.path().join("scans");
    std::fs::create_dir_all(scans.join("more")).unwrap();
    let first = text_png(&font, &["ACCOUNT 12345"]);
    std::fs::write(scans.join("first.png"), &first).unwrap();
    std::fs::write(
        scans.join("more/second.png"),
        text_png(&font, &["BALANCE 678"]),
    )
    .unwrap();
    std::fs::write(scans.join("notes.txt"), "not an image").unwrap();

    let out = intake(&app, &["upload", "scans", "--json"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uploaded: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        uploaded.len(),
        2,
        "directories contribute their image files only"
    );
    let mut ids = Vec::new();
    for (image, word) in uploaded.iter().zip(["ACCOUNT", "BALANCE"]) {
        assert_eq!(image["status"], "PROCESSED", "{image:#}");
        assert!(image["ocrText"].as_str().unwrap().contains(word));
        ids.push(image["imageId"].as_str().unwrap().to_owned());
    }

    let out = intake(
        &app,
        &["list", "--json", "--limit", "1", "--all"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let listed: Vec<&str> = listed["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["imageId"].as_str().unwrap())
        .collect();
    // Files upload in parallel, so either may have been issued first; ids sort by issue time.
    let mut newest_first: Vec<&str> = ids.iter().map(String::as_str).collect();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed, newest_first, "newest first, across pages");
    let out = intake(&app, &["list"], work.path()).await;
    assert!(stdout(&out).starts_with("IMAGE ID"), "{}", stdout(&out));
    assert!(stdout(&out).contains("first.png"));

    let out = intake(&app, &["show", &ids[0]], work.path()).await;
    assert_eq!(out.status.code(), Some(0));
    let shown = stdout(&out);
    assert!(
        shown.contains("PROCESSED") && shown.contains("ACCOUNT 12345"),
        "{shown}"
    );

    let out = intake(&app, &["show", &ids[0], "--text"], work.path()).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        uploaded[0]["ocrText"].as_str().unwrap().trim(),
        "only the OCR text"
    );

    let out = intake(&app, &["search", "account", "--json"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(found["images"].as_array().unwrap().len(), 1, "{found:#}");
    assert_eq!(found["images"][0]["imageId"], ids[0].as_str());
    assert_eq!(found["images"][0]["match"]["lines"], serde_json::json!([0]));
    let out = intake(&app, &["search", "1234"], work.path()).await;
    assert!(
        stdout(&out).contains(&ids[0]) && stdout(&out).contains("[12345]"),
        "a prefix, the match in brackets off a terminal: {}",
        stdout(&out)
    );
    let out = intake(&app, &["search", "nowhere", "written"], work.path()).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).is_empty() && stderr(&out).contains("no image matches"));

    let out = intake(&app, &["download", &ids[0], "-o", "copy.png"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(work.path().join("copy.png")).unwrap(), first);
    let out = intake(&app, &["download", &ids[0], "-o", "copy.png"], work.path()).await;
    assert_eq!(out.status.code(), Some(2), "no silent overwrite");
    let out = intake(&app, &["download", &ids[0]], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(work.path().join("first.png")).unwrap(), first);

    let out = intake(&app, &["delete", &ids[0]], work.path()).await;
    assert_eq!(out.status.code(), Some(0));
    let out = intake(&app, &["show", &ids[0]], work.path()).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("NOT_FOUND"), "{}", stderr(&out));
    let out = intake(&app, &["search", "account", "--json"], work.path()).await;
    let found: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        found["images"],
        serde_json::json!([]),
        "deleted images are not found"
    );
    app.stop().await;
}

#[tokio::test]
async fn exit_codes_say_what_went_wrong() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("notes.txt"), "not an image").unwrap();
    std::fs::write(work.path().join("dot.gif"), b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;").unwrap();
    std::fs::write(work.path().join("noise.png"), images::png(320, 120, 9)).unwrap();

    let out = intake(&app, &["upload", "notes.txt"], work.path()).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = intake(&app, &["upload", "missing.png"], work.path()).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = intake(&app, &["show", "not-an-id"], work.path()).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("INVALID_IMAGE_ID"),
        "{}",
        stderr(&out)
    );
    let out = intake(&app, &["upload", "dot.gif", "--json"], work.path()).await;
    assert_eq!(
        out.status.code(),
        Some(7),
        "a rejected image is a partial success"
    );
    let result: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result[0]["status"], "REJECTED");
    let out = intake(
        &app,
        &["upload", "noise.png", "--no-wait", "--json"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result[0]["status"], "UPLOADED");
    let out = intake_at("http://127.0.0.1:9", None, &["list"], work.path()).await;
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    app.stop().await;
}
