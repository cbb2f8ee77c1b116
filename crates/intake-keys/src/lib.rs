//! # intake-keys
//!
//! API keys, a bounded context of their own beside the image pipeline: keys are 256-bit random
//! secrets stored as SHA-256 hashes ([`ApiKeyRecord`]), bound to an owner, revocable, and there is
//! always an active admin key ([`ApiKeys`]). The local server authenticates its callers with them.
//! The crate depends on the domain for owners, time and the shared port failure and service error
//! protocol; the domain knows nothing of keys.
//!
//! Storage is a port ([`KeyStore`]), implemented by the adapter crates. With the `testkit` feature,
//! [`testkit`] offers its conformance suite.

pub mod model;
pub mod ports;
pub mod service;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use model::{
    API_KEY_PREFIX, ApiKeyError, ApiKeyRecord, ApiKeySecret, KeyId, MAX_KEY_NAME_CHARS,
};
pub use ports::{KeyStore, KeyStoreError};
pub use service::{ADMIN_OWNER, ApiKeys, AuthError, IssuedKey, KeyError, Principal};
