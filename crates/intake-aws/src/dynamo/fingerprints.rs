//! DynamoDB: the near-duplicate fingerprint index, in a table of its own (key `pk` (S) only, no
//! stream, no index), so that its many small writes never reach the records' stream.
//!
//! - A **key item** per (owner, key): `pk` = `key#{kind}#{band}#{value}#{owner}` (the value in 16
//!   hex digits, the owner last, after parts of fixed form, so no two owners share one), `members`
//!   a string set of the `{imageId}#{page}#{tokens}#{imageHash}#{textHash}` stored under it (the
//!   page's token count and hashes, `-` for none, so a lookup shortlists pages from the key items
//!   alone), `held` how many members it has (`ADD`ed with them; a write cut short may leave it
//!   off by some, which only makes a lookup read a key that is not the rarest). This is the
//!   layout's second version: the first's `band#…` items (16-bit token keys, bare members) are no
//!   longer read, and an image indexed under them is found again once it is put again
//!   (reprocessed).
//! - An **image item** per image: `pk` = `image#{imageId}#{owner}`, `pages` its pages' fingerprints
//!   (the domain's JSON).
//!
//! A lookup is `BatchGetItem` of the probe's token key items' counts (100 keys a call), then of the
//! key items its plan reads, then of the shortlisted pages' image items: no query, no scan. A page
//! is found only if its image item still lists it and the probe admits it as stored, so a key entry
//! left behind by a write cut short only adds a page to the shortlist that is dropped. `put` writes
//! the image item first, then adds the new (key, page) pairs and takes the old ones out; `remove`
//! deletes the image item first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    ScalarAttributeType,
};
use intake_domain::model::{
    BandKey, ImageHash, ImageId, KeyEntry, Owner, PageFingerprint, PageNumber, Probe, TextHash,
};
use intake_domain::ports::{Failure, FingerprintIndex, FingerprintIndexError, IndexedPage};

use crate::fault::failure;

/// The most keys one `BatchGetItem` asks for.
const BATCH: usize = 100;
/// How many times a batch's unprocessed keys are asked for again before the lookup gives up as
/// throttled.
const BATCH_ROUNDS: u32 = 8;

/// The near-duplicate fingerprint index over one DynamoDB table (see the module's documentation).
#[derive(Debug, Clone)]
pub struct DynamoFingerprintIndex {
    client: Client,
    table: String,
}

fn failed(error: impl std::error::Error + Send + Sync + 'static) -> FingerprintIndexError {
    FingerprintIndexError::from(Failure::other(error))
}

fn sdk_error<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> FingerprintIndexError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + std::fmt::Debug
        + 'static,
{
    FingerprintIndexError::from(failure(error))
}

/// Why a stored item does not read.
#[derive(Debug, thiserror::Error)]
#[error("the fingerprint index holds a damaged item: {0}")]
struct Damaged(String);

fn key_pk(owner: &Owner, key: BandKey) -> String {
    format!(
        "key#{}#{}#{:016x}#{owner}",
        key.kind.name(),
        key.band,
        key.value
    )
}

fn image_pk(owner: &Owner, id: ImageId) -> String {
    format!("image#{id}#{owner}")
}

fn member(entry: &KeyEntry) -> String {
    let hex = |hash: Option<u64>| hash.map_or_else(|| "-".to_owned(), |h| format!("{h:016x}"));
    format!(
        "{}#{}#{}#{}#{}",
        entry.image_id,
        entry.page,
        entry.tokens,
        hex(entry.image.map(|h| h.0)),
        hex(entry.text.map(|h| h.0))
    )
}

fn parse_member(text: &str) -> Option<KeyEntry> {
    let mut parts = text.split('#');
    let hash = |part: &str| match part {
        "-" => Some(None),
        hex => u64::from_str_radix(hex, 16).ok().map(Some),
    };
    let image_id = ImageId::parse(parts.next()?).ok()?;
    let page = PageNumber::new(parts.next()?.parse().ok()?)?;
    let tokens = parts.next()?.parse().ok()?;
    let image = hash(parts.next()?)?.map(ImageHash);
    let text = hash(parts.next()?)?.map(TextHash);
    if parts.next().is_some() {
        return None;
    }
    Some(KeyEntry::new(image_id, page, tokens, image, text))
}

/// Every (key item, member) that `pages` of image `id` are stored under.
fn entries(owner: &Owner, id: ImageId, pages: &[PageFingerprint]) -> BTreeSet<(String, String)> {
    pages
        .iter()
        .flat_map(|page| {
            let entry = member(&KeyEntry::of(id, page));
            page.band_keys()
                .into_iter()
                .map(move |key| (key_pk(owner, key), entry.clone()))
        })
        .collect()
}

/// The members of each key item, gathered.
fn by_item(pairs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut items: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (pk, member) in pairs {
        items.entry(pk).or_default().push(member);
    }
    items
}

impl DynamoFingerprintIndex {
    /// The index in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the index's table (key `pk`, on-demand capacity); for tests and local set-ups (the
    /// SAM template creates it in deployments).
    ///
    /// # Errors
    /// [`FingerprintIndexError`] as DynamoDB fails.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), FingerprintIndexError> {
        client
            .create_table()
            .table_name(table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(failed)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(failed)?,
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        Ok(())
    }

    /// The pages image item `pk` lists, if there is one.
    async fn stored_pages(&self, pk: &str) -> Result<Vec<PageFingerprint>, FingerprintIndexError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&e))?
            .item;
        item.as_ref().map_or(Ok(Vec::new()), pages_of)
    }

    /// Adds (`add`) or takes out members of key items, counting them in or out.
    async fn change_members(
        &self,
        add: bool,
        items: BTreeMap<String, Vec<String>>,
    ) -> Result<(), FingerprintIndexError> {
        for (pk, members) in items {
            let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
            let (expression, count) = if add {
                ("ADD members :m, held :n", count)
            } else {
                ("DELETE members :m ADD held :n", -count)
            };
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk))
                .update_expression(expression)
                .expression_attribute_values(":m", AttributeValue::Ss(members))
                .expression_attribute_values(":n", AttributeValue::N(count.to_string()))
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
        }
        Ok(())
    }

    /// The items under `pks` (each asked for once), with the attributes `projection` names; items
    /// that do not exist are left out. Unprocessed keys are asked for again.
    /// Every page stored for `images` (their image items, read in batches), whatever their bands.
    async fn pages_of_images(
        &self,
        owner: &Owner,
        images: &BTreeSet<ImageId>,
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        let items = self
            .batch_get(
                images.iter().map(|id| image_pk(owner, *id)).collect(),
                "pk, pages",
            )
            .await?;
        let mut pages = Vec::new();
        for item in &items {
            let Some(AttributeValue::S(pk)) = item.get("pk") else {
                continue;
            };
            let Some(image_id) = images
                .iter()
                .copied()
                .find(|id| *pk == image_pk(owner, *id))
            else {
                continue;
            };
            for page in pages_of(item)? {
                pages.push(IndexedPage::new(image_id, page));
            }
        }
        Ok(pages)
    }

    async fn batch_get(
        &self,
        pks: BTreeSet<String>,
        projection: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, FingerprintIndexError> {
        let mut found = Vec::new();
        let pks: Vec<String> = pks.into_iter().collect();
        for chunk in pks.chunks(BATCH) {
            let mut keys = KeysAndAttributes::builder()
                .projection_expression(projection)
                .consistent_read(true);
            for pk in chunk {
                keys = keys.keys(HashMap::from([(
                    "pk".to_owned(),
                    AttributeValue::S(pk.clone()),
                )]));
            }
            let mut request = Some(keys.build().map_err(failed)?);
            let mut rounds = 0;
            while let Some(keys) = request.take() {
                rounds += 1;
                if rounds > BATCH_ROUNDS {
                    return Err(FingerprintIndexError::from(Failure::throttled(
                        "DynamoDB left keys of a batch unprocessed, round after round",
                    )));
                }
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&e))?;
                if let Some(mut responses) = answer.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default());
                }
                request = answer
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .filter(|left| !left.keys().is_empty());
                if request.is_some() {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << rounds.min(6))).await;
                }
            }
        }
        Ok(found)
    }
}

/// The pages an image item lists.
fn pages_of(
    item: &HashMap<String, AttributeValue>,
) -> Result<Vec<PageFingerprint>, FingerprintIndexError> {
    let Some(AttributeValue::S(json)) = item.get("pages") else {
        return Err(failed(Damaged("an image item without pages".into())));
    };
    serde_json::from_str(json).map_err(failed)
}

#[async_trait]
impl FingerprintIndex for DynamoFingerprintIndex {
    async fn put(
        &self,
        owner: &Owner,
        image_id: ImageId,
        pages: &[PageFingerprint],
    ) -> Result<(), FingerprintIndexError> {
        let pk = image_pk(owner, image_id);
        let old = self.stored_pages(&pk).await?;
        if pages.is_empty() {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk))
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
        } else {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(pk))
                .item(
                    "pages",
                    AttributeValue::S(serde_json::to_string(pages).map_err(failed)?),
                )
                .send()
                .await
                .map_err(|e| sdk_error(&e))?;
        }
        let (before, after) = (
            entries(owner, image_id, &old),
            entries(owner, image_id, pages),
        );
        self.change_members(true, by_item(after.difference(&before).cloned()))
            .await?;
        self.change_members(false, by_item(before.difference(&after).cloned()))
            .await
    }

    async fn remove(&self, owner: &Owner, image_id: ImageId) -> Result<(), FingerprintIndexError> {
        let pk = image_pk(owner, image_id);
        let old = self.stored_pages(&pk).await?;
        if old.is_empty() {
            return Ok(());
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .send()
            .await
            .map_err(|e| sdk_error(&e))?;
        self.change_members(false, by_item(entries(owner, image_id, &old)))
            .await
    }

    async fn find(
        &self,
        owner: &Owner,
        keys: &[BandKey],
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        let asked: BTreeSet<BandKey> = keys.iter().copied().collect();
        let items = self
            .batch_get(
                asked.iter().map(|k| key_pk(owner, *k)).collect(),
                "pk, members",
            )
            .await?;
        let mut listed: BTreeSet<(ImageId, PageNumber)> = BTreeSet::new();
        for item in &items {
            if let Some(AttributeValue::Ss(members)) = item.get("members") {
                listed.extend(
                    members
                        .iter()
                        .filter_map(|m| parse_member(m))
                        .map(|e| (e.image_id, e.page)),
                );
            }
        }
        let images: BTreeSet<ImageId> = listed.iter().map(|(id, _)| *id).collect();
        let mut found = self.pages_of_images(owner, &images).await?;
        found.retain(|p| {
            listed.contains(&(p.image_id, p.fingerprint.page))
                && p.fingerprint.band_keys().iter().any(|k| asked.contains(k))
        });
        Ok(found)
    }

    async fn candidates(
        &self,
        owner: &Owner,
        probe: &Probe,
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        if probe.is_void() {
            return Ok(Vec::new());
        }
        // How many pages each of the probe's token keys holds, then the key items the plan reads.
        let counted = self
            .batch_get(
                probe.token_keys.iter().map(|k| key_pk(owner, *k)).collect(),
                "pk, held",
            )
            .await?;
        let count_of = |pk: &str| {
            counted
                .iter()
                .find_map(|item| match (item.get("pk"), item.get("held")) {
                    (Some(AttributeValue::S(p)), Some(AttributeValue::N(n))) if p == pk => {
                        n.parse::<u64>().ok()
                    }
                    _ => None,
                })
        };
        let pages: Vec<u64> = probe
            .token_keys
            .iter()
            .map(|k| count_of(&key_pk(owner, *k)).unwrap_or(0))
            .collect();
        let reads: HashMap<String, _> = probe
            .plan(&pages)
            .into_iter()
            .map(|read| (key_pk(owner, read.key), read))
            .collect();
        let items = self
            .batch_get(reads.keys().cloned().collect(), "pk, members")
            .await?;
        let mut entries = Vec::new();
        for item in &items {
            let (Some(AttributeValue::S(pk)), Some(AttributeValue::Ss(members))) =
                (item.get("pk"), item.get("members"))
            else {
                continue;
            };
            let Some(read) = reads.get(pk) else {
                continue;
            };
            for entry in members.iter().filter_map(|m| parse_member(m)) {
                if read
                    .tokens
                    .iter()
                    .any(|t| (t.least..=t.most).contains(&entry.tokens))
                {
                    entries.push((read.key, entry));
                }
            }
        }
        let shortlisted: BTreeSet<(ImageId, PageNumber)> =
            probe.shortlist(entries).into_iter().collect();
        let images: BTreeSet<ImageId> = shortlisted.iter().map(|(id, _)| *id).collect();
        // A key entry a write left behind is checked against the page as stored.
        let mut found = self.pages_of_images(owner, &images).await?;
        found.retain(|p| {
            shortlisted.contains(&(p.image_id, p.fingerprint.page))
                && probe.admits_page(&p.fingerprint)
        });
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_owner_last_and_members_read_back() {
        let owner = Owner::parse("a#b").unwrap();
        let key = BandKey {
            kind: intake_domain::model::HashKind::Image,
            band: 3,
            value: 0x00AB,
        };
        assert_eq!(key_pk(&owner, key), "key#image#3#00000000000000ab#a#b");
        let id = ImageId::parse("019b76da-a800-7000-8000-000000000002").unwrap();
        let page = PageNumber::new(12).unwrap();
        for print in [
            PageFingerprint::new(page, Some(ImageHash(u64::MAX)), "Total 12.00 on 2026-11-25"),
            PageFingerprint::new(page, None, "Total 12.00"),
            PageFingerprint::new(page, Some(ImageHash(7)), ""),
        ] {
            let entry = KeyEntry::of(id, &print);
            assert_eq!(parse_member(&member(&entry)), Some(entry), "{print:?}");
        }
        assert_eq!(
            member(&KeyEntry::of(
                id,
                &PageFingerprint::new(page, Some(ImageHash(0xAB)), "")
            )),
            format!("{id}#12#0#00000000000000ab#-")
        );
        assert_eq!(parse_member("nonsense"), None);
        assert_eq!(parse_member(&format!("{id}#12#0#-#-#extra")), None);
    }
}
