use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};

use crate::model::{ImageId, Timestamp};

/// The source of the current time, so services and tests agree on "now".
#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The source of new image ids.
#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync + Debug {
    /// A new, unique version 7 id whose time part is `now`.
    fn generate(&self, now: Timestamp) -> ImageId;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now_utc()
    }
}

/// Version 7 ids with random bits from the operating system, strictly increasing from one call to
/// the next: within one millisecond a 12-bit counter orders them (RFC 9562, method 1), and if the clock
/// steps back the last millisecond is kept, so listings stay newest first even for bursts.
#[derive(Debug, Default)]
pub struct RandomIds {
    last: Mutex<(i64, u16)>,
}

impl IdGenerator for RandomIds {
    fn generate(&self, now: Timestamp) -> ImageId {
        let (millis, counter) = {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            let mut millis = now.unix_millis();
            let mut counter = 0u16;
            if millis <= last.0 {
                millis = last.0;
                counter = last.1 + 1;
                if counter > 0x0FFF {
                    millis += 1;
                    counter = 0;
                }
            }
            *last = (millis, counter);
            (millis, counter)
        };
        let noise = uuid::Uuid::new_v4().into_bytes();
        let mut random = [0u8; 10];
        random[0] = u8::try_from(counter >> 8).unwrap_or(0) & 0x0F;
        random[1] = u8::try_from(counter & 0xFF).unwrap_or(0);
        random[2..].copy_from_slice(&noise[..8]);
        ImageId::from_parts(Timestamp::from_unix_millis(millis).unwrap_or(now), random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_increase_within_a_millisecond_and_across_clock_steps_back() {
        let ids = RandomIds::default();
        let t = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        let mut previous = ids.generate(t);
        for _ in 0..5000 {
            let next = ids.generate(t);
            assert!(next > previous);
            previous = next;
        }
        let earlier = Timestamp::from_unix_millis(1_699_999_999_000).unwrap();
        assert!(
            ids.generate(earlier) > previous,
            "a clock step back broke the order"
        );
    }
}
