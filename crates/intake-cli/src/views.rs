//! The API's answers as the CLI reads them, typed after `openapi.yaml` (and, for `/keys`, after
//! `intake-http`'s own body), and the bodies it sends.
//!
//! Every field is optional when read, so an answer from an older or newer API still reads, and
//! fields this CLI does not know are kept as they came (`unread`): `--json` prints an answer
//! whole, as the API gave it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fields of an answer this CLI does not know (a newer API's), kept only to be printed again.
pub(crate) type Unread = BTreeMap<String, serde_json::Value>;

/// `POST /uploads` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadBody {
    pub(crate) filename: String,
    pub(crate) content_type: String,
    pub(crate) size_bytes: u64,
    pub(crate) sha256: String,
}

/// `POST /uploads` answer (the fields the client uses).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Ticket {
    pub(crate) upload_url: String,
    pub(crate) image_id: String,
    #[serde(default)]
    pub(crate) required_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) duplicate_of: Option<String>,
}

/// An image as any answer shows it: the fields of its metadata (`ImageMetadata`) and of what
/// `GET /images/{id}` (`ImageDetails`) or a page of `GET /images` (`ListedImage`) adds to it that the
/// CLI reads; the others are kept in `unread` and printed again with `--json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) width_px: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) height_px: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) processed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ocr_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ocr_avg_confidence_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ocr_engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rejection_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rejection_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duplicate_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ocr_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ocr_lines: Option<Vec<OcrLine>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) download_url: Option<String>,
    /// Where a search matched (`GET /images?q=`).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub(crate) search: Option<SearchMatch>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// One OCR line (`include=ocrLines`), with its words.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OcrLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bounding_box: Option<BoundingBox>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) words: Option<Vec<OcrWord>>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// One OCR word.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OcrWord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bounding_box: Option<BoundingBox>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// A box relative to the image (`0..=1`), from its top-left corner.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct BoundingBox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) left: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) top: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<f64>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// Where a search matched an image: a snippet in parts, and the OCR lines that matched.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct SearchMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) snippet: Option<Vec<SnippetPart>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lines: Option<Vec<u64>>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// A part of a search snippet: matched words are the parts with `matched: true`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct SnippetPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) matched: Option<bool>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `GET /images` answer: a page of images, newest first (best first for a search).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImagePage {
    #[serde(default)]
    pub(crate) images: Vec<ImageView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `POST /images/{imageId}/reprocess` body.
#[derive(Debug, Serialize)]
pub(crate) struct ReprocessBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) engine: Option<&'a str>,
}

/// An API key as `/keys` shows it (its hash never; the key itself only in the answer to its
/// creation).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_key: Option<String>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `GET /keys` answer.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct KeyList {
    #[serde(default)]
    pub(crate) keys: Vec<KeyView>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `POST /keys` body.
#[derive(Debug, Serialize)]
pub(crate) struct NewKey<'a> {
    pub(crate) owner: &'a str,
    pub(crate) name: &'a str,
    pub(crate) admin: bool,
}

/// A webhook subscription (`Webhook`): its secret only in the answer to its creation.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) webhook_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) events: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) disabled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) consecutive_failures: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<String>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `GET /webhooks` answer.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct WebhookList {
    #[serde(default)]
    pub(crate) webhooks: Vec<WebhookView>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `POST /webhooks` body (`NewWebhook`).
#[derive(Debug, Serialize)]
pub(crate) struct NewWebhook<'a> {
    pub(crate) url: &'a str,
    pub(crate) events: &'a [String],
    pub(crate) description: Option<&'a str>,
}

/// One delivery of a subscription's log (`Delivery`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeliveryView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attempts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_status: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_error: Option<String>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `GET /webhooks/{webhookId}/deliveries` answer.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct DeliveryList {
    #[serde(default)]
    pub(crate) deliveries: Vec<DeliveryView>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// A job the queue gave up on (`DeadJob`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeadJobView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) object_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attempts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) buried_at: Option<String>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// The queue's counts of jobs by state.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct QueueCounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) waiting: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) leased: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dead: Option<u64>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// `GET /jobs?state=dead` answer.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct DeadJobs {
    #[serde(default)]
    pub(crate) jobs: Vec<DeadJobView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stats: Option<QueueCounts>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

/// A body with no fields (`{}`), for requests that need one.
#[derive(Debug, Serialize)]
pub(crate) struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_prints_again_as_it_came() {
        let answer = r#"{"images":[{"imageId":"019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6071","status":"PROCESSED","sizeBytes":1234,"ocrAvgConfidencePct":91.92,"ocrTruncated":false,"history":[{"status":"FAILED","replacedAt":"2026-01-01T00:00:00Z","futureField":[1,2]}],"match":{"snippet":[{"text":"PAY ","matched":false},{"text":"JANE","matched":true}],"lines":[0]},"aNewerField":{"x":1}}],"nextCursor":"abc","alsoNew":true}"#;
        let page: ImagePage = serde_json::from_str(answer).expect("reads");
        let image = page.images.first().expect("an image");
        assert_eq!(image.status.as_deref(), Some("PROCESSED"));
        assert_eq!(image.size_bytes, Some(1234));
        let printed = serde_json::to_value(&page).expect("prints");
        let given: serde_json::Value = serde_json::from_str(answer).expect("json");
        assert_eq!(printed, given, "every field, known or not, printed again");
    }

    #[test]
    fn missing_fields_read_as_absent() {
        let key: KeyView = serde_json::from_str(r#"{"keyId":"0123456789abcdef"}"#).expect("reads");
        assert_eq!(key.owner, None);
        assert_eq!(key.admin, None);
        let jobs: DeadJobs = serde_json::from_str("{}").expect("reads");
        assert!(jobs.jobs.is_empty() && jobs.stats.is_none());
    }
}
