//! Full-text search with SQLite FTS5.
//!
//! The `image_text` index (migrations 5 and 6) holds every live record's file name and OCR text as the
//! domain's normalised words (`index_words`, through the `intake_words` SQL function), which FTS5 cuts
//! apart at spaces only, so SQLite matches exactly the words the domain's rule finds;
//! triggers on `images` update it in the same transaction as the record, so a search never sees a
//! record and an index that disagree. Hits are ranked on the index and the small `image_text_rows`
//! table (owner, status, SHA-256) alone; only the page's records are read, in the same read
//! transaction. A search's terms become an FTS5 query of quoted phrases (no
//! user text is ever FTS5 syntax), the last one a prefix; hits are ranked by BM25 with a file name
//! weighing twice its OCR text, ties newest first.

use std::collections::HashMap;
use std::fmt::Write as _;

use async_trait::async_trait;
use intake_domain::model::{ImageStatus, SearchText};
use intake_domain::ports::{ImageSearch, RepoError, SearchHit, SearchPage, SearchQuery};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension as _, params_from_iter};

use super::{SqliteRepository, db_error, decode};

/// The FTS5 query for `text`: each term a quoted phrase of its words, all of them required, the last
/// a prefix.
fn fts_query(text: &SearchText) -> String {
    let terms = text.terms();
    let mut query = String::new();
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            query.push(' ');
        }
        let phrase = term.join(" ").replace('"', "\"\"");
        let _ = write!(query, "\"{phrase}\"");
        if i + 1 == terms.len() {
            query.push('*');
        }
    }
    query
}

#[async_trait]
impl ImageSearch for SqliteRepository {
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, RepoError> {
        let offset = query.offset()?;
        self.commit_tickets().await?;
        let query = query.clone();
        self.db
            .read(move |conn| {
                // One snapshot for the ranking and the records: a savepoint, which also nests in
                // the writer's transaction where reads run on it (an in-memory database).
                conn.execute_batch("SAVEPOINT search_read")
                    .map_err(db_error)?;
                let read = rank(conn, &query, offset).and_then(|ranked| {
                    let records = read_records(conn, ranked.iter().map(|(id, _)| id.as_slice()))?;
                    Ok((ranked, records))
                });
                conn.execute_batch("RELEASE search_read")
                    .map_err(db_error)?;
                let (ranked, records) = read?;
                let mut hits = Vec::with_capacity(ranked.len());
                for (id, score) in ranked {
                    // Every ranked id has its record in this snapshot; a missing one would be
                    // skipped rather than fail the page.
                    if let Some(json) = records.get(&id) {
                        hits.push(SearchHit::new(decode(json)?, score));
                    }
                }
                query.page_of(hits)
            })
            .await
    }
}

/// The ids and scores of one page of hits (one more than the limit), best first: ranked on the
/// index and `image_text_rows` alone, without reading a record.
fn rank(
    conn: &rusqlite::Connection,
    query: &SearchQuery,
    offset: u32,
) -> Result<Vec<(Vec<u8>, f64)>, RepoError> {
    let filter = &query.filter;
    let mut sql = String::from(
        "SELECT t.image_id, -bm25(image_text, 2.0, 1.0) AS score FROM image_text \
         JOIN image_text_rows t ON t.seq = image_text.rowid \
         WHERE image_text MATCH ?",
    );
    let mut args = vec![Value::Text(fts_query(&query.text))];
    if let Some(owner) = &filter.owner {
        sql.push_str(" AND t.owner = ?");
        args.push(Value::Text(owner.as_str().to_owned()));
    }
    if filter.statuses.len() < ImageStatus::ALL.len() {
        let marks = vec!["?"; filter.statuses.len()].join(", ");
        let _ = write!(sql, " AND t.status IN ({marks})");
        args.extend(
            filter
                .statuses
                .iter()
                .map(|s| Value::Text(s.as_str().to_owned())),
        );
    }
    if let Some(sha) = filter.sha256 {
        sql.push_str(" AND t.sha256 = ?");
        args.push(Value::Text(sha.to_hex()));
    }
    super::field_conditions(filter, "t.image_id", &mut sql, &mut args);
    sql.push_str(" ORDER BY score DESC, t.image_id DESC LIMIT ? OFFSET ?");
    args.push(Value::Integer(i64::from(filter.limit) + 1));
    args.push(Value::Integer(i64::from(offset)));
    let mut statement = conn.prepare_cached(&sql).map_err(db_error)?;
    let rows = statement
        .query_map(params_from_iter(args), |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, f64>(1)?))
        })
        .map_err(db_error)?;
    rows.map(|row| row.map_err(db_error)).collect()
}

/// The stored records (without their lines) of `ids`, by id.
fn read_records<'a>(
    conn: &rusqlite::Connection,
    ids: impl Iterator<Item = &'a [u8]>,
) -> Result<HashMap<Vec<u8>, String>, RepoError> {
    let mut statement = conn
        .prepare_cached("SELECT record FROM images WHERE image_id = ?1")
        .map_err(db_error)?;
    let mut records = HashMap::new();
    for id in ids {
        let json: Option<String> = statement
            .query_row([id], |row| row.get(0))
            .optional()
            .map_err(db_error)?;
        if let Some(json) = json {
            records.insert(id.to_vec(), json);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_become_quoted_phrases_and_the_last_a_prefix() {
        let text = SearchText::parse(r#"RM9.00 "paid" NEAR(x) invo"#).expect("parses");
        assert_eq!(fts_query(&text), r#""rm9 00" "paid" "near x" "invo"*"#);
    }
}
