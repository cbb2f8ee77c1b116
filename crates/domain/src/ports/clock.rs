use std::fmt::Debug;

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

/// Version 7 ids with random bits from the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn generate(&self, now: Timestamp) -> ImageId {
        ImageId::generate(now)
    }
}
