//! What a presigned PUT binds about its body, checked as the body streams: the rules of S3 that every
//! store Intake receives uploads into applies the same way (the local server's filesystem store, the
//! in-memory gateway).

use sha2::{Digest as _, Sha256};

use super::Sha256Digest;

/// Why a body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyRefusal {
    /// The body's length differs from the bound one.
    #[error("body is {actual} bytes, {expected} were required")]
    LengthMismatch {
        /// Required.
        expected: u64,
        /// Received (one chunk past the requirement at most, when it ran over).
        actual: u64,
    },
    /// The body exceeds the size limit.
    #[error("body exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The body's SHA-256 differs from the bound one.
    #[error("body checksum does not match")]
    ChecksumMismatch,
}

/// The checks of one body: its exact length and SHA-256 when the URL binds them, and the largest
/// body accepted. Fed chunk by chunk, it refuses a body as soon as it runs over.
#[derive(Debug, Clone)]
pub struct BodyCheck {
    length: Option<u64>,
    sha256: Option<Sha256Digest>,
    max_bytes: Option<u64>,
    size: u64,
    hasher: Sha256,
}

impl BodyCheck {
    /// Checks for a body of exactly `length` bytes (if bound) hashing to `sha256` (if bound), at
    /// most `max_bytes` long.
    pub fn new(length: Option<u64>, sha256: Option<Sha256Digest>, max_bytes: Option<u64>) -> Self {
        Self {
            length,
            sha256,
            max_bytes,
            size: 0,
            hasher: Sha256::new(),
        }
    }

    /// Takes the next chunk.
    ///
    /// # Errors
    /// [`BodyRefusal::TooLarge`] or [`BodyRefusal::LengthMismatch`] once the body runs over.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), BodyRefusal> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if let Some(limit) = self.max_bytes.filter(|&l| self.size > l) {
            return Err(BodyRefusal::TooLarge { limit });
        }
        if let Some(expected) = self.length.filter(|&l| self.size > l) {
            return Err(BodyRefusal::LengthMismatch {
                expected,
                actual: self.size,
            });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The body ended: its SHA-256, if it is what the URL bound.
    ///
    /// # Errors
    /// [`BodyRefusal::LengthMismatch`] for a short body, [`BodyRefusal::ChecksumMismatch`].
    pub fn finish(self) -> Result<Sha256Digest, BodyRefusal> {
        if let Some(expected) = self.length.filter(|&l| self.size != l) {
            return Err(BodyRefusal::LengthMismatch {
                expected,
                actual: self.size,
            });
        }
        let sha256 = Sha256Digest::from_bytes(self.hasher.finalize().into());
        if self.sha256.is_some_and(|expected| expected != sha256) {
            return Err(BodyRefusal::ChecksumMismatch);
        }
        Ok(sha256)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn check(
        chunks: &[&[u8]],
        length: Option<u64>,
        sha: Option<Sha256Digest>,
    ) -> Result<Sha256Digest, BodyRefusal> {
        let mut check = BodyCheck::new(length, sha, Some(8));
        for chunk in chunks {
            check.update(chunk)?;
        }
        check.finish()
    }

    #[test]
    fn a_body_is_checked_for_length_size_and_checksum() {
        let sha = Sha256Digest::of(b"abcdef");
        assert_eq!(check(&[b"abc", b"def"], Some(6), Some(sha)), Ok(sha));
        assert_eq!(check(&[b"abc", b"def"], None, None), Ok(sha));
        assert_eq!(
            check(&[b"abc"], Some(6), None),
            Err(BodyRefusal::LengthMismatch {
                expected: 6,
                actual: 3
            })
        );
        assert_eq!(
            check(&[b"abcd", b"efg"], Some(6), None),
            Err(BodyRefusal::LengthMismatch {
                expected: 6,
                actual: 7
            })
        );
        assert_eq!(
            check(&[b"abcdef", b"ghi"], None, None),
            Err(BodyRefusal::TooLarge { limit: 8 })
        );
        assert_eq!(
            check(&[b"abcdeF"], Some(6), Some(sha)),
            Err(BodyRefusal::ChecksumMismatch)
        );
    }
}
