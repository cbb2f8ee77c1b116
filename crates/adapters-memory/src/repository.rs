use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::{ImageId, ImageRecord, ImageStatus, Owner, Sha256Digest};
use intake_domain::ports::{ImageRepository, ListQuery, Page, RepoError};

/// Records in an ordered map keyed by image id; lists walk it backwards (newest first).
#[derive(Debug, Clone, Default)]
pub struct MemoryRepository {
    records: Arc<Mutex<BTreeMap<ImageId, ImageRecord>>>,
}

impl MemoryRepository {
    fn records(&self) -> MutexGuard<'_, BTreeMap<ImageId, ImageRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every record, oldest first (for inspection in tests).
    pub fn all(&self) -> Vec<ImageRecord> {
        self.records().values().cloned().collect()
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.records().is_empty()
    }
}

#[async_trait]
impl ImageRepository for MemoryRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        let mut records = self.records();
        if records.contains_key(&record.image_id) {
            return Err(RepoError::AlreadyExists {
                id: record.image_id,
            });
        }
        records.insert(record.image_id, record.clone());
        Ok(())
    }

    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        Ok(self.records().get(id).cloned())
    }

    async fn replace(&self, record: &ImageRecord, expected_version: u64) -> Result<(), RepoError> {
        let mut records = self.records();
        let stored = records
            .get_mut(&record.image_id)
            .ok_or(RepoError::NotFound {
                id: record.image_id,
            })?;
        if stored.version != expected_version {
            return Err(RepoError::Precondition {
                id: record.image_id,
                expected: expected_version,
            });
        }
        *stored = record.clone();
        Ok(())
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError> {
        let after = query.cursor_image_id()?;
        let records = self.records();
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
            .records()
            .values()
            .filter(|r| {
                r.owner == *owner
                    && r.sha256 == Some(*sha256)
                    && r.status == ImageStatus::Processed
                    && !r.is_deleted()
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }
}
