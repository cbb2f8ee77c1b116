//! The outbox in SQLite: a row per event, inserted by the write that reports it (same transaction),
//! read in commit order (`seq`) and deleted once published.

use async_trait::async_trait;
use intake_domain::model::{EventId, EventKind, ImageEvent, ImageId, Owner, Timestamp};
use intake_domain::ports::{EventOutbox, RepoError};
use rusqlite::{Connection, params};

use super::{SqliteRepository, db_error, other};

/// Inserts `events` in order (on the database thread, inside the caller's write).
pub(super) fn insert(conn: &Connection, events: &[ImageEvent]) -> Result<(), RepoError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut statement = conn
        .prepare_cached(
            "INSERT INTO outbox (event_id, type, time_ms, owner, image_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db_error)?;
    for event in events {
        statement
            .execute(params![
                event.id().to_string(),
                event.kind().as_str(),
                event.time().unix_millis(),
                event.owner().as_str(),
                event.image_id().to_bytes().as_slice(),
                event.body(),
            ])
            .map_err(db_error)?;
    }
    Ok(())
}

/// One stored row: (event id, type, time, owner, image id, body).
type Stored = (String, String, i64, String, Vec<u8>, String);

fn decode((id, kind, time, owner, image_id, body): Stored) -> Result<ImageEvent, RepoError> {
    let id = EventId::parse(&id).map_err(other)?;
    let kind: EventKind = kind.parse().map_err(other)?;
    let time = Timestamp::from_unix_millis(time).map_err(other)?;
    let owner = Owner::parse(&owner).map_err(other)?;
    let image_id = <[u8; 16]>::try_from(image_id)
        .ok()
        .and_then(|bytes| ImageId::from_bytes(bytes).ok())
        .ok_or_else(|| other(intake_domain::model::ImageIdError::NotAUuid))?;
    ImageEvent::from_stored(id, kind, time, owner, image_id, body).map_err(other)
}

#[async_trait]
impl EventOutbox for SqliteRepository {
    async fn pending(&self, limit: u32) -> Result<Vec<ImageEvent>, RepoError> {
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT event_id, type, time_ms, owner, image_id, body FROM outbox ORDER BY seq LIMIT ?1",
                    )
                    .map_err(db_error)?;
                let rows = statement
                    .query_map(params![i64::from(limit)], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
                    })
                    .map_err(db_error)?;
                rows.map(|row| decode(row.map_err(db_error)?)).collect()
            })
            .await
    }

    async fn acknowledge(&self, ids: &[EventId]) -> Result<(), RepoError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.db
            .with(move |conn| {
                let mut statement = conn
                    .prepare_cached("DELETE FROM outbox WHERE event_id = ?1")
                    .map_err(db_error)?;
                for id in &ids {
                    statement.execute(params![id]).map_err(db_error)?;
                }
                Ok(())
            })
            .await
    }
}
