//! # intake-domain
//!
//! The core of Intake, an image-ingestion and OCR pipeline: the model (validated newtypes and the image
//! record), the ports every adapter implements, and the services that hold every business rule.
//!
//! The crate performs no I/O of its own: object storage, URL signing, OCR, persistence, time and id
//! generation all go through the traits in [`ports`]. Compose the services with [`Intake::builder`].
//!
//! With the `testkit` feature, [`testkit`] offers the conformance suites that every adapter of a port runs,
//! and scenario suites that drive the services end to end over any set of adapters.

pub mod error;
pub mod model;
pub mod ports;
pub mod services;
pub mod sniff;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{ErrorKind, IntakeError, ServiceError, error_chain};
pub use services::{Intake, IntakeBuilder, IntakeConfig};

/// A small valid PNG (100×100) for the unit tests of the services.
#[cfg(test)]
pub(crate) fn testkit_png() -> bytes::Bytes {
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
    out.extend_from_slice(&[0, 0, 0, 13]);
    let ihdr = [
        b'I', b'H', b'D', b'R', 0, 0, 0, 100, 0, 0, 0, 100, 8, 0, 0, 0, 0,
    ];
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    out.extend_from_slice(&[0; 200]);
    out.extend_from_slice(&crate::sniff::PNG_TRAILER);
    bytes::Bytes::from(out)
}

/// Serializes a type as its `Display` text and deserializes it through its validating parser
/// (`text_serde!(Type, Type::parse)`), so no invalid value enters through JSON either: the one way
/// every validated newtype of Intake's crates meets serde.
#[macro_export]
macro_rules! text_serde {
    ($ty:ty, $parse:path) => {
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text =
                    <std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(
                        deserializer,
                    )?;
                $parse(&text).map_err(<D::Error as $crate::__serde::de::Error>::custom)
            }
        }
    };
}

/// serde, for [`text_serde!`]'s expansions in other crates.
#[doc(hidden)]
pub use serde as __serde;
