use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest. Text form: 64 lowercase hex digits; S3 checksum form: standard base64.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest([u8; 32]);

/// Why a text is not a [`Sha256Digest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Neither 64 hex digits nor 44 characters of base64 encoding 32 bytes.
    #[error("sha256 must be 64 hex digits (or base64 of 32 bytes)")]
    Malformed,
}

impl Sha256Digest {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of `data` (for small inputs; the processor hashes streams incrementally).
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// Parses 64 hex digits (either case) or the base64 form S3 uses in `x-amz-checksum-sha256`.
    ///
    /// # Errors
    /// [`DigestError::Malformed`] for anything else.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let text = text.trim();
        if text.len() == 64 {
            let mut out = [0u8; 32];
            hex::decode_to_slice(text, &mut out).map_err(|_| DigestError::Malformed)?;
            return Ok(Self(out));
        }
        if text.len() == 44 {
            let bytes = STANDARD.decode(text).map_err(|_| DigestError::Malformed)?;
            let array: [u8; 32] = bytes.try_into().map_err(|_| DigestError::Malformed)?;
            return Ok(Self(array));
        }
        Err(DigestError::Malformed)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, the form used in records and the API.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Standard base64, the form of S3's `x-amz-checksum-sha256` header.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::text_serde!(Sha256Digest, Sha256Digest::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_in_both_text_forms() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            d.to_base64(),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(Sha256Digest::parse(&d.to_hex()).unwrap(), d);
        assert_eq!(Sha256Digest::parse(&d.to_hex().to_uppercase()).unwrap(), d);
        assert_eq!(Sha256Digest::parse(&d.to_base64()).unwrap(), d);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"=".repeat(44)] {
            assert_eq!(
                Sha256Digest::parse(bad),
                Err(DigestError::Malformed),
                "{bad:?}"
            );
        }
    }
}
