//! The API function: the shared router on `lambda_http`, over the AWS adapters built once per cold start.
//! It composes the PDF reader as the processor does (for the formats it accepts) and, like the
//! processor, is the reader's worker when started as `bootstrap pdf-worker`.

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = intake_lambda::pdf_worker() {
        return code;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("api: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run() -> Result<(), lambda_http::Error> {
    intake_lambda::init_tracing();
    let intake = intake_lambda::compose().await?;
    let service = tower::ServiceBuilder::new()
        .map_request(intake_lambda::without_stage)
        .service(
            intake_http::app(intake, intake_lambda::AuthorizerAuth).route_layer(
                axum::middleware::from_fn(intake_lambda::emf::count_requests),
            ),
        );
    lambda_http::run(service).await
}
