use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use intake_domain::model::BodyCheck;
use intake_domain::ports::{Clock, HttpMethod, PresignedRequest, SystemClock, header};

use intake_signing::StorageRefusal;

use crate::{MemoryObjectStore, MemoryUrlSigner};

/// The in-memory storage endpoint: performs presigned requests against a [`MemoryObjectStore`] and
/// enforces what the URL binds, as S3 and the local server do: signature, expiry, method, headers,
/// exact length, SHA-256 checksum, and write-once.
#[derive(Debug, Clone)]
pub struct MemoryGateway {
    signer: MemoryUrlSigner,
    store: MemoryObjectStore,
    clock: Arc<dyn Clock>,
}

/// Why the gateway refused a request: the refusals of every store that stands in for S3, with the
/// HTTP status S3 would answer ([`GatewayError::status`]).
pub type GatewayError = StorageRefusal;

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
        let declared_length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|l| l.parse::<u64>().ok());
        let mut check = BodyCheck::new(
            verified.content_length.or(declared_length),
            verified.sha256,
            None,
        );
        check.update(&body)?;
        check.finish()?;
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
