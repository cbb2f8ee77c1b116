//! The stored form of a record in DynamoDB: the record's stored document (the domain's
//! [`RecordParts`] JSON) in the item's `record` attribute (the source of truth when reading), its text
//! cut to what an item keeps, and the OCR detail in a sidecar object.
//!
//! The domain versions the document; documents of every version read.

use aws_sdk_dynamodb::types::AttributeValue;
use intake_domain::model::{
    EventId, EventKind, ImageEvent, ImageId, ImageRecord, OcrLine, Owner, RecordParts, Timestamp,
};
use intake_domain::ports::RepoError;
use serde::{Deserialize, Serialize};

use super::other;

/// The `record` attribute: the stored document without its OCR lines, its text cut to what the item
/// keeps.
pub(super) struct StoredRecord(RecordParts);

/// The OCR detail kept outside the item, in the bucket.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Sidecar {
    pub(super) ocr_text: Option<String>,
    pub(super) ocr_lines: Vec<OcrLine>,
}

impl StoredRecord {
    /// The stored form of `record`, and its OCR detail for a sidecar when it has lines.
    pub(super) fn of(record: ImageRecord) -> (Self, Option<Sidecar>) {
        let mut parts = record.into_parts();
        let sidecar = parts.ocr_lines.take().map(|ocr_lines| Sidecar {
            ocr_text: parts.ocr_text.clone(),
            ocr_lines,
        });
        (Self(parts), sidecar)
    }

    /// The OCR text the item keeps, cut to at most `max` bytes on a character boundary.
    pub(super) fn cut_text(&mut self, max: usize) {
        if let Some(text) = self.0.ocr_text.as_mut() {
            let kept = super::cut(text, max).len();
            text.truncate(kept);
        }
    }

    /// The OCR text this stored form keeps (cut by [`Self::cut_text`]).
    pub(super) fn ocr_text(&self) -> Option<&str> {
        self.0.ocr_text.as_deref()
    }

    /// The `record` attribute's text.
    ///
    /// # Errors
    /// [`RepoError::Failed`] when the document cannot be written.
    pub(super) fn to_json(&self) -> Result<String, RepoError> {
        self.0.to_document().map_err(other)
    }

    /// The stored form a `record` attribute's text holds.
    ///
    /// # Errors
    /// [`RepoError::Failed`] when the text is damaged or of a later schema.
    pub(super) fn from_json(json: &str) -> Result<Self, RepoError> {
        RecordParts::from_document(json).map(Self).map_err(other)
    }

    /// The record this stored form and its sidecar (when read) make.
    ///
    /// # Errors
    /// [`RepoError::Failed`] when the state is inconsistent.
    pub(super) fn into_record(self, sidecar: Option<Sidecar>) -> Result<ImageRecord, RepoError> {
        let mut parts = self.0;
        // Lines live in the sidecar only; a document never carries them inline.
        parts.ocr_lines = None;
        if let Some(sidecar) = sidecar {
            parts.ocr_text = sidecar.ocr_text;
            parts.ocr_lines = Some(sidecar.ocr_lines);
        }
        ImageRecord::from_parts(parts).map_err(other)
    }
}

/// One event in the item's `events` attribute (a JSON array in one string attribute, so that the
/// stream's new image carries it as one value whatever reads it).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvent {
    id: EventId,
    #[serde(rename = "type")]
    kind: EventKind,
    time: Timestamp,
    owner: Owner,
    image_id: ImageId,
    body: String,
}

/// The `events` attribute of a write that reports `events`.
pub(super) fn events_attribute(events: &[ImageEvent]) -> AttributeValue {
    let stored: Vec<StoredEvent> = events
        .iter()
        .map(|event| StoredEvent {
            id: event.id(),
            kind: event.kind(),
            time: event.time(),
            owner: event.owner().clone(),
            image_id: event.image_id(),
            body: event.body().to_owned(),
        })
        .collect();
    // Plain strings and numbers: serializing cannot fail.
    AttributeValue::S(serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned()))
}

/// The events a write reported, from its item's `events` attribute's text (as the table stream's new
/// image holds it); none when the text is empty.
///
/// # Errors
/// [`RepoError::Failed`] when the text is not a list of events.
pub fn events_from_text(text: &str) -> Result<Vec<ImageEvent>, RepoError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let stored: Vec<StoredEvent> = serde_json::from_str(text).map_err(other)?;
    stored
        .into_iter()
        .map(|e| {
            ImageEvent::from_stored(e.id, e.kind, e.time, e.owner, e.image_id, e.body)
                .map_err(other)
        })
        .collect()
}
