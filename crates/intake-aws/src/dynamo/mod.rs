//! DynamoDB: the image repository.
//!
//! # Table design
//! - Table key: `imageId` (S).
//! - GSI `byOwner`: `owner` (S) + `imageId` (S): an owner's images. Image ids are UUID v7, whose text
//!   sorts by creation time, so a descending Query lists newest first without a scan. The cursor is
//!   the last returned image id, sealed by the domain (and bound to the owner) so a forged, garbled or
//!   borrowed cursor is refused.
//! - GSI `bySha256`: `ownerSha256` (S, `{owner}#{sha256}`) + `imageId` (S), sparse (only processed
//!   images have a hash): duplicate lookup and the `sha256` filter, within one owner.
//! - GSI `byCreation`: `listPk` (S, always `IMAGE`) + `imageId` (S): every owner's images, for system
//!   tasks (recovery) only. Trade-off: one index partition takes every write (about 1,000 writes/s
//!   sustained on the index).
//! - Every write is a conditional `PutItem`: `attribute_not_exists(imageId)` to create,
//!   `version = :expected` to replace, so two processors racing on one image cannot both win.
//!
//! # Item layout
//! The seed data model's fields are native attributes (`bucket, objectKey, sha256, sizeBytes,
//! contentType, processedAt, ocrStatus, ocrText, ocrLineCount, ocrAvgConfidencePct`) together with
//! `status`, `version`, `createdAt` and `deletedAt`; `record` holds the whole record as JSON (the
//! source of truth when reading). Items stay far below the 400 KB limit: `ocrText` is cut at
//! [`OCR_TEXT_ITEM_CAP_BYTES`] in the item, and the full OCR detail (text, lines, words, boxes) is a
//! JSON sidecar object `results/{imageId}/ocr-{hash}.json` in the bucket, named by its content's hash
//! and written before the item, so the item always points at a complete sidecar. `get` restores the
//! full text and lines from it; `list` does not read sidecars (listings carry metadata only).
//! Records still awaiting upload carry `expiresAt`, a TTL one day after their upload URL expired, so
//! abandoned requests clean themselves up; the attribute disappears once an upload arrives.

mod codec;
mod fingerprints;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use bytes::Bytes;
use intake_domain::model::{
    ImageEvent, ImageId, ImageRecord, ImageStatus, Owner, Sha256Digest, field_keys,
};
use intake_domain::ports::{
    Failure, ImageRepository, ListQuery, OcrDetail, Page, PortError, RepoError, StoreError,
};

pub use self::codec::events_from_text;
use self::codec::{Sidecar, StoredRecord};
pub use self::fingerprints::DynamoFingerprintIndex;
use crate::S3ObjectStore;
use crate::fault::{Fault, classify, failure};

/// The most bytes of OCR text kept in the item itself; the full text is in the sidecar.
pub const OCR_TEXT_ITEM_CAP_BYTES: usize = 32 * 1024;

const LIST_PK: &str = "IMAGE";
const TTL_GRACE_SECS: i64 = 24 * 3600;

/// Names of the table's indexes and attributes, shared by the repository, table creation and the SAM
/// template.
#[derive(Debug, Clone, Copy)]
pub struct TableSchema;

impl TableSchema {
    /// The item attribute holding the events its write reported (absent when it reported none): the
    /// table's stream (new images; the template and [`TableSchema::create`] enable it) carries each
    /// committed write's new image, and with it exactly that write's events, to the processor, which
    /// publishes them to EventBridge (see [`events_from_text`]).
    pub const EVENTS_ATTRIBUTE: &'static str = "events";
    /// The newest-first listing index over every owner (system tasks).
    pub const LIST_INDEX: &'static str = "byCreation";
    /// The newest-first listing index of one owner.
    pub const OWNER_INDEX: &'static str = "byOwner";
    /// The duplicate-lookup index (owner and SHA-256).
    pub const SHA256_INDEX: &'static str = "bySha256";
    /// The TTL attribute.
    pub const TTL_ATTRIBUTE: &'static str = "expiresAt";

    /// Creates the table with its indexes (on-demand capacity) and waits until it is active; for tests
    /// and local set-ups (the SAM template creates it in deployments).
    ///
    /// # Errors
    /// [`RepoError`] as DynamoDB fails.
    pub async fn create(client: &Client, table: &str) -> Result<(), RepoError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(other)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(other)
        };
        let index = |name: &str, hash: &str| -> Result<GlobalSecondaryIndex, RepoError> {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(hash, KeyType::Hash)?)
                .key_schema(key("imageId", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(other)
        };
        client
            .create_table()
            .table_name(table)
            .attribute_definitions(attr("imageId")?)
            .attribute_definitions(attr("listPk")?)
            .attribute_definitions(attr("owner")?)
            .attribute_definitions(attr("ownerSha256")?)
            .key_schema(key("imageId", KeyType::Hash)?)
            .global_secondary_indexes(index(Self::LIST_INDEX, "listPk")?)
            .global_secondary_indexes(index(Self::OWNER_INDEX, "owner")?)
            .global_secondary_indexes(index(Self::SHA256_INDEX, "ownerSha256")?)
            .billing_mode(BillingMode::PayPerRequest)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .map_err(other)?,
            )
            .send()
            .await
            .map_err(|e| repo_error(&e))?;
        Ok(())
    }
}

fn other(error: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::from(Failure::other(error))
}

fn repo_error<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> RepoError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + std::fmt::Debug
        + 'static,
{
    RepoError::from(failure(error))
}

fn store_to_repo(error: StoreError) -> RepoError {
    if error.is_retryable() {
        RepoError::from(Failure::unavailable(error))
    } else {
        RepoError::from(Failure::other(error))
    }
}

/// Image records in a DynamoDB table, OCR detail in S3 sidecars.
#[derive(Debug, Clone)]
pub struct DynamoRepository {
    client: Client,
    table: String,
    sidecars: S3ObjectStore,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The duplicate index's key: the SHA-256 is fixed-length and last, so no two owners can share one.
fn owner_sha(owner: &Owner, sha256: &Sha256Digest) -> String {
    format!("{owner}#{}", sha256.to_hex())
}

fn cut(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

impl DynamoRepository {
    /// A repository over `table`, writing OCR sidecars through `sidecars`.
    pub fn new(client: Client, table: impl Into<String>, sidecars: S3ObjectStore) -> Self {
        Self {
            client,
            table: table.into(),
            sidecars,
        }
    }

    /// Writes the sidecar (if the record has OCR detail) and returns the item.
    async fn to_item(
        &self,
        record: &ImageRecord,
    ) -> Result<HashMap<String, AttributeValue>, RepoError> {
        let (mut stored, sidecar) = StoredRecord::of(record.clone());
        let mut item = HashMap::new();
        if let Some(sidecar) = sidecar {
            let json = serde_json::to_vec(&sidecar).map_err(other)?;
            let hash = Sha256Digest::of(&json).to_hex();
            let key = format!(
                "results/{}/ocr-{}.json",
                record.image_id(),
                hash.get(..16).unwrap_or(&hash)
            );
            self.sidecars
                .put_small(&key, Bytes::from(json), "application/json", true)
                .await
                .map_err(store_to_repo)?;
            item.insert("ocrDetailKey".to_owned(), s(key));
        }
        stored.cut_text(OCR_TEXT_ITEM_CAP_BYTES);
        item.insert("imageId".to_owned(), s(record.image_id().to_string()));
        item.insert("listPk".to_owned(), s(LIST_PK));
        item.insert("owner".to_owned(), s(record.owner().as_str()));
        if let Some(sha) = &record.sha256() {
            item.insert("ownerSha256".to_owned(), s(owner_sha(record.owner(), sha)));
        }
        item.insert("version".to_owned(), n(record.version()));
        item.insert("status".to_owned(), s(record.status().as_str()));
        item.insert("bucket".to_owned(), s(record.bucket()));
        item.insert("objectKey".to_owned(), s(record.object_key().as_str()));
        item.insert("createdAt".to_owned(), s(record.created_at().to_rfc3339()));
        item.insert(
            "ocrStatus".to_owned(),
            s(serde_json::to_value(record.ocr_status())
                .map_err(other)?
                .as_str()
                .unwrap_or_default()),
        );
        let optional: [(&str, Option<AttributeValue>); 8] = [
            ("sha256", record.sha256().map(|v| s(v.to_hex()))),
            ("sizeBytes", record.size_bytes().map(n)),
            ("contentType", record.content_type().map(|v| s(v.as_mime()))),
            (
                "processedAt",
                record.processed_at().map(|v| s(v.to_rfc3339())),
            ),
            ("ocrText", stored.ocr_text().map(s)),
            ("ocrLineCount", record.ocr_line_count().map(n)),
            (
                "ocrAvgConfidencePct",
                record.ocr_avg_confidence_pct().map(n),
            ),
            ("deletedAt", record.deleted_at().map(|v| s(v.to_rfc3339()))),
        ];
        item.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_owned(), value?))),
        );
        // What listings filter fields by: the kind the fields were read as, and their keys
        // (`TYPE=normalised value`) as a string set (absent when empty: sets cannot be).
        if let Some(kind) = record.document_type() {
            item.insert("documentType".to_owned(), s(kind.kind.name()));
        }
        let keys = field_keys(record.fields());
        if !keys.is_empty() {
            item.insert("fieldKeys".to_owned(), AttributeValue::Ss(keys));
        }
        // A tombstone is kept for audit, whatever state it was purged in.
        if record.status() == ImageStatus::AwaitingUpload && !record.is_purged() {
            item.insert(
                TableSchema::TTL_ATTRIBUTE.to_owned(),
                n(record.upload_expires_at().unix_seconds() + TTL_GRACE_SECS),
            );
        }
        item.insert("record".to_owned(), s(stored.to_json()?));
        Ok(item)
    }

    fn stored(item: &HashMap<String, AttributeValue>) -> Result<StoredRecord, RepoError> {
        let json = item
            .get("record")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| RepoError::from(Failure::other("item has no record attribute")))?;
        StoredRecord::from_json(json)
    }

    fn from_item(item: &HashMap<String, AttributeValue>) -> Result<ImageRecord, RepoError> {
        Self::stored(item)?.into_record(None)
    }

    async fn with_detail(
        &self,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<ImageRecord, RepoError> {
        let stored = Self::stored(item)?;
        let sidecar = match item.get("ocrDetailKey").and_then(|v| v.as_s().ok()) {
            Some(key) => {
                let bytes = self.sidecars.get_small(key).await.map_err(store_to_repo)?;
                Some(serde_json::from_slice::<Sidecar>(&bytes).map_err(other)?)
            }
            None => None,
        };
        stored.into_record(sidecar)
    }

    async fn get_item(
        &self,
        id: &ImageId,
    ) -> Result<Option<HashMap<String, AttributeValue>>, RepoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("imageId", s(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| repo_error(&e))?;
        Ok(out.item)
    }

    async fn query_page(
        &self,
        query: &ListQuery,
        after: Option<ImageId>,
        page_limit: i32,
    ) -> Result<(Vec<HashMap<String, AttributeValue>>, Option<ImageId>), RepoError> {
        let (index, hash_name, hash_value) = match (&query.owner, &query.sha256) {
            (Some(owner), Some(sha)) => (
                TableSchema::SHA256_INDEX,
                "ownerSha256",
                owner_sha(owner, sha),
            ),
            (Some(owner), None) => (TableSchema::OWNER_INDEX, "owner", owner.as_str().to_owned()),
            (None, _) => (TableSchema::LIST_INDEX, "listPk", LIST_PK.to_owned()),
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#h = :h")
            .expression_attribute_names("#h", hash_name)
            .expression_attribute_values(":h", s(&hash_value))
            .scan_index_forward(false)
            .limit(page_limit);
        let mut filters = Vec::new();
        if let (None, Some(sha)) = (&query.owner, &query.sha256) {
            filters.push("sha256 = :sha".to_owned());
            request = request.expression_attribute_values(":sha", s(sha.to_hex()));
        }
        if query.statuses.len() < ImageStatus::ALL.len() {
            let names: Vec<String> = (0..query.statuses.len())
                .map(|i| format!(":s{i}"))
                .collect();
            filters.push(format!("#status IN ({})", names.join(", ")));
            request = request.expression_attribute_names("#status", "status");
            for (name, status) in names.iter().zip(&query.statuses) {
                request = request.expression_attribute_values(name, s(status.as_str()));
            }
        }
        if !query.include_deleted {
            filters.push("attribute_not_exists(deletedAt)".to_owned());
        } else if query.deleted_only {
            filters.push("attribute_exists(deletedAt)".to_owned());
        }
        if let Some(kind) = query.document_kind {
            filters.push("#documentType = :documentType".to_owned());
            request = request
                .expression_attribute_names("#documentType", "documentType")
                .expression_attribute_values(":documentType", s(kind.name()));
        }
        if !query.fields.is_empty() {
            request = request.expression_attribute_names("#fieldKeys", "fieldKeys");
        }
        for (i, filter) in query.fields.iter().enumerate() {
            filters.push(format!("contains(#fieldKeys, :field{i})"));
            request = request.expression_attribute_values(format!(":field{i}"), s(filter.key()));
        }
        if !filters.is_empty() {
            request = request.filter_expression(filters.join(" AND "));
        }
        if let Some(id) = after {
            request = request
                .exclusive_start_key("imageId", s(id.to_string()))
                .exclusive_start_key(hash_name, s(&hash_value));
        }
        let out = request.send().await.map_err(|e| repo_error(&e))?;
        let resume = match out.last_evaluated_key() {
            Some(key) => Some(
                key.get("imageId")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|text| ImageId::parse(text).ok())
                    .ok_or_else(|| {
                        RepoError::from(Failure::other("unreadable LastEvaluatedKey"))
                    })?,
            ),
            None => None,
        };
        Ok((out.items.unwrap_or_default(), resume))
    }
}

#[async_trait]
impl ImageRepository for DynamoRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        let item = self.to_item(record).await?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(imageId)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if classify(&e) == Fault::ConditionFailed => Err(RepoError::AlreadyExists {
                id: record.image_id(),
            }),
            Err(e) => Err(repo_error(&e)),
        }
    }

    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        self.get_view(id, OcrDetail::Lines).await
    }

    /// Without lines, the item alone answers unless its OCR text may have been cut to fit it (then
    /// the sidecar is read for the whole text): one `GetItem`, no S3 read, for most images.
    async fn get_view(
        &self,
        id: &ImageId,
        detail: OcrDetail,
    ) -> Result<Option<ImageRecord>, RepoError> {
        let Some(item) = self.get_item(id).await? else {
            return Ok(None);
        };
        let record = Self::from_item(&item)?;
        // `cut` keeps at least `cap - 3` bytes of a longer text (a character has at most 4).
        let maybe_cut = record
            .ocr_text()
            .as_ref()
            .is_some_and(|text| text.len() + 3 >= OCR_TEXT_ITEM_CAP_BYTES);
        if detail == OcrDetail::Lines || maybe_cut {
            return Ok(Some(self.with_detail(&item).await?));
        }
        Ok(Some(record))
    }

    async fn replace(
        &self,
        record: &ImageRecord,
        expected_version: u64,
        events: &[ImageEvent],
    ) -> Result<(), RepoError> {
        let mut item = self.to_item(record).await?;
        if !events.is_empty() {
            item.insert(
                TableSchema::EVENTS_ATTRIBUTE.to_owned(),
                codec::events_attribute(events),
            );
        }
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", n(expected_version))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if classify(&e) == Fault::ConditionFailed => {
                if self.get_item(&record.image_id()).await?.is_some() {
                    Err(RepoError::Precondition {
                        id: record.image_id(),
                        expected: expected_version,
                    })
                } else {
                    Err(RepoError::NotFound {
                        id: record.image_id(),
                    })
                }
            }
            Err(e) => Err(repo_error(&e)),
        }
    }

    async fn erase_detail(&self, id: &ImageId) -> Result<(), RepoError> {
        self.sidecars
            .erase_versions(&format!("results/{id}/"), false)
            .await
            .map_err(store_to_repo)
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError> {
        let wanted = query.limit as usize + 1;
        let mut after = query.cursor_image_id()?;
        let mut records = Vec::with_capacity(wanted);
        loop {
            let remaining = wanted - records.len();
            let page_limit = i32::try_from(remaining.clamp(50, 1000)).unwrap_or(1000);
            let (items, resume) = self.query_page(query, after, page_limit).await?;
            for item in &items {
                if records.len() == wanted {
                    break;
                }
                records.push(Self::from_item(item)?);
            }
            if records.len() == wanted || resume.is_none() {
                break;
            }
            after = resume;
        }
        Ok(query.page_of(records))
    }

    async fn find_processed_by_sha256(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        limit: u32,
    ) -> Result<Vec<ImageRecord>, RepoError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(TableSchema::SHA256_INDEX)
                .key_condition_expression("ownerSha256 = :h")
                .filter_expression("#status = :processed AND attribute_not_exists(deletedAt)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":h", s(owner_sha(owner, sha256)))
                .expression_attribute_values(":processed", s(ImageStatus::Processed.as_str()))
                .scan_index_forward(true)
                .limit(i32::try_from(limit.clamp(10, 1000)).unwrap_or(1000))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| repo_error(&e))?;
            for item in out.items() {
                if found.len() < limit as usize {
                    found.push(Self::from_item(item)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if found.len() < limit as usize => start = Some(key),
                _ => return Ok(found),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_text_respects_char_boundaries() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("abc", 10), "abc");
    }
}
