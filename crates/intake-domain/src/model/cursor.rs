use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// An opaque pagination cursor.
///
/// Each repository puts its own position into a cursor (an id, DynamoDB's last evaluated key, ...).
/// [`Cursor::seal`] binds that payload to the query it belongs to and appends an integrity tag, so a
/// garbled, truncated, edited or transplanted cursor is refused with a typed error instead of being
/// interpreted. The tag detects changes; it is not a secret (cursors confer no access the query does not).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Not the text form of a cursor (bad characters, wrong length, unknown version).
    #[error("cursor is malformed")]
    Malformed,
    /// The integrity tag does not match: the cursor was changed or belongs to another query.
    #[error("cursor was altered or belongs to a different query")]
    Tampered,
    /// The payload is intact but the repository cannot interpret it.
    #[error("cursor payload is not understood by this repository")]
    Payload,
}

const VERSION: u8 = 1;
const TAG_LEN: usize = 12;
/// The longest cursor text accepted.
pub const MAX_CURSOR_LEN: usize = 2048;

fn tag(scope: &[u8], payload: &[u8]) -> [u8; TAG_LEN] {
    let mut h = Sha256::new();
    h.update(b"intake-cursor/1");
    h.update((scope.len() as u64).to_be_bytes());
    h.update(scope);
    h.update(payload);
    let full = h.finalize();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(full.get(..TAG_LEN).unwrap_or(&[0u8; TAG_LEN]));
    out
}

impl Cursor {
    /// Seals a repository's position `payload` for the query identified by `scope`.
    pub fn seal(scope: &[u8], payload: &[u8]) -> Self {
        let mut raw = Vec::with_capacity(1 + payload.len() + TAG_LEN);
        raw.push(VERSION);
        raw.extend_from_slice(payload);
        raw.extend_from_slice(&tag(scope, payload));
        Self(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Checks the text form of a cursor (as received from a client).
    ///
    /// # Errors
    /// [`CursorError::Malformed`] when it cannot be a cursor.
    pub fn parse(text: &str) -> Result<Self, CursorError> {
        if text.is_empty() || text.len() > MAX_CURSOR_LEN {
            return Err(CursorError::Malformed);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| CursorError::Malformed)?;
        if raw.len() < 1 + TAG_LEN || raw.first() != Some(&VERSION) {
            return Err(CursorError::Malformed);
        }
        Ok(Self(text.to_owned()))
    }

    /// Verifies the cursor against the query `scope` and returns the repository's payload.
    ///
    /// # Errors
    /// [`CursorError::Malformed`] or [`CursorError::Tampered`].
    pub fn open(&self, scope: &[u8]) -> Result<Vec<u8>, CursorError> {
        let raw = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| CursorError::Malformed)?;
        let body = raw.get(1..).ok_or(CursorError::Malformed)?;
        let split = body
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CursorError::Malformed)?;
        let (payload, got) = body.split_at(split);
        if got == tag(scope, payload) {
            Ok(payload.to_vec())
        } else {
            Err(CursorError::Tampered)
        }
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.0)
    }
}

crate::text_serde!(Cursor, Cursor::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_within_its_scope_only() {
        let c = Cursor::seal(b"q1", b"position");
        let parsed = Cursor::parse(c.as_str()).unwrap();
        assert_eq!(parsed.open(b"q1").unwrap(), b"position");
        assert_eq!(parsed.open(b"q2"), Err(CursorError::Tampered));
    }

    #[test]
    fn garbage_is_malformed() {
        for bad in [
            "",
            "!!!",
            "AQ",
            &"A".repeat(MAX_CURSOR_LEN + 1),
            "AgAAAAAAAAAAAAAAAA",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_payload_round_trips(scope in proptest::collection::vec(any::<u8>(), 0..64), payload in proptest::collection::vec(any::<u8>(), 0..256)) {
            let c = Cursor::seal(&scope, &payload);
            prop_assert_eq!(Cursor::parse(c.as_str()).unwrap().open(&scope).unwrap(), payload);
        }

        #[test]
        fn any_single_character_change_is_rejected(payload in proptest::collection::vec(any::<u8>(), 0..64), pos in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_-]") {
            let c = Cursor::seal(b"scope", &payload);
            let mut chars: Vec<char> = c.as_str().chars().collect();
            let i = pos.index(chars.len());
            let new = replacement.chars().next().unwrap();
            prop_assume!(chars[i] != new);
            chars[i] = new;
            let mutated: String = chars.into_iter().collect();
            let outcome = Cursor::parse(&mutated).and_then(|c| c.open(b"scope"));
            prop_assert!(outcome.is_err());
        }
    }
}
