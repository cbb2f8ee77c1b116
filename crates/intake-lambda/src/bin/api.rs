//! The API function: the shared router on `lambda_http`, over the AWS adapters built once per cold start.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
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
