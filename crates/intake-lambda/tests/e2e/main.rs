//! The AWS deployment end to end: the `api` and `processor` bootstraps (the test profile's builds of
//! the functions `make build-lambda` packages) run under a Lambda Runtime API emulator, each with
//! exactly the environment `deploy/template.yaml` gives it, against the template's own resources
//! created in moto (bucket and notification, queues and redrive, table with keys, stream and
//! indexes, bus). An upload goes through an API Gateway HTTP API (v2) event with an IAM identity,
//! its PUT to the presigned URL, the S3 notification through the queue to the processor, PP-OCR
//! in the function, the record, the image with its text and a download URL that serves the bytes,
//! and the table stream's events to the bus and through a rule to a queue; then the unhappy paths
//! as deployed: a batch reports only its failures, a poison message ends in the dead-letter queue
//! after the redrive policy's receives, and an OCR timeout in the function comes back after a
//! back-off and is then read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc
)]

#[path = "../../../intake-aws/tests/support/mod.rs"]
mod support;

mod flow;
mod largest;
mod memory;
mod qemu;
mod runtime;
mod sources;
mod stack;
mod template;
mod unhappy;

use std::path::{Path, PathBuf};

use flow::{Api, render};
use runtime::{Function, Spec};
use sources::{QueueSource, StreamSource};
use stack::Stack;

/// The models directory (the layer's contents: PP-OCR models, ONNX Runtime, libpdfium), or `None`
/// (skipped) where they are not installed outside CI.
fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("INTAKE_MODELS_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".local/share/intake/models")
        },
        PathBuf::from,
    );
    if dir.join("ppocr-v6-tiny").is_dir() && dir.join("onnxruntime").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |ci| ci != "true"),
        "the OCR models are not in {}: run scripts/ocr-models.sh",
        dir.display()
    );
    eprintln!(
        "SKIPPED: the OCR models are not in {}; run scripts/ocr-models.sh",
        dir.display()
    );
    None
}

/// Starts the template's function `id` from `binary`, with the template's environment plus `extra`.
async fn start(
    stack: &Stack,
    id: &str,
    binary: &str,
    models: &Path,
    extra: &[(&str, &str)],
) -> Function {
    launch(stack, id, binary, models, extra, false).await
}

/// As [`start`], in a memory cgroup of the function's memory size when `limit_memory`.
async fn launch(
    stack: &Stack,
    id: &str,
    binary: &str,
    models: &Path,
    extra: &[(&str, &str)],
    limit_memory: bool,
) -> Function {
    let program = match binary {
        "api" => env!("CARGO_BIN_EXE_api"),
        _ => env!("CARGO_BIN_EXE_processor"),
    };
    let bootstrap = (PathBuf::from(program), Vec::new());
    launch_bootstrap(stack, id, bootstrap, models, extra, limit_memory).await
}

/// Starts the template's function `id` from an executable (run by a wrapper such as qemu-user
/// when one is given).
async fn launch_bootstrap(
    stack: &Stack,
    id: &str,
    (program, wrapper): (PathBuf, Vec<String>),
    models: &Path,
    extra: &[(&str, &str)],
    limit_memory: bool,
) -> Function {
    let (mut env, memory_mib, timeout) = stack.function(id, models);
    for (name, value) in extra {
        env.retain(|(k, _)| k != name);
        env.push(((*name).to_owned(), (*value).to_owned()));
    }
    let function = Function::start(Spec {
        name: format!("{}-{}", id, std::process::id()),
        program,
        wrapper,
        env,
        memory_mib,
        timeout,
        limit_memory,
    })
    .await;
    eprintln!("{id}: init {:.0} ms", function.init.as_secs_f64() * 1e3);
    function
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_functions_carry_an_upload_from_the_api_to_the_bus() {
    let Some(models) = models_dir() else {
        return;
    };
    let Some(moto) = support::moto().await else {
        return;
    };
    let largest_pages = tokio::task::spawn_blocking(largest::pages);
    let sdk = support::sdk_config(&moto.endpoint, stack::ACCESS_KEY).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let stack = Stack::create(&moto.endpoint, &s3).await;
    let mut api = Api::new(
        start(&stack, "ApiFunction", "api", &models, &[]).await,
        &stack,
        "ApiFunction",
    );
    let mut processor = start(&stack, "ProcessorFunction", "processor", &models, &[]).await;
    let mut events = start(&stack, "EventsFunction", "processor", &models, &[]).await;
    let uploads = QueueSource::of(&stack, "ProcessorFunction");
    let mut stream = StreamSource::of(&stack, "EventsFunction").await;
    let seen = flow::rule_to_queue(&stack).await;

    // 1. The upload flow.
    let page = render(&["INVOICE 4711", "Total due 128.50 EUR"]);
    let id = api.upload("invoice.png", &page).await;
    let record = flow::process_until_done(&uploads, &mut processor, &mut api, &id).await;
    assert_eq!(record["status"], "PROCESSED", "{record}");
    let text = record["ocrText"].as_str().unwrap();
    assert!(
        text.contains("4711") && text.contains("128.50"),
        "PP-OCR in the function read {text:?}"
    );
    assert!(
        record["ocrEngine"]
            .as_str()
            .is_some_and(|e| e.starts_with("ppocr")),
        "{record}"
    );
    let download = reqwest::get(record["downloadUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert!(download.status().is_success(), "{download:?}");
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        page.as_slice(),
        "the download URL serves the bytes"
    );
    // The table stream's events through the events function to the bus, and by a rule to a queue.
    assert!(
        stream.run(&mut events).await > 0,
        "the writes reached the stream"
    );
    let types = flow::events_for(&stack, &seen, &id, &["image.uploaded", "image.processed"]).await;
    assert_eq!(types, ["image.uploaded", "image.processed"]);

    // 2-4. The unhappy paths as deployed.
    unhappy::a_batch_reports_only_its_poison_message(&stack, &uploads, &mut processor, &mut api)
        .await;
    unhappy::ocr_timeout_is_retried_with_back_off(
        &stack,
        &models,
        &uploads,
        &mut processor,
        &mut api,
    )
    .await;

    // 5. Where signatures matter: S3 on s3s-fs, which checks SigV4, presigned URLs included.
    if let Some(s3s) = support::s3s_fs().await {
        flow::presigned_urls_are_signed_for_the_store(&stack, &models, &uploads, &s3s.endpoint)
            .await;
    }
    // 6. The largest page the limits allow, in the processor at the template's memory size.
    let pages = largest_pages.await.unwrap();
    largest::the_largest_page_fits_the_template_memory(&stack, &models, &uploads, &mut api, pages)
        .await;
    drop(moto);
}
