//! Domain events: what happened to an image, in one stable, versioned vocabulary that every transport
//! carries unchanged (signed webhooks on the local server, Amazon EventBridge on AWS).
//!
//! An event is decided by the change it reports ([`ImageEvent::changes`]) and written in the same
//! commit as that change (the repositories' outbox), so no event exists for a change that was not
//! committed and no committed change lacks its event. Delivery is at least once: a subscriber may see
//! an event again, always with the same id.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use uuid::Uuid;

use super::{ImageId, ImageMetadata, ImageRecord, ImageStatus, Owner, Timestamp};

/// The version of the event document ([`ImageEvent::body`]). Fields are only ever added; the number
/// changes if one changes meaning.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// What happened. The names (`image.processed`, ...) are stable: they are the events' `type`, the
/// webhook subscriptions' filters and EventBridge's `detail-type`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[non_exhaustive]
pub enum EventKind {
    /// The image's bytes arrived and were measured (size, type, SHA-256): reported once, with the
    /// outcome of the run that first read them.
    Uploaded,
    /// OCR ran and its result is recorded (`PROCESSED`).
    Processed,
    /// The bytes broke a rule and OCR was not attempted (`REJECTED`).
    Rejected,
    /// Processing failed for good (`FAILED`).
    Failed,
    /// The bytes are those of an earlier image of the same owner, whose result was copied
    /// (`PROCESSED` with `duplicateOf`).
    Duplicate,
    /// The image looks like the same document as other images of the owner (re-scanned,
    /// re-photographed): reported with its processed result, its document's `nearDuplicates` saying
    /// which and why. A flag, never a rejection.
    NearDuplicate,
    /// The image was soft-deleted.
    Deleted,
    /// The image's bytes and text were erased; a tombstone remains (its document names the file
    /// `purged`).
    Purged,
}

/// Why a text is not an [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type {0:?}; expected one of image.uploaded, image.processed, image.rejected, image.failed, image.duplicate, image.near_duplicate, image.deleted, image.purged"
)]
pub struct EventKindError(pub String);

impl EventKind {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::Uploaded,
        Self::Processed,
        Self::Rejected,
        Self::Failed,
        Self::Duplicate,
        Self::NearDuplicate,
        Self::Deleted,
        Self::Purged,
    ];

    /// The stable name, e.g. `image.processed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Uploaded => "image.uploaded",
            Self::Processed => "image.processed",
            Self::Rejected => "image.rejected",
            Self::Failed => "image.failed",
            Self::Duplicate => "image.duplicate",
            Self::NearDuplicate => "image.near_duplicate",
            Self::Deleted => "image.deleted",
            Self::Purged => "image.purged",
        }
    }

    /// The kind a terminal status reports (`None` for a status that is not terminal).
    fn of_terminal(record: &ImageRecord) -> Option<Self> {
        match record.status() {
            ImageStatus::Processed if record.duplicate_of().is_some() => Some(Self::Duplicate),
            ImageStatus::Processed => Some(Self::Processed),
            ImageStatus::Rejected => Some(Self::Rejected),
            ImageStatus::Failed => Some(Self::Failed),
            _ => None,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = EventKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s.trim())
            .ok_or_else(|| EventKindError(s.chars().take(40).collect()))
    }
}

crate::text_serde!(EventKind, EventKind::from_str);

/// The identity of one event: `evt_` and the 32 hex digits of a version 7 UUID, so ids sort by the
/// time they were made. A redelivered event keeps its id (webhooks send it as `webhook-id`), which is
/// how a subscriber recognises a duplicate.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(Uuid);

/// Why a text is not an [`EventId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event id is evt_ and 32 hex digits, got {0:?}")]
pub struct EventIdError(pub String);

impl EventId {
    /// The prefix of every event id.
    pub const PREFIX: &'static str = "evt_";

    /// A fresh id made at `time`, with random bits from the operating system.
    pub fn generate(time: Timestamp) -> Self {
        Self(super::ids::uuid_v7_at(time))
    }

    /// Parses `evt_` followed by 32 hex digits.
    ///
    /// # Errors
    /// [`EventIdError`] for any other text.
    pub fn parse(text: &str) -> Result<Self, EventIdError> {
        super::ids::parse_prefixed_uuid(text, Self::PREFIX)
            .map(Self)
            .ok_or_else(|| EventIdError(text.chars().take(48).collect()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0.simple())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

crate::text_serde!(EventId, EventId::parse);

/// One event about one image: who it belongs to, what happened, when, and its document.
///
/// The document ([`body`](Self::body)) is rendered once, when the event is made, from the record as
/// committed; transports send it as it is, so every subscriber of every transport reads the same
/// bytes. It holds no OCR text: `data.links.image`, where the composition gives [`EventLinks`], is the
/// API path that returns it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ImageEvent {
    id: EventId,
    kind: EventKind,
    time: Timestamp,
    owner: Owner,
    image_id: ImageId,
    body: String,
}

/// The event document, version [`EVENT_SCHEMA_VERSION`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: u32,
    id: EventId,
    #[serde(rename = "type")]
    kind: EventKind,
    time: Timestamp,
    owner: &'a Owner,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    image: ImageMetadata<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<Links>,
}

#[derive(Serialize)]
struct Links {
    /// The API path of the image (`GET` returns it with its OCR text).
    image: String,
}

/// The links an event's document gives (`data.links`): where the API answers its image. Paths are the
/// API's business, not the domain's, so the composition gives them (the API crate's, over its own
/// routes); without them ([`EventLinks::NONE`]), documents carry no `links`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventLinks {
    image: Option<fn(ImageId) -> String>,
}

impl EventLinks {
    /// No links: documents without `links`.
    pub const NONE: Self = Self { image: None };

    /// Links to the image built by `image` (its API path, e.g. `/images/{id}`).
    pub const fn new(image: fn(ImageId) -> String) -> Self {
        Self { image: Some(image) }
    }

    /// The link to image `id`, if there are links.
    pub fn image(&self, id: ImageId) -> Option<String> {
        self.image.map(|link| link(id))
    }
}

/// Why stored parts are not an [`ImageEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored event {id} is inconsistent: {reason}")]
pub struct InvalidEvent {
    /// The event.
    pub id: EventId,
    /// What does not fit.
    pub reason: &'static str,
}

impl ImageEvent {
    /// The event of `kind` about `record` as committed at `time`, with a fresh id; its document links
    /// to the image as `links` says.
    pub fn of(kind: EventKind, time: Timestamp, record: &ImageRecord, links: EventLinks) -> Self {
        let id = EventId::generate(time);
        let document = Document {
            schema_version: EVENT_SCHEMA_VERSION,
            id,
            kind,
            time,
            owner: record.owner(),
            data: Data {
                image: ImageMetadata::of(record),
                links: links.image(record.image_id()).map(|image| Links { image }),
            },
        };
        // Serializing plain fields (strings, numbers, finite floats) cannot fail.
        let body = serde_json::to_string(&document).unwrap_or_default();
        Self {
            id,
            kind,
            time,
            owner: record.owner().clone(),
            image_id: record.image_id(),
            body,
        }
    }

    /// The events that the write of `after` over `before` (the version it replaces) reports, made at
    /// `after`'s update time: `image.uploaded` when the bytes are first measured (a claim that found
    /// no object reports nothing, and a second run over the same bytes no second upload), the
    /// terminal status's event when processing ends (and `image.near_duplicate` after it when the
    /// result names near-duplicates), `image.deleted` when it is soft-deleted. A write
    /// that reports nothing (a claim, a claim released, a preview attached) has none. Their documents
    /// link to the image as `links` says.
    pub fn changes(before: &ImageRecord, after: &ImageRecord, links: EventLinks) -> Vec<Self> {
        let time = after.updated_at();
        let mut events = Vec::new();
        if before.size_bytes().is_none() && after.size_bytes().is_some() {
            events.push(Self::of(EventKind::Uploaded, time, after, links));
        }
        if !before.is_terminal()
            && let Some(kind) = EventKind::of_terminal(after)
        {
            events.push(Self::of(kind, time, after, links));
            if after
                .near_duplicates()
                .is_some_and(|found| !found.is_empty())
            {
                events.push(Self::of(EventKind::NearDuplicate, time, after, links));
            }
        }
        if !before.is_deleted() && after.is_deleted() {
            events.push(Self::of(EventKind::Deleted, time, after, links));
        }
        if !before.is_purged() && after.is_purged() {
            events.push(Self::of(EventKind::Purged, time, after, links));
        }
        events
    }

    /// Rebuilds an event from what an outbox stored of it. The document must name the same id and
    /// type; it is otherwise kept as stored.
    ///
    /// # Errors
    /// [`InvalidEvent`] when the document is not a JSON object naming this id and type.
    pub fn from_stored(
        id: EventId,
        kind: EventKind,
        time: Timestamp,
        owner: Owner,
        image_id: ImageId,
        body: String,
    ) -> Result<Self, InvalidEvent> {
        let document: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| InvalidEvent {
                id,
                reason: "the document is not JSON",
            })?;
        let names = |field: &str, expected: &str| {
            document.get(field).and_then(serde_json::Value::as_str) == Some(expected)
        };
        if !names("id", &id.to_string()) || !names("type", kind.as_str()) {
            return Err(InvalidEvent {
                id,
                reason: "the document names another id or type",
            });
        }
        Ok(Self {
            id,
            kind,
            time,
            owner,
            image_id,
            body,
        })
    }

    /// The event's id.
    pub fn id(&self) -> EventId {
        self.id
    }

    /// What happened.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// When the change was committed.
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The image's owner: only their subscriptions receive the event.
    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    /// The image.
    pub fn image_id(&self) -> ImageId {
        self.image_id
    }

    /// The JSON document (version [`EVENT_SCHEMA_VERSION`]) that transports send.
    pub fn body(&self) -> &str {
        &self.body
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn kinds_and_ids_round_trip_through_their_text() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>().unwrap(), kind);
        }
        assert!("image.exploded".parse::<EventKind>().is_err());
        let id = EventId::generate(Timestamp::from_unix_millis(1_700_000_000_000).unwrap());
        let text = id.to_string();
        assert!(text.starts_with("evt_") && text.len() == 36, "{text}");
        assert_eq!(EventId::parse(&text).unwrap(), id);
        for bad in [
            "",
            "evt_",
            "msg_0123",
            &text[..35],
            &text.replace("evt_", "EVT_"),
        ] {
            assert!(EventId::parse(bad).is_err(), "{bad}");
        }
        let later = EventId::generate(Timestamp::from_unix_millis(1_700_000_000_001).unwrap());
        assert!(later > id, "ids sort by time");
    }

    #[test]
    fn documents_link_to_the_image_as_the_composition_says() {
        let now = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        let record = ImageRecord::awaiting_upload(super::super::NewUpload {
            image_id: ImageId::generate(now),
            owner: Owner::parse("alice").unwrap(),
            bucket: "b".into(),
            file_name: super::super::FileName::sanitize("a.png").unwrap(),
            content_type: super::super::ContentType::Png,
            size_bytes: None,
            sha256: None,
            created_at: now,
            upload_expires_at: now,
        });
        let id = record.image_id();
        let linked = ImageEvent::of(
            EventKind::Deleted,
            now,
            &record,
            EventLinks::new(|id| format!("/images/{id}")),
        );
        let document: serde_json::Value = serde_json::from_str(linked.body()).unwrap();
        assert_eq!(document["data"]["links"]["image"], format!("/images/{id}"));
        assert!(
            linked
                .body()
                .ends_with(&format!(r#","links":{{"image":"/images/{id}"}}}}}}"#)),
            "the links close the document: {}",
            linked.body()
        );
        let bare = ImageEvent::of(EventKind::Deleted, now, &record, EventLinks::NONE);
        let document: serde_json::Value = serde_json::from_str(bare.body()).unwrap();
        assert!(document["data"].get("links").is_none(), "{}", bare.body());
        assert!(document["data"]["image"].is_object());
    }
}
