//! The Lambda handlers driven with the event fixtures shipped in `aws_lambda_events` and with events
//! built for keys with spaces, `+`, `#` and unicode, over the memory adapters.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;

use bytes_free::png_for;
use http_body_util::BodyExt as _;
use intake_domain::model::{ImageId, ImageStatus, ObjectKey, Owner, Sha256Digest};
use intake_domain::services::UploadRequest;
use intake_domain::testkit::scenarios::Harness;
use intake_lambda::events::{Delivery, Notice, decode_key, parse};
use intake_lambda::processor::{ProcessorError, handle};
use intake_memory::{MemoryHarness, Scripted, ScriptedError};
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod bytes_free {
    /// A PNG the default scripted engine accepts, distinct per seed.
    pub(crate) fn png_for(seed: u64) -> bytes::Bytes {
        intake_domain::testkit::images::png(200, 80, seed)
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Form-encodes a key the way S3 event notifications do.
fn form_encode(key: &str, slash: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'/' => out.push_str(slash),
            b if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) => out.push(char::from(b)),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// An S3 record as AWS sends it (`full`), or as emulators do: no userIdentity, requestParameters or
/// responseElements, and `/` encoded as `%2F`.
fn s3_record(bucket: &str, key: &str, event_name: &str, full: bool) -> Value {
    let mut record = json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T01:00:00.000Z",
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": form_encode(key, if full { "/" } else { "%2F" }), "size": 100, "eTag": "0123", "sequencer": "00A"}
        }
    });
    if full {
        record["userIdentity"] = json!({"principalId": "AWS:EXAMPLE"});
        record["requestParameters"] = json!({"sourceIPAddress": "127.0.0.1"});
        record["responseElements"] = json!({"x-amz-request-id": "EXAMPLE"});
    }
    record
}

fn sqs(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| json!({"messageId": id, "receiptHandle": "h", "body": body, "eventSource": "aws:sqs", "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}}))
        .collect();
    json!({"Records": records})
}

async fn upload(h: &MemoryHarness, name: &str, seed: u64) -> ObjectKey {
    let bytes = png_for(seed);
    let request = UploadRequest::named(name, intake_domain::model::ContentType::Png)
        .unwrap()
        .with_size(bytes.len() as u64)
        .with_sha256(Sha256Digest::of(&bytes));
    let ticket = h
        .intake
        .request_upload(&intake_domain::testkit::default_owner(), request)
        .await
        .unwrap();
    h.send(&ticket.request(), Some(bytes)).await.unwrap();
    ticket.object_key
}

async fn status(h: &MemoryHarness, key: &ObjectKey) -> ImageStatus {
    h.intake
        .get_image(
            &intake_domain::testkit::default_owner(),
            key.image_id(),
            intake_domain::ports::OcrDetail::Lines,
        )
        .await
        .unwrap()
        .record
        .status()
}

#[test]
fn the_crates_s3_fixtures_parse_and_keys_are_decoded() {
    let event = fixture("example-s3-event.json");
    // the fixture really is an S3Event
    serde_json::from_value::<aws_lambda_events::s3::S3Event>(event.clone()).unwrap();
    match parse(event).unwrap() {
        Delivery::Direct(notices) => {
            assert_eq!(notices.len(), 1);
            assert!(
                matches!(&notices[0], Notice::Skip(reason) if reason.contains("\"Happy Face.jpg\" is outside")),
                "{notices:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(fixture("example-s3-event-with-decoded.json")).is_ok());
    assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
}

#[tokio::test]
async fn direct_notifications_with_awkward_keys_are_processed_once() {
    let h = MemoryHarness::default();
    for (seed, name, full) in [
        (1, "Happy Face+#1.png", true),
        (2, "chèque 😀 & co.png", true),
        (3, "a b+c.png", false),
    ] {
        let key = upload(&h, name, seed).await;
        let event = json!({"Records": [s3_record(h.intake.bucket(), key.as_str(), "ObjectCreated:Put", full)]});
        assert_eq!(handle(&h.intake, event.clone()).await.unwrap(), Value::Null);
        assert_eq!(status(&h, &key).await, ImageStatus::Processed, "{name}");
        handle(&h.intake, event).await.unwrap();
    }
    assert_eq!(
        h.ocr.call_count(),
        3,
        "a replayed notification ran OCR again"
    );
}

#[tokio::test]
async fn spaces_encoded_as_percent_20_work_too() {
    let h = MemoryHarness::default();
    let key = upload(&h, "scan one.png", 4).await;
    let mut record = s3_record(
        h.intake.bucket(),
        key.as_str(),
        "ObjectCreated:CompleteMultipartUpload",
        true,
    );
    record["s3"]["object"]["key"] = json!(key.as_str().replace(' ', "%20"));
    handle(&h.intake, json!({"Records": [record]}))
        .await
        .unwrap();
    assert_eq!(status(&h, &key).await, ImageStatus::Processed);
}

#[tokio::test]
async fn other_events_prefixes_and_test_events_are_skipped() {
    let h = MemoryHarness::default();
    let key = upload(&h, "a.png", 5).await;
    let removed = json!({"Records": [s3_record(h.intake.bucket(), key.as_str(), "ObjectRemoved:Delete", true)]});
    handle(&h.intake, removed).await.unwrap();
    let elsewhere = json!({"Records": [s3_record(h.intake.bucket(), "results/x/ocr.json", "ObjectCreated:Put", true)]});
    handle(&h.intake, elsewhere).await.unwrap();
    handle(
        &h.intake,
        json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}),
    )
    .await
    .unwrap();
    assert_eq!(status(&h, &key).await, ImageStatus::AwaitingUpload);
    assert_eq!(h.ocr.call_count(), 0);
}

#[tokio::test]
async fn a_retryable_failure_fails_a_direct_invocation() {
    let h = MemoryHarness::default();
    h.ocr.then(Scripted::Fail(ScriptedError::Throttled));
    let key = upload(&h, "a.png", 6).await;
    let event =
        json!({"Records": [s3_record(h.intake.bucket(), key.as_str(), "ObjectCreated:Put", true)]});
    assert!(matches!(
        handle(&h.intake, event.clone()).await,
        Err(ProcessorError::Retryable { .. })
    ));
    handle(&h.intake, event).await.unwrap();
    assert_eq!(status(&h, &key).await, ImageStatus::Processed);
}

#[tokio::test]
async fn sqs_batches_report_only_the_messages_to_retry() {
    let h = MemoryHarness::default();
    let good = upload(&h, "good.png", 7).await;
    let throttled = upload(&h, "throttled.png", 8).await;
    let rejected = upload(&h, "rejected.jpg", 9).await;
    h.ocr.respond_to(
        Sha256Digest::of(&png_for(8)),
        Scripted::Fail(ScriptedError::Throttled),
    );
    let bucket = h.intake.bucket().to_owned();
    let body = |key: &ObjectKey, full: bool| {
        json!({"Records": [s3_record(&bucket, key.as_str(), "ObjectCreated:Put", full)]})
            .to_string()
    };
    let batch = sqs(&[
        ("m-good", body(&good, false)),
        ("m-throttled", body(&throttled, true)),
        ("m-rejected", body(&rejected, true)),
        (
            "m-test",
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string(),
        ),
        ("m-garbage", "not json".to_owned()),
        ("m-other", json!({"a": "Test", "b": 123}).to_string()),
    ]);
    let response = handle(&h.intake, batch).await.unwrap();
    let mut failed: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["m-garbage", "m-other", "m-throttled"]);
    assert_eq!(status(&h, &good).await, ImageStatus::Processed);
    assert_eq!(
        status(&h, &rejected).await,
        ImageStatus::Processed,
        "a PNG named .jpg is judged by its bytes"
    );
    assert_eq!(status(&h, &throttled).await, ImageStatus::Processing);
}

#[tokio::test]
async fn the_crates_sqs_fixture_is_read_and_its_non_s3_bodies_are_returned() {
    let h = MemoryHarness::default();
    let response = handle(&h.intake, fixture("example-sqs-event-obj.json"))
        .await
        .unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "MessageID_1"}]}),
        "a body that is no S3 notification must go back to the queue"
    );
}

#[tokio::test]
async fn garbage_payloads_are_errors() {
    let h = MemoryHarness::default();
    assert!(matches!(
        handle(&h.intake, json!("hello")).await,
        Err(ProcessorError::Event(_))
    ));
    assert!(matches!(
        handle(&h.intake, json!({"Records": [{"s3": {}}]})).await,
        Err(ProcessorError::Event(_))
    ));
}

async fn invoke_api(h: &MemoryHarness, event: &Value) -> (u16, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let service = tower::ServiceBuilder::new()
        .map_request(intake_lambda::without_stage)
        .service(intake_http::app(
            h.intake.clone(),
            intake_lambda::AuthorizerAuth,
        ));
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn api_gateway_v2_and_v1_requests_reach_the_shared_router() {
    let h = MemoryHarness::default();
    let mut v2 = fixture("example-apigw-v2-request-no-authorizer.json");
    v2["rawPath"] = json!("/health");
    v2["rawQueryString"] = json!("");
    v2["requestContext"]["http"]["path"] = json!("/health");
    v2["requestContext"]["http"]["method"] = json!("GET");
    v2["body"] = Value::Null;
    assert_eq!(invoke_api(&h, &v2).await, (200, json!({"status": "ok"})));

    let mut anonymous = v2.clone();
    anonymous["rawPath"] = json!("/images");
    anonymous["requestContext"]["http"]["path"] = json!("/images");
    let (status, body) = invoke_api(&h, &anonymous).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHENTICATED")),
        "a request without an authorizer reached the API"
    );

    let mut jwt = fixture("example-apigw-v2-request-jwt-authorizer.json");
    let mut no_sub = jwt.clone();
    no_sub["rawPath"] = json!("/images");
    no_sub["rawQueryString"] = json!("");
    no_sub["requestContext"]["http"]["path"] = json!("/images");
    no_sub["requestContext"]["http"]["method"] = json!("GET");
    no_sub["body"] = Value::Null;
    let (status, _) = invoke_api(&h, &no_sub).await;
    assert_eq!(status, 401, "a JWT without `sub` names no owner");
    jwt["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!("user-7f3a");
    jwt["rawPath"] = json!("/uploads");
    jwt["rawQueryString"] = json!("");
    jwt["requestContext"]["http"]["path"] = json!("/uploads");
    jwt["requestContext"]["http"]["method"] = json!("POST");
    jwt["headers"]["content-type"] = json!("application/json");
    jwt["body"] = json!(r#"{"filename":"cheque.png","contentType":"image/png"}"#);
    jwt["isBase64Encoded"] = json!(false);
    let (status, body) = invoke_api(&h, &jwt).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["uploadUrl"].is_string());
    let id = ImageId::parse(body["imageId"].as_str().unwrap()).unwrap();
    let record = h
        .intake
        .get_image(
            &Owner::parse("user-7f3a").unwrap(),
            id,
            intake_domain::ports::OcrDetail::Lines,
        )
        .await
        .expect("the JWT's subject owns the image")
        .record;
    assert_eq!(record.owner().as_str(), "user-7f3a");

    // The same image through the IAM caller of the fixture: another owner, so it does not exist.
    let mut iam = fixture("example-apigw-v2-request-iam.json");
    let path = format!("/images/{id}");
    iam["rawPath"] = json!(path);
    iam["requestContext"]["http"]["path"] = json!(path);
    iam["requestContext"]["http"]["method"] = json!("GET");
    iam["body"] = Value::Null;
    // The fixture's example query parameters are not the route's (they would be refused).
    iam["rawQueryString"] = json!("");
    iam["queryStringParameters"] = Value::Null;
    let (status, body) = invoke_api(&h, &iam).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    let mut v1 = fixture("example-apigw-request.json");
    v1["path"] = json!("/images");
    v1["httpMethod"] = json!("GET");
    v1["queryStringParameters"] = json!({"limit": "10"});
    v1["multiValueQueryStringParameters"] = json!({"limit": ["10"]});
    v1["body"] = Value::Null;
    let (status, body) = invoke_api(&h, &v1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["images"],
        json!([]),
        "the v1 authorizer's principal sees another's image"
    );

    let mut bad = fixture("example-apigw-v2-request-iam.json");
    bad["rawPath"] = json!("/images/not-an-id");
    bad["requestContext"]["http"]["path"] = json!("/images/not-an-id");
    bad["requestContext"]["http"]["method"] = json!("GET");
    bad["body"] = Value::Null;
    let (status, body) = invoke_api(&h, &bad).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_IMAGE_ID"))
    );
}

#[test]
fn callers_are_named_by_the_authorizer() {
    use aws_lambda_events::apigw::{ApiGatewayProxyRequestContext, ApiGatewayV2httpRequestContext};
    use lambda_http::request::RequestContext;
    let v2 = |context: Value| {
        RequestContext::ApiGatewayV2(
            serde_json::from_value::<ApiGatewayV2httpRequestContext>(context).unwrap(),
        )
    };
    let v1 = |context: Value| {
        RequestContext::ApiGatewayV1(
            serde_json::from_value::<ApiGatewayProxyRequestContext>(context).unwrap(),
        )
    };
    let owner = |context: &RequestContext| {
        intake_lambda::identity::owner_of(context).map(|o| o.to_string())
    };

    let mut iam = fixture("example-apigw-v2-request-iam.json")["requestContext"].clone();
    assert_eq!(
        owner(&v2(iam.clone())).unwrap(),
        "cognito:us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
        "identity pool users are their identity, not the pool's role"
    );
    iam["authorizer"]["iam"]["cognitoIdentity"] = Value::Null;
    iam["authorizer"]["iam"]["userArn"] =
        json!("arn:aws:sts::123456789012:assumed-role/Scanner/i-0abc123");
    assert_eq!(
        owner(&v2(iam)).unwrap(),
        "arn:aws:iam::123456789012:role/Scanner"
    );

    let mut cognito = fixture("example-apigw-request.json")["requestContext"].clone();
    cognito["authorizer"] = json!({"claims": {"sub": "c0ffee-42", "email": "a@example.com"}});
    assert_eq!(owner(&v1(cognito.clone())).unwrap(), "c0ffee-42");

    cognito["authorizer"] = json!({});
    cognito["identity"]["userArn"] = json!("arn:aws:iam::123456789012:user/ops");
    assert_eq!(
        owner(&v1(cognito.clone())).unwrap(),
        "arn:aws:iam::123456789012:user/ops"
    );

    cognito["identity"]["userArn"] = Value::Null;
    assert!(owner(&v1(cognito.clone())).is_err(), "no identity at all");
    cognito["authorizer"] = json!({"principalId": "bad\nowner"});
    assert!(
        owner(&v1(cognito)).is_err(),
        "an owner with a control character"
    );
}

/// Records every postponed delivery; each takes a moment, so overlapping calls can be counted.
#[derive(Debug, Default)]
struct Recorder {
    calls: std::sync::Mutex<Vec<(intake_aws::Delivery, std::time::Duration)>>,
    in_flight: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl intake_aws::Redelivery for Recorder {
    async fn postpone(
        &self,
        delivery: &intake_aws::Delivery,
        delay: std::time::Duration,
    ) -> Result<(), intake_aws::RedeliveryError> {
        use std::sync::atomic::Ordering;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.calls.lock().unwrap().push((delivery.clone(), delay));
        Ok(())
    }
}

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:intake-processing";

/// An SQS batch as Lambda delivers it: receipt handles, the queue's ARN, the receive counts.
fn sqs_delivered(messages: &[(&str, String, u32)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body, receives)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("receipt-{id}"),
                "body": body,
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
                "attributes": {"ApproximateReceiveCount": receives.to_string()},
                "messageAttributes": {}
            })
        })
        .collect();
    json!({"Records": records})
}

fn created_body(h: &MemoryHarness, key: &ObjectKey) -> String {
    json!({"Records": [s3_record(h.intake.bucket(), key.as_str(), "ObjectCreated:Put", true)]})
        .to_string()
}

#[tokio::test]
async fn messages_to_retry_come_back_after_a_back_off_that_grows_with_their_deliveries() {
    use intake_lambda::processor::{BatchOptions, handle_with};
    let h = MemoryHarness::default();
    let good = upload(&h, "good.png", 21).await;
    let first = upload(&h, "first.png", 22).await;
    let fourth = upload(&h, "fourth.png", 23).await;
    for seed in [22, 23] {
        h.ocr.respond_to(
            Sha256Digest::of(&png_for(seed)),
            Scripted::Fail(ScriptedError::Throttled),
        );
    }
    let recorder = std::sync::Arc::new(Recorder::default());
    let options = BatchOptions::new(10, Some(recorder.clone()));
    let batch = sqs_delivered(&[
        ("m-good", created_body(&h, &good), 1),
        ("m-first", created_body(&h, &first), 1),
        ("m-fourth", created_body(&h, &fourth), 4),
    ]);
    let response = handle_with(&h.intake, batch, &options).await.unwrap();
    assert_eq!(response["batchItemFailures"].as_array().unwrap().len(), 2);
    let mut calls = recorder.calls.lock().unwrap().clone();
    calls.sort_by(|a, b| a.0.receipt_handle.cmp(&b.0.receipt_handle));
    let handles: Vec<&str> = calls
        .iter()
        .map(|(d, _)| d.receipt_handle.as_str())
        .collect();
    assert_eq!(
        handles,
        ["receipt-m-first", "receipt-m-fourth"],
        "only retries are put off"
    );
    assert!(calls.iter().all(|(d, _)| d.queue_arn == QUEUE_ARN));
    let secs = |i: usize| calls[i].1.as_secs_f64();
    assert!(
        (5.0..=10.0).contains(&secs(0)),
        "first retry after {} s",
        secs(0)
    );
    assert!(
        (40.0..=80.0).contains(&secs(1)),
        "fourth retry after {} s",
        secs(1)
    );
}

#[tokio::test]
async fn a_batch_runs_at_most_its_concurrency_at_once() {
    use intake_lambda::processor::{BatchOptions, handle_with};
    let h = MemoryHarness::default();
    h.ocr.set_default(Scripted::Fail(ScriptedError::Throttled));
    let mut messages = Vec::new();
    for seed in 0..6 {
        let key = upload(&h, &format!("p{seed}.png"), 40 + seed).await;
        messages.push((format!("m{seed}"), created_body(&h, &key), 1));
    }
    let refs: Vec<(&str, String, u32)> = messages
        .iter()
        .map(|(id, body, n)| (id.as_str(), body.clone(), *n))
        .collect();
    let recorder = std::sync::Arc::new(Recorder::default());
    let options = BatchOptions::new(2, Some(recorder.clone()));
    let response = handle_with(&h.intake, sqs_delivered(&refs), &options)
        .await
        .unwrap();
    assert_eq!(response["batchItemFailures"].as_array().unwrap().len(), 6);
    assert_eq!(recorder.calls.lock().unwrap().len(), 6);
    assert_eq!(
        recorder.most.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "more messages ran at once than the batch allows"
    );
}

#[tokio::test]
async fn a_notice_for_an_image_another_processor_holds_comes_back_when_its_lease_ends() {
    use intake_domain::ports::ImageRepository as _;
    use intake_lambda::processor::{BatchOptions, handle_with};
    let h = MemoryHarness::default();
    let key = upload(&h, "held.png", 31).await;
    // Another processor claimed the image a moment ago, for 90 seconds.
    let stored = h.repository.get(&key.image_id()).await.unwrap().unwrap();
    let claimed = stored
        .claim(h.intake.now(), std::time::Duration::from_secs(90))
        .unwrap();
    h.repository
        .replace(&claimed, stored.version(), &[])
        .await
        .unwrap();
    let recorder = std::sync::Arc::new(Recorder::default());
    let options = BatchOptions::new(1, Some(recorder.clone()));
    let batch = sqs_delivered(&[("m-held", created_body(&h, &key), 1)]);
    let response = handle_with(&h.intake, batch, &options).await.unwrap();
    assert_eq!(
        response["batchItemFailures"][0]["itemIdentifier"], "m-held",
        "the notice was dropped while another processor holds the image"
    );
    let calls = recorder.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    let delay = calls[0].1.as_secs();
    assert!((90..=92).contains(&delay), "put off by {delay} s");
    assert_eq!(h.ocr.call_count(), 0);
}

/// At each postponed delivery, notes the status of every image of the batch.
#[derive(Debug)]
struct Snapshots {
    repository: intake_memory::MemoryRepository,
    images: Vec<ImageId>,
    seen: std::sync::Mutex<Vec<Vec<ImageStatus>>>,
}

#[async_trait::async_trait]
impl intake_aws::Redelivery for Snapshots {
    async fn postpone(
        &self,
        _delivery: &intake_aws::Delivery,
        _delay: std::time::Duration,
    ) -> Result<(), intake_aws::RedeliveryError> {
        use intake_domain::ports::ImageRepository as _;
        let mut statuses = Vec::new();
        for id in &self.images {
            let record = self.repository.get(id).await.unwrap().unwrap();
            statuses.push(record.status());
        }
        self.seen.lock().unwrap().push(statuses);
        Ok(())
    }
}

#[tokio::test]
async fn every_upload_of_a_batch_is_listed_before_the_first_is_processed() {
    use intake_lambda::processor::{BatchOptions, handle_with};
    let h = MemoryHarness::default();
    h.ocr.set_default(Scripted::Fail(ScriptedError::Throttled));
    let mut keys = Vec::new();
    for seed in 0..3 {
        keys.push(upload(&h, &format!("l{seed}.png"), 60 + seed).await);
    }
    for key in &keys {
        assert_eq!(status(&h, key).await, ImageStatus::AwaitingUpload);
    }
    let messages: Vec<(String, String, u32)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (format!("m{i}"), created_body(&h, key), 1))
        .collect();
    let refs: Vec<(&str, String, u32)> = messages
        .iter()
        .map(|(id, body, n)| (id.as_str(), body.clone(), *n))
        .collect();
    let snapshots = std::sync::Arc::new(Snapshots {
        repository: h.repository.clone(),
        images: keys.iter().map(ObjectKey::image_id).collect(),
        seen: std::sync::Mutex::new(Vec::new()),
    });
    // One message at a time: the first is retried (postponed) before the others are touched.
    let options = BatchOptions::new(1, Some(snapshots.clone()));
    handle_with(&h.intake, sqs_delivered(&refs), &options)
        .await
        .unwrap();
    let seen = snapshots.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[0].iter().all(|s| *s == ImageStatus::Processing),
        "while the first message was processed, the batch's images were {:?}",
        seen[0]
    );
}
