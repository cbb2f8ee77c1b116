//! `intake export` and `GET /images/{imageId}/export` against a live local server whose inline limit
//! is tiny, so that the text comes inline and the XML formats are stored and answered with `303 See
//! Other`: the CLI follows it without the API's key, writes files whole, and a purge erases the
//! stored exports from the data directory.

use intake_domain::IntakeConfig;

use super::super::{prerequisites, spawn_app_with, text_png};
use super::{intake, stderr, stdout};

#[tokio::test]
async fn export_inline_and_through_a_stored_export() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app_with(IntakeConfig::default().with_export_inline_limit(Some(200))).await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("ledger.png"),
        text_png(&font, &["ACCOUNT 12345"]),
    )
    .unwrap();
    let out = intake(&app, &["upload", "ledger.png", "--json"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uploaded: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = uploaded[0]["imageId"].as_str().unwrap().to_owned();
    let text = uploaded[0]["ocrText"].as_str().unwrap().to_owned();

    // The text is small: inline, to stdout.
    let out = intake(
        &app,
        &["export", &id, "--format", "txt", "-o", "-"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{text}\n\u{c}"));

    // hOCR is larger than 200 bytes: stored, 303, fetched from the presigned URL without the key.
    let direct = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = direct
        .get(format!("{}/images/{id}/export?format=hocr", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/objects/exports/{id}/hocr?", app.url)),
        "{location}"
    );
    let stored = direct.get(&location).send().await.unwrap();
    assert_eq!(stored.status(), reqwest::StatusCode::OK);
    assert_eq!(
        stored.headers()["content-type"].to_str().unwrap(),
        "application/xhtml+xml; charset=utf-8"
    );
    assert!(
        stored.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ledger.hocr")
    );
    let hocr = stored.text().await.unwrap();
    assert!(
        hocr.contains("ocrx_word") && hocr.contains("ACCOUNT"),
        "{hocr}"
    );

    // The CLI follows the 303 and saves under the name the answer gives.
    let out = intake(&app, &["export", &id, "--format", "hocr"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(work.path().join("ledger.hocr")).unwrap(),
        hocr
    );
    let out = intake(&app, &["export", &id, "--format", "hocr"], work.path()).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "no silent overwrite: {}",
        stderr(&out)
    );
    let out = intake(
        &app,
        &[
            "export",
            &id,
            "--format",
            "alto",
            "-o",
            "ledger.alto.xml",
            "--json",
        ],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let alto = std::fs::read_to_string(work.path().join("ledger.alto.xml")).unwrap();
    assert_eq!(report["bytes"], alto.len());
    assert!(alto.contains("<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\""));
    assert!(alto.contains("ACCOUNT"), "{alto}");
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with("intake-partial"))
        .collect();
    assert!(leftovers.is_empty(), "partial files left: {leftovers:?}");

    // Refusals: a format there is none of, an unknown image.
    let out = intake(&app, &["export", &id, "--format", "docx"], work.path()).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let unknown = "019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6071";
    let out = intake(
        &app,
        &["export", unknown, "--format", "txt", "-o", "-"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    // A purge erases the stored exports from the data directory.
    let exports = app.dir.path().join("store/objects/exports").join(&id);
    assert!(exports.join("hocr").is_file() && exports.join("alto").is_file());
    let out = intake(&app, &["delete", &id, "--purge"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for format in ["hocr", "alto", "txt"] {
        assert!(
            !exports.join(format).exists(),
            "{format} export left after a purge"
        );
    }
    let gone = direct.get(&location).send().await.unwrap();
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    app.stop().await;
}
