//! # intake-lambda
//!
//! Intake's two Lambda functions, thin by design: they parse, compose and call a service.
//! - `api`: builds the AWS adapters once per cold start and serves the shared router
//!   ([`intake_http::app`]) with `lambda_http`, so the API on Lambda is the one tested in-process;
//!   callers are who the API Gateway authorizer says ([`AuthorizerAuth`]).
//! - `processor`: handles S3 `ObjectCreated` notifications delivered directly or wrapped in SQS
//!   messages (with partial batch failure reporting), see [`processor::handle`].
//!
//! Logs are JSON lines (`tracing`) for CloudWatch, one span per request or record.

pub mod events;
pub mod identity;
pub mod processor;

pub use identity::AuthorizerAuth;

use intake_aws::{AwsAdapters, AwsSettings};
use intake_domain::Intake;
use intake_domain::services::BuildError;

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A setting is missing or invalid.
    #[error("invalid settings: {0}")]
    Settings(#[from] intake_aws::SettingsError),
    /// The services could not be composed.
    #[error("cannot compose the services: {0}")]
    Build(#[from] BuildError),
}

/// Reads the settings from the environment, builds the AWS adapters and composes the services.
///
/// # Errors
/// [`StartError`] naming the setting or configuration at fault.
pub async fn compose() -> Result<Intake, StartError> {
    let settings = AwsSettings::from_env()?;
    let adapters = AwsAdapters::load(&settings).await;
    Ok(adapters.intake(&settings)?)
}

/// Removes the stage name that `lambda_http` puts in front of the path of API Gateway REST API (v1)
/// requests (`/prod/images` → `/images`), so the shared router's routes match whichever API type
/// invokes the function. Nothing changes for HTTP APIs (v2), or when
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set (then `lambda_http` adds no stage).
pub fn without_stage(mut request: lambda_http::Request) -> lambda_http::Request {
    use lambda_http::RequestExt as _;
    use lambda_http::request::RequestContext;
    if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() {
        return request;
    }
    let Some(RequestContext::ApiGatewayV1(context)) = request.request_context_ref() else {
        return request;
    };
    let Some(prefix) = context.stage.as_ref().map(|stage| format!("/{stage}")) else {
        return request;
    };
    let path = request.uri().path();
    let Some(rest) = path
        .strip_prefix(&prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return request;
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = lambda_http::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// JSON logs for CloudWatch; the level comes from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}
