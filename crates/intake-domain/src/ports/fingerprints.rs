//! The fingerprint index: where the pages' fingerprints are kept, per owner, so the processor can
//! find a new upload's near-duplicates without scanning the owner's images.

use std::fmt::Debug;

use async_trait::async_trait;

use super::{Failure, FailureKind, PortError};
use crate::model::{BandKey, ImageId, Owner, PageFingerprint, Probe};

/// Why the index could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintIndexError {
    /// A failure of a kind every port shares (unavailable, throttled, out of space, other).
    #[error("the fingerprint index {}", .0.kind())]
    Failed(#[from] Failure),
}

impl PortError for FingerprintIndexError {
    fn failure(&self) -> Option<FailureKind> {
        match self {
            Self::Failed(failure) => Some(failure.kind()),
        }
    }
}

/// One stored page of an image, as a lookup finds it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct IndexedPage {
    /// The image the page is of.
    pub image_id: ImageId,
    /// The page's fingerprint, as stored.
    pub fingerprint: PageFingerprint,
}

impl IndexedPage {
    /// A stored page.
    pub fn new(image_id: ImageId, fingerprint: PageFingerprint) -> Self {
        Self {
            image_id,
            fingerprint,
        }
    }
}

/// The pages' fingerprints of each owner's images, indexed by their keys
/// ([`PageFingerprint::band_keys`]), each entry with its page's [`KeyEntry`](crate::model::KeyEntry)
/// facts, and each token key with how many pages it holds: a lookup is one exact match per key,
/// never a scan of the owner's images. The domain decides which keys to store and to read; the
/// adapter keeps and finds them.
#[async_trait]
pub trait FingerprintIndex: Send + Sync + Debug {
    /// Keeps `pages` as the fingerprints of `owner`'s image `image_id`, replacing whatever it had
    /// (none when `pages` is empty). Each page is found under its [`band_keys`](PageFingerprint::band_keys).
    ///
    /// # Errors
    /// [`FingerprintIndexError`] as the technology fails; nothing is changed then.
    async fn put(
        &self,
        owner: &Owner,
        image_id: ImageId,
        pages: &[PageFingerprint],
    ) -> Result<(), FingerprintIndexError>;

    /// Forgets `owner`'s image `image_id` (deleted or purged); nothing to forget is not an error.
    ///
    /// # Errors
    /// [`FingerprintIndexError`] as the technology fails.
    async fn remove(&self, owner: &Owner, image_id: ImageId) -> Result<(), FingerprintIndexError>;

    /// Every stored page of `owner`'s images stored under at least one of `keys`, each page once, in
    /// no particular order: candidates, which the caller verifies by their full distance.
    ///
    /// # Errors
    /// [`FingerprintIndexError`] as the technology fails.
    async fn find(
        &self,
        owner: &Owner,
        keys: &[BandKey],
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError>;

    /// The stored pages of `owner`'s images that `probe` admits ([`Probe::admits_page`]), each page
    /// once, in no particular order: found by the reads of the probe's [plan](Probe::plan) (given
    /// how many pages each of its token keys holds) and shortlisted from those key entries
    /// ([`Probe::shortlist`]), so pages that cannot be duplicates are never read.
    ///
    /// # Errors
    /// [`FingerprintIndexError`] as the technology fails.
    async fn candidates(
        &self,
        owner: &Owner,
        probe: &Probe,
    ) -> Result<Vec<IndexedPage>, FingerprintIndexError>;
}
