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

/// A view of an answer: every field optional when read and left out when absent, so an older or newer
/// API's answer still reads, and the fields this CLI does not know kept in `unread`, to be printed
/// again as they came.
macro_rules! view {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub(crate) $field: Option<$ty>,
            )*
            /// The fields this CLI does not know.
            #[serde(flatten)]
            pub(crate) unread: Unread,
        }
    };
}

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

view! {
    /// An image as any answer shows it: the fields of its metadata (`ImageMetadata`) and of what
    /// `GET /images/{id}` (`ImageDetails`) or a page of `GET /images` (`ListedImage`) adds to it that the
    /// CLI reads; the others are kept in `unread` and printed again with `--json`.
    ImageView {
        image_id: String,
        status: String,
        file_name: String,
        created_at: String,
        sha256: String,
        size_bytes: u64,
        content_type: String,
        width_px: u64,
        height_px: u64,
        processed_at: String,
        ocr_status: String,
        ocr_avg_confidence_pct: f64,
        ocr_engine: String,
        rejection_code: String,
        rejection_message: String,
        failure_code: String,
        failure_message: String,
        duplicate_of: String,
        near_duplicates: Vec<NearDuplicate>,
        ocr_text: String,
        ocr_lines: Vec<OcrLine>,
        pages: Vec<PageSummary>,
        download_url: String,
        /// What kind of document it is, when fields were read (issue 28).
        document_type: DocumentTypeView,
        /// The fields read from it.
        fields: Vec<FieldView>,
        /// The item rows of a receipt or an invoice.
        line_items: Vec<LineItemView>,
        /// Where a search matched (`GET /images?q=`).
        #[serde(rename = "match")]
        search: SearchMatch,
    }
}

view! {
    /// Another image that looks like the same document, and why (`nearDuplicates`, `similar`).
    NearDuplicate {
        image_id: String,
        basis: String,
        similarity: f64,
        matched_tokens: Vec<String>,
    }
}

view! {
    /// `GET /images/{id}/similar`.
    SimilarView {
        image_id: String,
        similar: Vec<NearDuplicate>,
    }
}

view! {
    /// A document's kind (`receipt`, `invoice`, `cheque`, `form`, `other`) and how sure the
    /// extractor is of it (`0..=1`).
    DocumentTypeView {
        #[serde(rename = "type")]
        kind: String,
        confidence: f64,
    }
}

view! {
    /// One field read from a document (the domain's `Field`): its type (`TOTAL`), printed label,
    /// value as read and normalised, currency, confidence (`0..=1`), page and box, and warnings.
    FieldView {
        #[serde(rename = "type")]
        field_type: String,
        label: String,
        value: String,
        normalized: String,
        currency: String,
        confidence: f64,
        page: u64,
        #[serde(rename = "box")]
        bounding_box: BoundingBox,
        warnings: Vec<FieldWarningView>,
    }
}

view! {
    /// Why a field's value is in doubt: its `code` (`WORDS_DISAGREE`, `PARTS_DISAGREE`, ...) and
    /// the values it names, kept as they came (`unread`).
    FieldWarningView {
        code: String,
    }
}

view! {
    /// One item row of a receipt or an invoice: its cells as fields.
    LineItemView {
        fields: Vec<FieldView>,
    }
}

view! {
    /// `GET /images/{imageId}/fields`: what was read from an image, with its pages' sizes.
    FieldsView {
        image_id: String,
        document_type: DocumentTypeView,
        extractor: String,
        fields: Vec<FieldView>,
        line_items: Vec<LineItemView>,
        read: bool,
    }
}

view! {
    /// One OCR line (`include=ocrLines`), with its words.
    OcrLine {
        text: String,
        confidence: f64,
        bounding_box: BoundingBox,
        words: Vec<OcrWord>,
    }
}

view! {
    /// One page of a processed image: where its text came from and how many lines it has.
    PageSummary {
        page: u64,
        source: String,
        line_count: u64,
    }
}

view! {
    /// One OCR word.
    OcrWord {
        text: String,
        confidence: f64,
        bounding_box: BoundingBox,
    }
}

view! {
    /// A box relative to the image (`0..=1`), from its top-left corner.
    BoundingBox {
        left: f64,
        top: f64,
        width: f64,
        height: f64,
    }
}

view! {
    /// Where a search matched an image: a snippet in parts, and the OCR lines that matched.
    SearchMatch {
        snippet: Vec<SnippetPart>,
        lines: Vec<u64>,
    }
}

view! {
    /// A part of a search snippet: matched words are the parts with `matched: true`.
    SnippetPart {
        text: String,
        matched: bool,
    }
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

view! {
    /// An API key as `/keys` shows it (its hash never; the key itself only in the answer to its
    /// creation).
    KeyView {
        key_id: String,
        owner: String,
        name: String,
        admin: bool,
        created_at: String,
        revoked_at: String,
        api_key: String,
    }
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

view! {
    /// A webhook subscription (`Webhook`): its secret only in the answer to its creation.
    WebhookView {
        webhook_id: String,
        url: String,
        events: Vec<String>,
        description: String,
        created_at: String,
        enabled: bool,
        disabled_at: String,
        disabled_reason: String,
        consecutive_failures: u64,
        secret: String,
    }
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

view! {
    /// One delivery of a subscription's log (`Delivery`).
    DeliveryView {
        event_id: String,
        event_type: String,
        created_at: String,
        state: String,
        attempts: u64,
        next_attempt_at: String,
        last_attempt_at: String,
        last_status: u64,
        last_error: String,
    }
}

/// `GET /webhooks/{webhookId}/deliveries` answer.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct DeliveryList {
    #[serde(default)]
    pub(crate) deliveries: Vec<DeliveryView>,
    #[serde(flatten)]
    pub(crate) unread: Unread,
}

view! {
    /// A job the queue gave up on (`DeadJob`).
    DeadJobView {
        image_id: String,
        object_key: String,
        attempts: u64,
        reason: String,
        buried_at: String,
    }
}

view! {
    /// The queue's counts of jobs by state.
    QueueCounts {
        waiting: u64,
        leased: u64,
        dead: u64,
    }
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
