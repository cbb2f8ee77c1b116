use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_domain::{ErrorKind, IntakeError, ServiceError, error_chain};
use intake_keys::KeyError;
use intake_webhooks::WebhooksError;
use serde_json::json;

use crate::RETRY_AFTER;

/// How long clients are told to wait before retrying after `507 INSUFFICIENT_STORAGE`.
const STORAGE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// An error answer: an HTTP status and the envelope `{"error":{"code","message"}}`.
///
/// Codes are stable: the domain's ([`IntakeError::code`]) plus the protocol's own: `MALFORMED_JSON`
/// (400), `INVALID_BODY` (422: well-formed JSON of the wrong shape, unknown fields included),
/// `UNSUPPORTED_MEDIA_TYPE` (415: not `application/json`), `BODY_TOO_LARGE` (413), `INVALID_QUERY`
/// (400), `ROUTE_NOT_FOUND` (404), `METHOD_NOT_ALLOWED` (405). `INSUFFICIENT_STORAGE` (507) and
/// `503` answers carry `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// `507 INSUFFICIENT_STORAGE`: no space left for what the request would write (with
    /// `Retry-After`).
    pub fn insufficient_storage() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "INSUFFICIENT_STORAGE",
            NO_SPACE_MESSAGE,
        )
    }
}

/// What a client is told when storage is full.
const NO_SPACE_MESSAGE: &str = "the server has no storage space left; retry once space is freed";

/// The status for each kind of domain error.
pub(crate) fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// The answer to a service error: its kind's status (one mapping, `status_of`) and code; the
    /// detail of a server-side failure goes to the logs, and clients get a generic message.
    pub fn of_service(error: &dyn ServiceError) -> Self {
        let status = status_of(error.kind());
        if status == StatusCode::TOO_MANY_REQUESTS {
            tracing::warn!(code = error.code(), error = %error_chain(error), "dependency throttled");
            return Self::new(
                status,
                error.code(),
                "too many requests right now; retry after a pause",
            );
        }
        if status.is_server_error() {
            tracing::error!(code = error.code(), error = %error_chain(error), "request failed");
            let message = match status {
                StatusCode::SERVICE_UNAVAILABLE => "a dependency is unavailable; retry shortly",
                StatusCode::INSUFFICIENT_STORAGE => NO_SPACE_MESSAGE,
                _ => "internal error",
            };
            return Self::new(status, error.code(), message);
        }
        Self::new(status, error.code(), error.to_string())
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        Self::of_service(&error)
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        Self::of_service(&error)
    }
}

impl From<WebhooksError> for ApiError {
    fn from(error: WebhooksError) -> Self {
        Self::of_service(&error)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_BODY"),
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE")
            }
            _ => (StatusCode::BAD_REQUEST, "INVALID_BODY"),
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            rejection.body_text(),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_PATH",
            rejection.body_text(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER.as_secs()),
            );
        }
        if self.status == StatusCode::INSUFFICIENT_STORAGE {
            // Space comes back when an operator frees it: not within a second.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(STORAGE_RETRY_AFTER.as_secs()),
            );
        }
        response
    }
}
