//! The API's JSON: request bodies and query strings as clients send them, and the response bodies
//! the API promises (`openapi.yaml`).
//!
//! These types are the API's own. Requests are parsed into the domain's validated requests with the
//! domain's parsers (so every rule lives once, in the domain); responses are built from the domain's
//! records and results. The stored form of a record is each repository adapter's, and the record
//! itself has no JSON form: internal bookkeeping (owner, version, lease, attempts, stored keys) stays
//! out of the API.

use std::collections::BTreeMap;

use intake_domain::IntakeError;
use intake_domain::model::{
    BoundingBox, ContentType, Cursor, DocumentKind, FileName, ImageId, ImageMetadata, ImageRecord,
    ImageStatus, ObjectKey, OcrLine, OcrWord, SearchMatch, SearchText, Sha256Digest, Timestamp,
};
use intake_domain::ports::HttpMethod;
use intake_domain::services::{
    ImageDetails, ImagePage, ListRequest, ListedImage, UploadRequest, UploadTicket,
};
use serde::{Deserialize, Deserializer, Serialize, de};

use crate::fields::{FieldView, LineItemView};

/// The body of `POST /uploads`, as received. Only a JSON object is a body: serde would also build it
/// from an array of its fields in order (`["a.png","image/png",null,null]`), which no client means
/// and the contract does not allow.
#[derive(Debug)]
pub struct UploadBody {
    filename: String,
    content_type: String,
    size_bytes: Option<u64>,
    sha256: Option<String>,
}

/// The fields of [`UploadBody`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadFields {
    filename: String,
    content_type: String,
    #[serde(default, deserialize_with = "whole_number")]
    size_bytes: Option<u64>,
    #[serde(default)]
    sha256: Option<String>,
}

impl<'de> Deserialize<'de> for UploadBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Takes a map only, and reads the fields straight from it (no copy of the body).
        struct ObjectOnly;
        impl<'de> de::Visitor<'de> for ObjectOnly {
            type Value = UploadBody;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<UploadBody, A::Error> {
                let fields = UploadFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(UploadBody {
                    filename: fields.filename,
                    content_type: fields.content_type,
                    size_bytes: fields.size_bytes,
                    sha256: fields.sha256,
                })
            }
        }
        deserializer.deserialize_map(ObjectOnly)
    }
}

impl UploadBody {
    /// The validated request, with `accepted` the media types this deployment takes (named in the
    /// error for any other).
    ///
    /// # Errors
    /// [`IntakeError::InvalidFileName`], [`IntakeError::UnsupportedContentType`],
    /// [`IntakeError::InvalidSha256`].
    pub fn into_request(self, accepted: &[ContentType]) -> Result<UploadRequest, IntakeError> {
        let file_name = FileName::sanitize(&self.filename)?;
        let content_type = ContentType::parse(&self.content_type)
            .map_err(|e| IntakeError::from_content_type(&e, accepted))?;
        let mut request = UploadRequest::new(file_name, content_type);
        if let Some(size) = self.size_bytes {
            request = request.with_size(size);
        }
        if let Some(sha256) = self.sha256.as_deref() {
            request = request.with_sha256(Sha256Digest::parse(sha256)?);
        }
        Ok(request)
    }
}

/// The largest float that is a whole number of bytes exactly (2^53); above it a float may be a rounded
/// integer, so it is refused rather than guessed.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// Reads an optional size: `null`, an unsigned integer, or a float with an integral value up to 2^53
/// (`22.0`, as JSON Schema's `integer` allows); a fraction, a negative number, NaN and larger floats
/// are refused.
fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct WholeNumber;

    impl de::Visitor<'_> for WholeNumber {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole, non-negative number of bytes")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }

        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the value is checked to be a whole number in 0..=2^53 first"
        )]
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=MAX_EXACT_FLOAT).contains(&v) {
                Ok(Some(v as u64))
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

/// The query string of `GET /images`, as received: `field` may be repeated (every filter must
/// match), every other parameter appears at most once, and an unknown one is refused.
#[derive(Debug, Default)]
pub struct ListParams {
    limit: Option<u64>,
    cursor: Option<String>,
    status: Option<String>,
    sha256: Option<String>,
    q: Option<String>,
    fields: Vec<String>,
    document_type: Option<String>,
}

/// The parameters of `GET /images`.
const LIST_PARAMS: &[&str] = &[
    "limit",
    "cursor",
    "status",
    "sha256",
    "q",
    "field",
    "documentType",
];

impl<'de> Deserialize<'de> for ListParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Reads the parameters one by one, so that `field` may repeat.
        struct Params;
        impl<'de> de::Visitor<'de> for Params {
            type Value = ListParams;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("query parameters")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ListParams, A::Error> {
                fn once<T, E: de::Error>(
                    slot: &mut Option<T>,
                    name: &'static str,
                    value: T,
                ) -> Result<(), E> {
                    if slot.replace(value).is_some() {
                        return Err(E::duplicate_field(name));
                    }
                    Ok(())
                }
                let mut params = ListParams::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "limit" => once(&mut params.limit, "limit", map.next_value()?)?,
                        "cursor" => once(&mut params.cursor, "cursor", map.next_value()?)?,
                        "status" => once(&mut params.status, "status", map.next_value()?)?,
                        "sha256" => once(&mut params.sha256, "sha256", map.next_value()?)?,
                        "q" => once(&mut params.q, "q", map.next_value()?)?,
                        "documentType" => {
                            once(&mut params.document_type, "documentType", map.next_value()?)?;
                        }
                        "field" => params.fields.push(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, LIST_PARAMS)),
                    }
                }
                Ok(params)
            }
        }
        deserializer.deserialize_map(Params)
    }
}

impl ListParams {
    /// The validated listing request.
    ///
    /// # Errors
    /// [`IntakeError::InvalidStatus`], [`IntakeError::InvalidSha256`],
    /// [`IntakeError::InvalidCursor`], [`IntakeError::InvalidSearch`],
    /// [`IntakeError::InvalidDocumentType`] (field filters are read by the service, with the
    /// deployment's options).
    pub fn into_request(self) -> Result<ListRequest, IntakeError> {
        let mut request = ListRequest::default();
        if let Some(limit) = self.limit {
            request = request.with_limit(limit);
        }
        if let Some(status) = self.status.as_deref() {
            request = request.with_status(status.parse::<ImageStatus>()?);
        }
        if let Some(sha256) = self.sha256.as_deref() {
            request = request.with_sha256(Sha256Digest::parse(sha256)?);
        }
        if let Some(cursor) = self.cursor.as_deref() {
            request = request.with_cursor(Cursor::parse(cursor)?);
        }
        if let Some(q) = self.q.as_deref() {
            request = request.with_search(SearchText::parse(q)?);
        }
        for field in self.fields {
            request = request.with_field(field);
        }
        if let Some(kind) = self.document_type.as_deref() {
            request = request.with_document_kind(
                DocumentKind::parse(kind)
                    .ok_or_else(|| IntakeError::InvalidDocumentType(kind.to_owned()))?,
            );
        }
        Ok(request)
    }
}

/// The answer to `POST /uploads`: the seed's fields plus the headers the client must send.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicketView {
    upload_url: String,
    method: HttpMethod,
    bucket: String,
    object_key: ObjectKey,
    image_id: ImageId,
    expires_in_seconds: u64,
    expires_at: Timestamp,
    required_headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<ImageId>,
}

impl From<UploadTicket> for UploadTicketView {
    fn from(ticket: UploadTicket) -> Self {
        Self {
            upload_url: ticket.upload_url,
            method: ticket.method,
            bucket: ticket.bucket,
            object_key: ticket.object_key,
            image_id: ticket.image_id,
            expires_in_seconds: ticket.expires_in_seconds,
            expires_at: ticket.expires_at,
            required_headers: ticket.required_headers,
            duplicate_of: ticket.duplicate_of,
        }
    }
}

/// One image in full (`GET /images/{imageId}`): its metadata, OCR text (and lines when asked for),
/// and short-lived links to the image and its thumbnail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageView<'a> {
    #[serde(flatten)]
    metadata: ImageMetadata<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocr_lines: Option<Vec<LineView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    download_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    download_url_expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<&'a str>,
    /// The fields read (present once read; `documentType` and `fieldTypes` are in the metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<FieldView<'a>>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    line_items: Vec<LineItemView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields_extractor: Option<&'a str>,
}

impl<'a> ImageView<'a> {
    /// The view of a record alone: its metadata, without text or links (what an answer that
    /// changed the record's state, such as a reprocessing request, shows).
    pub fn of_record(record: &'a ImageRecord) -> Self {
        Self {
            metadata: ImageMetadata::of(record),
            ocr_text: None,
            ocr_lines: None,
            download_url: None,
            download_url_expires_at: None,
            thumbnail_url: None,
            fields: None,
            line_items: Vec::new(),
            fields_extractor: None,
        }
    }

    /// The view of `details`.
    pub fn of(details: &'a ImageDetails) -> Self {
        let record = &details.record;
        Self {
            metadata: ImageMetadata::of(record),
            ocr_text: record.ocr_text(),
            ocr_lines: record
                .ocr_lines()
                .map(|lines| lines.iter().map(LineView::of).collect()),
            download_url: details.download_url.as_deref(),
            download_url_expires_at: details.download_url_expires_at,
            thumbnail_url: details.thumbnail_url.as_deref(),
            fields: record
                .fields_extractor()
                .map(|_| record.fields().iter().map(FieldView::of).collect()),
            line_items: record.line_items().iter().map(LineItemView::of).collect(),
            fields_extractor: record.fields_extractor(),
        }
    }
}

/// One image of a page (`GET /images`): metadata only, a thumbnail link, and for a search where it
/// matched.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSummary<'a> {
    #[serde(flatten)]
    metadata: ImageMetadata<'a>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    search: Option<MatchView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<&'a str>,
}

impl<'a> ImageSummary<'a> {
    /// The view of `listed`.
    pub fn of(listed: &'a ListedImage) -> Self {
        Self {
            metadata: ImageMetadata::of(&listed.record),
            search: listed.search.as_ref().map(MatchView::of),
            thumbnail_url: listed.thumbnail_url.as_deref(),
        }
    }
}

/// A page of images.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagePageView<'a> {
    images: Vec<ImageSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
}

impl<'a> ImagePageView<'a> {
    /// The view of `page`.
    pub fn of(page: &'a ImagePage) -> Self {
        Self {
            images: page.images.iter().map(ImageSummary::of).collect(),
            next_cursor: page.next_cursor.as_ref().map(Cursor::as_str),
        }
    }
}

/// Where a search matched.
#[derive(Debug, Serialize)]
struct MatchView<'a> {
    snippet: Vec<SnippetView<'a>>,
    lines: &'a [u32],
    pages: &'a [u32],
}

#[derive(Debug, Serialize)]
struct SnippetView<'a> {
    text: &'a str,
    matched: bool,
}

impl<'a> MatchView<'a> {
    fn of(found: &'a SearchMatch) -> Self {
        Self {
            snippet: found
                .snippet
                .iter()
                .map(|part| SnippetView {
                    text: &part.text,
                    matched: part.matched,
                })
                .collect(),
            lines: &found.lines,
            pages: &found.pages,
        }
    }
}

/// An OCR line: its page, text, confidence, box (relative to its page) and words.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LineView<'a> {
    page: u32,
    text: &'a str,
    confidence: f32,
    bounding_box: BoxView,
    words: Vec<WordView<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WordView<'a> {
    text: &'a str,
    confidence: f32,
    bounding_box: BoxView,
}

/// A box relative to the image (`0..=1`), from its top-left corner.
#[derive(Debug, Serialize)]
pub(crate) struct BoxView {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

impl BoxView {
    pub(crate) fn of(b: &BoundingBox) -> Self {
        Self {
            left: b.left(),
            top: b.top(),
            width: b.width(),
            height: b.height(),
        }
    }
}

impl<'a> LineView<'a> {
    fn of(line: &'a OcrLine) -> Self {
        Self {
            page: line.page().get(),
            text: line.text(),
            confidence: line.confidence(),
            bounding_box: BoxView::of(line.bounding_box()),
            words: line.words().iter().map(WordView::of).collect(),
        }
    }
}

impl<'a> WordView<'a> {
    fn of(word: &'a OcrWord) -> Self {
        Self {
            text: word.text(),
            confidence: word.confidence(),
            bounding_box: BoxView::of(word.bounding_box()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::UploadBody;

    fn size_of(json: &str) -> Result<Option<u64>, String> {
        let body =
            format!(r#"{{"filename":"a.png","contentType":"image/png","sizeBytes":{json}}}"#);
        serde_json::from_str::<UploadBody>(&body)
            .map(|body| body.size_bytes)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sizes_are_whole_numbers_written_as_integers_or_floats() {
        assert_eq!(size_of("22"), Ok(Some(22)));
        assert_eq!(size_of("22.0"), Ok(Some(22)));
        assert_eq!(size_of("2.2e1"), Ok(Some(22)));
        assert_eq!(size_of("0.0"), Ok(Some(0)));
        assert_eq!(size_of("9007199254740992.0"), Ok(Some(1 << 53)));
        assert_eq!(size_of("18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(size_of("null"), Ok(None));
        let absent: UploadBody =
            serde_json::from_str(r#"{"filename":"a.png","contentType":"image/png"}"#).unwrap();
        assert_eq!(absent.size_bytes, None);
    }

    #[test]
    fn fractions_negatives_and_inexact_floats_are_refused() {
        for bad in [
            "22.5",
            "-1",
            "-1.0",
            "1e300",
            "9007199254740994.0",
            "\"22\"",
            "true",
        ] {
            let error = size_of(bad).unwrap_err();
            assert!(error.contains("invalid"), "{bad}: {error}");
        }
        assert!(
            size_of("22.5")
                .unwrap_err()
                .contains("a whole, non-negative number of bytes")
        );
    }
}
