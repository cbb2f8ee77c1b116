//! The API's own extractors: axum's JSON body, query and path extractors whose rejections are the
//! API's error body, and path ids parsed once, so handlers take valid values and never see a
//! rejection.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use intake_domain::IntakeError;
use intake_domain::model::ImageId;
use intake_keys::KeyId;
use intake_webhooks::WebhookId;
use intake_webhooks::WebhooksError;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body; a body that is not JSON, not the expected shape or too large is the API's error
/// (`MALFORMED_JSON`, `INVALID_BODY`, `UNSUPPORTED_MEDIA_TYPE`, `BODY_TOO_LARGE`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// A query string; one that does not parse into `T` is 400 `INVALID_QUERY`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// An id that a route takes as its one path parameter, with the API's error for one that does not
/// parse.
pub trait PathId: Sized {
    /// The id `text` names.
    ///
    /// # Errors
    /// The API's 400 for this kind of id (`INVALID_IMAGE_ID`, `INVALID_KEY_ID`, `INVALID_WEBHOOK_ID`).
    fn parse_path(text: &str) -> Result<Self, ApiError>;
}

impl PathId for ImageId {
    fn parse_path(text: &str) -> Result<Self, ApiError> {
        Self::parse(text).map_err(|e| IntakeError::from(e).into())
    }
}

impl PathId for KeyId {
    fn parse_path(text: &str) -> Result<Self, ApiError> {
        Self::parse(text)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_KEY_ID", e.to_string()))
    }
}

impl PathId for WebhookId {
    fn parse_path(text: &str) -> Result<Self, ApiError> {
        Self::parse(text).map_err(|e| WebhooksError::Invalid(e).into())
    }
}

/// The route's id path parameter, parsed once (see [`PathId`]).
#[derive(Debug, Clone, Copy)]
pub struct Id<T>(pub T);

impl<T, S> FromRequestParts<S> for Id<T>
where
    T: PathId,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state).await?;
        T::parse_path(&text).map(Self)
    }
}
