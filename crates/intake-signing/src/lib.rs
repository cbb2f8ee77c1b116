//! # intake-signing
//!
//! HMAC-SHA256 presigned URLs for stores that Intake serves itself: the in-memory gateway and the local
//! server's object endpoints. One scheme, one verifier, and one table of refusals
//! ([`StorageRefusal`]), used by both. And the signatures of webhook deliveries ([`webhook`]), as the
//! Standard Webhooks specification describes them.

mod refusal;
pub mod webhook;

pub use refusal::StorageRefusal;

use std::collections::BTreeMap;
use std::fmt;

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use intake_domain::model::{ContentType, ObjectKey, Sha256Digest, Timestamp};
use intake_domain::ports::{
    GetUrlRequest, HttpMethod, PresignedRequest, PutUrlRequest, SignerError, UrlSigner, header,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::Sha256;

/// Signs URLs with HMAC-SHA256 over everything the URL binds (method, key, expiry, content type,
/// length, checksum, write-once), and verifies them for the endpoint that serves them.
///
/// A URL is `{base_url}/{percent-encoded key}?x-method=..&x-expires=..&..&x-signature=..`; the secret
/// never leaves the process, so only a holder of the secret can mint or alter a URL.
#[derive(Clone)]
pub struct HmacUrlSigner {
    base_url: Arc<str>,
    secret: Arc<[u8]>,
}

impl fmt::Debug for HmacUrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacUrlSigner")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
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
    /// For a GET: the file name to offer in `Content-Disposition`, if bound.
    pub download_name: Option<String>,
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As [`COMPONENT`], keeping `/` (a key's segments).
const PATH: &AsciiSet = &COMPONENT.remove(b'/');

fn encode(text: &str, keep_slash: bool) -> String {
    utf8_percent_encode(text, if keep_slash { PATH } else { COMPONENT }).to_string()
}

/// Percent-encodes everything but RFC 3986's unreserved characters: safe in a URL query or path
/// segment, and in RFC 5987 header parameters (`filename*=UTF-8''…`).
pub fn percent_encode(text: &str) -> String {
    encode(text, false)
}

/// Decodes `text`, which must be UTF-8 once decoded and escape only with `%` and two hex digits (a
/// stray `%` is malformed, not a literal).
fn decode(text: &str) -> Option<String> {
    let escapes_well_formed = text.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit))
    });
    escapes_well_formed
        .then(|| percent_decode_str(text).decode_utf8().ok())
        .flatten()
        .map(std::borrow::Cow::into_owned)
}

fn method_name(method: HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        _ => "PUT",
    }
}

impl HmacUrlSigner {
    /// A signer making URLs under `base_url` (everything before the key, e.g.
    /// `http://127.0.0.1:8080/objects`), keyed with `secret` (at least 32 random bytes in production).
    pub fn new(base_url: &str, secret: &[u8]) -> Self {
        Self {
            base_url: Arc::from(base_url.trim_end_matches('/')),
            secret: Arc::from(secret),
        }
    }

    /// The URL prefix the signer's URLs start with.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The path part of the base URL (`/objects`), which requests arriving at the server start with.
    pub fn base_path(&self) -> &str {
        let after_scheme = self
            .base_url
            .split_once("://")
            .map_or(&*self.base_url, |(_, rest)| rest);
        after_scheme
            .find('/')
            .and_then(|i| after_scheme.get(i..))
            .unwrap_or("")
    }

    fn mac(&self, canonical: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).ok()?;
        mac.update(canonical.as_bytes());
        Some(mac)
    }

    fn sign(&self, canonical: &str) -> String {
        self.mac(canonical)
            .map(|mac| Sha256Digest::from_bytes(mac.finalize().into_bytes().into()).to_hex())
            .unwrap_or_default()
    }

    /// Compares in constant time.
    fn signature_matches(&self, canonical: &str, signature_hex: &str) -> bool {
        let Ok(digest) = Sha256Digest::parse(signature_hex) else {
            return false;
        };
        self.mac(canonical)
            .is_some_and(|mac| mac.verify_slice(digest.as_bytes()).is_ok())
    }

    fn canonical(method: &str, key: &str, params: &BTreeMap<String, String>) -> String {
        let mut text = format!("{method}\n{key}\n");
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
        let signature = self.sign(&Self::canonical(method_name(method), key.as_str(), params));
        let query: Vec<String> = params
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value, false)))
            .chain(std::iter::once(format!("x-signature={signature}")))
            .collect();
        format!(
            "{}/{}?{}",
            self.base_url,
            encode(key.as_str(), true),
            query.join("&")
        )
    }

    /// Checks a URL made by this signer at `now`, for `method` with the request's `headers` (lowercase
    /// names). `url` is the whole URL, or its path and query as a server receives them.
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
        let rest = url
            .strip_prefix(&*self.base_url)
            .or_else(|| url.strip_prefix(self.base_path()))
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or(UrlRefusal::Malformed)?;
        let (path, query) = rest.split_once('?').ok_or(UrlRefusal::Malformed)?;
        let key_text = decode(path).ok_or(UrlRefusal::Malformed)?;
        let mut params = BTreeMap::new();
        let mut signature = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').ok_or(UrlRefusal::Malformed)?;
            let value = decode(value).ok_or(UrlRefusal::Malformed)?;
            // Every parameter, the signature included, appears once: a repeated one could make the
            // URL mean one thing to this check and another to whatever reads it next.
            let repeated = if name == "x-signature" {
                signature.replace(value).is_some()
            } else {
                params.insert(name.to_owned(), value).is_some()
            };
            if repeated {
                return Err(UrlRefusal::Malformed);
            }
        }
        let signature = signature.ok_or(UrlRefusal::Malformed)?;
        let signed_method = params.get("x-method").ok_or(UrlRefusal::Malformed)?.clone();
        if !self.signature_matches(
            &Self::canonical(&signed_method, &key_text, &params),
            &signature,
        ) {
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
            download_name: bound("x-download-name"),
        })
    }
}

#[async_trait]
impl UrlSigner for HmacUrlSigner {
    async fn presign_put(&self, request: &PutUrlRequest) -> Result<PresignedRequest, SignerError> {
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
