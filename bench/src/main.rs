//! Intake's benchmark harness (`make bench`). Every figure is printed as a ratio to a reference measured
//! in the same run on the same machine, because this machine is shared and noisy; the figures, the
//! machine and the date go to `bench/RESULTS.md`.
//!
//! ```text
//! intake-bench [--quick] [--only sha,memory,pipeline,api,lambda,throughput,ocr,search,pdf,fields,similar] [--out FILE]
//! intake-bench rss-child DATA_DIR KEY      (internal: processes one object, prints peak RSS)
//! intake-bench tesseract-child PAGE     (internal: Tesseract on one page, prints peak RSS)
//! intake-bench ocr-child TIER WORKERS OUT PAGE...  (internal: PP-OCR over pages, prints time and RSS)
//! intake-bench pdf-worker [RSS-FILE]   (internal: the PDF worker, `intake pdf-worker`; its peak RSS)
//! ```
// Casts turn counts and sizes into rates for display; indexing is only into `serde_json::Value`, which
// answers `Null` instead of panicking.
#![allow(
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::print_stdout
)]

mod api;
mod fields;
mod fields_score;
mod lambda;
mod memory;
mod ocr;
mod ocr_order;
mod pdf;
mod pipeline;
mod report;
mod search;
mod sha;
mod similar;
mod support;
mod throughput;

use std::path::PathBuf;
use std::process::ExitCode;

use report::Report;

/// The allocator the `intake` binary uses, so the in-process server measures as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What the run measures, and how much.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) quick: bool,
    pub(crate) only: Option<Vec<String>>,
    pub(crate) out: Option<PathBuf>,
}

impl Plan {
    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == name))
    }
}

fn parse(args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan {
        quick: false,
        only: None,
        out: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => plan.quick = true,
            "--only" => {
                let list = args.next().ok_or("--only needs a list")?;
                plan.only = Some(list.split(',').map(str::to_owned).collect());
            }
            "--out" => plan.out = Some(args.next().ok_or("--out needs a file")?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(plan)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("rss-child") {
        return memory::child(args.get(1..).unwrap_or_default());
    }
    if args.first().map(String::as_str) == Some("tesseract-child") {
        return memory::tesseract_child(args.get(1..).unwrap_or_default());
    }
    if args.first().map(String::as_str) == Some("ocr-child") {
        return ocr::child(args.get(1..).unwrap_or_default());
    }
    if args.first().map(String::as_str) == Some(intake_pdf::WORKER_ARG) {
        return pdf::worker(args.get(1..).unwrap_or_default());
    }
    let plan = match parse(&args) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("intake-bench: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("intake-bench: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(&plan)) {
        Ok(report) => {
            if let Some(out) = &plan.out
                && let Err(error) = report.write(out)
            {
                eprintln!("intake-bench: cannot write {}: {error}", out.display());
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("intake-bench: {error}");
            ExitCode::from(1)
        }
    }
}

async fn run(plan: &Plan) -> Result<Report, support::BenchError> {
    let mut report = Report::new(plan.quick);
    if plan.wants("sha") {
        report.add(sha::run(plan).await?);
    }
    if plan.wants("memory") {
        report.add(memory::run(plan).await?);
    }
    if plan.wants("pipeline") {
        report.add(pipeline::run(plan).await?);
    }
    if plan.wants("api") {
        report.add(api::run(plan).await?);
    }
    if plan.wants("lambda") {
        report.add(lambda::run(plan).await?);
    }
    if plan.wants("throughput") {
        report.add(throughput::run(plan).await?);
    }
    if plan.wants("ocr") {
        report.add(ocr::run(plan).await?);
    }
    if plan.wants("search") {
        report.add(search::run(plan).await?);
    }
    if plan.wants("pdf") {
        report.add(pdf::run(plan).await?);
    }
    if plan.wants("fields") {
        report.add(fields::run(plan)?);
    }
    if plan.wants("similar") {
        report.add(similar::run(plan).await?);
    }
    Ok(report)
}
