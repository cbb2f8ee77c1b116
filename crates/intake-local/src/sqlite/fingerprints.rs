//! Near-duplicate fingerprints in SQLite, next to the records: `fingerprint_pages` keeps each page's
//! fingerprint (JSON); `fingerprint_keys` a row per key the domain stores it under, carrying the
//! page's token count and hashes, ordered by (owner, key, token count); `fingerprint_key_pages` how
//! many pages each token key holds (kept by triggers). A lookup reads the counts of the probe's
//! token keys, then the key rows its [plan](Probe::plan) names (each an index seek on the primary
//! key's prefix and token-count range), shortlists the pages from those rows, and reads only the
//! shortlisted pages' fingerprints: never a scan of the owner's images, never a popular key's rows
//! it does not need.

use std::collections::BTreeSet;

use async_trait::async_trait;
use intake_domain::model::{
    BandKey, ImageHash, ImageId, KeyEntry, Owner, PageFingerprint, PageNumber, Probe, TextHash,
};
use intake_domain::ports::{FingerprintIndex, FingerprintIndexError, IndexedPage};
use rusqlite::{Connection, OptionalExtension, params};

use super::Database;

/// How many pages a token key holds.
const KEY_PAGES: &str =
    "SELECT pages FROM fingerprint_key_pages WHERE owner = ?1 AND band = ?2 AND value = ?3";
/// The entries under one key, of pages with a token count in a range.
const KEY_ENTRIES: &str = "SELECT image_id, page, tokens, image, text FROM fingerprint_keys \
     WHERE owner = ?1 AND kind = ?2 AND band = ?3 AND value = ?4 AND tokens BETWEEN ?5 AND ?6";
/// One stored page's fingerprint.
const PAGE: &str =
    "SELECT fingerprint FROM fingerprint_pages WHERE owner = ?1 AND image_id = ?2 AND page = ?3";
/// The pages under one key, whatever their token count.
const KEY_PAGES_ALL: &str = "SELECT image_id, page FROM fingerprint_keys \
     WHERE owner = ?1 AND kind = ?2 AND band = ?3 AND value = ?4";

/// An image's key rows, by the index that leads with the image: named, because the rows' hashes
/// (which the counting trigger reads) are not in it, and SQLite's planner would rather seek the
/// owner's prefix of the primary key and read every key row of the owner.
const FORGET_KEYS: &str = "DELETE FROM fingerprint_keys INDEXED BY fingerprint_keys_by_image \
     WHERE image_id = ?2 AND owner = ?1";

/// A stored page number that is no page (0).
#[derive(Debug, thiserror::Error)]
#[error("the fingerprint index holds a page numbered 0")]
struct NoPage;

fn page_number(page: u32) -> Result<PageNumber, FingerprintIndexError> {
    PageNumber::new(page).ok_or_else(|| other(NoPage))
}

/// A 64-bit key or hash as SQLite's signed integer (the same bits).
fn signed(bits: u64) -> i64 {
    i64::from_ne_bytes(bits.to_ne_bytes())
}

/// The bits of a key or hash stored by [`signed`].
fn unsigned(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

/// The index of the SQLite database's fingerprints (see the module's documentation).
#[derive(Debug, Clone)]
pub struct SqliteFingerprintIndex {
    db: Database,
}

port_errors!(FingerprintIndexError);

impl SqliteFingerprintIndex {
    /// The index of a database opened with [`super::SqliteDatabase`].
    pub(super) fn on(db: Database) -> Self {
        Self { db }
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`FingerprintIndexError`] when SQLite cannot start.
    pub fn in_memory() -> Result<Self, FingerprintIndexError> {
        Ok(Self {
            db: Database::in_memory().map_err(db_error)?,
        })
    }
}

impl SqliteFingerprintIndex {
    /// Whether the index was filled from the records stored before it existed
    /// ([`Self::mark_backfilled`]).
    ///
    /// # Errors
    /// [`FingerprintIndexError`] when SQLite fails.
    pub async fn backfilled(&self) -> Result<bool, FingerprintIndexError> {
        self.db
            .read(|conn| {
                conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM fingerprint_backfill)",
                    [],
                    |row| row.get::<_, bool>(0),
                )
                .map_err(db_error)
            })
            .await
    }

    /// Notes that the index was filled from the stored records (`images` of them put), so that it
    /// is done once. Noting it again keeps the first note.
    ///
    /// # Errors
    /// [`FingerprintIndexError`] when SQLite fails.
    pub async fn mark_backfilled(&self, images: u64) -> Result<(), FingerprintIndexError> {
        let images = i64::try_from(images).unwrap_or(i64::MAX);
        self.db
            .with(move |conn| {
                conn.execute(
                    "INSERT OR IGNORE INTO fingerprint_backfill (id, finished_at, images) \
                     VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1)",
                    params![images],
                )
                .map_err(db_error)
                .map(drop)
            })
            .await
    }
}

/// Deletes every page and key row of `owner`'s image `id` (the triggers count the keys down).
fn forget(conn: &Connection, owner: &str, id: &[u8; 16]) -> Result<(), FingerprintIndexError> {
    conn.prepare_cached(FORGET_KEYS)
        .and_then(|mut delete| delete.execute(params![owner, id]))
        .map_err(db_error)?;
    conn.prepare_cached("DELETE FROM fingerprint_pages WHERE owner = ?1 AND image_id = ?2")
        .and_then(|mut delete| delete.execute(params![owner, id]))
        .map_err(db_error)?;
    Ok(())
}

/// The stored fingerprint of `owner`'s page `(id, page)`, if any.
fn stored_page(
    conn: &Connection,
    owner: &str,
    id: ImageId,
    page: PageNumber,
) -> Result<Option<IndexedPage>, FingerprintIndexError> {
    let json: Option<String> = conn
        .prepare_cached(PAGE)
        .and_then(|mut select| {
            select
                .query_row(params![owner, id.to_bytes(), page.get()], |row| row.get(0))
                .optional()
        })
        .map_err(db_error)?;
    json.map(|json| {
        let fingerprint: PageFingerprint = serde_json::from_str(&json).map_err(other)?;
        Ok(IndexedPage::new(id, fingerprint))
    })
    .transpose()
}

/// The entries the probe's plan asks for, with the keys they are under.
fn planned_entries(
    conn: &Connection,
    owner: &str,
    probe: &Probe,
) -> Result<Vec<(BandKey, KeyEntry)>, FingerprintIndexError> {
    let mut count = conn.prepare_cached(KEY_PAGES).map_err(db_error)?;
    let mut pages = Vec::with_capacity(probe.token_keys.len());
    for key in &probe.token_keys {
        let held: Option<i64> = count
            .query_row(params![owner, key.band, signed(key.value)], |row| {
                row.get(0)
            })
            .optional()
            .map_err(db_error)?;
        pages.push(held.map_or(0, |n| u64::try_from(n).unwrap_or(0)));
    }
    let mut select = conn.prepare_cached(KEY_ENTRIES).map_err(db_error)?;
    let mut entries = Vec::new();
    for read in probe.plan(&pages) {
        let key = read.key;
        for tokens in &read.tokens {
            let args = params![
                owner,
                key.kind.name(),
                key.band,
                signed(key.value),
                tokens.least,
                tokens.most
            ];
            let mut rows = select.query(args).map_err(db_error)?;
            while let Some(row) = rows.next().map_err(db_error)? {
                let id: [u8; 16] = row.get(0).map_err(db_error)?;
                let page: u32 = row.get(1).map_err(db_error)?;
                let image: Option<i64> = row.get(3).map_err(db_error)?;
                let text: Option<i64> = row.get(4).map_err(db_error)?;
                let entry = KeyEntry::new(
                    ImageId::from_bytes(id).map_err(other)?,
                    page_number(page)?,
                    row.get(2).map_err(db_error)?,
                    image.map(|h| ImageHash(unsigned(h))),
                    text.map(|h| TextHash(unsigned(h))),
                );
                entries.push((key, entry));
            }
        }
    }
    Ok(entries)
}

#[async_trait]
impl FingerprintIndex for SqliteFingerprintIndex {
    async fn put(
        &self,
        owner: &Owner,
        image_id: ImageId,
        pages: &[PageFingerprint],
    ) -> Result<(), FingerprintIndexError> {
        let owner = owner.as_str().to_owned();
        let id = image_id.to_bytes();
        let rows = pages
            .iter()
            .map(|page| {
                let json = serde_json::to_string(page).map_err(other)?;
                Ok((KeyEntry::of(image_id, page), json, page.band_keys()))
            })
            .collect::<Result<Vec<_>, FingerprintIndexError>>()?;
        self.db
            .with(move |conn| {
                forget(conn, &owner, &id)?;
                let mut page_insert = conn
                    .prepare_cached(
                        "INSERT INTO fingerprint_pages (owner, image_id, page, fingerprint) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(db_error)?;
                let mut key_insert = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO fingerprint_keys (owner, kind, band, value, tokens, \
                         image_id, page, image, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )
                    .map_err(db_error)?;
                for (entry, json, keys) in rows {
                    let page = entry.page.get();
                    page_insert
                        .execute(params![owner, id, page, json])
                        .map_err(db_error)?;
                    for key in keys {
                        key_insert
                            .execute(params![
                                owner,
                                key.kind.name(),
                                key.band,
                                signed(key.value),
                                entry.tokens,
                                id,
                                page,
                                entry.image.map(|h| signed(h.0)),
                                entry.text.map(|h| signed(h.0)),
                            ])
                            .map_err(db_error)?;
                    }
                }
                Ok(())
            })
            .await
    }

    async fn remove(&self, owner: &Owner, image_id: ImageId) -> Result<(), FingerprintIndexError> {
        let owner = owner.as_str().to_owned();
        let id = image_id.to_bytes();
        self.db.with(move |conn| forget(conn, &owner, &id)).await
    }

    async fn find(
        &self,
        owner: &Owner,
        keys: &[BandKey],
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        let keys: BTreeSet<BandKey> = keys.iter().copied().collect();
        let owner = owner.as_str().to_owned();
        self.db
            .read(move |conn| {
                let mut select = conn.prepare_cached(KEY_PAGES_ALL).map_err(db_error)?;
                let mut under: BTreeSet<([u8; 16], u32)> = BTreeSet::new();
                for key in keys {
                    let args = params![owner, key.kind.name(), key.band, signed(key.value)];
                    let rows = select
                        .query_map(args, |row| Ok((row.get(0)?, row.get(1)?)))
                        .map_err(db_error)?;
                    for row in rows {
                        under.insert(row.map_err(db_error)?);
                    }
                }
                let mut found = Vec::new();
                for (id, page) in under {
                    let id = ImageId::from_bytes(id).map_err(other)?;
                    let page = page_number(page)?;
                    found.extend(stored_page(conn, &owner, id, page)?);
                }
                Ok(found)
            })
            .await
    }

    async fn candidates(
        &self,
        owner: &Owner,
        probe: &Probe,
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        if probe.is_void() {
            return Ok(Vec::new());
        }
        let owner = owner.as_str().to_owned();
        let probe = probe.clone();
        // A handful of seeks and the rows of the rarest keys: a point read, run at once on a free
        // shared connection like the records' `get`.
        self.db
            .read_now(move |conn| {
                let entries = planned_entries(conn, &owner, &probe)?;
                let mut found = Vec::new();
                for (id, page) in probe.shortlist(entries) {
                    // The shortlist is decided from the key rows; the page as stored decides.
                    if let Some(stored) = stored_page(conn, &owner, id, page)?
                        && probe.admits_page(&stored.fingerprint)
                    {
                        found.push(stored);
                    }
                }
                Ok(found)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite's planner does with `sql`: the detail of each step.
    fn plan_of(conn: &Connection, sql: &str, args: usize) -> Vec<String> {
        let marks: Vec<rusqlite::types::Value> =
            (0..args).map(|_| rusqlite::types::Value::Null).collect();
        let mut explain = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        explain
            .query_map(rusqlite::params_from_iter(marks), |row| {
                row.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows")
    }

    /// Every statement of a lookup, a put and a removal is a seek on an index's prefix (the key
    /// rows by key and token-count range, a count, a page, an image's rows), never a scan.
    #[test]
    fn every_statement_is_an_index_seek() {
        let conn = Connection::open_in_memory().expect("open");
        super::super::schema::register_functions(&conn).expect("functions");
        super::super::schema::migrate(&conn).expect("migrate");
        for (sql, args, index) in [
            (KEY_PAGES, 3, "PRIMARY KEY (owner=? AND band=? AND value=?)"),
            (
                KEY_ENTRIES,
                6,
                "PRIMARY KEY (owner=? AND kind=? AND band=? AND value=? AND tokens>? AND tokens<?)",
            ),
            (PAGE, 3, "PRIMARY KEY (owner=? AND image_id=? AND page=?)"),
            (
                KEY_PAGES_ALL,
                4,
                "PRIMARY KEY (owner=? AND kind=? AND band=? AND value=?)",
            ),
            (
                FORGET_KEYS,
                2,
                "fingerprint_keys_by_image (image_id=? AND owner=?)",
            ),
            (
                "DELETE FROM fingerprint_pages WHERE owner = ?1 AND image_id = ?2",
                2,
                "PRIMARY KEY (owner=? AND image_id=?)",
            ),
        ] {
            let plan = plan_of(&conn, sql, args);
            assert!(
                plan.iter()
                    .any(|step| step.starts_with("SEARCH") && step.contains(index)),
                "{sql}: {plan:?}"
            );
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }
}
