//! The functions' metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on
//! standard output, which CloudWatch Logs turns into metrics of the `Intake` namespace without an API
//! call. The same figures as the local server's `GET /metrics`, under CloudWatch's names:
//! `HttpRequests` and `HttpLatency` (API; by route, method and status class), `Processed` (processor;
//! by status and code), `NearDuplicates` (processor; images flagged, by the basis of the closest),
//! `DocumentsRead` (processor; images whose fields were read, by document type and extractor),
//! `FieldExtractorFailures` (processor; readings of fields that failed), `OcrDuration` and
//! `QueueWait` (processor; by engine). Queue depth and dead
//! letters are SQS's own metrics (`ApproximateNumberOfMessagesVisible`, `ApproximateAgeOfOldestMessage`),
//! with the template's alarms.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use intake_domain::model::Timestamp;
use intake_domain::services::{OcrObserver, ProcessOutcome};
use serde_json::{Map, Value, json};

/// The metrics' namespace.
pub const NAMESPACE: &str = "Intake";

/// A metric's unit, as CloudWatch names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// A count.
    Count,
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Seconds => "Seconds",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF document at `time`: `values` measured under `dimensions` (one dimension set).
pub fn document(
    time: Timestamp,
    dimensions: &[(&str, &str)],
    values: &[(&str, f64, Unit)],
) -> String {
    let mut root = Map::new();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": time.unix_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": values
                    .iter()
                    .map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in dimensions {
        root.insert((*name).to_owned(), Value::from(*value));
    }
    for (name, value, _) in values {
        root.insert((*name).to_owned(), Value::from(*value));
    }
    Value::Object(root).to_string()
}

/// Writes a document as one line of standard output (where Lambda's log capture takes it).
pub fn emit(document: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{document}");
}

/// The processor's OCR observer: an `OcrDuration` line per read, by engine.
pub fn ocr_observer() -> OcrObserver {
    Arc::new(|engine: &str, took: Duration| {
        emit(&document(
            Timestamp::now_utc(),
            &[("Engine", engine)],
            &[("OcrDuration", took.as_secs_f64(), Unit::Seconds)],
        ));
    })
}

/// A `QueueWait` line: how long a queued notification waited between being sent and being taken.
pub fn queue_wait(engine: &str, sent: Timestamp, now: Timestamp) {
    emit(&document(
        now,
        &[("Engine", engine)],
        &[(
            "QueueWait",
            now.duration_since(sent).as_secs_f64(),
            Unit::Seconds,
        )],
    ));
}

/// A `Processed` line for a run that ended (processed, rejected or failed), by status and code.
pub fn processed(outcome: &ProcessOutcome) {
    let (ProcessOutcome::Processed(record)
    | ProcessOutcome::Rejected(record)
    | ProcessOutcome::Failed(record)) = outcome
    else {
        return;
    };
    // CloudWatch drops a metric whose dimension value is empty.
    let code = record.outcome_code().unwrap_or_else(|| "NONE".to_owned());
    emit(&document(
        Timestamp::now_utc(),
        &[("Status", record.status().as_str()), ("Code", &code)],
        &[("Processed", 1.0, Unit::Count)],
    ));
    if record
        .near_duplicates()
        .is_some_and(|found| !found.is_empty())
    {
        emit(&document(
            Timestamp::now_utc(),
            &[("Basis", basis_of(record))],
            &[("NearDuplicates", 1.0, Unit::Count)],
        ));
    }
}

/// A `DocumentsRead` line for a processed record whose fields were read in this run (a copy of a
/// duplicate takes its original's), by document type and extractor.
pub fn documents_read(outcome: &ProcessOutcome) {
    let ProcessOutcome::Processed(record) = outcome else {
        return;
    };
    if let (Some(kind), Some(extractor), None) = (
        record.document_type(),
        record.fields_extractor(),
        record.duplicate_of(),
    ) {
        emit(&document(
            Timestamp::now_utc(),
            &[("DocumentType", kind.kind.name()), ("Extractor", extractor)],
            &[("DocumentsRead", 1.0, Unit::Count)],
        ));
    }
}

/// The field extractor's failures reported so far by this instance.
static FIELD_FAILURES_REPORTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A `FieldExtractorFailures` line for the failures `intake` counted since the last one reported
/// (none when there were none).
pub fn field_failures(intake: &intake_domain::Intake) {
    let now = intake.field_extractor_failures();
    let before = FIELD_FAILURES_REPORTED.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
    if now > before {
        #[allow(clippy::cast_precision_loss, reason = "a count of failures")]
        let new = (now - before) as f64;
        emit(&document(
            Timestamp::now_utc(),
            &[],
            &[("FieldExtractorFailures", new, Unit::Count)],
        ));
    }
}

/// The basis of a flagged record's most alike near-duplicate (`image`, `text`, `image+text`).
fn basis_of(record: &intake_domain::model::ImageRecord) -> &'static str {
    record
        .near_duplicates()
        .and_then(|found| found.first())
        .map_or("none", |first| first.basis.name())
}

/// Counts and times every request a route answered: an `HttpRequests` and `HttpLatency` line by
/// route template, method and status class (a router layer: unmatched paths are not routes).
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    emit(&document(
        Timestamp::now_utc(),
        &[
            ("Route", &route),
            ("Method", &method),
            ("StatusClass", &class),
        ],
        &[
            ("HttpRequests", 1.0, Unit::Count),
            (
                "HttpLatency",
                started.elapsed().as_secs_f64() * 1000.0,
                Unit::Milliseconds,
            ),
        ],
    ));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let time = Timestamp::from_unix_millis(1_767_225_600_000).unwrap();
        let doc: Value = serde_json::from_str(&document(
            time,
            &[("Engine", "ppocr-v6-tiny")],
            &[("OcrDuration", 0.25, Unit::Seconds)],
        ))
        .unwrap();
        assert_eq!(doc["_aws"]["Timestamp"], 1_767_225_600_000_i64);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Intake");
        assert_eq!(directive["Dimensions"], json!([["Engine"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "OcrDuration", "Unit": "Seconds"}])
        );
        // Every dimension and metric named in the directive is a member of the root.
        assert_eq!(doc["Engine"], "ppocr-v6-tiny");
        assert_eq!(doc["OcrDuration"], 0.25);
    }
}
