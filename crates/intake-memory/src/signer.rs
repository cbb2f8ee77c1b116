use std::collections::BTreeMap;

use async_trait::async_trait;
use intake_domain::model::Timestamp;
use intake_domain::ports::{
    GetUrlRequest, HttpMethod, PresignedRequest, PutUrlRequest, SignerError, UrlSigner,
};
use intake_signing::{HmacUrlSigner, UrlRefusal, VerifiedUrl};

/// Presigned URLs for the in-memory store: the shared HMAC scheme ([`HmacUrlSigner`]) under
/// `{base_url}/{bucket}`. [`MemoryUrlSigner::verify`] checks them; [`crate::MemoryGateway`] performs them.
#[derive(Debug, Clone)]
pub struct MemoryUrlSigner(HmacUrlSigner);

impl Default for MemoryUrlSigner {
    fn default() -> Self {
        Self::new(
            "http://memory.invalid",
            "intake-memory",
            b"intake-memory-signing-key",
        )
    }
}

impl MemoryUrlSigner {
    /// A signer making URLs under `base_url` for `bucket`, keyed with `secret`.
    pub fn new(base_url: &str, bucket: &str, secret: &[u8]) -> Self {
        Self(HmacUrlSigner::new(
            &format!("{}/{bucket}", base_url.trim_end_matches('/')),
            secret,
        ))
    }

    /// Checks a URL made by this signer at `now`, for `method` with the request's `headers`.
    ///
    /// # Errors
    /// [`UrlRefusal`] saying what does not hold.
    pub fn verify(
        &self,
        method: HttpMethod,
        url: &str,
        headers: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> Result<VerifiedUrl, UrlRefusal> {
        self.0.verify(method, url, headers, now)
    }
}

#[async_trait]
impl UrlSigner for MemoryUrlSigner {
    async fn presign_put(&self, request: &PutUrlRequest) -> Result<PresignedRequest, SignerError> {
        self.0.presign_put(request).await
    }

    async fn presign_get(&self, request: &GetUrlRequest) -> Result<PresignedRequest, SignerError> {
        self.0.presign_get(request).await
    }
}
