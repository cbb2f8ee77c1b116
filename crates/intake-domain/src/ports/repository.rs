use std::fmt::{Debug, Write as _};

use async_trait::async_trait;

use super::{Failure, FailureKind, PortError};
use crate::model::{
    Cursor, CursorError, DocumentKind, FieldFilter, ImageEvent, ImageId, ImageRecord, ImageStatus,
    Owner, Sha256Digest,
};

/// The most records one page may hold.
pub const MAX_PAGE_LIMIT: u32 = 1000;

/// A listing query: which records, how many, from where. Results are newest first (by image id, which
/// orders by creation time).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ListQuery {
    /// Only records of this owner; `None` lists every owner's (system tasks such as recovery, never
    /// an API caller).
    pub owner: Option<Owner>,
    /// Only records in one of these statuses (never empty; sorted, without repeats).
    pub statuses: Vec<ImageStatus>,
    /// Only records whose computed SHA-256 is this.
    pub sha256: Option<Sha256Digest>,
    /// Whether soft-deleted records are included.
    pub include_deleted: bool,
    /// Only soft-deleted records (system tasks: retention).
    pub deleted_only: bool,
    /// Page size, `1..=MAX_PAGE_LIMIT`.
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
    /// Only records with a field matching each of these (sorted, without repeats; see
    /// [`FieldFilter::matches`]).
    pub fields: Vec<FieldFilter>,
    /// Only records whose fields were read as this kind of document.
    pub document_kind: Option<DocumentKind>,
}

impl ListQuery {
    /// A query for records in `statuses` (all statuses if empty), excluding deleted ones; `limit` is
    /// clamped to `1..=MAX_PAGE_LIMIT`.
    pub fn new(statuses: impl IntoIterator<Item = ImageStatus>, limit: u32) -> Self {
        let mut statuses: Vec<ImageStatus> = statuses.into_iter().collect();
        if statuses.is_empty() {
            statuses = ImageStatus::ALL.to_vec();
        }
        statuses.sort();
        statuses.dedup();
        Self {
            owner: None,
            statuses,
            sha256: None,
            include_deleted: false,
            deleted_only: false,
            limit: limit.clamp(1, MAX_PAGE_LIMIT),
            cursor: None,
            fields: Vec::new(),
            document_kind: None,
        }
    }

    /// Only records with a field matching each of `filters`.
    #[must_use]
    pub fn with_fields(mut self, filters: impl IntoIterator<Item = FieldFilter>) -> Self {
        self.fields.extend(filters);
        self.fields.sort();
        self.fields.dedup();
        self
    }

    /// Only records read as `kind` of document.
    #[must_use]
    pub fn with_document_kind(mut self, kind: Option<DocumentKind>) -> Self {
        self.document_kind = kind;
        self
    }

    /// Whether the query filters by fields or document kind (which only the records' fields
    /// answer).
    pub fn filters_fields(&self) -> bool {
        !self.fields.is_empty() || self.document_kind.is_some()
    }

    /// Only records of `owner`.
    #[must_use]
    pub fn for_owner(mut self, owner: Owner) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Only records with this SHA-256.
    #[must_use]
    pub fn with_sha256(mut self, sha256: Option<Sha256Digest>) -> Self {
        self.sha256 = sha256;
        self
    }

    /// Include soft-deleted records.
    #[must_use]
    pub fn including_deleted(mut self, include: bool) -> Self {
        self.include_deleted = include;
        self
    }

    /// Only soft-deleted records.
    #[must_use]
    pub fn deleted_only(mut self) -> Self {
        self.include_deleted = true;
        self.deleted_only = true;
        self
    }

    /// Continue after `cursor`.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Whether `record` matches the filters (not the cursor or limit). Repositories that filter in
    /// memory use this so the rule exists once.
    pub fn matches(&self, record: &ImageRecord) -> bool {
        self.owner
            .as_ref()
            .is_none_or(|owner| record.owner() == owner)
            && self.statuses.contains(&record.status())
            && self.sha256.is_none_or(|sha| record.sha256() == Some(sha))
            && (self.include_deleted || !record.is_deleted())
            && (!self.deleted_only || record.is_deleted())
            && self
                .document_kind
                .is_none_or(|kind| record.document_type().is_some_and(|t| t.kind == kind))
            && self.fields.iter().all(|f| f.matches(record.fields()))
    }

    /// A canonical identity of the filters, to which cursors are bound: a cursor from one query is
    /// refused by another, and one owner's cursor by every other owner. The limit is not part of it,
    /// so page sizes may change between pages.
    pub fn scope(&self) -> Vec<u8> {
        let statuses: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
        // The owner is length-prefixed, so no owner text can imitate another scope.
        let owner = self
            .owner
            .as_ref()
            .map_or_else(|| "*".to_owned(), |o| format!("{}:{o}", o.as_str().len()));
        let mut scope = format!(
            "owner={owner};statuses={};sha256={};deleted={};deleted_only={}",
            statuses.join(","),
            self.sha256.map(|s| s.to_hex()).unwrap_or_default(),
            self.include_deleted,
            self.deleted_only
        );
        // Added only when present, so cursors of queries without them keep their scope.
        if let Some(kind) = self.document_kind {
            scope.push_str(";documentType=");
            scope.push_str(kind.name());
        }
        for filter in &self.fields {
            // Length-prefixed: no value can imitate another filter.
            let key = filter.key();
            let _ = write!(scope, ";field={}:{key}", key.len());
        }
        scope.into_bytes()
    }

    /// The repository payload of the cursor, verified against this query.
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] when the cursor was altered or belongs to another query.
    pub fn cursor_payload(&self) -> Result<Option<Vec<u8>>, RepoError> {
        self.cursor
            .as_ref()
            .map(|c| c.open(&self.scope()))
            .transpose()
            .map_err(RepoError::InvalidCursor)
    }

    /// Seals a repository position into a cursor for the next page of this query.
    pub fn next_cursor(&self, payload: &[u8]) -> Cursor {
        Cursor::seal(&self.scope(), payload)
    }

    /// The page of `records`, read newest first for this query by an id-ordered repository that
    /// asked for one more than the limit: cut to the limit, with a cursor after its last id when more
    /// follow.
    pub fn page_of(&self, mut records: Vec<ImageRecord>) -> Page {
        let limit = self.limit as usize;
        let next_cursor = if records.len() > limit {
            records.truncate(limit);
            records
                .last()
                .map(|last| self.next_cursor(&last.image_id().to_bytes()))
        } else {
            None
        };
        Page::new(records, next_cursor)
    }

    /// Reads the 16-byte image id payload that id-ordered repositories use.
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] when the cursor is invalid or its payload is not an image id.
    pub fn cursor_image_id(&self) -> Result<Option<ImageId>, RepoError> {
        self.cursor_payload()?
            .map(|payload| {
                let bytes: [u8; 16] = payload
                    .try_into()
                    .map_err(|_| RepoError::InvalidCursor(CursorError::Payload))?;
                ImageId::from_bytes(bytes)
                    .map_err(|_| RepoError::InvalidCursor(CursorError::Payload))
            })
            .transpose()
    }
}

/// One page of a listing.
#[derive(Clone, PartialEq, Debug, Default)]
#[non_exhaustive]
pub struct Page {
    /// The records, newest first.
    pub records: Vec<ImageRecord>,
    /// Where the next page starts; `None` when this is the last page.
    pub next_cursor: Option<Cursor>,
}

impl Page {
    /// A page of records.
    pub fn new(records: Vec<ImageRecord>, next_cursor: Option<Cursor>) -> Self {
        Self {
            records,
            next_cursor,
        }
    }
}

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// A record with this id exists already.
    #[error("image {id} already exists")]
    AlreadyExists {
        /// The id.
        id: ImageId,
    },
    /// No record with this id.
    #[error("image {id} not found")]
    NotFound {
        /// The id.
        id: ImageId,
    },
    /// The stored version is not the expected one: someone else wrote first.
    #[error("image {id} was modified concurrently (expected version {expected})")]
    Precondition {
        /// The id.
        id: ImageId,
        /// The version the writer expected.
        expected: u64,
    },
    /// The cursor is not valid for this query.
    #[error("invalid cursor: {0}")]
    InvalidCursor(#[source] CursorError),
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("repository {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for RepoError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
            _ => None,
        }
    }
}

/// How much OCR detail a read for display needs (see [`ImageRepository::get_view`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum OcrDetail {
    /// The record with its full OCR text; its lines, words and boxes may be left out.
    #[default]
    Text,
    /// The record whole: full text and every line, word, confidence and box.
    Lines,
}

/// Persistence of image records.
///
/// Writes after creation are conditional on the version, so two writers racing on one record cannot
/// both win. The record's transitions decide which changes are legal; the repository only enforces
/// the version.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ImageRepository: Send + Sync + Debug {
    /// Stores a new record.
    ///
    /// # Errors
    /// [`RepoError::AlreadyExists`] when the id is taken (the stored record is left as it was).
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError>;

    /// Stores a new upload's record (`AWAITING_UPLOAD`), which may be acknowledged before it is
    /// durable: its loss in a crash costs nothing but a refused upload (no object is accepted without
    /// its record, see [`crate::Intake::expect_upload`]), so an adapter may write it behind. It must
    /// still be readable at once by [`get`](Self::get) and [`get_view`](Self::get_view), listed by
    /// any [`list`](Self::list) that starts after it returned, refused as
    /// [`RepoError::AlreadyExists`] for a taken id, durable within a short bound, and durable before
    /// any durable write the adapter acknowledges after it (see [`crate::Intake::accept_upload`]).
    /// Default: [`create`](Self::create).
    ///
    /// # Errors
    /// As [`create`](Self::create).
    async fn create_relaxed(&self, record: &ImageRecord) -> Result<(), RepoError> {
        self.create(record).await
    }

    /// The record with `id`, soft-deleted or not; `None` if there is none.
    ///
    /// # Errors
    /// As the technology fails.
    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError>;

    /// The record with `id` for display, with at least the OCR `detail` asked for: with
    /// [`OcrDetail::Text`] the full `ocrText` is there but `ocrLines` may be left out, so stores that
    /// keep the lines apart (they are most of a record's size) need not read and decode them. A view
    /// is never written back: read with [`get`](Self::get) to [`replace`](Self::replace). The default
    /// reads the whole record.
    ///
    /// # Errors
    /// As the technology fails.
    async fn get_view(
        &self,
        id: &ImageId,
        detail: OcrDetail,
    ) -> Result<Option<ImageRecord>, RepoError> {
        let _ = detail;
        self.get(id).await
    }

    /// Replaces the stored record with `record` if the stored version is `expected_version`, and
    /// commits `events` (what the change reports, see [`ImageEvent::changes`]) with it: both are
    /// written or neither is. `record.version` is the new version (`expected_version + 1`, see
    /// [`ImageRecord::next`]). The events then wait in the repository's outbox
    /// ([`super::EventOutbox`]) or, on DynamoDB, travel with the item to the table's stream.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when there is no record; [`RepoError::Precondition`] when the stored
    /// version differs (nothing is written, no event committed).
    async fn replace(
        &self,
        record: &ImageRecord,
        expected_version: u64,
        events: &[ImageEvent],
    ) -> Result<(), RepoError>;

    /// A page of records matching `query`, newest first. Records created after a cursor was issued do
    /// not appear on later pages of it, and no record appears twice. Listed records may omit the OCR
    /// detail (`ocrLines`, and `ocrText` beyond what the store keeps inline); `get` returns it whole.
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] for a cursor that is not valid for this query.
    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError>;

    /// Erases what the repository keeps of image `id` beside its record (DynamoDB's OCR sidecars in
    /// the bucket, every version), before the record itself is made a tombstone
    /// ([`ImageRecord::purge`]). Idempotent. The default does nothing: repositories whose record
    /// holds everything erase it when the tombstone replaces it.
    ///
    /// # Errors
    /// As the technology fails; erasing again resumes.
    async fn erase_detail(&self, id: &ImageId) -> Result<(), RepoError> {
        let _ = id;
        Ok(())
    }

    /// Up to `limit` live (not deleted) records of `owner` in status `PROCESSED` whose computed
    /// SHA-256 is `sha256`, oldest first: the candidates an identical upload of the same owner is a
    /// duplicate of (other owners' images are never candidates). Like `list`, the records may omit
    /// OCR detail.
    ///
    /// # Errors
    /// As the technology fails.
    async fn find_processed_by_sha256(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        limit: u32,
    ) -> Result<Vec<ImageRecord>, RepoError>;
}
