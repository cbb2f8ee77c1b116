use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use intake_domain::model::{ContentType, ObjectKey, Sha256Digest, Timestamp};
use intake_domain::ports::{
    GetUrlRequest, HttpMethod, PresignedRequest, PutUrlRequest, SignerError, UrlSigner, header,
};
use intake_domain::services::MAX_URL_TTL;
use sha2::Sha256;

/// Signs URLs for the in-memory store with HMAC-SHA256 over everything the URL binds (method, bucket,
/// key, expiry, content type, length, checksum, write-once). [`MemoryUrlSigner::verify`] checks them;
/// [`crate::MemoryGateway`] performs them.
#[derive(Clone)]
pub struct MemoryUrlSigner {
    base_url: Arc<str>,
    bucket: Arc<str>,
    secret: Arc<[u8]>,
}

impl fmt::Debug for MemoryUrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryUrlSigner")
            .field("base_url", &self.base_url)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryUrlSigner {
    fn default() -> Self {
        Self::new(
            "http://memory.invalid",
            "intake-memory",
            b"intake-memory-signing-key",
        )
    }
}

/// Why a presigned URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlRefusal {
    /// Not a URL this signer made (wrong base, missing or malformed parameters).
    #[error("not a presigned URL of this store")]
    Malformed,
    /// The signature does not match what the URL says.
    #[error("signature does not match")]
    BadSignature,
    /// The URL has expired.
    #[error("the URL expired")]
    Expired,
    /// The URL is for another method.
    #[error("the URL is for another method")]
    WrongMethod,
    /// A bound header is missing or differs.
    #[error("header {0} is missing or differs from the signed value")]
    Header(&'static str),
}

/// What a verified URL allows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedUrl {
    /// The method.
    pub method: HttpMethod,
    /// The key.
    pub key: ObjectKey,
    /// For a PUT: the content type to store.
    pub content_type: Option<ContentType>,
    /// For a PUT: the exact length required, if bound.
    pub content_length: Option<u64>,
    /// For a PUT: the SHA-256 required, if bound.
    pub sha256: Option<Sha256Digest>,
}

const UNRESERVED: &[u8] = b"-._~";

fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || UNRESERVED.contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn check_expiry(expires_in: Duration) -> Result<(), SignerError> {
    if expires_in < Duration::from_secs(1) || expires_in > MAX_URL_TTL {
        return Err(SignerError::InvalidExpiry {
            requested: expires_in,
            max: MAX_URL_TTL,
        });
    }
    Ok(())
}

fn method_name(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        _ => "PUT",
    }
}

impl MemoryUrlSigner {
    /// A signer making URLs under `base_url` for `bucket`, keyed with `secret`.
    pub fn new(base_url: &str, bucket: &str, secret: &[u8]) -> Self {
        Self {
            base_url: Arc::from(base_url.trim_end_matches('/')),
            bucket: Arc::from(bucket),
            secret: Arc::from(secret),
        }
    }

    fn sign(&self, canonical: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            return String::new();
        };
        mac.update(canonical.as_bytes());
        Sha256Digest::from_bytes(mac.finalize().into_bytes().into()).to_hex()
    }

    fn canonical(
        method: &str,
        bucket: &str,
        key: &str,
        params: &BTreeMap<String, String>,
    ) -> String {
        let mut text = format!("{method}\n{bucket}\n{key}\n");
        for (name, value) in params {
            text.push_str(name);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        }
        text
    }

    fn url(
        &self,
        method: HttpMethod,
        key: &ObjectKey,
        params: &BTreeMap<String, String>,
    ) -> String {
        let signature = self.sign(&Self::canonical(
            method_name(method),
            &self.bucket,
            key.as_str(),
            params,
        ));
        let query: Vec<String> = params
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value, false)))
            .chain(std::iter::once(format!("x-signature={signature}")))
            .collect();
        format!(
            "{}/{}/{}?{}",
            self.base_url,
            self.bucket,
            encode(key.as_str(), true),
            query.join("&")
        )
    }

    /// Checks a URL made by this signer at `now`, for `method` with the request's `headers` (lowercase
    /// names).
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
        let prefix = format!("{}/{}/", self.base_url, self.bucket);
        let rest = url.strip_prefix(&prefix).ok_or(UrlRefusal::Malformed)?;
        let (path, query) = rest.split_once('?').ok_or(UrlRefusal::Malformed)?;
        let key_text = decode(path).ok_or(UrlRefusal::Malformed)?;
        let mut params = BTreeMap::new();
        let mut signature = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').ok_or(UrlRefusal::Malformed)?;
            let value = decode(value).ok_or(UrlRefusal::Malformed)?;
            if name == "x-signature" {
                signature = Some(value);
            } else if params.insert(name.to_owned(), value).is_some() {
                return Err(UrlRefusal::Malformed);
            }
        }
        let signature = signature.ok_or(UrlRefusal::Malformed)?;
        let signed_method = params.get("x-method").ok_or(UrlRefusal::Malformed)?.clone();
        let expected = self.sign(&Self::canonical(
            &signed_method,
            &self.bucket,
            &key_text,
            &params,
        ));
        if expected.is_empty() || expected != signature {
            return Err(UrlRefusal::BadSignature);
        }
        if signed_method != method_name(method) {
            return Err(UrlRefusal::WrongMethod);
        }
        let expires: i64 = params
            .get("x-expires")
            .and_then(|e| e.parse().ok())
            .ok_or(UrlRefusal::Malformed)?;
        if now.unix_millis() >= expires {
            return Err(UrlRefusal::Expired);
        }
        let key = ObjectKey::parse(&key_text).map_err(|_| UrlRefusal::Malformed)?;
        let bound = |name: &str| params.get(name).cloned();
        let require = |header_name: &'static str, value: Option<String>| match value {
            Some(v) if headers.get(header_name) != Some(&v) => Err(UrlRefusal::Header(header_name)),
            _ => Ok(()),
        };
        require(header::CONTENT_TYPE, bound("x-content-type"))?;
        require(header::CONTENT_LENGTH, bound("x-content-length"))?;
        require(header::CHECKSUM_SHA256, bound("x-checksum-sha256"))?;
        require(header::IF_NONE_MATCH, bound("x-if-none-match"))?;
        Ok(VerifiedUrl {
            method,
            key,
            content_type: bound("x-content-type").and_then(|c| ContentType::parse(&c).ok()),
            content_length: bound("x-content-length").and_then(|l| l.parse().ok()),
            sha256: bound("x-checksum-sha256").and_then(|s| Sha256Digest::parse(&s).ok()),
        })
    }
}

#[async_trait]
impl UrlSigner for MemoryUrlSigner {
    async fn presign_put(&self, request: &PutUrlRequest) -> Result<PresignedRequest, SignerError> {
        check_expiry(request.expires_in)?;
        let headers = request.required_headers();
        let mut params = BTreeMap::new();
        params.insert("x-method".to_owned(), "PUT".to_owned());
        params.insert(
            "x-expires".to_owned(),
            request.expires_at().unix_millis().to_string(),
        );
        for (name, param) in [
            (header::CONTENT_TYPE, "x-content-type"),
            (header::CONTENT_LENGTH, "x-content-length"),
            (header::CHECKSUM_SHA256, "x-checksum-sha256"),
            (header::IF_NONE_MATCH, "x-if-none-match"),
        ] {
            if let Some(value) = headers.get(name) {
                params.insert(param.to_owned(), value.clone());
            }
        }
        let url = self.url(HttpMethod::Put, &request.key, &params);
        Ok(PresignedRequest::new(
            HttpMethod::Put,
            url,
            headers,
            request.expires_at(),
        ))
    }

    async fn presign_get(&self, request: &GetUrlRequest) -> Result<PresignedRequest, SignerError> {
        check_expiry(request.expires_in)?;
        let mut params = BTreeMap::new();
        params.insert("x-method".to_owned(), "GET".to_owned());
        params.insert(
            "x-expires".to_owned(),
            request.expires_at().unix_millis().to_string(),
        );
        if let Some(name) = &request.file_name {
            params.insert("x-download-name".to_owned(), name.as_str().to_owned());
        }
        let url = self.url(HttpMethod::Get, &request.key, &params);
        Ok(PresignedRequest::new(
            HttpMethod::Get,
            url,
            BTreeMap::new(),
            request.expires_at(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_round_trips_unicode_and_reserved_characters() {
        for text in ["uploads/x/Happy Face+#1 é😀.png", "a&b=c?d%e"] {
            assert_eq!(decode(&encode(text, true)).unwrap(), text);
            assert!(!encode(text, false).contains(['&', '=', '?', '#', ' ', '+']));
        }
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%4"), None);
    }
}
