//! The processor function: S3 notifications, direct or through SQS, into `process_object_created`.
//! Started as `bootstrap pdf-worker`, it is the PDF reader's worker instead (see
//! `intake_lambda::pdf_worker`), before any runtime starts.

use std::process::ExitCode;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

fn main() -> ExitCode {
    if let Some(code) = intake_lambda::pdf_worker() {
        return code;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("processor: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run() -> Result<(), lambda_runtime::Error> {
    intake_lambda::init_tracing();
    let (intake, batch) = intake_lambda::compose_processor().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (intake, batch) = (intake.clone(), batch.clone());
        async move {
            intake_lambda::processor::handle_with(&intake, event.payload, &batch)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
