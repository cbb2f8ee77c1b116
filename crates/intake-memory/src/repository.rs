use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::{
    EventId, ImageEvent, ImageId, ImageRecord, ImageStatus, Owner, Sha256Digest,
};
use intake_domain::ports::{
    EventOutbox, ImageRepository, ImageSearch, ListQuery, Page, RepoError, SearchHit, SearchPage,
    SearchQuery,
};

/// Records in an ordered map keyed by image id; lists walk it backwards (newest first). The outbox
/// of committed events sits under the same lock, so a write and its events are one step.
#[derive(Debug, Clone, Default)]
pub struct MemoryRepository {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<ImageId, ImageRecord>,
    outbox: VecDeque<ImageEvent>,
}

impl MemoryRepository {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every record, oldest first (for inspection in tests).
    pub fn all(&self) -> Vec<ImageRecord> {
        self.state().records.values().cloned().collect()
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.state().records.len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.state().records.is_empty()
    }
}

#[async_trait]
impl ImageRepository for MemoryRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        let records = &mut self.state().records;
        if records.contains_key(&record.image_id()) {
            return Err(RepoError::AlreadyExists {
                id: record.image_id(),
            });
        }
        records.insert(record.image_id(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        Ok(self.state().records.get(id).cloned())
    }

    async fn replace(
        &self,
        record: &ImageRecord,
        expected_version: u64,
        events: &[ImageEvent],
    ) -> Result<(), RepoError> {
        let mut state = self.state();
        let stored = state
            .records
            .get_mut(&record.image_id())
            .ok_or(RepoError::NotFound {
                id: record.image_id(),
            })?;
        if stored.version() != expected_version {
            return Err(RepoError::Precondition {
                id: record.image_id(),
                expected: expected_version,
            });
        }
        *stored = record.clone();
        state.outbox.extend(events.iter().cloned());
        Ok(())
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError> {
        let after = query.cursor_image_id()?;
        let state = self.state();
        let records = &state.records;
        let limit = query.limit as usize;
        let older = match after {
            Some(id) => records.range(..id),
            None => records.range(..),
        };
        let page: Vec<ImageRecord> = older
            .rev()
            .map(|(_, r)| r)
            .filter(|r| query.matches(r))
            .take(limit + 1)
            .cloned()
            .collect();
        Ok(query.page_of(page))
    }

    async fn find_processed_by_sha256(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        limit: u32,
    ) -> Result<Vec<ImageRecord>, RepoError> {
        Ok(self
            .state()
            .records
            .values()
            .filter(|r| {
                r.owner() == owner
                    && r.sha256() == Some(*sha256)
                    && r.status() == ImageStatus::Processed
                    && !r.is_deleted()
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

/// The outbox: events in commit order until acknowledged.
#[async_trait]
impl EventOutbox for MemoryRepository {
    async fn pending(&self, limit: u32) -> Result<Vec<ImageEvent>, RepoError> {
        Ok(self
            .state()
            .outbox
            .iter()
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn acknowledge(&self, ids: &[EventId]) -> Result<(), RepoError> {
        self.state()
            .outbox
            .retain(|event| !ids.contains(&event.id()));
        Ok(())
    }
}

/// The reference search: every candidate record's file name and OCR text scanned with the domain's
/// word rule, field by field, ranked by BM25 (k1 = 1.2, b = 0.75) over the candidates with the file
/// name weighing twice its text, ties newest first.
#[async_trait]
impl ImageSearch for MemoryRepository {
    // Counts of words and records are far below 2^52.
    #[allow(clippy::cast_precision_loss)]
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, RepoError> {
        /// The weights of the file name and the OCR text.
        const WEIGHTS: [f64; 2] = [2.0, 1.0];
        /// One field of one record: how often each term occurs in it, and its length in words.
        struct Field {
            counts: Vec<usize>,
            length: usize,
        }
        let offset = query.offset()? as usize;
        let state = self.state();
        let records = &state.records;
        let candidates: Vec<(&ImageRecord, [Field; 2])> = records
            .values()
            .rev()
            .filter(|r| {
                query.filter.matches(r)
                    && !r.is_deleted()
                    && r.status() != ImageStatus::AwaitingUpload
            })
            .map(|r| {
                let field = |text: &str| {
                    let (counts, length) = query.text.term_counts(text);
                    Field { counts, length }
                };
                let fields = [
                    field(r.file_name().as_str()),
                    field(r.ocr_text().unwrap_or_default()),
                ];
                (r, fields)
            })
            .collect();
        let n = candidates.len() as f64;
        let average = |f: usize| {
            candidates
                .iter()
                .map(|c| c.1.get(f).map_or(0.0, |field| field.length as f64))
                .sum::<f64>()
                / n.max(1.0)
        };
        let averages = [average(0), average(1)];
        let terms = query.text.terms().len();
        let has = |fields: &[Field; 2], t: usize| {
            fields
                .iter()
                .any(|f| f.counts.get(t).is_some_and(|&k| k > 0))
        };
        let idf: Vec<f64> = (0..terms)
            .map(|t| {
                let having = candidates.iter().filter(|c| has(&c.1, t)).count() as f64;
                ((n - having + 0.5) / (having + 0.5) + 1.0).ln()
            })
            .collect();
        let mut hits: Vec<SearchHit> = candidates
            .iter()
            .filter(|(_, fields)| (0..terms).all(|t| has(fields, t)))
            .map(|(record, fields)| {
                let mut score = 0.0;
                for (t, idf) in idf.iter().enumerate() {
                    for ((field, average), weight) in fields.iter().zip(averages).zip(WEIGHTS) {
                        let k = field.counts.get(t).copied().unwrap_or(0) as f64;
                        let norm = 0.25 + 0.75 * field.length as f64 / average.max(1.0);
                        score += weight * idf * k * 2.2 / (k + 1.2 * norm);
                    }
                }
                SearchHit::new((*record).clone(), score)
            })
            .collect();
        // Newest first already; a stable sort keeps that order among equal scores.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        let page: Vec<SearchHit> = hits
            .into_iter()
            .skip(offset)
            .take(query.filter.limit as usize + 1)
            .collect();
        query.page_of(page)
    }
}
