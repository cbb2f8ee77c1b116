//! The hostile-input corpus (`tests/corpus/hostile.json`), run against one adapter set through the
//! API: every case must get exactly its expected answer (a typed rejection, never a panic or a 5xx),
//! and afterwards the service must be unaffected (a valid image still processes, and refused requests
//! left no record behind). Object cases are files of `corpus/hostile`, or documents generated when
//! the corpus runs (`intake_pdf::testkit::hostile`: bombs of gigabytes are written in milliseconds
//! rather than committed); a case that `needs` a PDF reader expects the corpus's `withoutPdfReader`
//! answer from an adapter set without one.

use std::path::PathBuf;

use async_trait::async_trait;
use intake_pdf::testkit::hostile;
use serde_json::{Value, json};

/// An HTTP answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// An adapter set as the corpus drives it.
#[async_trait]
pub(crate) trait Target: Sync {
    /// Whether the adapter set reads PDFs (composes a document reader).
    fn reads_pdf(&self) -> bool;
    /// Sends an API request with a valid API key.
    async fn api(&self, method: &str, path: &str, json_body: Option<Vec<u8>>) -> Answer;
    /// PUTs `bytes` to the ticket's presigned URL with its required headers; the HTTP status.
    async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> u16;
    /// Waits until the ticket's image is in a terminal status (delivering the object-created
    /// notification where the platform would) and returns its record.
    async fn settle(&self, ticket: &Value) -> Value;
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/hostile")
}

/// Expands `{"repeat": S, "times": N, "then": T, "prefix": P}` into `P + S*N + T`, everywhere.
fn expand(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("repeat") => {
            let unit = map["repeat"].as_str().unwrap();
            let times = usize::try_from(map["times"].as_u64().unwrap()).unwrap();
            let prefix = map.get("prefix").and_then(Value::as_str).unwrap_or("");
            let then = map.get("then").and_then(Value::as_str).unwrap_or("");
            Value::String(format!("{prefix}{}{then}", unit.repeat(times)))
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

/// Runs every case against `target`; panics listing every case that got another answer.
pub(crate) async fn run(target: &impl Target) {
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().parent().unwrap().join("hostile.json")).unwrap(),
    )
    .unwrap();
    let mut wrong = Vec::new();
    let mut uploaded = objects(target, &corpus, &mut wrong).await;
    requests(target, &corpus, &mut wrong).await;
    unaffected(target, &mut uploaded, &mut wrong).await;
    assert!(
        wrong.is_empty(),
        "{} case(s) answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Uploads every object case and checks its record; returns the image ids, oldest first.
async fn objects(target: &impl Target, corpus: &Value, wrong: &mut Vec<String>) -> Vec<Value> {
    let mut uploaded = Vec::new();
    for case in corpus["objects"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let Some(bytes) = object_bytes(case) else {
            eprintln!("SKIPPED {name}: qpdf is not installed (scripts/system-deps.sh)");
            continue;
        };
        let expect = match case.get("needs").and_then(Value::as_str) {
            None => &case["expect"],
            Some("pdf") if target.reads_pdf() => &case["expect"],
            Some("pdf") => &corpus["withoutPdfReader"]["expect"],
            Some(other) => panic!("{name}: needs {other}?"),
        };
        let request = json!({"filename": case["filename"], "contentType": case["contentType"]});
        let ticket = target
            .api("POST", "/uploads", Some(request.to_string().into_bytes()))
            .await;
        if ticket.status != 201 {
            wrong.push(format!(
                "{name}: POST /uploads answered {} {}",
                ticket.status, ticket.body
            ));
            continue;
        }
        let started = std::time::Instant::now();
        let put = target.put(&ticket.body, bytes).await;
        if put != 200 {
            wrong.push(format!("{name}: PUT answered {put}"));
            continue;
        }
        let record = target.settle(&ticket.body).await;
        eprintln!(
            "{name}: {} {} in {:.1?}",
            record["status"],
            record
                .get("rejectionCode")
                .or_else(|| record.get("failureCode"))
                .unwrap_or(&Value::Null),
            started.elapsed()
        );
        uploaded.push(record["imageId"].clone());
        for field in ["status", "rejectionCode", "failureCode"] {
            if let Some(expected) = expect.get(field)
                && record.get(field) != Some(expected)
            {
                wrong.push(format!(
                    "{name}: {field} {:?}, expected {expected}",
                    record.get(field)
                ));
            }
        }
        if expect.get("rejectionCode").is_none() && record.get("rejectionCode").is_some() {
            wrong.push(format!("{name}: rejected: {record}"));
        }
        if let Some(sources) = expect.get("pageSources") {
            let found: Vec<Value> = record["pages"]
                .as_array()
                .map(|pages| pages.iter().map(|p| p["source"].clone()).collect())
                .unwrap_or_default();
            if Value::Array(found.clone()) != *sources {
                wrong.push(format!("{name}: pages from {found:?}, expected {sources}"));
            }
        }
        if let Some(part) = expect.get("ocrTextContains").and_then(Value::as_str) {
            let text = record["ocrText"].as_str().unwrap_or_default();
            if !text.to_lowercase().contains(&part.to_lowercase()) {
                wrong.push(format!("{name}: text {text:?} lacks {part:?}"));
            }
        }
    }
    uploaded
}

/// A case's bytes: its file, or the document its `generate` names; `None` when the tool it needs
/// (qpdf) is not installed, which only a machine off CI may lack.
fn object_bytes(case: &Value) -> Option<Vec<u8>> {
    if let Some(file) = case.get("file").and_then(Value::as_str) {
        return Some(std::fs::read(corpus_dir().join(file)).unwrap());
    }
    let encrypted = |made: std::io::Result<Vec<u8>>| match made {
        Ok(doc) => Some(doc),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "qpdf must be installed on CI (scripts/system-deps.sh)"
            );
            None
        }
        Err(e) => panic!("qpdf: {e}"),
    };
    let generator = case["generate"].as_str().unwrap();
    Some(match generator {
        "pdf-content-bomb-4GiB" => hostile::content_bomb(4 << 30),
        "pdf-image-bomb-60000x60000" => hostile::image_bomb(60_000),
        "pdf-looping-page-tree" => hostile::looping_page_tree(),
        "pdf-self-drawing-form" => hostile::self_drawing_form(),
        "pdf-array-200000-deep" => hostile::deep_array(200_000),
        "pdf-100000-nested-q" => hostile::nested_states(100_000),
        "pdf-page-tree-5000-deep" => hostile::deep_page_tree(5000),
        "pdf-5000-pages" => intake_pdf::testkit::pages(5000),
        "pdf-page-14400pt" => hostile::huge_page(14_400),
        "pdf-object-stream-claiming-10000000" => hostile::claiming_object_stream(10_000_000),
        "pdf-broken-xref" => hostile::broken_xref(),
        "pdf-missing-xref" => hostile::missing_xref(),
        "pdf-truncated" => hostile::truncated(),
        "pdf-javascript" => hostile::with_javascript(),
        "pdf-private-use-text-layer" => hostile::private_use_text_layer(),
        "pdf-rc4-user-password" => return encrypted(hostile::rc4_user_password()),
        "pdf-aes256-user-password" => return encrypted(hostile::aes256_user_password()),
        "pdf-aes256-owner-password-only" => {
            return encrypted(hostile::aes256_owner_password_only());
        }
        other => panic!("no generator {other}"),
    })
}

/// Sends every request case and checks the answer.
async fn requests(target: &impl Target, corpus: &Value, wrong: &mut Vec<String>) {
    for case in corpus["requests"].as_array().unwrap() {
        let case = expand(case);
        let name = case["name"].as_str().unwrap();
        let body = case
            .get("json")
            .map(|json| json.to_string().into_bytes())
            .or_else(|| {
                case.get("raw")
                    .map(|raw| raw.as_str().unwrap().as_bytes().to_vec())
            });
        let answer = target
            .api(
                case["method"].as_str().unwrap(),
                case["path"].as_str().unwrap(),
                body,
            )
            .await;
        let expect = &case["expect"];
        if Some(u64::from(answer.status)) != expect["status"].as_u64() {
            let shown: String = answer.body.to_string().chars().take(300).collect();
            wrong.push(format!(
                "{name}: HTTP {}, expected {}: {shown}",
                answer.status, expect["status"]
            ));
            continue;
        }
        if let Some(code) = expect.get("code")
            && answer.body["error"]["code"] != *code
        {
            wrong.push(format!(
                "{name}: code {}, expected {code}",
                answer.body["error"]["code"]
            ));
        }
        if let Some(file_name) = expect.get("fileName") {
            let image = target
                .api(
                    "GET",
                    &format!("/images/{}", answer.body["imageId"].as_str().unwrap()),
                    None,
                )
                .await;
            if image.body["fileName"] != *file_name {
                wrong.push(format!(
                    "{name}: fileName {}, expected {file_name}",
                    image.body["fileName"]
                ));
            }
            let key = answer.body["objectKey"].as_str().unwrap();
            if !key.ends_with(&format!("/{}", file_name.as_str().unwrap())) || key.contains("..") {
                wrong.push(format!("{name}: object key {key}"));
            }
        }
    }
}

/// Nothing else is affected: a valid image still goes through, and only the uploads left records
/// that reached processing (refused requests wrote nothing).
async fn unaffected(target: &impl Target, uploaded: &mut Vec<Value>, wrong: &mut Vec<String>) {
    let control = std::fs::read(corpus_dir().join("control.png")).unwrap();
    let request = json!({"filename": "after.png", "contentType": "image/png"});
    let ticket = target
        .api("POST", "/uploads", Some(request.to_string().into_bytes()))
        .await;
    assert_eq!(ticket.status, 201);
    assert_eq!(target.put(&ticket.body, control).await, 200);
    let record = target.settle(&ticket.body).await;
    if record["status"] != "PROCESSED" {
        wrong.push(format!("the control image after the corpus: {record}"));
    }
    uploaded.push(record["imageId"].clone());
    let listed = target.api("GET", "/images?limit=1000", None).await;
    let mut ids: Vec<Value> = listed.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["imageId"].clone())
        .collect();
    ids.reverse();
    if ids != *uploaded {
        wrong.push(format!(
            "listed {ids:?}, expected exactly the uploads {uploaded:?}"
        ));
    }
    assert!(
        wrong.is_empty(),
        "{} case(s) answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
