//! The template's architecture: the functions built for arm64 (`scripts/arm64-smoke.sh` builds
//! them as `make build-lambda` does, linked for Lambda's glibc 2.34, in the test profile) run under
//! qemu-user with Debian's arm64 system libraries and the arm64 models layer, for one
//! upload read by PP-OCR in the processor. The init and the time of the page are printed as
//! context: under emulation they say nothing of Graviton's speed.

use std::path::PathBuf;
use std::time::Instant;

use super::flow::{Api, process_until_done, render};
use super::sources::QueueSource;
use super::stack::Stack;

/// Emulation runs PP-OCR's kernels instruction by instruction, slower than the template's 120 s
/// timeout and the default 90 s OCR limit allow for (about two minutes a page here): both are raised
/// for this run (the one setting it adds), so the smoke checks what runs, not how fast.
const EMULATED_OCR_LIMIT: &str = "900";
const EMULATED_TIMEOUT: u64 = 960;

/// The CPU qemu-user emulates: Graviton2's Neoverse N1, an arm64 Lambda's. qemu's default, `max`,
/// advertises SVE and SME, whose kernels ONNX Runtime then picks and qemu emulates so slowly that a
/// two-line page did not finish in 15 minutes (against under two with this model).
const EMULATED_CPU: &str = "neoverse-n1";

/// Where the arm64 build, its models and the emulator are, from the variables the smoke script
/// sets; `None` (skipped) without them.
struct Arm64 {
    lambda_dir: PathBuf,
    models: PathBuf,
    wrapper: Vec<String>,
}

impl Arm64 {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
        let Some(lambda_dir) = var("INTAKE_ARM64_LAMBDA_DIR") else {
            eprintln!(
                "SKIPPED: INTAKE_ARM64_LAMBDA_DIR names no arm64 package (scripts/arm64-smoke.sh runs this test)"
            );
            return None;
        };
        let models = var("INTAKE_ARM64_MODELS_DIR")
            .expect("INTAKE_ARM64_MODELS_DIR: the arm64 models layer");
        let qemu = var("INTAKE_QEMU_AARCH64").expect("INTAKE_QEMU_AARCH64: qemu-aarch64-static");
        let sysroot =
            var("INTAKE_ARM64_SYSROOT").expect("INTAKE_ARM64_SYSROOT: Debian's arm64 libraries");
        Some(Self {
            lambda_dir,
            models,
            wrapper: vec![
                qemu.display().to_string(),
                "-cpu".to_owned(),
                EMULATED_CPU.to_owned(),
                "-L".to_owned(),
                sysroot.display().to_string(),
            ],
        })
    }

    fn bootstrap(&self, name: &str) -> (PathBuf, Vec<String>) {
        let program = self.lambda_dir.join(name).join("bootstrap");
        assert!(program.is_file(), "{} is not built", program.display());
        (program, self.wrapper.clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm64_bootstraps_read_an_upload_under_qemu() {
    let Some(arm64) = Arm64::from_env() else {
        return;
    };
    let Some(moto) = super::support::moto().await else {
        return;
    };
    let sdk = super::support::sdk_config(&moto.endpoint, super::stack::ACCESS_KEY).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let stack = Stack::create(&moto.endpoint, &s3).await;
    let api = super::launch_bootstrap(
        &stack,
        "ApiFunction",
        arm64.bootstrap("api"),
        &arm64.models,
        &[],
        false,
    )
    .await;
    let mut api = Api::new(api, &stack, "ApiFunction");
    let mut processor = super::launch_bootstrap(
        &stack,
        "ProcessorFunction",
        arm64.bootstrap("processor"),
        &arm64.models,
        &[("INTAKE_OCR_TIMEOUT_SECONDS", EMULATED_OCR_LIMIT)],
        false,
    )
    .await
    .with_timeout(std::time::Duration::from_secs(EMULATED_TIMEOUT));
    let uploads = QueueSource::of(&stack, "ProcessorFunction");
    let page = render(&["INVOICE 4711", "Total due 128.50 EUR"]);
    let id = api.upload("invoice.png", &page).await;
    let started = Instant::now();
    let image = process_until_done(&uploads, &mut processor, &mut api, &id).await;
    eprintln!(
        "arm64 under qemu-user (context only): processor init {:.1} s, api init {:.1} s, the page in {:.1} s",
        processor.init.as_secs_f64(),
        api.init().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(image["status"], "PROCESSED", "{image}");
    let text = image["ocrText"].as_str().unwrap();
    assert!(
        text.contains("4711") && text.contains("128.50"),
        "PP-OCR on arm64 read {text:?}"
    );
    assert!(
        image["ocrEngine"]
            .as_str()
            .is_some_and(|e| e.starts_with("ppocr")),
        "{image}"
    );
}
