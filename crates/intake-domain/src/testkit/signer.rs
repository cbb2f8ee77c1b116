//! The `UrlSigner` contract: what a URL binds.
//!
//! Whether the store then *enforces* the binding is a property of the store (S3, the local server) and
//! is tested against it; this suite checks what every signer must produce.

use super::{epoch, id_at};
use crate::model::{ContentType, FileName, ObjectKey, Sha256Digest, UrlTtl};
use crate::ports::{GetUrlRequest, HttpMethod, PutUrlRequest, UrlSigner, header};

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
        UrlTtl::from_secs(300).expect("ttl"),
    )
}

/// Runs every check.
pub async fn run_suite(signer: &dyn UrlSigner) {
    put_urls_require_the_bound_headers(signer).await;
    every_bound_input_changes_the_put_url(signer).await;
    get_urls_expire_and_differ_from_put_urls(signer).await;
    every_allowed_lifetime_is_signed(signer).await;
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
            UrlTtl::from_secs(60).expect("ttl"),
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
    v.expires_in = UrlTtl::from_secs(301).expect("ttl");
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
        UrlTtl::from_secs(120).expect("ttl"),
    );
    let signed = signer.presign_get(&request).await.expect("presign get");
    assert_eq!(signed.method, HttpMethod::Get);
    assert_absolute(&signed.url);
    assert_eq!(signed.expires_at, request.expires_at());
    let mut for_put = put(4);
    for_put.expires_in = UrlTtl::from_secs(120).expect("ttl");
    assert_ne!(
        signer.presign_put(&for_put).await.expect("put").url,
        signed.url
    );
    let other = GetUrlRequest::new(key(5), None, epoch(), UrlTtl::from_secs(120).expect("ttl"));
    assert_ne!(
        signer.presign_get(&other).await.expect("get").url,
        signed.url,
        "GET URL does not bind the key"
    );
}

/// The shortest and the longest lifetimes a [`UrlTtl`] allows (1 s, 7 days) are signed, and expire
/// when asked.
pub async fn every_allowed_lifetime_is_signed(signer: &dyn UrlSigner) {
    for ttl in [UrlTtl::MIN, UrlTtl::MAX] {
        let mut request = put(6);
        request.expires_in = ttl;
        let signed = signer.presign_put(&request).await.expect("presign put");
        assert_eq!(
            signed.expires_at,
            request.expires_at(),
            "PUT lifetime {ttl}"
        );
        let get = GetUrlRequest::new(key(6), None, epoch(), ttl);
        let signed = signer.presign_get(&get).await.expect("presign get");
        assert_eq!(signed.expires_at, get.expires_at(), "GET lifetime {ttl}");
    }
}
