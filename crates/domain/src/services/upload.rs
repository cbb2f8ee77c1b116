use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, de};

use super::Intake;
use crate::error::IntakeError;
use crate::model::{
    ContentType, FileName, ImageId, ImageRecord, ImageStatus, NewUpload, ObjectKey, Owner,
    Sha256Digest, Timestamp,
};
use crate::ports::{HttpMethod, PresignedRequest, PutUrlRequest};

/// A client's request for an upload URL, as received (the seed's `POST /uploads` body). The service
/// validates every field.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct UploadRequest {
    /// The client's file name; made safe by [`FileName::sanitize`].
    pub filename: String,
    /// The media type the client will upload.
    pub content_type: String,
    /// The exact size, if the client knows it; the URL then accepts only that length. Any JSON number
    /// with an integral value is a size (`22` or `22.0`, as JSON Schema's `integer`).
    #[serde(default, deserialize_with = "whole_number")]
    pub size_bytes: Option<u64>,
    /// The SHA-256 (hex or base64), if the client knows it; the store then verifies the body.
    #[serde(default)]
    pub sha256: Option<String>,
}

impl UploadRequest {
    /// A request for `filename` of `content_type`.
    pub fn new(filename: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self {
            filename: filename.into(),
            content_type: content_type.into(),
            size_bytes: None,
            sha256: None,
        }
    }
    /// Declaring the exact size.
    #[must_use]
    pub fn with_size(mut self, size_bytes: u64) -> Self {
        self.size_bytes = Some(size_bytes);
        self
    }
    /// Declaring the SHA-256.
    #[must_use]
    pub fn with_sha256(mut self, sha256: impl Into<String>) -> Self {
        self.sha256 = Some(sha256.into());
        self
    }
}

/// The largest float that is a whole number of bytes exactly (2^53); above it a float may be a rounded
/// integer, so it is refused rather than guessed.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// Reads an optional size: `null`, an unsigned integer, or a float with an integral value up to 2^53
/// (`22.0`); a fraction, a negative number, NaN and larger floats are refused.
fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct WholeNumber;

    impl de::Visitor<'_> for WholeNumber {
        type Value = Option<u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole, non-negative number of bytes")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }

        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the value is checked to be a whole number in 0..=2^53 first"
        )]
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=MAX_EXACT_FLOAT).contains(&v) {
                Ok(Some(v as u64))
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

/// The answer to an upload request: the seed's fields plus the headers the client must send.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UploadTicket {
    /// The presigned URL to PUT the bytes to.
    pub upload_url: String,
    /// The HTTP method (`PUT`).
    pub method: HttpMethod,
    /// The bucket the object goes to.
    pub bucket: String,
    /// The object's key.
    pub object_key: ObjectKey,
    /// The new image's id.
    pub image_id: ImageId,
    /// Seconds until the URL expires.
    pub expires_in_seconds: u64,
    /// When the URL expires.
    pub expires_at: Timestamp,
    /// Headers the PUT must carry, exactly.
    pub required_headers: BTreeMap<String, String>,
    /// An already processed image of the same owner with the declared SHA-256, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<ImageId>,
}

impl UploadTicket {
    /// The upload as a presigned request (method, URL, headers) for a client to perform.
    pub fn request(&self) -> PresignedRequest {
        PresignedRequest::new(
            self.method,
            self.upload_url.clone(),
            self.required_headers.clone(),
            self.expires_at,
        )
    }
}

impl Intake {
    /// Issues a write-once upload URL and records the image as `AWAITING_UPLOAD`, owned by `owner`.
    ///
    /// # Errors
    /// Typed validation errors (file name, content type, size, checksum) before anything is written;
    /// port errors as they occur (the record is written only after the URL was signed).
    pub async fn request_upload(
        &self,
        owner: &Owner,
        request: UploadRequest,
    ) -> Result<UploadTicket, IntakeError> {
        let inner = &self.inner;
        let file_name = FileName::sanitize(&request.filename)?;
        let content_type = ContentType::parse(&request.content_type)
            .map_err(|e| IntakeError::from_content_type(&e, &inner.accepted))?;
        if !inner.accepted.contains(&content_type) {
            return Err(IntakeError::unsupported(
                &request.content_type,
                &inner.accepted,
            ));
        }
        match request.size_bytes {
            Some(0) => return Err(IntakeError::EmptyUpload),
            Some(size) if size > inner.max_bytes => {
                return Err(IntakeError::TooLarge {
                    size,
                    limit: inner.max_bytes,
                });
            }
            _ => {}
        }
        let sha256 = request
            .sha256
            .as_deref()
            .map(Sha256Digest::parse)
            .transpose()?;

        let now = inner.clock.now();
        let image_id = inner.ids.generate(now);
        let key = ObjectKey::for_upload(image_id, &file_name);
        let put = PutUrlRequest::new(
            key.clone(),
            content_type,
            request.size_bytes,
            sha256,
            now,
            inner.config.upload_url_ttl,
        );
        let presigned = inner.signer.presign_put(&put).await?;

        let record = ImageRecord::awaiting_upload(NewUpload {
            image_id,
            owner: owner.clone(),
            bucket: inner.store.bucket().to_owned(),
            file_name,
            content_type,
            size_bytes: request.size_bytes,
            sha256,
            created_at: now,
            upload_expires_at: put.expires_at(),
        });
        // A ticket may be made durable a moment after it is answered: losing it loses no bytes, as
        // an upload without its record is refused (`expect_upload`).
        inner.repository.create_relaxed(&record).await?;

        let duplicate_of = match sha256 {
            Some(sha) => self
                .original_of(owner, &sha, image_id)
                .await?
                .map(|r| r.image_id()),
            None => None,
        };
        Ok(UploadTicket {
            upload_url: presigned.url,
            method: presigned.method,
            bucket: record.bucket().to_owned(),
            object_key: key,
            image_id,
            expires_in_seconds: inner.config.upload_url_ttl.as_secs(),
            expires_at: presigned.expires_at,
            required_headers: presigned.headers,
            duplicate_of,
        })
    }

    /// The earliest live, processed image of `owner` with these bytes, other than `except`.
    pub(crate) async fn original_of(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        except: ImageId,
    ) -> Result<Option<ImageRecord>, IntakeError> {
        // Two candidates suffice: the oldest, or the next one when the oldest is `except` itself.
        let candidates = self
            .inner
            .repository
            .find_processed_by_sha256(owner, sha256, 2)
            .await?;
        Ok(candidates.into_iter().find(|r| {
            r.image_id() != except
                && r.owner() == owner
                && !r.is_deleted()
                && r.status() == ImageStatus::Processed
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::UploadRequest;

    fn size_of(json: &str) -> Result<Option<u64>, String> {
        let body =
            format!(r#"{{"filename":"a.png","contentType":"image/png","sizeBytes":{json}}}"#);
        serde_json::from_str::<UploadRequest>(&body)
            .map(|request| request.size_bytes)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sizes_are_whole_numbers_written_as_integers_or_floats() {
        assert_eq!(size_of("22"), Ok(Some(22)));
        assert_eq!(size_of("22.0"), Ok(Some(22)));
        assert_eq!(size_of("2.2e1"), Ok(Some(22)));
        assert_eq!(size_of("0.0"), Ok(Some(0)));
        assert_eq!(size_of("9007199254740992.0"), Ok(Some(1 << 53)));
        assert_eq!(size_of("18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(size_of("null"), Ok(None));
        let absent: UploadRequest =
            serde_json::from_str(r#"{"filename":"a.png","contentType":"image/png"}"#).unwrap();
        assert_eq!(absent.size_bytes, None);
    }

    #[test]
    fn fractions_negatives_and_inexact_floats_are_refused() {
        for bad in [
            "22.5",
            "-1",
            "-1.0",
            "1e300",
            "9007199254740994.0",
            "\"22\"",
            "true",
        ] {
            let error = size_of(bad).unwrap_err();
            assert!(error.contains("invalid"), "{bad}: {error}");
        }
        assert!(
            size_of("22.5")
                .unwrap_err()
                .contains("a whole, non-negative number of bytes")
        );
    }
}
