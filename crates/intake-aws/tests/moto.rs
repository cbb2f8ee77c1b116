//! The AWS adapters against moto server: the repository and object-store conformance suites, the
//! Rekognition mapping, and the full scenario suite with every AWS adapter (real HTTP PUT and GET
//! through the presigned URLs). moto checks neither signatures nor conditional writes on presigned
//! requests; those are tested against s3s-fs (`s3s.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_config::SdkConfig;
use bytes::Bytes;
use intake_aws::{AwsAdapters, AwsSettings, DynamoFingerprintIndex, EngineChoice, TableSchema};
use intake_domain::Intake;
use intake_domain::model::{ContentType, EventLinks, ObjectKey, Sha256Digest};
use intake_domain::ports::{
    HttpMethod, ImageFacts, ImageRepository, OcrEngine, OcrInput, PresignedRequest,
};
use intake_domain::testkit::scenarios::{self, Harness, Refusal};
use intake_domain::testkit::{CountingOcr, images, repository, store};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Creates a bucket and a table and the adapters over them.
async fn adapters(sdk: &SdkConfig) -> (AwsSettings, AwsAdapters) {
    let settings = AwsSettings::new(unique("images"), unique("records"))
        .with_path_style(true)
        .with_engine(EngineChoice::Rekognition);
    let adapters = AwsAdapters::from_sdk_config(sdk, &settings, None, None).unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(&settings.bucket)
        .send()
        .await
        .expect("create bucket");
    // Versioned, as the template's bucket is: a purge must erase every version.
    s3.put_bucket_versioning()
        .bucket(&settings.bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("enable versioning");
    TableSchema::create(&aws_sdk_dynamodb::Client::new(sdk), &settings.table)
        .await
        .expect("create table");
    (settings, adapters)
}

#[tokio::test]
async fn dynamodb_repository_conforms() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    repository::run_suite(|| async { adapters(&sdk).await.1.repository }).await;
}

#[tokio::test]
async fn dynamodb_fingerprint_index_conforms() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    intake_domain::testkit::fingerprints::run_suite(|| async {
        let table = unique("fingerprints");
        DynamoFingerprintIndex::create_table(&client, &table)
            .await
            .expect("create table");
        DynamoFingerprintIndex::new(client.clone(), table)
    })
    .await;
}

struct S3Seeder(aws_sdk_s3::Client, String);

#[async_trait]
impl store::Seeder for S3Seeder {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) {
        self.0
            .put_object()
            .bucket(&self.1)
            .key(key.as_str())
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .expect("put object");
    }
}

#[tokio::test]
async fn s3_object_store_conforms() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let (settings, adapters) = adapters(&sdk).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    store::run_suite(&adapters.store, &S3Seeder(s3, settings.bucket.clone()), 1).await;
}

#[tokio::test]
async fn ocr_text_longer_than_the_item_cap_round_trips_through_the_sidecar() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let (_, adapters) = adapters(&sdk).await;
    let id = intake_domain::testkit::id_at(0, 1);
    let first = intake_domain::testkit::record(id);
    adapters.repository.create(&first).await.unwrap();
    let long_line = "word ".repeat(2000);
    let lines: Vec<&str> = std::iter::repeat_n(long_line.as_str(), 10).collect();
    let processed = intake_domain::testkit::advanced_with(
        &first,
        intake_domain::model::ImageStatus::Processed,
        None,
        &intake_memory_free_text(&lines),
        intake_domain::testkit::epoch(),
    );
    assert!(processed.ocr_text().unwrap().len() > intake_aws::OCR_TEXT_ITEM_CAP_BYTES);
    adapters
        .repository
        .replace(&processed, first.version(), &[])
        .await
        .unwrap();
    assert_eq!(adapters.repository.get(&id).await.unwrap(), Some(processed));
}

/// A result with one word per line entry (built with the domain's constructors).
fn intake_memory_free_text(lines: &[&str]) -> intake_domain::model::OcrResult {
    use intake_domain::model::{BoundingBox, OcrLine, OcrResult, OcrWord};
    let b = BoundingBox::new(0.1, 0.1, 0.8, 0.05).unwrap();
    let lines = lines
        .iter()
        .map(|text| {
            OcrLine::new(*text, 90.0, b, vec![OcrWord::new("word", 90.0, b).unwrap()]).unwrap()
        })
        .collect();
    OcrResult::new("test", lines, false).unwrap()
}

#[tokio::test]
async fn rekognition_maps_lines_words_and_boxes() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let (settings, adapters) = adapters(&sdk).await;
    let png = images::png(320, 100, 1);
    let facts = ImageFacts::new(
        ContentType::Png,
        png.len() as u64,
        Some((320, 100)),
        Sha256Digest::of(&png),
    );
    let key = ObjectKey::for_upload(
        intake_domain::testkit::id_at(0, 2),
        &intake_domain::model::FileName::sanitize("x.png").unwrap(),
    );
    let input = OcrInput::Object {
        bucket: settings.bucket.clone(),
        key,
        version: None,
        facts,
    };
    let result = adapters.ocr.detect(&input).await.unwrap();
    intake_domain::testkit::ocr::assert_result_invariants(&result);
    // moto answers every DetectText with the same canned detections: assert their mapping
    assert_eq!(result.engine(), "rekognition");
    assert_eq!(result.text(), "IT'S\nMONDAY\nbut keep\nSmiling");
    let words: Vec<Vec<&str>> = result
        .lines()
        .iter()
        .map(|l| {
            l.words()
                .iter()
                .map(intake_domain::model::OcrWord::text)
                .collect()
        })
        .collect();
    assert_eq!(
        words,
        vec![
            vec!["IT'S"],
            vec!["MONDAY"],
            vec!["but", "keep"],
            vec!["Smiling"]
        ]
    );
    assert!(!result.truncated());
    // the OCR conformance suite: a readable sample, and an image below 80 px refused permanently
    let small = ImageFacts::new(
        ContentType::Png,
        100,
        Some((40, 40)),
        Sha256Digest::of(b"small"),
    );
    let refused = OcrInput::Object {
        bucket: settings.bucket.clone(),
        key: key_of(3),
        version: None,
        facts: small,
    };
    intake_domain::testkit::ocr::run_suite(
        adapters.ocr.as_ref(),
        &[intake_domain::testkit::ocr::Sample::new(
            input,
            &["monday", "smiling"],
        )],
        &[refused],
    )
    .await;
}

fn key_of(n: u64) -> ObjectKey {
    ObjectKey::for_upload(
        intake_domain::testkit::id_at(0, n),
        &intake_domain::model::FileName::sanitize("x.png").unwrap(),
    )
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The AWS engine, but with the answers a scenario scripted for the images of given bytes (moto's
/// Rekognition reads nothing): how the near-duplicate scenario gives pages their picture hashes.
#[derive(Debug)]
struct ScriptedFor {
    inner: Arc<dyn OcrEngine>,
    answers: Arc<
        std::sync::Mutex<std::collections::HashMap<Sha256Digest, intake_domain::model::OcrResult>>,
    >,
}

#[async_trait]
impl OcrEngine for ScriptedFor {
    fn capabilities(&self) -> &intake_domain::ports::OcrCapabilities {
        self.inner.capabilities()
    }

    async fn detect(
        &self,
        input: &OcrInput,
    ) -> Result<intake_domain::model::OcrResult, intake_domain::ports::OcrError> {
        let scripted = self
            .answers
            .lock()
            .unwrap()
            .get(&input.facts().sha256)
            .cloned();
        match scripted {
            Some(result) => Ok(result),
            None => self.inner.detect(input).await,
        }
    }
}

/// Intake over every AWS adapter on moto; uploads and downloads go over HTTP to the presigned URLs.
struct AwsHarness {
    intake: Intake,
    ocr: CountingOcr,
    answers: Arc<
        std::sync::Mutex<std::collections::HashMap<Sha256Digest, intake_domain::model::OcrResult>>,
    >,
    http: reqwest::Client,
    repository: intake_aws::DynamoRepository,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

#[async_trait]
impl Harness for AwsHarness {
    fn searches(&self) -> bool {
        false
    }

    fn script_ocr(&self, bytes: &Bytes, result: intake_domain::model::OcrResult) -> bool {
        self.answers
            .lock()
            .unwrap()
            .insert(Sha256Digest::of(bytes), result);
        true
    }

    async fn stored_record(
        &self,
        id: intake_domain::model::ImageId,
    ) -> Option<Option<intake_domain::model::ImageRecord>> {
        use intake_domain::ports::ImageRepository as _;
        Some(self.repository.get(&id).await.expect("get"))
    }

    async fn object_versions(&self, key: &ObjectKey) -> Option<usize> {
        let listed = self
            .s3
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(key.as_str())
            .send()
            .await
            .expect("list versions");
        let named = |k: Option<&str>| k == Some(key.as_str());
        Some(
            listed.versions().iter().filter(|v| named(v.key())).count()
                + listed
                    .delete_markers()
                    .iter()
                    .filter(|m| named(m.key()))
                    .count(),
        )
    }

    fn intake(&self) -> &Intake {
        &self.intake
    }

    async fn send(
        &self,
        request: &PresignedRequest,
        body: Option<Bytes>,
    ) -> Result<Bytes, Refusal> {
        let method = match request.method {
            HttpMethod::Put => reqwest::Method::PUT,
            _ => reqwest::Method::GET,
        };
        let mut builder = self.http.request(method, &request.url);
        // Content-Length comes from the body, as with any HTTP client: a body of another length than
        // the signed one then fails the signature instead of stalling the connection.
        for (name, value) in request
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "content-length")
        {
            builder = builder.header(name, value);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(|e| Refusal {
            status: 0,
            reason: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| Refusal {
            status,
            reason: e.to_string(),
        })?;
        if (200..300).contains(&status) {
            Ok(bytes)
        } else {
            Err(Refusal {
                status,
                reason: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
    }

    fn ocr_calls(&self) -> usize {
        self.ocr.calls()
    }

    fn store_enforces_urls(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn scenarios_pass_over_the_aws_adapters() {
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    scenarios::run_suite(|| async {
        let (settings, adapters) = adapters(&sdk).await;
        let answers = Arc::default();
        let ocr = CountingOcr::new(Arc::new(ScriptedFor {
            inner: Arc::clone(&adapters.ocr),
            answers: Arc::clone(&answers),
        }));
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let fingerprints = unique("fingerprints");
        DynamoFingerprintIndex::create_table(&dynamodb, &fingerprints)
            .await
            .expect("create the fingerprint table");
        // Reprocessing requests go to a real (emulated) queue; the scenarios deliver notifications
        // themselves, and `reprocessing_requests_reach_the_queue` reads the messages.
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let queue = sqs
            .create_queue()
            .queue_name(unique("processing"))
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let intake = Intake::builder()
            .store(adapters.store.clone())
            .signer(adapters.signer.clone())
            .repository(adapters.repository.clone())
            .ocr(ocr.clone())
            .fingerprint_index(DynamoFingerprintIndex::new(dynamodb, fingerprints))
            .field_extractor(intake_fields::RuleExtractor::default())
            .processing_requests(Arc::new(intake_aws::SqsProcessingRequests::new(
                sqs,
                &queue,
                &settings.bucket,
            )))
            // Every export stored in the (versioned) bucket, so that the purge scenario sees them
            // erased, every version.
            .exports(intake_export::Renderer)
            .config(settings.config.clone().with_export_inline_limit(Some(0)))
            .build()
            .unwrap();
        AwsHarness {
            intake,
            ocr,
            answers,
            http: http_client(),
            repository: adapters.repository.clone(),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            ),
            bucket: settings.bucket.clone(),
        }
    })
    .await;
}

/// Receives at most one message, waiting for none.
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<aws_sdk_sqs::types::Message> {
    sqs.receive_message()
        .queue_url(url)
        .max_number_of_messages(1)
        .wait_time_seconds(0)
        .visibility_timeout(30)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
        .into_iter()
        .next()
}

#[tokio::test]
async fn sqs_redelivery_puts_off_a_message_and_can_bring_it_back_at_once() {
    use intake_aws::{Delivery, Redelivery, RedeliveryError, SqsRedelivery};
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = unique("processing");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .cloned()
        .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body("notification")
        .send()
        .await
        .unwrap();
    let redelivery = SqsRedelivery::new(sqs.clone());

    // Received with 30 s of visibility: hidden from the next receive.
    let message = receive(&sqs, &url).await.expect("the message");
    assert!(receive(&sqs, &url).await.is_none());
    let delivery = Delivery {
        queue_arn: arn.clone(),
        receipt_handle: message.receipt_handle.clone().unwrap(),
    };
    // Put off by zero seconds: visible again at once.
    redelivery
        .postpone(&delivery, std::time::Duration::ZERO)
        .await
        .expect("postpone");
    let again = receive(&sqs, &url).await.expect("visible again");
    assert_eq!(again.body.as_deref(), Some("notification"));
    // Put off by a minute: hidden.
    let later = Delivery {
        queue_arn: arn,
        receipt_handle: again.receipt_handle.unwrap(),
    };
    redelivery
        .postpone(&later, std::time::Duration::from_secs(60))
        .await
        .expect("postpone");
    assert!(
        receive(&sqs, &url).await.is_none(),
        "shown before its delay"
    );
    // Not a queue ARN: a typed error, no call made.
    let err = redelivery
        .postpone(
            &Delivery {
                queue_arn: "arn:aws:s3:::bucket".into(),
                receipt_handle: "h".into(),
            },
            std::time::Duration::ZERO,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RedeliveryError::Arn(_)), "{err}");
}

#[tokio::test]
async fn reprocessing_requests_reach_the_queue() {
    use intake_domain::ports::ProcessingRequests as _;
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .create_queue()
        .queue_name(unique("processing"))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url");
    let requests = intake_aws::SqsProcessingRequests::new(sqs.clone(), &url, "images");
    let key = key_of(7);
    let now = intake_domain::model::Timestamp::now_utc();
    requests.request(&key, now).await.expect("request now");
    let message = receive(&sqs, &url).await.expect("the request is queued");
    assert_eq!(
        message.body.as_deref(),
        Some(intake_aws::processing_message("images", &key).as_str())
    );
    requests
        .request(
            &key,
            now.saturating_add(std::time::Duration::from_secs(120)),
        )
        .await
        .expect("request later");
    assert!(
        receive(&sqs, &url).await.is_none(),
        "a request due later waits in the queue"
    );
}

/// Every message of `url` that arrives within a few seconds, at least `at_least` of them if they
/// come, deleted once read.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, at_least: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bodies.len() < at_least && std::time::Instant::now() < deadline {
        let Some(message) = receive(sqs, url).await else {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        bodies.push(message.body.clone().unwrap_or_default());
        sqs.delete_message()
            .queue_url(url)
            .receipt_handle(message.receipt_handle.clone().unwrap_or_default())
            .send()
            .await
            .expect("delete");
    }
    bodies
}

/// A bus with a rule sending everything from Intake to a queue: the publisher, and the queue to read.
async fn bus_with_subscriber(
    sdk: &SdkConfig,
) -> (
    intake_aws::EventBridgePublisher,
    aws_sdk_sqs::Client,
    String,
) {
    let eventbridge = aws_sdk_eventbridge::Client::new(sdk);
    let bus = unique("events");
    eventbridge
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create bus");
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue = sqs
        .create_queue()
        .queue_name(unique("subscriber"))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("url");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    eventbridge
        .put_rule()
        .name("from-intake")
        .event_bus_name(&bus)
        .event_pattern(r#"{"source":["intake"]}"#)
        .send()
        .await
        .expect("rule");
    eventbridge
        .put_targets()
        .rule("from-intake")
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("subscriber")
                .arn(queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("target");
    (
        intake_aws::EventBridgePublisher::new(eventbridge, &bus),
        sqs,
        queue,
    )
}

/// Every event in the records table's stream, from its start.
async fn events_in_stream(sdk: &SdkConfig, table: &str) -> Vec<intake_domain::model::ImageEvent> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let stream_arn = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe table")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table has a stream");
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    let shards = streams
        .describe_stream()
        .stream_arn(&stream_arn)
        .send()
        .await
        .expect("describe stream")
        .stream_description
        .map(|d| d.shards.unwrap_or_default())
        .unwrap_or_default();
    let mut streamed = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&stream_arn)
            .shard_id(shard.shard_id.unwrap_or_default())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("iterator")
            .shard_iterator;
        let records = streams
            .get_records()
            .set_shard_iterator(iterator)
            .send()
            .await
            .expect("records")
            .records
            .unwrap_or_default();
        for record in records {
            let text = record
                .dynamodb
                .and_then(|d| d.new_image)
                .and_then(|image| image.get(TableSchema::EVENTS_ATTRIBUTE).cloned())
                .and_then(|value| value.as_s().ok().cloned());
            if let Some(text) = text {
                streamed.extend(intake_aws::events_from_text(&text).expect("events"));
            }
        }
    }
    streamed
}

#[tokio::test]
async fn the_table_stream_s_events_reach_an_eventbridge_rule() {
    use intake_domain::model::{EventKind, ImageEvent, Measurements, RejectionCode};
    use intake_domain::ports::{EventPublisher as _, ImageRepository as _};
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let (settings, adapters) = adapters(&sdk).await;
    let (publisher, sqs, queue) = bus_with_subscriber(&sdk).await;
    let from_rule = |body: &str| -> (String, String) {
        let event: serde_json::Value = serde_json::from_str(body).expect("an EventBridge event");
        assert_eq!(event["source"], intake_aws::EVENT_SOURCE);
        assert_eq!(event["detail-type"], event["detail"]["type"]);
        (
            event["detail"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            event["detail"].to_string(),
        )
    };
    let (sqs_ref, queue_ref) = (&sqs, &queue);
    intake_domain::testkit::events::run_publisher_suite(&publisher, |n| {
        Box::pin(async move {
            drain(sqs_ref, queue_ref, n)
                .await
                .iter()
                .map(|b| from_rule(b))
                .collect()
        })
    })
    .await;

    // A write through the repository, its events read back from the table's stream and published.
    let first = intake_domain::testkit::record(intake_domain::testkit::id_at(5, 5));
    adapters.repository.create(&first).await.expect("create");
    let claimed = first
        .claim(
            intake_domain::testkit::epoch(),
            intake_domain::testkit::LEASE,
        )
        .expect("claim");
    adapters
        .repository
        .replace(&claimed, first.version(), &[])
        .await
        .expect("claim");
    let measured = Measurements {
        size_bytes: Some(10),
        ..Measurements::default()
    };
    let done = claimed
        .reject(
            intake_domain::testkit::epoch(),
            &measured,
            RejectionCode::Corrupt,
            "test",
        )
        .expect("reject");
    let committed = ImageEvent::changes(&claimed, &done, EventLinks::NONE);
    adapters
        .repository
        .replace(&done, claimed.version(), &committed)
        .await
        .expect("reject");
    let streamed = events_in_stream(&sdk, &settings.table).await;
    assert_eq!(
        streamed, committed,
        "the stream carries each write's events, once"
    );
    assert_eq!(
        streamed.iter().map(ImageEvent::kind).collect::<Vec<_>>(),
        [EventKind::Uploaded, EventKind::Rejected]
    );
    publisher.publish(&streamed).await.expect("publish");
    let delivered: Vec<String> = drain(&sqs, &queue, 2)
        .await
        .iter()
        .map(|b| from_rule(b).0)
        .collect();
    assert_eq!(
        delivered,
        committed
            .iter()
            .map(|e| e.id().to_string())
            .collect::<Vec<_>>()
    );
}
