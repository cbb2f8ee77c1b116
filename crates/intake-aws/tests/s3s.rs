//! What the S3 signer's URLs allow, checked against s3s-fs, an S3 server that verifies SigV4 (moto does
//! not). Each refused case is a request a client could try with a URL it was given.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use aws_sdk_s3::config::RequestChecksumCalculation;
use bytes::Bytes;
use intake_aws::S3UrlSigner;
use intake_domain::model::{ContentType, FileName, ObjectKey, Sha256Digest, Timestamp, UrlTtl};
use intake_domain::ports::{GetUrlRequest, PresignedRequest, PutUrlRequest, UrlSigner};
use intake_domain::testkit::{id_at, images};

struct Fixture {
    _server: support::Server,
    signer: S3UrlSigner,
    http: reqwest::Client,
}

async fn fixture() -> Option<Fixture> {
    let server = support::s3s_fs().await?;
    let sdk = support::sdk_config(&server.endpoint, support::S3S_KEY).await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    client
        .create_bucket()
        .bucket("images")
        .send()
        .await
        .expect("create bucket");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Some(Fixture {
        _server: server,
        signer: S3UrlSigner::new(client, "images"),
        http,
    })
}

fn key(n: u64) -> ObjectKey {
    ObjectKey::for_upload(
        id_at(0, n),
        &FileName::sanitize("chèque front +#&;=.png").unwrap(),
    )
}

impl Fixture {
    async fn presign(
        &self,
        n: u64,
        body: &Bytes,
        declare: bool,
        issued_at: Timestamp,
        ttl: UrlTtl,
    ) -> PresignedRequest {
        let (len, sha) = if declare {
            (Some(body.len() as u64), Some(Sha256Digest::of(body)))
        } else {
            (None, None)
        };
        let request = PutUrlRequest::new(key(n), ContentType::Png, len, sha, issued_at, ttl);
        self.signer.presign_put(&request).await.unwrap()
    }

    /// PUTs `body` to `url` with `headers` (Content-Length always from the body); returns the status.
    async fn put(&self, url: &str, headers: &[(String, String)], body: Bytes) -> u16 {
        let mut builder = self.http.put(url);
        for (name, value) in headers.iter().filter(|(n, _)| n != "content-length") {
            builder = builder.header(name, value);
        }
        builder.body(body).send().await.unwrap().status().as_u16()
    }
}

fn headers(request: &PresignedRequest) -> Vec<(String, String)> {
    request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn with_header(
    request: &PresignedRequest,
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = headers(request)
        .into_iter()
        .filter(|(n, _)| n != name)
        .collect();
    if let Some(value) = value {
        h.push((name.to_owned(), value.to_owned()));
    }
    h
}

#[tokio::test]
async fn a_valid_upload_and_download_succeed() {
    let Some(f) = fixture().await else { return };
    let body = images::png(120, 90, 1);
    let signed = f
        .presign(
            1,
            &body,
            true,
            Timestamp::now_utc(),
            UrlTtl::from_secs(300).unwrap(),
        )
        .await;
    assert_eq!(
        f.put(&signed.url, &headers(&signed), body.clone()).await,
        200
    );
    let get = GetUrlRequest::new(
        key(1),
        Some(FileName::sanitize("chèque.png").unwrap()),
        Timestamp::now_utc(),
        UrlTtl::from_secs(60).unwrap(),
    );
    let download = f.signer.presign_get(&get).await.unwrap();
    let response = f.http.get(&download.url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap(), body);
    let tampered = download
        .url
        .replace("X-Amz-Expires=60", "X-Amz-Expires=6000");
    assert_eq!(
        f.http
            .get(&tampered)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403,
        "a lengthened download URL worked"
    );
}

#[tokio::test]
async fn tampered_unsigned_and_expired_urls_are_refused() {
    let Some(f) = fixture().await else { return };
    let body = images::png(120, 90, 2);
    let signed = f
        .presign(
            2,
            &body,
            false,
            Timestamp::now_utc(),
            UrlTtl::from_secs(300).unwrap(),
        )
        .await;
    let h = headers(&signed);
    let unsigned = signed.url.split('?').next().unwrap().to_owned();
    assert_eq!(f.put(&unsigned, &h, body.clone()).await, 403, "unsigned");
    let last = signed.url.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &signed.url[..signed.url.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    assert_eq!(
        f.put(&flipped, &h, body.clone()).await,
        403,
        "tampered signature"
    );
    let other_key = signed
        .url
        .replace(&id_at(0, 2).to_string(), &id_at(0, 3).to_string());
    assert_eq!(
        f.put(&other_key, &h, body.clone()).await,
        403,
        "another key"
    );
    let longer = signed
        .url
        .replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    assert_eq!(
        f.put(&longer, &h, body.clone()).await,
        403,
        "lengthened expiry"
    );
    let an_hour_ago =
        Timestamp::from_unix_millis(Timestamp::now_utc().unix_millis() - 3_600_000).unwrap();
    let expired = f
        .presign(4, &body, false, an_hour_ago, UrlTtl::from_secs(60).unwrap())
        .await;
    assert_eq!(
        f.put(&expired.url, &headers(&expired), body.clone()).await,
        403,
        "expired"
    );
    // none of the refused requests created anything; the valid one still can
    assert_eq!(f.put(&signed.url, &h, body).await, 200);
}

#[tokio::test]
async fn headers_that_differ_from_the_signed_ones_are_refused() {
    let Some(f) = fixture().await else { return };
    let body = images::png(120, 90, 5);
    let signed = f
        .presign(
            5,
            &body,
            true,
            Timestamp::now_utc(),
            UrlTtl::from_secs(300).unwrap(),
        )
        .await;
    assert_eq!(
        f.put(
            &signed.url,
            &with_header(&signed, "content-type", Some("image/jpeg")),
            body.clone()
        )
        .await,
        403,
        "type"
    );
    assert_eq!(
        f.put(
            &signed.url,
            &with_header(&signed, "content-type", None),
            body.clone()
        )
        .await,
        403,
        "no type"
    );
    assert_eq!(
        f.put(
            &signed.url,
            &with_header(&signed, "if-none-match", None),
            body.clone()
        )
        .await,
        403,
        "no if-none-match"
    );
    let shorter = body.slice(..body.len() - 1);
    assert_eq!(
        f.put(&signed.url, &headers(&signed), shorter).await,
        403,
        "another length"
    );
    let other_sum = Sha256Digest::of(b"other").to_base64();
    assert_eq!(
        f.put(
            &signed.url,
            &with_header(&signed, "x-amz-checksum-sha256", Some(&other_sum)),
            body.clone()
        )
        .await,
        403,
        "checksum header"
    );
    assert_eq!(f.put(&signed.url, &headers(&signed), body).await, 200);
}

#[tokio::test]
async fn a_body_with_another_checksum_is_refused() {
    let Some(f) = fixture().await else { return };
    let declared = images::png(120, 90, 6);
    let sent = images::png(120, 90, 7);
    assert_eq!(declared.len(), sent.len());
    let signed = f
        .presign(
            6,
            &declared,
            true,
            Timestamp::now_utc(),
            UrlTtl::from_secs(300).unwrap(),
        )
        .await;
    let status = f.put(&signed.url, &headers(&signed), sent).await;
    assert_eq!(status, 400, "a body with another SHA-256 was stored");
}

#[tokio::test]
async fn an_upload_url_cannot_overwrite() {
    let Some(f) = fixture().await else { return };
    let body = images::png(120, 90, 8);
    let signed = f
        .presign(
            8,
            &body,
            false,
            Timestamp::now_utc(),
            UrlTtl::from_secs(300).unwrap(),
        )
        .await;
    assert_eq!(
        f.put(&signed.url, &headers(&signed), body.clone()).await,
        200
    );
    let other = images::png(120, 90, 9);
    assert_eq!(
        f.put(&signed.url, &headers(&signed), other).await,
        412,
        "the second upload overwrote the first"
    );
}
