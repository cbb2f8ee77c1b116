use std::fmt::Debug;

use async_trait::async_trait;

use super::{ListQuery, RepoError};
use crate::model::{Cursor, CursorError, ImageRecord, SearchText};

/// How deep a search may page: hits past this rank are not served (refine the search instead).
pub const MAX_SEARCH_DEPTH: u32 = 10_000;
/// The most hits one page of a search holds (each gets a snippet cut from its whole text).
pub const MAX_SEARCH_PAGE: u32 = 100;

/// A full-text search: the words, and the same filters, page size and cursor as a listing.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SearchQuery {
    /// What to look for.
    pub text: SearchText,
    /// Which records may be hits (owner, statuses, SHA-256; deleted records never are), the page
    /// size and the cursor.
    pub filter: ListQuery,
}

impl SearchQuery {
    /// A search for `text` among the records `filter` lets through, at most [`MAX_SEARCH_PAGE`] a page;
    /// deleted records are never hits.
    pub fn new(text: SearchText, mut filter: ListQuery) -> Self {
        filter.limit = filter.limit.min(MAX_SEARCH_PAGE);
        Self {
            text,
            filter: filter.including_deleted(false),
        }
    }

    /// The listing's scope and the search's canonical text: a cursor of one search is refused by any
    /// other search or listing.
    fn scope(&self) -> Vec<u8> {
        let mut scope = self.filter.scope();
        scope.extend_from_slice(b";q=");
        scope.extend_from_slice(self.text.canonical().as_bytes());
        scope
    }

    /// How many hits the pages before this one held (0 without a cursor).
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] when the cursor was altered or belongs to another query.
    pub fn offset(&self) -> Result<u32, RepoError> {
        self.filter
            .cursor
            .as_ref()
            .map(|cursor| {
                let payload = cursor
                    .open(&self.scope())
                    .map_err(RepoError::InvalidCursor)?;
                let bytes: [u8; 4] = payload
                    .try_into()
                    .map_err(|_| RepoError::InvalidCursor(CursorError::Payload))?;
                let offset = u32::from_be_bytes(bytes);
                if offset >= MAX_SEARCH_DEPTH {
                    return Err(RepoError::InvalidCursor(CursorError::Payload));
                }
                Ok(offset)
            })
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// The page of `hits`, best first, read from [`offset`](Self::offset) by a repository that asked
    /// for one more than the limit: cut to the limit, with a cursor when more follow (up to
    /// [`MAX_SEARCH_DEPTH`]).
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] as [`offset`](Self::offset).
    pub fn page_of(&self, mut hits: Vec<SearchHit>) -> Result<SearchPage, RepoError> {
        let limit = self.filter.limit as usize;
        let offset = self.offset()?;
        let next_cursor = if hits.len() > limit {
            hits.truncate(limit);
            let next = offset.saturating_add(self.filter.limit);
            (next < MAX_SEARCH_DEPTH).then(|| Cursor::seal(&self.scope(), &next.to_be_bytes()))
        } else {
            None
        };
        Ok(SearchPage { hits, next_cursor })
    }
}

/// A record a search found, with its relevance.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub struct SearchHit {
    /// The record (its OCR lines may be left out, as in a listing).
    pub record: ImageRecord,
    /// How well it matched: higher is better; comparable within one search only.
    pub score: f64,
}

impl SearchHit {
    /// A hit.
    pub fn new(record: ImageRecord, score: f64) -> Self {
        Self { record, score }
    }
}

/// One page of hits, best first.
#[derive(Clone, PartialEq, Debug, Default)]
#[non_exhaustive]
pub struct SearchPage {
    /// The hits.
    pub hits: Vec<SearchHit>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// Full-text search over records' OCR text and file names.
///
/// Kept in step with the records by the repository that stores them (the SQLite adapter indexes in the
/// same commit as the record; the memory adapter searches the records themselves), so a record
/// deleted or processed again is found, or not, as it now is. A deployment without an adapter
/// (DynamoDB cannot search text) answers searches as unavailable.
#[async_trait]
pub trait ImageSearch: Send + Sync + Debug {
    /// A page of the records matching `query`: every term of its text in the record's OCR text or file
    /// name, the filter's owner, statuses and SHA-256, never a deleted record nor one still awaiting
    /// its upload (a ticket, indexed once its bytes arrive); best first (ranked by
    /// relevance, BM25 or better), ties newest first.
    ///
    /// # Errors
    /// [`RepoError::InvalidCursor`] for a cursor of another query; as the technology fails.
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(limit: u32) -> SearchQuery {
        SearchQuery::new(
            SearchText::parse("total").expect("valid"),
            ListQuery::new([], limit),
        )
    }

    #[test]
    fn pages_hold_at_most_a_hundred_hits() {
        assert_eq!(search(1000).filter.limit, MAX_SEARCH_PAGE);
        assert_eq!(search(7).filter.limit, 7);
    }

    #[test]
    fn a_cursor_past_the_depth_is_refused_even_when_sealed() {
        let base = search(10);
        let deep = Cursor::seal(&base.scope(), &MAX_SEARCH_DEPTH.to_be_bytes());
        let mut query = base.clone();
        query.filter = query.filter.after(Some(deep));
        assert!(matches!(query.offset(), Err(RepoError::InvalidCursor(_))));
        let fine = Cursor::seal(&base.scope(), &20u32.to_be_bytes());
        let mut query = base;
        query.filter = query.filter.after(Some(fine));
        assert_eq!(query.offset().ok(), Some(20));
    }
}
