//! The `UrlSigner` contract: what a URL binds.
//!
//! Whether the store then *enforces* the binding is a property of the store (S3, the local server) and
//! is tested against it; this suite checks what every signer must produce.

use std::time::Duration;

use super::{epoch, id_at};
use crate::model::{ContentType, FileName, ObjectKey, Sha256Digest};
use crate::ports::{GetUrlRequest, HttpMethod, PutUrlRequest, SignerError, UrlSigner, header};
use crate::services::MAX_URL_TTL;

fn key(n: u64) -> ObjectKey {
    ObjectKey::for_upload(
        id_at(0, n),
        &FileName::sanitize("chèque front +#&;=%20.png").expect("name"),
    )
}

fn put(n: u64) -> PutUrlRequest {
    PutUrlRequest::new(
        key(n),
        ContentType::Png,
        Some(2048),
        Some(Sha256Digest::of(b"body")),
        epoch(),
        Duration::from_secs(300),
    )
}

/// Runs every check.
pub async fn run_suite(signer: &dyn UrlSigner) {
    put_urls_require_the_bound_headers(signer).await;
    every_bound_input_changes_the_put_url(signer).await;
    get_urls_expire_and_differ_from_put_urls(signer).await;
    expiry_outside_the_supported_range_is_refused(signer).await;
}

fn assert_absolute(url: &str) {
    assert!(
        url.starts_with("http://") || url.starts_with("https://"),
        "not an absolute http(s) URL: {url}"
    );
}

/// A PUT URL carries every header the domain requires, with the required values, and the expiry asked for.
pub async fn put_urls_require_the_bound_headers(signer: &dyn UrlSigner) {
    for request in [
        put(1),
        PutUrlRequest::new(
            key(1),
            ContentType::Jpeg,
            None,
            None,
            epoch(),
            Duration::from_secs(60),
        ),
    ] {
        let signed = signer.presign_put(&request).await.expect("presign put");
        assert_eq!(signed.method, HttpMethod::Put);
        assert_absolute(&signed.url);
        assert_eq!(signed.expires_at, request.expires_at());
        for (name, value) in request.required_headers() {
            assert_eq!(
                signed.header(&name),
                Some(value.as_str()),
                "header {name} of {}",
                signed.url
            );
        }
        assert_eq!(
            signed.header(header::IF_NONE_MATCH),
            Some("*"),
            "URL is not write-once"
        );
        if request.content_length.is_none() {
            assert_eq!(signed.header(header::CONTENT_LENGTH), None);
        }
    }
}

/// Key, content type, length, checksum and expiry are each part of the signature.
pub async fn every_bound_input_changes_the_put_url(signer: &dyn UrlSigner) {
    let base = put(2);
    let url = |r: PutUrlRequest| async move { signer.presign_put(&r).await.expect("presign").url };
    let reference = url(base.clone()).await;
    assert_eq!(
        url(base.clone()).await,
        reference,
        "signing is not deterministic for identical input"
    );
    let mut variants = Vec::new();
    let mut v = base.clone();
    v.key = key(3);
    variants.push(("key", v));
    let mut v = base.clone();
    v.content_type = ContentType::Jpeg;
    variants.push(("content type", v));
    let mut v = base.clone();
    v.content_length = Some(2049);
    variants.push(("content length", v));
    let mut v = base.clone();
    v.sha256 = Some(Sha256Digest::of(b"other body"));
    variants.push(("checksum", v));
    let mut v = base.clone();
    v.expires_in = Duration::from_secs(301);
    variants.push(("expiry", v));
    for (what, variant) in variants {
        assert_ne!(
            url(variant).await,
            reference,
            "changing the {what} did not change the URL"
        );
    }
}

/// A GET URL expires as asked and is not the PUT URL.
pub async fn get_urls_expire_and_differ_from_put_urls(signer: &dyn UrlSigner) {
    let request = GetUrlRequest::new(
        key(4),
        Some(FileName::sanitize("chèque front +#&;=%20.png").expect("name")),
        epoch(),
        Duration::from_secs(120),
    );
    let signed = signer.presign_get(&request).await.expect("presign get");
    assert_eq!(signed.method, HttpMethod::Get);
    assert_absolute(&signed.url);
    assert_eq!(signed.expires_at, request.expires_at());
    let mut for_put = put(4);
    for_put.expires_in = Duration::from_secs(120);
    assert_ne!(
        signer.presign_put(&for_put).await.expect("put").url,
        signed.url
    );
    let other = GetUrlRequest::new(key(5), None, epoch(), Duration::from_secs(120));
    assert_ne!(
        signer.presign_get(&other).await.expect("get").url,
        signed.url,
        "GET URL does not bind the key"
    );
}

/// Zero and more than seven days are refused with `InvalidExpiry`.
pub async fn expiry_outside_the_supported_range_is_refused(signer: &dyn UrlSigner) {
    for expires_in in [Duration::ZERO, MAX_URL_TTL + Duration::from_secs(1)] {
        let mut request = put(6);
        request.expires_in = expires_in;
        assert!(
            matches!(
                signer.presign_put(&request).await,
                Err(SignerError::InvalidExpiry { .. })
            ),
            "PUT expiry {expires_in:?} accepted"
        );
        let get = GetUrlRequest::new(key(6), None, epoch(), expires_in);
        assert!(
            matches!(
                signer.presign_get(&get).await,
                Err(SignerError::InvalidExpiry { .. })
            ),
            "GET expiry {expires_in:?} accepted"
        );
    }
}
