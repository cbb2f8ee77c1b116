//! The HMAC signer against the URL-signer suite, and its verifier as the endpoints use it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use intake_domain::model::{ContentType, FileName, ObjectKey, Sha256Digest};
use intake_domain::ports::{HttpMethod, PutUrlRequest, UrlSigner, header};
use intake_domain::testkit::{epoch, id_at, signer};
use intake_signing::{HmacUrlSigner, UrlRefusal};

fn local() -> HmacUrlSigner {
    HmacUrlSigner::new("http://127.0.0.1:8080/objects", &[7u8; 32])
}

#[tokio::test]
async fn conforms() {
    signer::run_suite(&local()).await;
}

#[tokio::test]
async fn verifies_the_path_a_server_receives_and_refuses_every_alteration() {
    let s = local();
    assert_eq!(s.base_path(), "/objects");
    let key = ObjectKey::for_upload(
        id_at(0, 1),
        &FileName::sanitize("chèque +#&;=.png").unwrap(),
    );
    let sha = Sha256Digest::of(b"body");
    let request = PutUrlRequest::new(
        key.clone(),
        ContentType::Png,
        Some(4),
        Some(sha),
        epoch(),
        intake_domain::model::UrlTtl::from_secs(60).unwrap(),
    );
    let signed = s.presign_put(&request).await.unwrap();
    let path = signed.url.strip_prefix("http://127.0.0.1:8080").unwrap();
    let now = epoch().saturating_add(Duration::from_secs(1));
    let verified = s
        .verify(HttpMethod::Put, path, &signed.headers, now)
        .unwrap();
    assert_eq!(
        (verified.key, verified.content_length, verified.sha256),
        (key, Some(4), Some(sha))
    );
    assert_eq!(
        s.verify(HttpMethod::Put, &signed.url, &signed.headers, now)
            .unwrap()
            .content_length,
        Some(4)
    );

    let later = epoch().saturating_add(Duration::from_secs(60));
    assert_eq!(
        s.verify(HttpMethod::Put, path, &signed.headers, later),
        Err(UrlRefusal::Expired)
    );
    assert_eq!(
        s.verify(HttpMethod::Get, path, &signed.headers, now),
        Err(UrlRefusal::WrongMethod)
    );
    let mut other_type = signed.headers.clone();
    other_type.insert(header::CONTENT_TYPE.into(), "image/jpeg".into());
    assert_eq!(
        s.verify(HttpMethod::Put, path, &other_type, now),
        Err(UrlRefusal::Header(header::CONTENT_TYPE))
    );
    let longer = path.replace("x-expires=", "x-expires=9");
    assert_eq!(
        s.verify(HttpMethod::Put, &longer, &signed.headers, now),
        Err(UrlRefusal::BadSignature)
    );
    // Any parameter given twice is refused, the signature included (the first copy is the valid one,
    // so a reader taking the first and a reader taking the last would disagree).
    let signature = path.split("x-signature=").nth(1).unwrap();
    for repeated in [
        format!("{path}&x-signature={signature}"),
        format!("{path}&x-signature=00"),
        path.replacen("x-expires=", "x-expires=1&x-expires=", 1),
        format!("{path}&x-method=GET"),
    ] {
        assert_eq!(
            s.verify(HttpMethod::Put, &repeated, &signed.headers, now),
            Err(UrlRefusal::Malformed),
            "{repeated}"
        );
    }
    let traversal = path.replacen("uploads", "..%2F..%2Fetc", 1);
    assert!(
        s.verify(HttpMethod::Put, &traversal, &signed.headers, now)
            .is_err()
    );
    let foreign = HmacUrlSigner::new("http://127.0.0.1:8080/objects", &[8u8; 32]);
    assert_eq!(
        foreign.verify(HttpMethod::Put, path, &signed.headers, now),
        Err(UrlRefusal::BadSignature)
    );
    assert_eq!(
        s.verify(HttpMethod::Put, "/elsewhere/x", &signed.headers, now),
        Err(UrlRefusal::Malformed)
    );
}
