//! Who is calling: every route but `/health` runs behind an [`Authenticator`], which turns the
//! request's credentials into a [`Caller`]. Each deployment brings its own: [`ApiKeyAuth`] for the
//! local server, the API Gateway authorizer's claims on Lambda (`intake-lambda`).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use intake_domain::model::Owner;
use intake_keys::{ApiKeys, AuthError};

use crate::ApiError;

/// The authenticated caller of a request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Caller {
    /// Whose images the request may see and create.
    pub owner: Owner,
    /// Whether the caller may manage API keys (local server only).
    pub admin: bool,
}

impl Caller {
    /// A caller acting as `owner`, without admin rights.
    pub fn new(owner: Owner) -> Self {
        Self {
            owner,
            admin: false,
        }
    }

    /// With admin rights.
    #[must_use]
    pub fn admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// Refuses a caller without admin rights: `403 ADMIN_REQUIRED`, saying what needs them (`what`:
    /// "managing API keys", ...).
    ///
    /// # Errors
    /// The 403 answer.
    pub fn require_admin(&self, what: &str) -> Result<(), crate::ApiError> {
        if self.admin {
            return Ok(());
        }
        Err(crate::ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "ADMIN_REQUIRED",
            format!("{what} needs an admin key"),
        ))
    }
}

/// Turns a request's credentials into a [`Caller`].
#[async_trait]
pub trait Authenticator: Send + Sync + Debug + 'static {
    /// Who sent `request` (its head: headers, extensions).
    ///
    /// # Errors
    /// [`AuthError`]: no credentials, invalid or revoked ones (401), or a store that cannot be
    /// reached (503).
    async fn authenticate(&self, request: &Parts) -> Result<Caller, AuthError>;
}

/// API keys, sent as `Authorization: Bearer <key>` or `X-Api-Key: <key>`, checked by `intake-keys`'
/// [`ApiKeys`].
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    keys: ApiKeys,
}

impl ApiKeyAuth {
    /// Authentication by the keys `keys` knows.
    pub fn new(keys: ApiKeys) -> Self {
        Self { keys }
    }
}

/// The key a request presents: the bearer token of `Authorization`, or `X-Api-Key`. A different
/// `Authorization` scheme counts as a wrong key, not a missing one.
fn presented_key(request: &Parts) -> Result<Option<&str>, AuthError> {
    if let Some(value) = request.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| AuthError::Invalid)?;
        let (scheme, token) = text.split_once(' ').ok_or(AuthError::Invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Invalid);
        }
        return Ok(Some(token.trim()));
    }
    request
        .headers
        .get("x-api-key")
        .map(|value| value.to_str().map_err(|_| AuthError::Invalid))
        .transpose()
}

#[async_trait]
impl Authenticator for ApiKeyAuth {
    async fn authenticate(&self, request: &Parts) -> Result<Caller, AuthError> {
        let principal = self.keys.authenticate(presented_key(request)?).await?;
        tracing::Span::current().record("key_id", tracing::field::display(principal.key_id));
        Ok(Caller::new(principal.owner).admin(principal.admin))
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unavailable(source) => {
                tracing::error!(error = %intake_domain::error_chain(&source), "key store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    "a dependency is unavailable; retry shortly",
                )
            }
            other => Self::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                other.to_string(),
            ),
        }
    }
}

/// Runs the authenticator and puts the [`Caller`] into the request, or answers 401/503.
pub(crate) async fn require_caller(
    State(auth): State<Arc<dyn Authenticator>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match auth.authenticate(&parts).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(error) => {
            let mut response = ApiError::from(error).into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"intake\""),
                );
            }
            response
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the request is not authenticated",
            )
        })
    }
}
