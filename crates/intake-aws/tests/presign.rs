//! What the S3 signer produces, checked offline (presigning needs no server): every required header is
//! signed, no checksum of an empty body is signed, and the signer passes the URL-signer suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use intake_aws::S3UrlSigner;
use intake_domain::model::{ContentType, FileName, ObjectKey, Sha256Digest};
use intake_domain::ports::{PutUrlRequest, UrlSigner};
use intake_domain::testkit::{epoch, id_at, signer};

fn client(checksums: RequestChecksumCalculation) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .request_checksum_calculation(checksums)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

#[tokio::test]
async fn put_urls_sign_every_bound_header() {
    let signer = S3UrlSigner::new(client(RequestChecksumCalculation::WhenRequired), "bucket");
    let key = ObjectKey::for_upload(id_at(0, 1), &FileName::sanitize("a b.png").unwrap());
    let sha = Sha256Digest::of(b"body");
    let request = PutUrlRequest::new(
        key,
        ContentType::Png,
        Some(4),
        Some(sha),
        epoch(),
        intake_domain::model::UrlTtl::from_secs(300).unwrap(),
    );
    let signed = signer.presign_put(&request).await.unwrap();
    println!("{}\n{:?}", signed.url, signed.headers);
    let names = query_param(&signed.url, "X-Amz-SignedHeaders")
        .unwrap()
        .replace("%3B", ";");
    for name in [
        "content-length",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-checksum-sha256",
    ] {
        assert!(
            names.split(';').any(|n| n == name),
            "{name} is not signed: {names}"
        );
    }
    assert_eq!(
        signed.header("x-amz-checksum-sha256"),
        Some(sha.to_base64().as_str())
    );
    assert_eq!(query_param(&signed.url, "X-Amz-Expires"), Some("300"));
    assert!(
        !signed.url.contains("x-amz-checksum-crc32")
            && !signed.url.contains("X-Amz-Checksum-Crc32"),
        "{}",
        signed.url
    );
    assert!(
        !signed.headers.contains_key("x-amz-checksum-crc32"),
        "{:?}",
        signed.headers
    );
    assert!(
        signed.url.starts_with("http://127.0.0.1:9/bucket/uploads/"),
        "{}",
        signed.url
    );
}

#[tokio::test]
async fn the_signer_conforms() {
    signer::run_suite(&S3UrlSigner::new(
        client(RequestChecksumCalculation::WhenRequired),
        "bucket",
    ))
    .await;
}

#[tokio::test]
async fn no_checksum_of_an_empty_body_is_signed_in_either_checksum_mode() {
    for mode in [
        RequestChecksumCalculation::WhenSupported,
        RequestChecksumCalculation::WhenRequired,
    ] {
        let signer = S3UrlSigner::new(client(mode), "bucket");
        for sha in [None, Some(Sha256Digest::of(b"x"))] {
            let key = ObjectKey::for_upload(id_at(0, 1), &FileName::sanitize("a.png").unwrap());
            let request = PutUrlRequest::new(
                key,
                ContentType::Png,
                None,
                sha,
                epoch(),
                intake_domain::model::UrlTtl::from_secs(60).unwrap(),
            );
            let signed = signer.presign_put(&request).await.unwrap();
            let names = query_param(&signed.url, "X-Amz-SignedHeaders")
                .unwrap()
                .replace("%3B", ";");
            let checksums: Vec<&str> = names
                .split(';')
                .filter(|n| n.starts_with("x-amz-checksum-"))
                .collect();
            let expected: Vec<&str> = sha.iter().map(|_| "x-amz-checksum-sha256").collect();
            assert_eq!(checksums, expected, "{mode:?}: {}", signed.url);
        }
    }
}
