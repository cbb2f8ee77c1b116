use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::Timestamp;

/// The identity of an image: a UUID version 7.
///
/// Version 7 ids begin with their creation time in milliseconds, so ordering ids orders images by
/// creation; repositories list newest first by sorting on the id alone. Only version 7 UUIDs parse.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(Uuid);

/// Why a text is not an [`ImageId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageIdError {
    /// The text is not a UUID.
    #[error("image id is not a UUID")]
    NotAUuid,
    /// The UUID is not of version 7.
    #[error("image id must be a version 7 UUID, got version {0}")]
    WrongVersion(usize),
}

impl ImageId {
    /// Builds an id from a creation time and 80 random bits (the caller's source of randomness).
    pub fn from_parts(created: Timestamp, random: [u8; 10]) -> Self {
        let millis = u64::try_from(created.unix_millis()).unwrap_or(0);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }

    /// A fresh id for `created`, with random bits from the operating system.
    pub fn generate(created: Timestamp) -> Self {
        Self(uuid_v7_at(created))
    }

    /// Parses the hyphenated (or simple) text form of a version 7 UUID.
    ///
    /// # Errors
    /// [`ImageIdError`] when the text is not a UUID or not version 7.
    pub fn parse(text: &str) -> Result<Self, ImageIdError> {
        let uuid = Uuid::try_parse(text).map_err(|_| ImageIdError::NotAUuid)?;
        Self::from_uuid(uuid)
    }

    /// Wraps a UUID, checking its version.
    ///
    /// # Errors
    /// [`ImageIdError::WrongVersion`] for any version but 7.
    pub fn from_uuid(uuid: Uuid) -> Result<Self, ImageIdError> {
        match uuid.get_version_num() {
            7 => Ok(Self(uuid)),
            other => Err(ImageIdError::WrongVersion(other)),
        }
    }

    /// Rebuilds an id from its 16 bytes (as stored by adapters and cursors).
    ///
    /// # Errors
    /// [`ImageIdError::WrongVersion`] when the bytes are not a version 7 UUID.
    pub fn from_bytes(bytes: [u8; 16]) -> Result<Self, ImageIdError> {
        Self::from_uuid(Uuid::from_bytes(bytes))
    }

    /// The 16 bytes of the UUID; they sort like the id.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.into_bytes()
    }

    /// The creation time embedded in the id.
    pub fn created_at(self) -> Timestamp {
        let (secs, nanos) = self.0.get_timestamp().map_or((0, 0), |t| t.to_unix());
        let millis = i64::try_from(secs).unwrap_or(0) * 1000 + i64::from(nanos / 1_000_000);
        Timestamp::from_unix_millis(millis).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageId({})", self.0.hyphenated())
    }
}

impl FromStr for ImageId {
    type Err = ImageIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::text_serde!(ImageId, ImageId::parse);

/// A fresh version 7 UUID for the instant `time` (its random bits from the operating system): the
/// ids of images, events and webhooks, which sort by the time they were made.
pub fn uuid_v7_at(time: Timestamp) -> Uuid {
    let secs = u64::try_from(time.unix_seconds()).unwrap_or(0);
    let nanos = u32::try_from(time.unix_millis().rem_euclid(1000) * 1_000_000).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos))
}

/// The UUID of `prefix` followed by exactly 32 hex digits (the text form of event and webhook ids);
/// `None` for any other text.
pub fn parse_prefixed_uuid(text: &str, prefix: &str) -> Option<Uuid> {
    let hex = text.strip_prefix(prefix)?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Uuid::try_parse(hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation_time_and_carry_it() {
        let t1 = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        let t2 = Timestamp::from_unix_millis(1_700_000_000_001).unwrap();
        let a = ImageId::from_parts(t1, [0xff; 10]);
        let b = ImageId::from_parts(t2, [0x00; 10]);
        assert!(a < b);
        assert_eq!(a.created_at(), t1);
        assert_eq!(ImageId::generate(t2).created_at(), t2);
    }

    #[test]
    fn only_version_7_uuids_parse() {
        let id = ImageId::generate(Timestamp::now_utc());
        assert_eq!(ImageId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(ImageId::from_bytes(id.to_bytes()).unwrap(), id);
        assert_eq!(
            ImageId::parse("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            Err(ImageIdError::WrongVersion(4))
        );
        assert_eq!(ImageId::parse("not-a-uuid"), Err(ImageIdError::NotAUuid));
        assert_eq!(ImageId::parse(""), Err(ImageIdError::NotAUuid));
    }
}
