//! Decoding the events the processor receives: S3 notifications, directly or inside SQS messages.
//!
//! Only what processing needs is required (the bucket name, the key, the event name): emulators send
//! notifications without `userIdentity`, `requestParameters` or `responseElements`, which
//! `aws_lambda_events::s3::S3Event` requires, so the shapes are read leniently here. Keys arrive
//! form-encoded (`+` or `%20` for a space, `%XX` for other bytes) and are decoded as UTF-8.

use intake_domain::model::{ObjectKey, UPLOAD_PREFIX};
use intake_domain::services::ObjectCreated;
use serde::Deserialize;
use serde_json::Value;

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The payload is not an S3 or SQS event.
    #[error("not an S3 or SQS event: {0}")]
    Shape(String),
    /// A key is not valid form-encoded UTF-8.
    #[error("undecodable object key {0:?}")]
    Key(String),
}

/// What one S3 record asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// An object was created under the upload prefix: process it.
    Created(ObjectCreated),
    /// Nothing to do, and why (logged).
    Skip(String),
}

/// One SQS message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuedMessage {
    /// The message id, reported back when the message must be retried.
    pub message_id: String,
    /// The queue's ARN and the receipt handle of this delivery, with which the message's next
    /// delivery can be put off (absent from some emulators' events).
    pub handle: Option<(String, String)>,
    /// How many times the message has been delivered, this time included (1 when not reported).
    pub receive_count: u32,
    /// When the message was sent (for the queue-wait metric), when reported.
    pub sent_at: Option<intake_domain::model::Timestamp>,
    /// The notices in its body, or why the body could not be read.
    pub notices: Result<Vec<Notice>, EventError>,
}

/// A Lambda payload, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// S3 invoked the function directly.
    Direct(Vec<Notice>),
    /// An SQS batch of S3 notifications.
    Queue(Vec<QueuedMessage>),
    /// An EventBridge schedule's tick (the retention sweep).
    Scheduled,
    /// A batch of the records table's stream: the events its writes committed, in commit order.
    Stream(Vec<intake_domain::model::ImageEvent>),
}

#[derive(Deserialize)]
struct Records {
    #[serde(rename = "Records", default)]
    records: Vec<Value>,
    #[serde(rename = "Event", default)]
    event: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    message_id: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    receipt_handle: Option<String>,
    #[serde(default, rename = "eventSourceARN")]
    event_source_arn: Option<String>,
    #[serde(default)]
    attributes: SqsAttributes,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SqsAttributes {
    #[serde(default)]
    approximate_receive_count: Option<String>,
    /// When the message was sent, in milliseconds since the epoch.
    #[serde(default)]
    sent_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    #[serde(default)]
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    #[serde(default)]
    size: Option<i64>,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
}

/// Decodes a form-encoded S3 event key: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
///
/// # Errors
/// [`EventError::Key`] for a truncated or invalid escape, or bytes that are not UTF-8.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let refused = || EventError::Key(raw.to_owned());
    let escapes_well_formed = raw.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_well_formed {
        return Err(refused());
    }
    // `+` is a space in form encoding; a literal `+` arrives as `%2B`, decoded after.
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| refused())
}

fn notices(records: Vec<Value>) -> Result<Vec<Notice>, EventError> {
    records
        .into_iter()
        .map(|value| {
            let record: S3Record =
                serde_json::from_value(value).map_err(|e| EventError::Shape(e.to_string()))?;
            let name = record.event_name.unwrap_or_default();
            if !name.starts_with("ObjectCreated:") {
                return Ok(Notice::Skip(format!(
                    "{name:?} is not an ObjectCreated event"
                )));
            }
            let key = decode_key(&record.s3.object.key)?;
            if !key.starts_with(UPLOAD_PREFIX) {
                return Ok(Notice::Skip(format!(
                    "{key:?} is outside the {UPLOAD_PREFIX} prefix"
                )));
            }
            let key = match ObjectKey::parse(&key) {
                Ok(key) => key,
                Err(error) => {
                    return Ok(Notice::Skip(format!(
                        "{key:?} is not a key Intake issues: {error}"
                    )));
                }
            };
            let mut created = ObjectCreated::new(record.s3.bucket.name, key);
            if let Some(size) = record.s3.object.size.and_then(|s| u64::try_from(s).ok()) {
                created = created.with_size(size);
            }
            if let Some(etag) = record.s3.object.e_tag {
                created = created.with_etag(etag);
            }
            if let Some(sequencer) = record.s3.object.sequencer {
                created = created.with_sequencer(sequencer);
            }
            Ok(Notice::Created(created))
        })
        .collect()
}

/// The notices of an S3 notification document (`{"Records":[...]}`, or S3's `s3:TestEvent`).
fn s3_document(value: Value) -> Result<Vec<Notice>, EventError> {
    let document: Records =
        serde_json::from_value(value).map_err(|e| EventError::Shape(e.to_string()))?;
    if let Some(event) = document.event {
        return Ok(vec![Notice::Skip(format!("{event} message"))]);
    }
    if document.records.is_empty() {
        return Err(EventError::Shape(
            "the message is not an S3 notification".to_owned(),
        ));
    }
    notices(document.records)
}

/// The events of a stream batch: each inserted or modified item's `events` attribute (the events its
/// write committed), in the batch's order; removed items (expired tickets) have none.
///
/// # Errors
/// [`EventError::Shape`] for a record whose `events` cannot be read (the batch is retried, then set
/// aside by the event source's failure destination).
fn stream_events(records: &[Value]) -> Result<Vec<intake_domain::model::ImageEvent>, EventError> {
    let mut events = Vec::new();
    for record in records {
        let name = record.get("eventName").and_then(Value::as_str);
        if !matches!(name, Some("INSERT" | "MODIFY")) {
            continue;
        }
        let text = record
            .get("dynamodb")
            .and_then(|d| d.get("NewImage"))
            .and_then(|image| image.get(intake_aws::TableSchema::EVENTS_ATTRIBUTE))
            .and_then(|attribute| attribute.get("S"))
            .and_then(Value::as_str);
        if let Some(text) = text {
            events.extend(
                intake_aws::events_from_text(text)
                    .map_err(|e| EventError::Shape(format!("unreadable events: {e}")))?,
            );
        }
    }
    Ok(events)
}

/// Decodes a Lambda payload.
///
/// # Errors
/// [`EventError::Shape`] when the payload is neither an S3 notification nor an SQS batch. Inside an
/// SQS batch, an unreadable message is reported on that message alone.
pub fn parse(payload: Value) -> Result<Delivery, EventError> {
    if payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
    {
        return Ok(Delivery::Scheduled);
    }
    let document: Records =
        serde_json::from_value(payload).map_err(|e| EventError::Shape(e.to_string()))?;
    if let Some(event) = document.event {
        return Ok(Delivery::Direct(vec![Notice::Skip(format!(
            "{event} message"
        ))]));
    }
    let source = document
        .records
        .first()
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str);
    if source == Some("aws:dynamodb") {
        return stream_events(&document.records).map(Delivery::Stream);
    }
    let from_sqs = source == Some("aws:sqs");
    if !from_sqs {
        return notices(document.records).map(Delivery::Direct);
    }
    let messages = document
        .records
        .into_iter()
        .map(|value| {
            let record: SqsRecord =
                serde_json::from_value(value).map_err(|e| EventError::Shape(e.to_string()))?;
            let notices = serde_json::from_str::<Value>(&record.body)
                .map_err(|e| EventError::Shape(format!("message body is not JSON: {e}")))
                .and_then(s3_document);
            let receive_count = record
                .attributes
                .approximate_receive_count
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let sent_at = record
                .attributes
                .sent_timestamp
                .and_then(|ms| ms.parse().ok())
                .and_then(|ms| intake_domain::model::Timestamp::from_unix_millis(ms).ok());
            Ok(QueuedMessage {
                message_id: record.message_id,
                handle: record.event_source_arn.zip(record.receipt_handle),
                receive_count,
                sent_at,
                notices,
            })
        })
        .collect::<Result<Vec<_>, EventError>>()?;
    Ok(Delivery::Queue(messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_form_encoding_and_utf8() {
        assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_key("Happy+Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_key("a%2Bb%23c%26d.png").unwrap(), "a+b#c&d.png");
        assert_eq!(
            decode_key("ch%C3%A8que+%F0%9F%98%80.png").unwrap(),
            "chèque 😀.png"
        );
        assert_eq!(
            decode_key("uploads%2Fid%2Fx.png").unwrap(),
            "uploads/id/x.png"
        );
        for bad in ["%", "%4", "%zz", "%FF%FE"] {
            assert!(decode_key(bad).is_err(), "{bad}");
        }
    }

    /// What the API sends to ask for an image to be processed again reads as its notification,
    /// whatever its key holds.
    #[test]
    fn reprocessing_requests_read_as_notifications() {
        use intake_domain::model::{FileName, ImageId, Timestamp};
        let id = ImageId::generate(Timestamp::from_unix_millis(1_767_225_600_000).unwrap());
        for name in ["cheque.png", "a b+c%d#e.png", "chèque 😀.png"] {
            let key = ObjectKey::for_upload(id, &FileName::sanitize(name).unwrap());
            let body = intake_aws::processing_message("images", &key);
            let payload = serde_json::json!({"Records": [{
                "eventSource": "aws:sqs",
                "messageId": "m-1",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
            }]});
            let Ok(Delivery::Queue(messages)) = parse(payload) else {
                panic!("not read as a queue batch")
            };
            assert_eq!(
                messages[0].sent_at,
                Some(Timestamp::from_unix_millis(1_767_225_600_000).unwrap()),
                "when it was sent, for the queue-wait metric"
            );
            let notices = messages[0].notices.clone().unwrap();
            assert_eq!(
                notices,
                vec![Notice::Created(ObjectCreated::new("images", key.clone()))],
                "{name}"
            );
        }
    }

    #[test]
    fn stream_batches_carry_each_write_s_events_in_order() {
        use intake_domain::model::{EventKind, ImageEvent};
        use intake_domain::testkit::{LEASE, epoch, id_at, record};
        let first = record(id_at(1, 1));
        let claimed = first.claim(epoch(), LEASE).unwrap();
        let measured = intake_domain::model::Measurements {
            size_bytes: Some(9),
            ..Default::default()
        };
        let done = claimed
            .reject(
                epoch(),
                &measured,
                intake_domain::model::RejectionCode::Corrupt,
                "x",
            )
            .unwrap();
        let events = ImageEvent::changes(&claimed, &done, intake_http::EVENT_LINKS);
        let stored: Vec<Value> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id(), "type": e.kind(), "time": e.time(), "owner": e.owner(),
                    "imageId": e.image_id(), "body": e.body()
                })
            })
            .collect();
        let item = |name: &str, with_events: bool| {
            let mut image = serde_json::json!({"imageId": {"S": done.image_id().to_string()}});
            if with_events {
                image["events"] =
                    serde_json::json!({"S": Value::Array(stored.clone()).to_string()});
            }
            serde_json::json!({
                "eventID": "1", "eventName": name, "eventSource": "aws:dynamodb",
                "dynamodb": {"NewImage": image, "StreamViewType": "NEW_IMAGE"}
            })
        };
        let batch = serde_json::json!({"Records": [
            item("INSERT", false), item("MODIFY", true), item("REMOVE", true)
        ]});
        let Ok(Delivery::Stream(got)) = parse(batch) else {
            panic!("not read as a stream batch")
        };
        assert_eq!(
            got, events,
            "the write's events, once, in order; a removal has none"
        );
        assert_eq!(
            got.iter().map(ImageEvent::kind).collect::<Vec<_>>(),
            [EventKind::Uploaded, EventKind::Rejected]
        );
        let broken = serde_json::json!({"Records": [{
            "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"NewImage": {"events": {"S": "not json"}}}
        }]});
        assert!(parse(broken).is_err());
    }

    #[test]
    fn schedule_ticks_are_recognised() {
        let tick = serde_json::json!({
            "version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "1", "time": "2026-12-02T12:00:00Z", "region": "eu-west-1",
            "resources": [], "detail": {}
        });
        assert_eq!(parse(tick).unwrap(), Delivery::Scheduled);
    }

    use std::fmt::Write as _;

    /// Form-encodes `key` as S3 does in event notifications, choosing per space between `+` and
    /// `%20` and per escape between upper- and lower-case hex, as different producers do.
    fn encode(key: &str, plus: &[bool], upper: &[bool]) -> String {
        let mut out = String::new();
        for (i, b) in key.bytes().enumerate() {
            let pick = |choices: &[bool]| {
                choices
                    .get(i % choices.len().max(1))
                    .copied()
                    .unwrap_or(true)
            };
            match b {
                b' ' if pick(plus) => out.push('+'),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    out.push(char::from(b));
                }
                _ if pick(upper) => {
                    let _ = write!(out, "%{b:02X}");
                }
                _ => {
                    let _ = write!(out, "%{b:02x}");
                }
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn any_key_round_trips_through_any_form_encoding(
            key in "\\PC{0,60}",
            plus in proptest::collection::vec(proptest::bool::ANY, 1..8),
            upper in proptest::collection::vec(proptest::bool::ANY, 1..8),
        ) {
            let encoded = encode(&key, &plus, &upper);
            proptest::prop_assert_eq!(decode_key(&encoded).unwrap(), key);
        }

        #[test]
        fn decoding_never_panics(raw in "[%+a-zA-Z0-9\\PC]{0,40}") {
            if let Ok(decoded) = decode_key(&raw) {
                // What decodes is what an encoder would have produced from it.
                proptest::prop_assert_eq!(decode_key(&encode(&decoded, &[true], &[true])).unwrap(), decoded);
            }
        }
    }
}
