//! How long a presigned URL lives.

use std::fmt;
use std::time::Duration;

/// A presigned URL's lifetime: at least a second, at most seven days (SigV4's limit, which every
/// signer keeps). Checked once, here; signers take it as it is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct UrlTtl(Duration);

/// Why a duration is not a [`UrlTtl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a URL lifetime must be between 1 second and 7 days, got {0:?}")]
pub struct UrlTtlError(pub Duration);

impl UrlTtl {
    /// The shortest lifetime.
    pub const MIN: Self = Self(Duration::from_secs(1));
    /// The longest lifetime (7 days).
    pub const MAX: Self = Self(Duration::from_hours(168));

    /// A lifetime of `duration`.
    ///
    /// # Errors
    /// [`UrlTtlError`] outside `1 s..=7 days`.
    pub const fn new(duration: Duration) -> Result<Self, UrlTtlError> {
        let nanos = duration.as_nanos();
        if nanos < Self::MIN.0.as_nanos() || nanos > Self::MAX.0.as_nanos() {
            return Err(UrlTtlError(duration));
        }
        Ok(Self(duration))
    }

    /// A lifetime of `secs` seconds.
    ///
    /// # Errors
    /// [`UrlTtlError`] outside `1..=604800`.
    pub const fn from_secs(secs: u64) -> Result<Self, UrlTtlError> {
        Self::new(Duration::from_secs(secs))
    }

    /// The lifetime.
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// The lifetime in whole seconds.
    pub const fn as_secs(self) -> u64 {
        self.0.as_secs()
    }
}

impl fmt::Display for UrlTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0.as_secs())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn lifetimes_are_one_second_to_seven_days() {
        assert_eq!(UrlTtl::from_secs(1).unwrap(), UrlTtl::MIN);
        assert_eq!(UrlTtl::from_secs(604_800).unwrap(), UrlTtl::MAX);
        assert_eq!(UrlTtl::from_secs(300).unwrap().as_secs(), 300);
        for bad in [
            Duration::ZERO,
            Duration::from_millis(999),
            Duration::from_secs(604_801),
        ] {
            assert_eq!(UrlTtl::new(bad), Err(UrlTtlError(bad)));
        }
    }
}
