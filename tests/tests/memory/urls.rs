use std::collections::BTreeMap;
use std::time::Duration;

use intake_domain::ports::{HttpMethod, header};
use intake_domain::services::UploadRequest;
use intake_domain::testkit::scenarios::Harness;
use intake_memory::{GatewayError, MemoryHarness, UrlRefusal};

use super::{page, process_ok, upload};

async fn ticket(h: &MemoryHarness) -> intake_domain::services::UploadTicket {
    let body = page(1);
    h.intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("a.png", intake_domain::model::ContentType::Png)
                .unwrap()
                .with_size(body.len() as u64),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_expired_upload_url_is_refused() {
    let h = MemoryHarness::default();
    let t = ticket(&h).await;
    assert_eq!(t.expires_in_seconds, 300);
    h.clock.advance(Duration::from_secs(300));
    let refused = h.gateway.perform(&t.request(), Some(page(1))).unwrap_err();
    assert_eq!(refused, GatewayError::Refused(UrlRefusal::Expired));
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_tampered_url_is_refused() {
    let h = MemoryHarness::default();
    let t = ticket(&h).await;
    let mut request = t.request();
    let other_id = intake_domain::testkit::id_at(0, 1);
    request.url = request
        .url
        .replace(&t.image_id.to_string(), &other_id.to_string());
    assert_eq!(
        h.gateway.perform(&request, Some(page(1))).unwrap_err(),
        GatewayError::Refused(UrlRefusal::BadSignature)
    );
    let mut longer = t.request();
    longer.url = longer.url.replace("x-expires=", "x-expires=9");
    assert_eq!(
        h.gateway.perform(&longer, Some(page(1))).unwrap_err(),
        GatewayError::Refused(UrlRefusal::BadSignature)
    );
}

#[tokio::test]
async fn a_different_content_type_or_method_is_refused() {
    let h = MemoryHarness::default();
    let t = ticket(&h).await;
    let mut headers: BTreeMap<String, String> = t.required_headers.clone();
    headers.insert(header::CONTENT_TYPE.into(), "image/jpeg".into());
    let refused = h
        .gateway
        .send(HttpMethod::Put, &t.upload_url, &headers, Some(page(1)))
        .unwrap_err();
    assert_eq!(
        refused,
        GatewayError::Refused(UrlRefusal::Header(header::CONTENT_TYPE))
    );
    let mut no_once = t.required_headers.clone();
    no_once.remove(header::IF_NONE_MATCH);
    let refused = h
        .gateway
        .send(HttpMethod::Put, &t.upload_url, &no_once, Some(page(1)))
        .unwrap_err();
    assert_eq!(
        refused,
        GatewayError::Refused(UrlRefusal::Header(header::IF_NONE_MATCH))
    );
    let refused = h
        .gateway
        .send(HttpMethod::Get, &t.upload_url, &t.required_headers, None)
        .unwrap_err();
    assert_eq!(refused, GatewayError::Refused(UrlRefusal::WrongMethod));
    assert!(h.store.is_empty(), "a refused request stored something");
}

#[tokio::test]
async fn a_body_of_another_length_is_refused() {
    let h = MemoryHarness::default();
    let t = ticket(&h).await;
    let short = page(1).slice(..100);
    let refused = h.send(&t.request(), Some(short)).await.unwrap_err();
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn download_urls_expire_too() {
    let h = MemoryHarness::default();
    let bytes = page(2);
    let (id, key) = upload(&h, "a.png", &bytes).await;
    process_ok(&h, &key).await;
    let details = h
        .intake
        .get_image(
            &intake_domain::testkit::default_owner(),
            id,
            intake_domain::ports::OcrDetail::Lines,
        )
        .await
        .unwrap();
    let download = details.download.unwrap();
    assert_eq!(h.gateway.perform(&download, None).unwrap(), bytes);
    assert!(
        download.url.contains("x-download-name=a.png"),
        "{}",
        download.url
    );
    h.clock.advance(Duration::from_secs(301));
    assert_eq!(
        h.gateway.perform(&download, None).unwrap_err(),
        GatewayError::Refused(UrlRefusal::Expired)
    );
}
