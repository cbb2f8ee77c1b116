use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use intake_domain::model::Sha256Digest;
use intake_domain::ports::{Clock, HttpMethod, PresignedRequest, SystemClock, header};

use crate::{MemoryObjectStore, MemoryUrlSigner, UrlRefusal};

/// The in-memory storage endpoint: performs presigned requests against a [`MemoryObjectStore`] and
/// enforces what the URL binds, as S3 and the local server do: signature, expiry, method, headers,
/// exact length, SHA-256 checksum, and write-once.
#[derive(Debug, Clone)]
pub struct MemoryGateway {
    signer: MemoryUrlSigner,
    store: MemoryObjectStore,
    clock: Arc<dyn Clock>,
}

/// Why the gateway refused a request; [`GatewayError::status`] gives the HTTP status S3 would answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The URL is not valid for this request.
    #[error("refused: {0}")]
    Refused(#[from] UrlRefusal),
    /// The body length differs from the bound `Content-Length`.
    #[error("body is {actual} bytes, the URL requires {expected}")]
    LengthMismatch {
        /// Bound length.
        expected: u64,
        /// Body length.
        actual: u64,
    },
    /// The body's SHA-256 differs from the bound checksum.
    #[error("body checksum does not match x-amz-checksum-sha256")]
    ChecksumMismatch,
    /// An object exists already and the URL is write-once.
    #[error("an object already exists under this key")]
    AlreadyExists,
    /// No object under the key.
    #[error("no such object")]
    NotFound,
    /// A PUT without a body.
    #[error("a PUT needs a body")]
    MissingBody,
}

impl GatewayError {
    /// The HTTP status S3 answers for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::Refused(UrlRefusal::Malformed)
            | Self::LengthMismatch { .. }
            | Self::ChecksumMismatch
            | Self::MissingBody => 400,
            Self::Refused(_) => 403,
            Self::NotFound => 404,
            Self::AlreadyExists => 412,
        }
    }
}

impl MemoryGateway {
    /// A gateway for URLs made by `signer` over `store`, checking expiry against the system clock.
    pub fn new(signer: MemoryUrlSigner, store: MemoryObjectStore) -> Self {
        Self {
            signer,
            store,
            clock: Arc::new(SystemClock),
        }
    }

    /// With expiry checked against `clock` (the same clock the services use in tests).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Performs `request` with the headers it lists, and `body` for a PUT. Returns the body of a GET
    /// (empty for a PUT).
    ///
    /// # Errors
    /// [`GatewayError`] when the store would refuse the request.
    pub fn perform(
        &self,
        request: &PresignedRequest,
        body: Option<Bytes>,
    ) -> Result<Bytes, GatewayError> {
        self.send(request.method, &request.url, &request.headers, body)
    }

    /// Performs a request with explicit method and headers (lowercase names), as a client might send it.
    ///
    /// # Errors
    /// [`GatewayError`] when the store would refuse the request.
    pub fn send(
        &self,
        method: HttpMethod,
        url: &str,
        headers: &BTreeMap<String, String>,
        body: Option<Bytes>,
    ) -> Result<Bytes, GatewayError> {
        let now = self.clock.now();
        let verified = self.signer.verify(method, url, headers, now)?;
        if method == HttpMethod::Get {
            return self
                .store
                .bytes(&verified.key)
                .ok_or(GatewayError::NotFound);
        }
        let body = body.ok_or(GatewayError::MissingBody)?;
        let actual = body.len() as u64;
        let declared_length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|l| l.parse::<u64>().ok());
        if let Some(expected) = verified
            .content_length
            .or(declared_length)
            .filter(|&e| e != actual)
        {
            return Err(GatewayError::LengthMismatch { expected, actual });
        }
        if verified
            .sha256
            .is_some_and(|sha| sha != Sha256Digest::of(&body))
        {
            return Err(GatewayError::ChecksumMismatch);
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_default();
        self.store
            .put_if_absent(&verified.key, body, &content_type, now)
            .ok_or(GatewayError::AlreadyExists)?;
        Ok(Bytes::new())
    }
}
