//! # intake-http
//!
//! Intake's REST API as one axum [`Router`], built by [`app`] over an [`Intake`] and served unchanged by
//! `lambda_http` on AWS and by the local server, so routes cannot drift between deployments.
//!
//! | route | answer |
//! |---|---|
//! | `POST /uploads` | 201: upload URL, bucket, key, image id, expiry, required headers, `duplicateOf` |
//! | `GET /images` | 200: metadata (no OCR text), newest first; `limit`, `cursor`, `status`, `sha256`, `q`, `field` (repeatable, `TOTAL:31.00`), `documentType` |
//! | `GET /images/{imageId}` | 200: the record with its OCR text and a presigned download URL; `?include=ocrLines` adds the lines |
//! | `DELETE /images/{imageId}` | 204: soft delete, idempotent |
//! | `GET /images/{imageId}/export?format=hocr\|alto\|txt\|pdf` | 200: the OCR result as hOCR, ALTO, text or a searchable PDF, a download; 303 to a short-lived URL when larger than the deployment answers inline |
//! | `GET /images/{imageId}/fields` | 200: the document's type, fields and line items with their boxes (relative to their page) and the pages' sizes; `read: false` while none were read |
//! | `GET /images/{imageId}/similar` | 200: the caller's images that look like the same document (near-duplicates), each saying why; 501 without a fingerprint index |
//! | `GET /images/{imageId}/pages/{page}` | 303 to a short-lived URL of a picture of the page (JPEG, upright) |
//! | `GET /health` | 200 (the only route without authentication) |
//!
//! Every other route requires a caller, established by the deployment's [`Authenticator`] (API keys
//! on the local server, the API Gateway authorizer on Lambda); the caller's owner scopes everything
//! it sees. Every error is `{"error":{"code","message"}}` with a stable code (see [`ApiError`]). Requests carry
//! an `x-request-id` (kept from the client or generated), echoed in the response and in the logs.

mod auth;
mod cors;
mod error;
mod exports;
mod extract;
mod fields;
mod jobs;
mod keys;
mod pages;
mod routes;
pub mod views;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use intake_domain::Intake;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use auth::{ApiKeyAuth, Authenticator, Caller};
pub use cors::{CorsError, CorsOrigins};
pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery, Id, PathId};
/// Why a request is not authenticated: what every [`Authenticator`] answers.
pub use intake_keys::AuthError;
pub use jobs::{JOB_ROUTES, job_routes};
pub use keys::{KEY_ROUTES, key_routes};
pub use routes::{EVENT_LINKS, METRICS_ROUTE, ROUTES, Route, image_link};
pub use webhooks::{WEBHOOK_ROUTES, webhook_routes};

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Options of the router.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiOptions {
    /// The largest request body, in bytes (default 64 KiB: the API only takes small JSON bodies;
    /// images go straight to storage).
    pub body_limit: usize,
    /// The browser origins allowed to call the routes from other sites (default none). On AWS the
    /// HTTP API and the bucket answer CORS themselves (the template's `CorsAllowedOrigins`).
    pub cors: CorsOrigins,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            cors: CorsOrigins::none(),
        }
    }
}

impl ApiOptions {
    /// With a body limit.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
    /// With the origins allowed to make cross-origin requests.
    #[must_use]
    pub fn with_cors(mut self, origins: CorsOrigins) -> Self {
        self.cors = origins;
        self
    }
}

/// The API over `intake`, callers established by `auth`, with default options.
pub fn app(intake: Intake, auth: impl Authenticator) -> Router {
    app_with(intake, Arc::new(auth), ApiOptions::default())
}

/// The API over `intake`, callers established by `auth`, with `options`.
pub fn app_with(intake: Intake, auth: Arc<dyn Authenticator>, options: ApiOptions) -> Router {
    app_with_routes(intake, auth, options, Router::new(), Router::new())
}

/// The API over `intake` with `options`, plus extra routes served beside it with the same request
/// ids, tracing and error envelope for unknown routes: `public` ones as they are (the local server's
/// object endpoints, which check their own signed URLs), `authenticated` ones behind `auth` like the
/// API's (the local server's key management). Extra routes must not define a fallback or any of
/// [`ROUTES`].
pub fn app_with_routes(
    intake: Intake,
    auth: Arc<dyn Authenticator>,
    options: ApiOptions,
    public: Router,
    authenticated: Router,
) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id, key_id = tracing::field::Empty)
    });
    // Preflights are answered inside the request-id and trace layers (they are logged and carry an
    // id) and before authentication (browsers send them without credentials).
    routes::router(intake, auth, options.body_limit, public, authenticated).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(request_id))
            .option_layer(options.cors.into_layer()),
    )
}

/// How long clients are told to wait before retrying a 503.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(1);
