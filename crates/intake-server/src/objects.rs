//! The local server's storage endpoint: `PUT`, `GET` and `HEAD` on `/objects/{key}` for the presigned URLs of an
//! [`HmacUrlSigner`], over a [`FsObjectStore`]. It plays S3's part: it checks everything the URL binds
//! (signature, expiry, method, content type, length, checksum, write-once), streams the body into the
//! store, and schedules processing in the [`JobQueue`] (S3's event notification). What it may take,
//! and when processing is scheduled, is the domain's `Intake::accept_upload` and
//! `Intake::upload_stored` (`410 UPLOAD_TICKET_LOST` when the signed URL's ticket was never stored,
//! `422 UNKNOWN_OBJECT` for a deleted image, `507`/`503` when the job cannot be scheduled); this
//! file is HTTP only.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use futures::TryStreamExt as _;
use intake_domain::Intake;
use intake_domain::error_chain;
use intake_domain::model::{FileName, ObjectKey};
use intake_domain::ports::{Clock, HttpMethod, JobQueue, ObjectMeta, ObjectStore as _, StoreError};
use intake_http::ApiError;
use intake_signing::{HmacUrlSigner, StorageRefusal, UrlRefusal, VerifiedUrl};
use tokio::sync::Notify;

use intake_local::{FsObjectStore, PutChecks, PutError, is_no_space};

use crate::PacedBodyError;

/// How long after an upload starts its intent job becomes due, if the upload never confirms it.
pub const DEFAULT_INTENT_DELAY: Duration = Duration::from_secs(120);

/// Everything the endpoint needs; [`ObjectEndpoint::router`] serves it.
#[derive(Debug, Clone)]
pub struct ObjectEndpoint {
    intake: Intake,
    store: FsObjectStore,
    signer: HmacUrlSigner,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    max_bytes: u64,
    intent_delay: Duration,
}

impl ObjectEndpoint {
    /// An endpoint storing into `store` what `signer`'s URLs allow for the uploads `intake` issued
    /// (at most its upload limit per object), scheduling jobs in `queue` and waking the workers
    /// through `wake`.
    pub fn new(
        intake: Intake,
        store: FsObjectStore,
        signer: HmacUrlSigner,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
    ) -> Self {
        let max_bytes = intake.max_upload_bytes();
        Self {
            intake,
            store,
            signer,
            queue,
            clock,
            wake,
            max_bytes,
            intent_delay: DEFAULT_INTENT_DELAY,
        }
    }

    /// With another intent delay.
    #[must_use]
    pub fn with_intent_delay(mut self, delay: Duration) -> Self {
        self.intent_delay = delay;
        self
    }

    /// The routes: `PUT`, `GET` (and `HEAD`) on `{signer's base path}/{*key}`.
    pub fn router(self) -> Router {
        let path = format!("{}/{{*key}}", self.signer.base_path());
        Router::new()
            .route(&path, put(upload).get(download))
            .with_state(Arc::new(self))
    }

    fn verify(&self, method: HttpMethod, request: &Request) -> Result<VerifiedUrl, ApiError> {
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(|| request.uri().path(), |p| p.as_str());
        self.signer
            .verify(
                method,
                target,
                &lowercase(request.headers()),
                self.clock.now(),
            )
            .map_err(|refusal| refused(&refusal))
    }
}

fn lowercase(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

/// The answer S3 gives for `refusal` (the table shared with the in-memory gateway).
fn storage_refusal(refusal: &StorageRefusal) -> ApiError {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::new(status, refusal.code(), refusal.to_string())
}

fn refused(refusal: &UrlRefusal) -> ApiError {
    storage_refusal(&StorageRefusal::Refused(refusal.clone()))
}

fn put_error(error: &PutError) -> ApiError {
    let (status, code) = match error {
        PutError::AlreadyExists(_) => return storage_refusal(&StorageRefusal::AlreadyExists),
        PutError::Refused(refusal) => {
            return storage_refusal(&StorageRefusal::Body(refusal.clone()));
        }
        PutError::Body(cause) if PacedBodyError::is_too_slow(cause.as_ref()) => {
            (StatusCode::REQUEST_TIMEOUT, "BODY_TOO_SLOW")
        }
        PutError::Body(_) => (StatusCode::BAD_REQUEST, "BODY_INCOMPLETE"),
        PutError::Io(e) if is_no_space(e) => {
            tracing::error!(error = %e, "storing an object failed: no space left");
            return ApiError::insufficient_storage();
        }
        _ => {
            tracing::error!(error = %error_chain(error), "storing an object failed");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "STORE_ERROR",
                "the object could not be stored",
            );
        }
    };
    ApiError::new(status, code, error.to_string())
}

fn unavailable(what: &str, error: &dyn std::error::Error) -> ApiError {
    tracing::error!(error = %error_chain(error), "{what}");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        format!("{what}; retry later"),
    )
}

async fn upload(
    State(endpoint): State<Arc<ObjectEndpoint>>,
    request: Request,
) -> Result<Response, ApiError> {
    let verified = endpoint.verify(HttpMethod::Put, &request)?;
    let key: ObjectKey = verified.key.clone();
    let content_type = verified
        .content_type
        .map(|c| c.as_mime().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    // No bytes are taken for an upload Intake has no record of, and none before its processing is
    // scheduled (see `Intake::accept_upload`).
    endpoint
        .intake
        .accept_upload(&key, endpoint.queue.as_ref(), endpoint.intent_delay)
        .await
        .map_err(ApiError::from)?;
    let checks = PutChecks::new(
        verified.content_length,
        verified.sha256,
        Some(endpoint.max_bytes),
    );
    let body = request.into_body().into_data_stream().map_err(BodyError);
    let meta = endpoint
        .store
        .put_stream(&key, &content_type, checks, body)
        .await
        .map_err(|e| put_error(&e))?;
    match endpoint
        .intake
        .upload_stored(&key, endpoint.queue.as_ref())
        .await
    {
        Ok(()) => endpoint.wake.notify_one(),
        // The object is stored and its intent job will run after the delay: nothing is lost.
        Err(error) => {
            tracing::warn!(key = %key, error = %error_chain(&error), "could not schedule processing now; the intent job will run it");
        }
    }
    tracing::info!(key = %key, bytes = meta.size, "object stored");
    let mut response = StatusCode::OK.into_response();
    if let Some(etag) = meta.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// A body stream error, as a standard error for [`FsObjectStore::put_stream`].
#[derive(Debug, thiserror::Error)]
#[error("the request body failed")]
struct BodyError(#[source] axum::Error);

async fn download(
    State(endpoint): State<Arc<ObjectEndpoint>>,
    request: Request,
) -> Result<Response, ApiError> {
    let verified = endpoint.verify(HttpMethod::Get, &request)?;
    // A deleted image's bytes are not served, whatever URL was handed out before the delete.
    endpoint
        .intake
        .expect_download(&verified.key)
        .await
        .map_err(ApiError::from)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "no object under this key",
        )
    };
    let failed = |error: StoreError| match error {
        StoreError::NotFound { .. } => not_found(),
        error => unavailable("reading the object failed", &error),
    };
    // The metadata is read once: the range is checked against it and the answer describes it.
    let meta = endpoint.store.head(&verified.key).await.map_err(failed)?;
    let Ok(range) = requested_range(request.headers(), meta.size) else {
        return Ok(unsatisfiable(meta.size));
    };
    let (start, len) = range
        .as_ref()
        .map_or((0, u64::MAX), |r| (*r.start(), r.end() - r.start() + 1));
    let stream = endpoint
        .store
        .read_range(&verified.key, start, len)
        .await
        .map_err(failed)?;
    let mut response = Response::new(Body::from_stream(stream));
    describe(
        response.headers_mut(),
        &meta,
        range.as_ref(),
        verified.download_name.as_deref(),
    );
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}

/// `416` for a range outside an object of `size` bytes, saying how long it is.
fn unsatisfiable(size: u64) -> Response {
    let mut refused = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "RANGE_NOT_SATISFIABLE",
        format!("the object has {size} bytes"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
        refused.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    refused
}

/// A download's headers: type (never to be sniffed), length or range, ETag, the file name to save
/// under, and no caching.
fn describe(
    headers: &mut HeaderMap,
    meta: &ObjectMeta,
    range: Option<&RangeInclusive<u64>>,
    download_name: Option<&str>,
) {
    let content_type = meta
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // The declared type was checked against the bytes, but a browser must never guess another.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    match range {
        Some(r) => {
            headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(r.end() - r.start() + 1),
            );
            if let Ok(value) =
                HeaderValue::from_str(&format!("bytes {}-{}/{}", r.start(), r.end(), meta.size))
            {
                headers.insert(header::CONTENT_RANGE, value);
            }
        }
        None => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
        }
    }
    if let Some(etag) = meta
        .etag
        .as_deref()
        .and_then(|e| HeaderValue::from_str(e).ok())
    {
        headers.insert(header::ETAG, etag);
    }
    if let Some(disposition) = download_name
        .and_then(|name| FileName::from_stored(name).ok())
        .and_then(|name| HeaderValue::from_str(&name.content_disposition()).ok())
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}

/// The one byte range a `Range` header asks for within `size` bytes: `Ok(None)` for the whole object
/// (no header, a header that does not parse, or several ranges, which a server may answer whole),
/// `Err(())` when the range lies outside the object (416).
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<RangeInclusive<u64>>, ()> {
    let Some(text) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Ok(parsed) = http_range_header::parse_range_header(text) else {
        return Ok(None);
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => Ok(ranges.into_iter().next()),
        Ok(_) => Ok(None),
        Err(_) => Err(()),
    }
}
