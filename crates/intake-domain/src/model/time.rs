use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with millisecond precision.
///
/// Millisecond precision is what every store keeps (DynamoDB strings, SQLite integers, JSON), so a
/// timestamp read back from any adapter compares equal to the one written. Serialized as RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a value could not be turned into a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The value is outside the range of representable instants.
    #[error("timestamp {0} ms is out of range")]
    OutOfRange(i128),
    /// The text is not an RFC 3339 timestamp.
    #[error("not an RFC 3339 timestamp: {0:?}")]
    Malformed(String),
}

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Self = Self(OffsetDateTime::UNIX_EPOCH);

    /// Builds a timestamp from milliseconds since the Unix epoch.
    ///
    /// # Errors
    /// [`TimestampError::OutOfRange`] when the instant cannot be represented.
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        let nanos = i128::from(millis) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .map(Self)
            .map_err(|_| TimestampError::OutOfRange(i128::from(millis)))
    }

    /// The current system time, truncated to milliseconds. Services read time through the `Clock` port;
    /// this is what the system clock adapter uses.
    pub fn now_utc() -> Self {
        Self::truncate(OffsetDateTime::now_utc())
    }

    fn truncate(t: OffsetDateTime) -> Self {
        let millis = t.unix_timestamp_nanos() / 1_000_000;
        Self(
            OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// This instant plus `duration`, saturating at the largest representable instant.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self::from_unix_millis(self.unix_millis().saturating_add(millis)).unwrap_or(self)
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn duration_since(self, earlier: Self) -> Duration {
        let millis = self.unix_millis().saturating_sub(earlier.unix_millis());
        Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    }

    /// Parses an RFC 3339 timestamp (any offset; the result is UTC, truncated to milliseconds).
    ///
    /// # Errors
    /// [`TimestampError::Malformed`] when the text is not RFC 3339.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(|t| Self::truncate(t.to_offset(time::UtcOffset::UTC)))
            .map_err(|_| TimestampError::Malformed(text.chars().take(64).collect()))
    }

    /// Formats as RFC 3339 in UTC, e.g. `2026-11-25T01:04:58.123Z`.
    pub fn to_rfc3339(self) -> String {
        self.0
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.unix_millis().to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

crate::text_serde!(Timestamp, Timestamp::parse_rfc3339);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339_at_millisecond_precision() {
        let t = Timestamp::from_unix_millis(1_764_032_698_123).unwrap();
        let text = t.to_rfc3339();
        assert_eq!(text, "2025-11-25T01:04:58.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), t);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn parsing_truncates_to_milliseconds_and_converts_to_utc() {
        let t = Timestamp::parse_rfc3339("2026-01-01T02:00:00.123456+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00.123Z");
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_millis(1000).unwrap();
        assert_eq!(t.saturating_add(Duration::from_secs(2)).unix_millis(), 3000);
        assert_eq!(
            t.duration_since(t.saturating_add(Duration::from_secs(1))),
            Duration::ZERO
        );
    }
}
