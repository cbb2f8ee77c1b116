use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use intake_domain::model::{ImageId, Timestamp};
use intake_domain::ports::{Clock, IdGenerator};

/// A clock that stands still until told to move. Clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

/// 2026-01-01T00:00:00Z, where a default manual clock starts.
const START_MILLIS: i64 = 1_767_225_600_000;

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(Timestamp::from_unix_millis(START_MILLIS).unwrap_or(Timestamp::UNIX_EPOCH))
    }
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }

    /// Sets the time.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Deterministic version 7 ids: the time part is the given instant, the random part a counter, so ids
/// are unique and increase even within one millisecond.
#[derive(Debug, Clone, Default)]
pub struct SequentialIds {
    next: Arc<AtomicU64>,
}

impl IdGenerator for SequentialIds {
    fn generate(&self, now: Timestamp) -> ImageId {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let mut random = [0u8; 10];
        random[2..].copy_from_slice(&n.to_be_bytes());
        ImageId::from_parts(now, random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_ids_increase_within_a_millisecond() {
        let clock = ManualClock::default();
        let other = clock.clone();
        clock.advance(Duration::from_secs(2));
        assert_eq!(other.now().unix_millis(), START_MILLIS + 2000);
        let ids = SequentialIds::default();
        let (a, b) = (ids.generate(other.now()), ids.generate(other.now()));
        assert!(a < b);
        assert_eq!(a.created_at(), other.now());
    }
}
