//! The API key model: key ids, the secrets clients present, and the stored records.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use intake_domain::model::{Owner, Sha256Digest, Timestamp};

/// The public identifier of an API key: 16 lowercase hex digits, shown in listings and logs and used
/// to revoke the key. It is not a secret.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 8]);

/// Why a text is not a [`KeyId`] or an [`ApiKeySecret`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// Not 16 lowercase hex digits.
    #[error("key id is not 16 lowercase hex digits")]
    KeyId,
    /// Not `ik_<16 hex>_<43 base64url>`.
    #[error("API key is not in the form ik_<id>_<secret>")]
    Format,
    /// The key's name is empty, longer than [`MAX_KEY_NAME_CHARS`] or has control characters.
    #[error("key name must be 1 to {MAX_KEY_NAME_CHARS} characters without control characters")]
    Name,
}

impl KeyId {
    /// The id from its 8 bytes.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// Parses 16 lowercase hex digits.
    ///
    /// # Errors
    /// [`ApiKeyError::KeyId`] for any other text.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        if text.len() != 16 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ApiKeyError::KeyId);
        }
        let mut bytes = [0u8; 8];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| ApiKeyError::KeyId)?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

// Deserialized through `KeyId::parse`, so no invalid id enters through JSON either.
intake_domain::text_serde!(KeyId, KeyId::parse);

/// The prefix of every API key, so leaked keys are easy to recognise (secret scanners, logs).
pub const API_KEY_PREFIX: &str = "ik_";

/// A presented or newly issued API key: `ik_<key id>_<32 random bytes, base64url>`. The secret part
/// is never stored, only its SHA-256; `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret {
    key_id: KeyId,
    secret: [u8; 32],
}

impl ApiKeySecret {
    /// A key from its parts.
    pub const fn new(key_id: KeyId, secret: [u8; 32]) -> Self {
        Self { key_id, secret }
    }

    /// Parses a presented key.
    ///
    /// # Errors
    /// [`ApiKeyError::Format`] for anything not in the key format.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        let rest = text
            .strip_prefix(API_KEY_PREFIX)
            .ok_or(ApiKeyError::Format)?;
        let (id, secret) = rest.split_once('_').ok_or(ApiKeyError::Format)?;
        let key_id = KeyId::parse(id).map_err(|_| ApiKeyError::Format)?;
        if secret.len() != 43 {
            return Err(ApiKeyError::Format);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(secret)
            .map_err(|_| ApiKeyError::Format)?;
        let secret: [u8; 32] = bytes.try_into().map_err(|_| ApiKeyError::Format)?;
        Ok(Self { key_id, secret })
    }

    /// The key's public id.
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The SHA-256 of the secret part: what is stored and compared. The secret is 256 random bits, so
    /// a plain hash is as strong as a slow one here.
    pub fn secret_sha256(&self) -> Sha256Digest {
        Sha256Digest::of(&self.secret)
    }

    /// The key as the client sends it. Show it once, when it is created.
    pub fn expose(&self) -> String {
        format!(
            "{API_KEY_PREFIX}{}_{}",
            self.key_id,
            URL_SAFE_NO_PAD.encode(self.secret)
        )
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}, ..)", self.key_id)
    }
}

/// The longest key name, in characters.
pub const MAX_KEY_NAME_CHARS: usize = 100;

/// A stored API key: who it speaks for and the hash of its secret. Revoked keys are kept (with the
/// time of revocation) for audit.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiKeyRecord {
    /// The public id.
    pub key_id: KeyId,
    /// The owner requests with this key act as.
    pub owner: Owner,
    /// A label for people (which machine or service holds the key).
    pub name: String,
    /// Whether the key may manage keys.
    pub admin: bool,
    /// SHA-256 of the secret part.
    pub secret_sha256: Sha256Digest,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key was revoked; revoked keys authenticate nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    /// A new, active key record.
    ///
    /// # Errors
    /// [`ApiKeyError::Name`] for an empty or overlong name, or one with control characters.
    pub fn new(
        secret: &ApiKeySecret,
        owner: Owner,
        name: &str,
        admin: bool,
        created_at: Timestamp,
    ) -> Result<Self, ApiKeyError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_KEY_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(ApiKeyError::Name);
        }
        Ok(Self {
            key_id: secret.key_id(),
            owner,
            name: name.to_owned(),
            admin,
            secret_sha256: secret.secret_sha256(),
            created_at,
            revoked_at: None,
        })
    }

    /// Whether the key still authenticates.
    pub const fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether `secret` is this key's secret (compared in constant time).
    pub fn matches(&self, secret: &ApiKeySecret) -> bool {
        let stored = self.secret_sha256;
        let presented = secret.secret_sha256();
        self.key_id == secret.key_id()
            && stored
                .as_bytes()
                .iter()
                .zip(presented.as_bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKeySecret {
        ApiKeySecret::new(KeyId::from_bytes([0xab, 1, 2, 3, 4, 5, 6, 0xff]), [7u8; 32])
    }

    #[test]
    fn keys_round_trip_and_hide_their_secret() {
        let text = key().expose();
        assert!(text.starts_with("ik_ab010203040506ff_"), "{text}");
        assert_eq!(ApiKeySecret::parse(&text), Ok(key()));
        assert!(
            !format!("{:?}", key()).contains("BwcH"),
            "Debug shows the secret"
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        let good = key().expose();
        for bad in [
            String::new(),
            "ik_".to_owned(),
            good.replace("ik_", "ix_"),
            good.replace("ab01", "AB01"),
            format!("{good}A"),
            good[..good.len() - 1].to_owned(),
            good.replace('_', "-"),
            format!(" {good}"),
        ] {
            assert_eq!(
                ApiKeySecret::parse(&bad),
                Err(ApiKeyError::Format),
                "{bad:?}"
            );
        }
        assert_eq!(KeyId::parse("ab010203040506f"), Err(ApiKeyError::KeyId));
        assert_eq!(KeyId::parse("ab010203040506fg"), Err(ApiKeyError::KeyId));
    }

    #[test]
    fn records_match_only_their_secret() {
        let now = Timestamp::from_unix_millis(0).expect("valid");
        let owner = Owner::parse("alice").expect("valid");
        let record =
            ApiKeyRecord::new(&key(), owner.clone(), " laptop ", false, now).expect("valid");
        assert_eq!(record.name, "laptop");
        assert!(record.matches(&key()));
        let other = ApiKeySecret::new(key().key_id(), [8u8; 32]);
        assert!(!record.matches(&other));
        for bad in ["", "  ", "a\nb", &"x".repeat(101)] {
            assert_eq!(
                ApiKeyRecord::new(&key(), owner.clone(), bad, false, now),
                Err(ApiKeyError::Name)
            );
        }
        let json = serde_json::to_string(&record).expect("encode");
        assert_eq!(
            serde_json::from_str::<ApiKeyRecord>(&json).expect("decode"),
            record
        );
    }
}
