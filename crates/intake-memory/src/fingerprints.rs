//! Near-duplicate fingerprints in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use intake_domain::model::{BandKey, ImageId, Owner, PageFingerprint, PageNumber, Probe};
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
        // (image keys, token keys) each stored page is under, counted from the key maps alone.
        let mut hits: BTreeMap<(ImageId, PageNumber), (usize, usize)> = BTreeMap::new();
        for (keys, image) in [(&probe.image_keys, true), (&probe.token_keys, false)] {
            for key in keys {
                for &entry in state
                    .bands
                    .get(&(owner.clone(), *key))
                    .into_iter()
                    .flatten()
                {
                    let counts = hits.entry(entry).or_default();
                    if image {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                }
            }
        }
        Ok(hits
            .into_iter()
            .filter(|&(_, (image, tokens))| probe.admits(image, tokens))
            .filter_map(|(entry, _)| state.page(owner, entry))
            .collect())
    }
}
