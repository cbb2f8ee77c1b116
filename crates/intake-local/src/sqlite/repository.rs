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
use intake_domain::model::{
    ImageEvent, ImageId, ImageRecord, ImageStatus, Owner, Sha256Digest, field_keys,
};
use intake_domain::ports::{ImageRepository, ListQuery, OcrDetail, Page, RepoError};
use rusqlite::{ErrorCode, OptionalExtension as _, params, params_from_iter};

use super::Database;

mod codec;
mod outbox;
mod search;

/// The image repository over one SQLite database file. One process writes a file through one
/// [`SqliteRepository::open`] or one [`super::SqliteDatabase`] (whose repositories share their state),
/// as the local server's directory lock ensures: tickets written behind are known only to it.
///
/// New upload tickets ([`ImageRepository::create_relaxed`]) are written behind: the call registers the
/// record (readable at once through `get`; a listing waits for it to be committed), hands its insert to
/// the database thread and returns without waiting; the database thread commits such inserts in
/// groups without waiting for the disk and syncs them within 50 ms. A crash in that window loses the
/// ticket, and its upload is refused. Beyond 4096 uncommitted tickets a caller waits for its own
/// commit.
#[derive(Debug, Clone)]
pub struct SqliteRepository {
    db: Database,
    creating: std::sync::Arc<Creating>,
}

/// Uncommitted tickets beyond which `create_relaxed` waits for its commit (backpressure).
const BACKLOG: usize = 4096;

/// Records being created, by id, until their insert is committed (or has failed): relaxed ones with
/// the record (readable at once), durable ones without. Every create checks and registers here under
/// one lock, so two creators of one id cannot both win.
#[derive(Debug, Default)]
pub(super) struct Creating {
    state: std::sync::Mutex<CreatingState>,
}

#[derive(Debug, Default)]
struct CreatingState {
    records: std::collections::HashMap<ImageId, Option<ImageRecord>>,
    /// The greatest id (as stored bytes) in the table or being created, once read: a relaxed create
    /// of a greater id (ids grow with time, so every fresh one) needs no look-up to know it is new.
    newest: Option<[u8; 16]>,
}

impl Creating {
    fn lock(&self) -> std::sync::MutexGuard<'_, CreatingState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Takes an id off [`Creating`] when dropped: after its insert's commit (its result is delivered
/// then), or when the insert is dropped unrun.
struct Created {
    creating: std::sync::Arc<Creating>,
    id: ImageId,
}

impl Drop for Created {
    fn drop(&mut self) {
        self.creating.lock().records.remove(&self.id);
    }
}

port_errors!(RepoError);

/// A record from its `record` column alone (listings: no lines).
fn decode(json: &str) -> Result<ImageRecord, RepoError> {
    codec::decode(json, None)
}

impl SqliteRepository {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`RepoError`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RepoError> {
        Ok(Self::on(
            Database::open(path.as_ref(), super::READERS).map_err(db_error)?,
            std::sync::Arc::default(),
        ))
    }

    /// The records of a database opened with [`super::SqliteDatabase`], sharing `creating` with its
    /// other repositories.
    pub(super) fn on(db: Database, creating: std::sync::Arc<Creating>) -> Self {
        Self { db, creating }
    }

    /// An in-memory database (tests).
    ///
    /// # Errors
    /// [`RepoError`] when SQLite cannot start.
    pub fn in_memory() -> Result<Self, RepoError> {
        Ok(Self::on(
            Database::in_memory().map_err(db_error)?,
            std::sync::Arc::default(),
        ))
    }

    /// Registers a create of `record` under the creators' lock (refusing an id being created or, for
    /// `relaxed`, already stored) and hands its insert to the database thread. The receiver gets the
    /// insert's result after its commit; the second value is how many creates are uncommitted.
    fn start_create(
        &self,
        record: &ImageRecord,
        relaxed: bool,
    ) -> Result<(tokio::sync::oneshot::Receiver<Result<(), RepoError>>, usize), RepoError> {
        let image_id = record.image_id();
        let row = Row::of(record.clone())?;
        let mut creating = self.creating.lock();
        let id = image_id.to_bytes();
        if creating.records.contains_key(&image_id) {
            return Err(RepoError::AlreadyExists { id: image_id });
        }
        // A durable create's own insert refuses a stored id; a relaxed one answers before its insert,
        // so it looks first, unless the id is newer than every stored one.
        if relaxed {
            let newest = if let Some(newest) = creating.newest {
                newest
            } else {
                let stored = self.db.read_inline(|conn| {
                    conn.prepare_cached("SELECT max(image_id) FROM images")
                        .and_then(|mut select| {
                            select.query_row([], |row| row.get::<_, Option<Vec<u8>>>(0))
                        })
                        .map_err(db_error)
                })??;
                let stored = stored
                    .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
                    .unwrap_or_default();
                let registered = creating.records.keys().map(|id| id.to_bytes()).max();
                let newest = registered.map_or(stored, |r| r.max(stored));
                creating.newest = Some(newest);
                newest
            };
            let stored = id <= newest
                && self.db.read_inline(|conn| {
                    conn.prepare_cached("SELECT 1 FROM images WHERE image_id = ?1")
                        .and_then(|mut select| {
                            select
                                .query_row(params![id.as_slice()], |_| Ok(()))
                                .optional()
                        })
                        .map(|found| found.is_some())
                        .map_err(db_error)
                })??;
            if stored {
                return Err(RepoError::AlreadyExists { id: image_id });
            }
        }
        if let Some(newest) = creating.newest.as_mut() {
            *newest = (*newest).max(id);
        }
        creating
            .records
            .insert(image_id, relaxed.then(|| record.clone()));
        let created = Created {
            creating: std::sync::Arc::clone(&self.creating),
            id: image_id,
        };
        let (job, receiver) = super::call_then(
            move |conn| insert(conn, image_id, row),
            move |result: &Result<(), RepoError>| {
                if let (Err(error), true) = (result, relaxed) {
                    tracing::error!(image_id = %image_id, error = %intake_domain::error_chain(error), "an upload ticket was answered but could not be stored; its upload will be refused");
                }
                // Off the map before the result is seen, so a caller that retries at once finds
                // the table as it is.
                drop(created);
            },
        );
        let backlog = creating.records.len();
        // Sent after the lock is let go: a job that cannot be sent is dropped here, and its guard
        // takes the id off the map.
        drop(creating);
        self.db.submit(job, relaxed)?;
        Ok((receiver, backlog))
    }
}

impl SqliteRepository {
    /// How many live (not deleted) records there are by status and rejection or failure code (an
    /// empty code for the other statuses), for the local server's metrics. One pass over the table.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn status_counts(&self) -> Result<Vec<(ImageStatus, String, u64)>, RepoError> {
        self.db
            .read(|conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT status,
                                coalesce(json_extract(record, '$.rejectionCode'),
                                         json_extract(record, '$.failureCode'), ''),
                                count(*)
                         FROM images WHERE deleted = 0 GROUP BY 1, 2 ORDER BY 1, 2",
                    )
                    .map_err(db_error)?;
                let rows = statement
                    .query_map([], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, i64>(2)?,
                        ))
                    })
                    .map_err(db_error)?;
                let mut counts = Vec::new();
                for row in rows {
                    let (status, code, count) = row.map_err(db_error)?;
                    let status: ImageStatus = status.parse().map_err(other)?;
                    counts.push((status, code, u64::try_from(count).unwrap_or(0)));
                }
                Ok(counts)
            })
            .await
    }

    /// Waits until the tickets written behind are committed, so that a read sees them: a no-op queued
    /// after them.
    async fn commit_tickets(&self) -> Result<(), RepoError> {
        if self.creating.lock().records.values().any(Option::is_some) {
            self.db.with(|_| Ok::<(), RepoError>(())).await?;
        }
        Ok(())
    }
}

/// The columns of one row, and its field keys (the `image_fields` rows).
struct Row {
    id: Vec<u8>,
    owner: String,
    version: i64,
    status: &'static str,
    sha256: Option<String>,
    deleted: bool,
    json: String,
    lines: Option<String>,
    kind: Option<&'static str>,
    keys: Vec<String>,
}

impl Row {
    fn of(record: ImageRecord) -> Result<Self, RepoError> {
        let id = record.image_id().to_bytes().to_vec();
        let owner = record.owner().as_str().to_owned();
        let version = i64::try_from(record.version()).map_err(other)?;
        let status = record.status().as_str();
        let sha256 = record.sha256().map(|s| s.to_hex());
        let deleted = record.is_deleted();
        let kind = record.document_type().map(|t| t.kind.name());
        let keys = field_keys(record.fields());
        let (json, lines) = codec::encode(record)?;
        Ok(Self {
            id,
            owner,
            version,
            status,
            sha256,
            deleted,
            json,
            lines,
            kind,
            keys,
        })
    }
}

/// Writes `keys` as the field keys of image `id` (replacing its earlier ones), in the caller's
/// transaction.
fn write_keys(
    conn: &rusqlite::Connection,
    id: &[u8],
    owner: &str,
    keys: &[String],
    replacing: bool,
) -> Result<(), RepoError> {
    if replacing {
        conn.prepare_cached("DELETE FROM image_fields WHERE image_id = ?1")
            .and_then(|mut delete| delete.execute(params![id]))
            .map_err(db_error)?;
    }
    let mut insert = conn
        .prepare_cached("INSERT INTO image_fields (image_id, field, owner) VALUES (?1, ?2, ?3)")
        .map_err(db_error)?;
    for key in keys {
        insert.execute(params![id, key, owner]).map_err(db_error)?;
    }
    Ok(())
}

/// Appends to `sql` (over a table whose image id column is `id_column`) the conditions of `query`'s
/// document kind and field filters, with their arguments.
fn field_conditions(
    query: &ListQuery,
    id_column: &str,
    sql: &mut String,
    args: &mut Vec<rusqlite::types::Value>,
) {
    use rusqlite::types::Value;
    if let Some(kind) = query.document_kind {
        let _ = write!(
            sql,
            " AND {id_column} IN (SELECT image_id FROM images WHERE document_kind = ?)"
        );
        args.push(Value::Text(kind.name().to_owned()));
    }
    for filter in &query.fields {
        match &query.owner {
            Some(owner) => {
                let _ = write!(
                    sql,
                    " AND {id_column} IN (SELECT image_id FROM image_fields WHERE owner = ? AND field = ?)"
                );
                args.push(Value::Text(owner.as_str().to_owned()));
            }
            None => {
                let _ = write!(
                    sql,
                    " AND EXISTS (SELECT 1 FROM image_fields f WHERE f.image_id = {id_column} AND f.field = ?)"
                );
            }
        }
        args.push(Value::Text(filter.key()));
    }
}

/// Inserts a new record's row.
fn insert(conn: &rusqlite::Connection, image_id: ImageId, row: Row) -> Result<(), RepoError> {
    let Row {
        id,
        owner,
        version,
        status,
        sha256: sha,
        deleted,
        json,
        lines,
        kind,
        keys,
    } = row;
    match conn.prepare_cached(
        "INSERT INTO images (image_id, version, status, sha256, deleted, record, owner, ocr_lines, document_kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    ).and_then(|mut insert| insert.execute(params![id, version, status, sha, deleted, json, owner, lines, kind])) {
        Ok(_) => write_keys(conn, &id, &owner, &keys, false),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => Err(RepoError::AlreadyExists { id: image_id }),
        Err(e) => Err(db_error(e)),
    }
}

#[async_trait]
impl ImageRepository for SqliteRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        let (receiver, _) = self.start_create(record, false)?;
        receiver
            .await
            .map_err(|_| RepoError::from(super::Interrupted))?
    }

    async fn create_relaxed(&self, record: &ImageRecord) -> Result<(), RepoError> {
        // Out of space, a ticket answered before its commit would be lost: wait for the commit, so
        // that the client is refused (507) instead.
        if !self.db.reads_inline() || self.db.is_out_of_space() {
            return self.create(record).await;
        }
        let (receiver, backlog) = self.start_create(record, true)?;
        if backlog > BACKLOG {
            return receiver
                .await
                .map_err(|_| RepoError::from(super::Interrupted))?;
        }
        Ok(())
    }

    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        self.get_view(id, OcrDetail::Lines).await
    }

    async fn get_view(
        &self,
        id: &ImageId,
        detail: OcrDetail,
    ) -> Result<Option<ImageRecord>, RepoError> {
        if let Some(Some(ticket)) = self.creating.lock().records.get(id) {
            return Ok(Some(ticket.clone()));
        }
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
                    .map(|(json, lines)| codec::decode(&json, lines.as_deref()))
                    .transpose()
            })
            .await
    }

    async fn replace(
        &self,
        record: &ImageRecord,
        expected_version: u64,
        events: &[ImageEvent],
    ) -> Result<(), RepoError> {
        let image_id = record.image_id();
        let row = Row::of(record.clone())?;
        let events = events.to_vec();
        self.db.with(move |conn| {
            let Row { id, owner, version, status, sha256: sha, deleted, json, lines, kind, keys } = row;
            let expected = i64::try_from(expected_version).map_err(other)?;
            let changed = conn
                .prepare_cached(
                    "UPDATE images SET version = ?2, status = ?3, sha256 = ?4, deleted = ?5, record = ?6, owner = ?8, ocr_lines = ?9, document_kind = ?10 WHERE image_id = ?1 AND version = ?7",
                )
                .and_then(|mut update| update.execute(params![id, version, status, sha, deleted, json, expected, owner, lines, kind]))
                .map_err(db_error)?;
            if changed == 1 {
                write_keys(conn, &id, &owner, &keys, true)?;
                // In the same transaction (and savepoint) as the update: an event that cannot be
                // stored rolls the write back.
                return outbox::insert(conn, &events);
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
        self.commit_tickets().await?;
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
                } else if query.deleted_only {
                    sql.push_str(" AND deleted = 1");
                }
                field_conditions(&query, "image_id", &mut sql, &mut args);
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
