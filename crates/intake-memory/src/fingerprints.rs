//! Near-duplicate fingerprints in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::{BandKey, ImageId, KeyEntry, Owner, PageFingerprint, PageNumber, Probe};
use intake_domain::ports::{FingerprintIndex, FingerprintIndexError, IndexedPage};

/// Fingerprints in maps: each image's pages, and for every (owner, band key) the pages stored under
/// it, so a lookup reads only the keys it asks for, as an indexed store does.
#[derive(Debug, Clone, Default)]
pub struct MemoryFingerprintIndex {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    pages: HashMap<(Owner, ImageId), Vec<PageFingerprint>>,
    bands: HashMap<(Owner, BandKey), BTreeSet<(ImageId, PageNumber)>>,
}

impl State {
    fn forget(&mut self, owner: &Owner, image_id: ImageId) {
        let Some(pages) = self.pages.remove(&(owner.clone(), image_id)) else {
            return;
        };
        for page in pages {
            for key in page.band_keys() {
                let slot = (owner.clone(), key);
                if let Some(entries) = self.bands.get_mut(&slot) {
                    entries.remove(&(image_id, page.page));
                    if entries.is_empty() {
                        self.bands.remove(&slot);
                    }
                }
            }
        }
    }
}

impl State {
    /// The stored page `(image_id, page)` of `owner`, as an indexed page.
    fn page(&self, owner: &Owner, (image_id, page): (ImageId, PageNumber)) -> Option<IndexedPage> {
        self.pages
            .get(&(owner.clone(), image_id))?
            .iter()
            .find(|p| p.page == page)
            .map(|p| IndexedPage::new(image_id, p.clone()))
    }
}

impl MemoryFingerprintIndex {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many images have fingerprints (for inspection in tests).
    pub fn len(&self) -> usize {
        self.state().pages.len()
    }

    /// Whether no image has fingerprints.
    pub fn is_empty(&self) -> bool {
        self.state().pages.is_empty()
    }
}

#[async_trait]
impl FingerprintIndex for MemoryFingerprintIndex {
    async fn put(
        &self,
        owner: &Owner,
        image_id: ImageId,
        pages: &[PageFingerprint],
    ) -> Result<(), FingerprintIndexError> {
        let mut state = self.state();
        state.forget(owner, image_id);
        if pages.is_empty() {
            return Ok(());
        }
        for page in pages {
            for key in page.band_keys() {
                state
                    .bands
                    .entry((owner.clone(), key))
                    .or_default()
                    .insert((image_id, page.page));
            }
        }
        state
            .pages
            .insert((owner.clone(), image_id), pages.to_vec());
        Ok(())
    }

    async fn remove(&self, owner: &Owner, image_id: ImageId) -> Result<(), FingerprintIndexError> {
        self.state().forget(owner, image_id);
        Ok(())
    }

    async fn find(
        &self,
        owner: &Owner,
        keys: &[BandKey],
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        let state = self.state();
        let mut hits: BTreeMap<(ImageId, PageNumber), ()> = BTreeMap::new();
        for key in keys {
            if let Some(entries) = state.bands.get(&(owner.clone(), *key)) {
                hits.extend(entries.iter().map(|&e| (e, ())));
            }
        }
        Ok(hits
            .into_keys()
            .filter_map(|entry| state.page(owner, entry))
            .collect())
    }

    async fn candidates(
        &self,
        owner: &Owner,
        probe: &Probe,
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError> {
        let state = self.state();
        let entries_of =
            |key: BandKey| state.bands.get(&(owner.clone(), key)).into_iter().flatten();
        // How many pages each token key holds: the plan reads the rarest each token count needs.
        let pages: Vec<u64> = probe
            .token_keys
            .iter()
            .map(|&key| entries_of(key).count() as u64)
            .collect();
        let mut entries = Vec::new();
        for read in probe.plan(&pages) {
            for &(image_id, page) in entries_of(read.key) {
                let Some(found) = state.page(owner, (image_id, page)) else {
                    continue;
                };
                let entry = KeyEntry::of(image_id, &found.fingerprint);
                if read
                    .tokens
                    .iter()
                    .any(|t| (t.least..=t.most).contains(&entry.tokens))
                {
                    entries.push((read.key, entry));
                }
            }
        }
        Ok(probe
            .shortlist(entries)
            .into_iter()
            .filter_map(|entry| state.page(owner, entry))
            .filter(|found| probe.admits_page(&found.fingerprint))
            .collect())
    }
}
