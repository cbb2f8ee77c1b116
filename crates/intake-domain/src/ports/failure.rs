//! The failures every port shares, whatever its technology: one vocabulary for whether to retry,
//! back off or wait for space, which the services' errors and every entry point's protocol read
//! (HTTP status, Lambda retry, queue back-off) instead of each port error deciding again.

use std::fmt;

use super::BoxError;
use crate::error::ErrorKind;

/// What kind of failure a port met.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum FailureKind {
    /// Unreachable, busy or timed out; retrying later may succeed.
    Unavailable,
    /// Throttled; back off, then retry.
    Throttled,
    /// No space left to write; retry once space is freed.
    StorageFull,
    /// Anything else (damaged data, a refused request, a bug); retrying will not help.
    Other,
}

impl FailureKind {
    /// Whether the same call may succeed later.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Unavailable | Self::Throttled | Self::StorageFull
        )
    }

    /// The class of service error this failure makes (and so its HTTP status, once, at the edge).
    pub const fn error_kind(self) -> ErrorKind {
        match self {
            Self::Unavailable => ErrorKind::Unavailable,
            Self::Throttled => ErrorKind::Throttled,
            Self::StorageFull => ErrorKind::InsufficientStorage,
            Self::Other => ErrorKind::Internal,
        }
    }

    /// The stable error code a service error made of this failure carries.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "UNAVAILABLE",
            Self::Throttled => "THROTTLED",
            Self::StorageFull => "INSUFFICIENT_STORAGE",
            Self::Other => "INTERNAL",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "unavailable",
            Self::Throttled => "throttled the request",
            Self::StorageFull => "has no space left",
            Self::Other => "failed",
        })
    }
}

/// A port failure of one of the shared kinds, with its cause. It shows as its cause (the port's
/// error names the port and the kind), so an error chain says each thing once.
#[derive(Debug)]
pub struct Failure {
    kind: FailureKind,
    cause: BoxError,
}

impl Failure {
    /// A failure of `kind` caused by `cause`.
    pub fn new(kind: FailureKind, cause: impl Into<BoxError>) -> Self {
        Self {
            kind,
            cause: cause.into(),
        }
    }

    /// Unreachable, busy or timed out.
    pub fn unavailable(cause: impl Into<BoxError>) -> Self {
        Self::new(FailureKind::Unavailable, cause)
    }

    /// Throttled.
    pub fn throttled(cause: impl Into<BoxError>) -> Self {
        Self::new(FailureKind::Throttled, cause)
    }

    /// Out of space.
    pub fn storage_full(cause: impl Into<BoxError>) -> Self {
        Self::new(FailureKind::StorageFull, cause)
    }

    /// Anything else.
    pub fn other(cause: impl Into<BoxError>) -> Self {
        Self::new(FailureKind::Other, cause)
    }

    /// Its kind.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause.fmt(f)
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.source()
    }
}

/// What every port's error says of itself: which shared failure it is, if it is one. The rules
/// built on it are written once, here.
pub trait PortError: std::error::Error {
    /// The shared kind of this failure; `None` for the port's own outcomes (not found, a lost lease,
    /// a refused request...), which are not retried unless the port says otherwise.
    fn failure(&self) -> Option<FailureKind>;

    /// Whether the same call may succeed later.
    fn is_retryable(&self) -> bool {
        self.failure().is_some_and(FailureKind::is_retryable)
    }

    /// Whether storage ran out of space.
    fn is_storage_full(&self) -> bool {
        self.failure() == Some(FailureKind::StorageFull)
    }

    /// Whether the dependency throttled the call (back off before retrying).
    fn is_throttled(&self) -> bool {
        self.failure() == Some(FailureKind::Throttled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_chain;

    #[test]
    fn a_failure_shows_as_its_cause_and_its_kind_decides_retries() {
        let failure = Failure::storage_full(std::io::Error::other("disk full"));
        assert_eq!(failure.to_string(), "disk full");
        assert_eq!(error_chain(&failure), "disk full");
        assert!(failure.kind().is_retryable());
        assert_eq!(failure.kind().error_kind(), ErrorKind::InsufficientStorage);
        assert_eq!(failure.kind().code(), "INSUFFICIENT_STORAGE");
        assert!(!FailureKind::Other.is_retryable());
        assert_eq!(FailureKind::Throttled.code(), "THROTTLED");
    }
}
