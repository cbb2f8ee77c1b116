//! S3: the object store (streaming reads) and the SigV4 URL signer.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures::stream;
use intake_domain::model::{ObjectKey, Timestamp, UrlTtl};
use intake_domain::ports::{
    Failure, GetResult, GetUrlRequest, HttpMethod, ObjectMeta, ObjectStore, PresignedRequest,
    PutUrlRequest, SignerError, StoreError, UrlSigner, header,
};

use crate::fault::{Fault, classify, describe};

/// Objects in one S3 bucket. Reads stream the body chunk by chunk as it arrives from S3.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
}

fn store_error<E>(
    key: &str,
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> StoreError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + std::fmt::Debug
        + 'static,
{
    let detail = describe(error);
    match classify(error) {
        Fault::NotFound => StoreError::NotFound {
            key: key.to_owned(),
        },
        Fault::Denied => StoreError::PermissionDenied {
            key: key.to_owned(),
            source: detail.into(),
        },
        Fault::Throttled => StoreError::from(Failure::throttled(detail)),
        Fault::Unavailable | Fault::Timeout => StoreError::from(Failure::unavailable(detail)),
        Fault::ConditionFailed | Fault::Rejected => StoreError::from(Failure::other(detail)),
    }
}

fn timestamp(at: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    at.and_then(|t| t.to_millis().ok())
        .and_then(|ms| Timestamp::from_unix_millis(ms).ok())
}

impl S3ObjectStore {
    /// The store for `bucket`, using `client` (configure path-style addressing for emulators).
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Erases every version and delete marker of the objects whose key starts with `prefix` (and,
    /// with `exact`, only of the object named `prefix`): what a purge needs on a versioned bucket,
    /// where a plain delete only hides the current version. Every page of the listing is gone
    /// through, its versions deleted a thousand at a time.
    ///
    /// # Errors
    /// [`StoreError`] as S3 fails; the versions not yet erased remain, and erasing again resumes.
    pub async fn erase_versions(&self, prefix: &str, exact: bool) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let listed = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(markers.0.take())
                .set_version_id_marker(markers.1.take())
                .send()
                .await
                .map_err(|e| store_error(prefix, &e))?;
            let doomed = listed
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    listed
                        .delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                )
                .filter_map(|(key, version)| {
                    let key = key?;
                    (!exact || key == prefix).then(|| {
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(version.map(str::to_owned))
                            .build()
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::from(Failure::other(e)))?;
            if !doomed.is_empty() {
                let delete = Delete::builder()
                    .set_objects(Some(doomed))
                    .quiet(true)
                    .build()
                    .map_err(|e| StoreError::from(Failure::other(e)))?;
                let answer = self
                    .client
                    .delete_objects()
                    .bucket(&self.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| store_error(prefix, &e))?;
                if let Some(failed) = answer.errors().first() {
                    return Err(StoreError::from(Failure::other(format!(
                        "{} version(s) under {prefix} could not be erased: {}",
                        answer.errors().len(),
                        failed.message().unwrap_or_default()
                    ))));
                }
            }
            if listed.is_truncated() != Some(true) {
                return Ok(());
            }
            markers = (
                listed.next_key_marker().map(str::to_owned),
                listed.next_version_id_marker().map(str::to_owned),
            );
        }
    }

    /// Writes a small object whole (the OCR sidecars); `if_absent` makes it write-once.
    ///
    /// # Errors
    /// [`StoreError`] as S3 fails; an existing object under a write-once key is not an error (the
    /// content is addressed by its hash, so it is the same).
    pub async fn put_small(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        if_absent: bool,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        if if_absent {
            put = put.if_none_match("*");
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if if_absent && classify(&e) == Fault::ConditionFailed => Ok(()),
            Err(e) => Err(store_error(key, &e)),
        }
    }

    /// Reads a small object whole (the OCR sidecars).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when absent; others as S3 fails.
    pub async fn get_small(&self, key: &str) -> Result<Bytes, StoreError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| store_error(key, &e))?;
        let data = output
            .body
            .collect()
            .await
            .map_err(|e| StoreError::from(Failure::unavailable(e)))?;
        Ok(data.into_bytes())
    }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| store_error(key.as_str(), &e))?;
        Ok(meta(
            out.content_length(),
            out.content_type(),
            out.e_tag(),
            out.version_id(),
            out.last_modified(),
        ))
    }

    async fn get(&self, key: &ObjectKey) -> Result<GetResult, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| store_error(key.as_str(), &e))?;
        let meta = meta(
            out.content_length(),
            out.content_type(),
            out.e_tag(),
            out.version_id(),
            out.last_modified(),
        );
        let body = stream::unfold(out.body, |mut body| async move {
            body.try_next()
                .await
                .map_err(|e| StoreError::from(Failure::unavailable(e)))
                .transpose()
                .map(|chunk| (chunk, body))
        });
        Ok(GetResult::new(meta, Box::pin(body)))
    }

    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_small(key.as_str(), bytes, content_type, false)
            .await
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match store_error(key.as_str(), &e) {
                StoreError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn purge(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.erase_versions(key.as_str(), true).await
    }
}

fn meta(
    length: Option<i64>,
    content_type: Option<&str>,
    etag: Option<&str>,
    version: Option<&str>,
    modified: Option<&aws_smithy_types::DateTime>,
) -> ObjectMeta {
    let mut meta = ObjectMeta::new(length.and_then(|l| u64::try_from(l).ok()).unwrap_or(0));
    if let Some(ct) = content_type {
        meta = meta.with_content_type(ct);
    }
    if let Some(etag) = etag {
        meta = meta.with_etag(etag);
    }
    if let Some(version) = version {
        meta = meta.with_version(version);
    }
    if let Some(at) = timestamp(modified) {
        meta = meta.with_last_modified(at);
    }
    meta
}

/// SigV4 presigned URLs for one bucket.
///
/// Upload URLs sign `Content-Type`, `If-None-Match: *` and, when declared, `Content-Length` and
/// `x-amz-checksum-sha256` as headers, so S3 refuses a request that changes any of them, overwrites an
/// object, or carries a body with another checksum. Every URL is checked before it is returned: a URL
/// whose `X-Amz-SignedHeaders` lacks a required header is an error, never a weaker URL. Configure the
/// client with request checksum calculation "when required" (see [`crate::AwsAdapters`]), or the SDK
/// signs a CRC32 of an empty body into the URL.
#[derive(Debug, Clone)]
pub struct S3UrlSigner {
    client: Client,
    bucket: String,
}

fn system_time(at: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(at.unix_millis()).unwrap_or(0))
}

fn presigning(issued_at: Timestamp, expires_in: UrlTtl) -> Result<PresigningConfig, SignerError> {
    PresigningConfig::builder()
        .start_time(system_time(issued_at))
        .expires_in(expires_in.as_duration())
        .build()
        .map_err(|e| SignerError::from(Failure::other(e)))
}

fn signed_headers(url: &str) -> Vec<String> {
    url.split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .map(|value| {
            value
                .replace("%3B", ";")
                .replace("%3b", ";")
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn to_port(
    method: HttpMethod,
    presigned: &SdkPresigned,
    expires_at: Timestamp,
) -> PresignedRequest {
    let headers: BTreeMap<String, String> = presigned
        .headers()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    PresignedRequest::new(method, presigned.uri().to_owned(), headers, expires_at)
}

impl S3UrlSigner {
    /// A signer for `bucket`, using `client`'s credentials and endpoint.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl UrlSigner for S3UrlSigner {
    async fn presign_put(&self, request: &PutUrlRequest) -> Result<PresignedRequest, SignerError> {
        let config = presigning(request.issued_at, request.expires_in)?;
        let required = request.required_headers();
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(request.key.as_str())
            .content_type(request.content_type.as_mime())
            .if_none_match("*");
        if let Some(length) = request.content_length {
            put = put.content_length(
                i64::try_from(length).map_err(|e| SignerError::from(Failure::other(e)))?,
            );
        }
        // `checksum_sha256` on the builder is dropped from presigned requests (aws-sdk-rust#1103); set
        // the header on the request itself so it is signed.
        let checksum = required.get(header::CHECKSUM_SHA256).cloned();
        let presigned = put
            .customize()
            .mutate_request(move |req| {
                if let Some(value) = &checksum {
                    req.headers_mut()
                        .insert(header::CHECKSUM_SHA256, value.clone());
                }
            })
            .presigned(config)
            .await
            .map_err(|e| SignerError::from(Failure::other(describe(&e))))?;
        let signed = to_port(HttpMethod::Put, &presigned, request.expires_at());
        let signed_names = signed_headers(&signed.url);
        if let Some(stray) = signed_names
            .iter()
            .find(|n| n.starts_with("x-amz-checksum-") && !required.contains_key(n.as_str()))
        {
            return Err(SignerError::from(Failure::other(format!(
                "the SDK signed {stray}, a checksum the client cannot match; build the client with request checksum calculation \"when required\""
            ))));
        }
        for (name, value) in &required {
            if signed.header(name) != Some(value.as_str())
                || !signed_names.iter().any(|n| n == name)
            {
                return Err(SignerError::from(Failure::other(format!(
                    "the presigned URL does not sign {name}: {signed_names:?}"
                ))));
            }
        }
        Ok(signed)
    }

    async fn presign_get(&self, request: &GetUrlRequest) -> Result<PresignedRequest, SignerError> {
        let config = presigning(request.issued_at, request.expires_in)?;
        let mut get = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(request.key.as_str());
        if let Some(name) = &request.file_name {
            get = get.response_content_disposition(name.content_disposition());
        }
        let presigned = get
            .presigned(config)
            .await
            .map_err(|e| SignerError::from(Failure::other(describe(&e))))?;
        Ok(to_port(HttpMethod::Get, &presigned, request.expires_at()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers_are_read_from_the_query() {
        let url = "https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Signature=x";
        assert_eq!(
            signed_headers(url),
            ["content-length", "content-type", "host"]
        );
        assert!(signed_headers("https://x/y").is_empty());
    }
}
