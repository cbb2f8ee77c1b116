//! Near-duplicate fingerprints in SQLite, next to the records: `fingerprint_pages` keeps each page's
//! fingerprint (JSON), `fingerprint_bands` a row per band key the domain stores it under, so a
//! lookup is one indexed `IN` per (hash kind, band), never a scan of the owner's images.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use intake_domain::model::{BandKey, ImageId, Owner, PageFingerprint, Probe};
use intake_domain::ports::{FingerprintIndex, FingerprintIndexError, IndexedPage};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::Database;

/// The fingerprint index over one SQLite database file (see [`super::SqliteDatabase::fingerprints`]).
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

/// Deletes every page and band of `owner`'s image `id`.
fn forget(conn: &Connection, owner: &str, id: &[u8; 16]) -> Result<(), FingerprintIndexError> {
    conn.execute(
        "DELETE FROM fingerprint_bands WHERE owner = ?1 AND image_id = ?2",
        params![owner, id],
    )
    .map_err(db_error)?;
    conn.execute(
        "DELETE FROM fingerprint_pages WHERE owner = ?1 AND image_id = ?2",
        params![owner, id],
    )
    .map_err(db_error)?;
    Ok(())
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
                Ok((page.page.get(), json, page.band_keys()))
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
                let mut band_insert = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO fingerprint_bands \
                         (owner, kind, band, value, image_id, page) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(db_error)?;
                for (page, json, keys) in rows {
                    page_insert
                        .execute(params![owner, id, page, json])
                        .map_err(db_error)?;
                    for key in keys {
                        band_insert
                            .execute(params![
                                owner,
                                key.kind.name(),
                                key.band,
                                key.value,
                                id,
                                page
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
        // One `IN` list per (kind, band): every lookup an exact match on the primary key's prefix.
        let mut groups: BTreeMap<(&'static str, u8), BTreeSet<u16>> = BTreeMap::new();
        for key in keys {
            groups
                .entry((key.kind.name(), key.band))
                .or_default()
                .insert(key.value);
        }
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let owner = owner.as_str().to_owned();
        self.db
            .read(move |conn| {
                let mut found: BTreeMap<([u8; 16], u32), String> = BTreeMap::new();
                for ((kind, band), values) in groups {
                    let marks = vec!["?"; values.len()].join(", ");
                    let sql = format!(
                        "SELECT p.image_id, p.page, p.fingerprint FROM fingerprint_pages p \
                         JOIN (SELECT DISTINCT image_id, page FROM fingerprint_bands \
                               WHERE owner = ?1 AND kind = ?2 AND band = ?3 AND value IN ({marks})) b \
                         ON p.owner = ?1 AND p.image_id = b.image_id AND p.page = b.page"
                    );
                    let mut statement = conn.prepare(&sql).map_err(db_error)?;
                    let args: Vec<rusqlite::types::Value> = [
                        rusqlite::types::Value::Text(owner.clone()),
                        rusqlite::types::Value::Text(kind.to_owned()),
                        rusqlite::types::Value::Integer(i64::from(band)),
                    ]
                    .into_iter()
                    .chain(
                        values
                            .iter()
                            .map(|&v| rusqlite::types::Value::Integer(i64::from(v))),
                    )
                    .collect();
                    let rows = statement
                        .query_map(params_from_iter(args), |row| {
                            Ok((
                                row.get::<_, [u8; 16]>(0)?,
                                row.get::<_, u32>(1)?,
                                row.get::<_, String>(2)?,
                            ))
                        })
                        .map_err(db_error)?;
                    for row in rows {
                        let (id, page, json) = row.map_err(db_error)?;
                        found.insert((id, page), json);
                    }
                }
                found
                    .into_iter()
                    .map(|((id, _), json)| {
                        let image_id = ImageId::from_bytes(id).map_err(other)?;
                        let fingerprint: PageFingerprint =
                            serde_json::from_str(&json).map_err(other)?;
                        Ok(IndexedPage::new(image_id, fingerprint))
                    })
                    .collect()
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
        // The probe's keys as one exact `IN` per (kind, band) on the primary key's prefix, each a
        // seek; the pages under them counted by kind and kept as the probe admits them, so only the
        // candidates' fingerprints are read.
        let mut groups: BTreeMap<(&'static str, u8), BTreeSet<u16>> = BTreeMap::new();
        for key in probe.image_keys.iter().chain(&probe.token_keys) {
            groups
                .entry((key.kind.name(), key.band))
                .or_default()
                .insert(key.value);
        }
        let never = |n: Option<usize>| n.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut args = vec![
            Value::Text(owner.as_str().to_owned()),
            Value::Integer(never(probe.tokens_with_image)),
            Value::Integer(never(probe.tokens_alone)),
        ];
        let mut selects = Vec::new();
        for ((kind, band), values) in groups {
            // Numbered marks: SQLite numbers a bare `?` after the largest number seen before it.
            let (kind_at, band_at) = (args.len() + 1, args.len() + 2);
            let marks: Vec<String> = (0..values.len())
                .map(|i| format!("?{}", band_at + 1 + i))
                .collect();
            selects.push(format!(
                "SELECT kind, image_id, page FROM fingerprint_bands WHERE owner = ?1 \
                 AND kind = ?{kind_at} AND band = ?{band_at} AND value IN ({})",
                marks.join(", ")
            ));
            args.push(Value::Text(kind.to_owned()));
            args.push(Value::Integer(i64::from(band)));
            args.extend(values.into_iter().map(|v| Value::Integer(i64::from(v))));
        }
        let sql = format!(
            "SELECT p.image_id, p.fingerprint FROM fingerprint_pages p JOIN \
             (SELECT image_id, page, SUM(kind = 'image') AS images, SUM(kind = 'token') AS tokens \
              FROM ({}) GROUP BY image_id, page \
              HAVING (images > 0 AND tokens >= ?2) OR tokens >= ?3) c \
             ON p.owner = ?1 AND p.image_id = c.image_id AND p.page = c.page",
            selects.join(" UNION ALL ")
        );
        self.db
            .read(move |conn| {
                let mut statement = conn.prepare(&sql).map_err(db_error)?;
                let rows = statement
                    .query_map(params_from_iter(args), |row| {
                        Ok((row.get::<_, [u8; 16]>(0)?, row.get::<_, String>(1)?))
                    })
                    .map_err(db_error)?;
                let mut found = Vec::new();
                for row in rows {
                    let (id, json) = row.map_err(db_error)?;
                    let image_id = ImageId::from_bytes(id).map_err(other)?;
                    let fingerprint: PageFingerprint =
                        serde_json::from_str(&json).map_err(other)?;
                    found.push(IndexedPage::new(image_id, fingerprint));
                }
                Ok(found)
            })
            .await
    }
}
