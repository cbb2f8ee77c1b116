//! Records in SQLite.
//!
//! Each row keeps the record as JSON, its OCR lines as JSON in a column of their own (read only by
//! `get` and views with lines), plus the columns queries need: the id as 16 bytes (which sort like
//! the id, so listings walk the primary key backwards), the version for conditional writes, the
//! owner, the status, the SHA-256 and a deleted flag. Writes run on the database thread (group commit),
//! reads on the read-only connections (see `Database`).

use std::fmt::Write as _;
use std::path::Path;

use async_trait::async_trait;
use intake_domain::model::{ImageId, ImageRecord, ImageStatus, Owner, Sha256Digest};
use intake_domain::ports::{ImageRepository, ListQuery, OcrDetail, Page, RepoError};
use rusqlite::{ErrorCode, OptionalExtension as _, params, params_from_iter};

use super::Database;

/// The image repository over one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteRepository {
    db: Database,
}

port_errors!(RepoError);

fn decode(json: &str) -> Result<ImageRecord, RepoError> {
    serde_json::from_str(json).map_err(other)
}

/// A record with its lines put back.
fn decode_whole(json: &str, lines: Option<&str>) -> Result<ImageRecord, RepoError> {
    let mut record = decode(json)?;
    if let Some(lines) = lines {
        record.ocr_lines = Some(serde_json::from_str(lines).map_err(other)?);
    }
    Ok(record)
}

impl SqliteRepository {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`RepoError`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RepoError> {
        Ok(Self {
            db: Database::open(path.as_ref(), super::READERS).map_err(db_error)?,
        })
    }

    /// The records of a database opened with [`super::SqliteDatabase`].
    pub(super) fn on(db: Database) -> Self {
        Self { db }
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`RepoError`] when SQLite cannot start.
    pub fn in_memory() -> Result<Self, RepoError> {
        Ok(Self {
            db: Database::in_memory().map_err(db_error)?,
        })
    }
}

/// The columns of one row.
struct Row {
    id: Vec<u8>,
    owner: String,
    version: i64,
    status: &'static str,
    sha256: Option<String>,
    deleted: bool,
    json: String,
    lines: Option<String>,
}

impl Row {
    fn of(mut record: ImageRecord) -> Result<Self, RepoError> {
        let lines = record
            .ocr_lines
            .take()
            .map(|lines| serde_json::to_string(&lines))
            .transpose()
            .map_err(other)?;
        Ok(Self {
            lines,
            id: record.image_id.to_bytes().to_vec(),
            owner: record.owner.as_str().to_owned(),
            version: i64::try_from(record.version).map_err(other)?,
            status: record.status.as_str(),
            sha256: record.sha256.map(|s| s.to_hex()),
            deleted: record.is_deleted(),
            json: serde_json::to_string(&record).map_err(other)?,
        })
    }
}

#[async_trait]
impl ImageRepository for SqliteRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        let image_id = record.image_id;
        let row = Row::of(record.clone())?;
        self.db.with(move |conn| {
            let Row { id, owner, version, status, sha256: sha, deleted, json, lines } = row;
            match conn.prepare_cached(
                "INSERT INTO images (image_id, version, status, sha256, deleted, record, owner, ocr_lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            ).and_then(|mut insert| insert.execute(params![id, version, status, sha, deleted, json, owner, lines])) {
                Ok(_) => Ok(()),
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => Err(RepoError::AlreadyExists { id: image_id }),
                Err(e) => Err(db_error(e)),
            }
        })
        .await
    }

    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        self.get_view(id, OcrDetail::Lines).await
    }

    async fn get_view(
        &self,
        id: &ImageId,
        detail: OcrDetail,
    ) -> Result<Option<ImageRecord>, RepoError> {
        let id = id.to_bytes();
        self.db
            .read_now(move |conn| {
                let found: Option<(String, Option<String>)> = if detail == OcrDetail::Text {
                    conn.prepare_cached("SELECT record FROM images WHERE image_id = ?1")
                        .and_then(|mut select| {
                            select
                                .query_row(params![id.as_slice()], |row| Ok((row.get(0)?, None)))
                                .optional()
                        })
                } else {
                    conn.prepare_cached("SELECT record, ocr_lines FROM images WHERE image_id = ?1")
                        .and_then(|mut select| {
                            select
                                .query_row(params![id.as_slice()], |row| {
                                    Ok((row.get(0)?, row.get(1)?))
                                })
                                .optional()
                        })
                }
                .map_err(db_error)?;
                found
                    .map(|(json, lines)| decode_whole(&json, lines.as_deref()))
                    .transpose()
            })
            .await
    }

    async fn replace(&self, record: &ImageRecord, expected_version: u64) -> Result<(), RepoError> {
        let image_id = record.image_id;
        let row = Row::of(record.clone())?;
        self.db.with(move |conn| {
            let Row { id, owner, version, status, sha256: sha, deleted, json, lines } = row;
            let expected = i64::try_from(expected_version).map_err(other)?;
            let changed = conn
                .prepare_cached(
                    "UPDATE images SET version = ?2, status = ?3, sha256 = ?4, deleted = ?5, record = ?6, owner = ?8, ocr_lines = ?9 WHERE image_id = ?1 AND version = ?7",
                )
                .and_then(|mut update| update.execute(params![id, version, status, sha, deleted, json, expected, owner, lines]))
                .map_err(db_error)?;
            if changed == 1 {
                return Ok(());
            }
            let exists: Option<i64> =
                conn.query_row("SELECT version FROM images WHERE image_id = ?1", params![id], |row| row.get(0)).optional().map_err(db_error)?;
            Err(match exists {
                Some(_) => RepoError::Precondition { id: image_id, expected: expected_version },
                None => RepoError::NotFound { id: image_id },
            })
        })
        .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError> {
        let after = query.cursor_image_id()?;
        let query = query.clone();
        self.db
            .read(move |conn| {
                let mut sql = String::from("SELECT record FROM images WHERE 1 = 1");
                let mut args: Vec<rusqlite::types::Value> = Vec::new();
                if let Some(owner) = &query.owner {
                    sql.push_str(" AND owner = ?");
                    args.push(rusqlite::types::Value::Text(owner.as_str().to_owned()));
                }
                if let Some(id) = after {
                    sql.push_str(" AND image_id < ?");
                    args.push(rusqlite::types::Value::Blob(id.to_bytes().to_vec()));
                }
                if query.statuses.len() < ImageStatus::ALL.len() {
                    let marks = vec!["?"; query.statuses.len()].join(", ");
                    let _ = write!(sql, " AND status IN ({marks})");
                    args.extend(
                        query
                            .statuses
                            .iter()
                            .map(|s| rusqlite::types::Value::Text(s.as_str().to_owned())),
                    );
                }
                if let Some(sha) = query.sha256 {
                    sql.push_str(" AND sha256 = ?");
                    args.push(rusqlite::types::Value::Text(sha.to_hex()));
                }
                if !query.include_deleted {
                    sql.push_str(" AND deleted = 0");
                }
                sql.push_str(" ORDER BY image_id DESC LIMIT ?");
                args.push(rusqlite::types::Value::Integer(i64::from(query.limit) + 1));
                let mut statement = conn.prepare_cached(&sql).map_err(db_error)?;
                let rows = statement
                    .query_map(params_from_iter(args), |row| row.get::<_, String>(0))
                    .map_err(db_error)?;
                let mut records = Vec::new();
                for json in rows {
                    records.push(decode(&json.map_err(db_error)?)?);
                }
                Ok(query.page_of(records))
            })
            .await
    }

    async fn find_processed_by_sha256(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        limit: u32,
    ) -> Result<Vec<ImageRecord>, RepoError> {
        let sha = sha256.to_hex();
        let owner = owner.as_str().to_owned();
        self.db.read(move |conn| {
            let mut statement = conn
                .prepare_cached("SELECT record FROM images WHERE owner = ?4 AND sha256 = ?1 AND status = ?2 AND deleted = 0 ORDER BY image_id ASC LIMIT ?3")
                .map_err(db_error)?;
            let rows = statement
                .query_map(params![sha, ImageStatus::Processed.as_str(), i64::from(limit), owner], |row| row.get::<_, String>(0))
                .map_err(db_error)?;
            rows.map(|json| decode(&json.map_err(db_error)?)).collect()
        })
        .await
    }
}
