//! The processor function: S3 notifications, direct or through SQS, into `process_object_created`.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
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
