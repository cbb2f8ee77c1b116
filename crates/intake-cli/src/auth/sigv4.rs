//! SigV4 for API Gateway's IAM authorization (the `iam` feature): credentials from the AWS SDK's
//! default chain, the SDK's own signer.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderName, HeaderValue};

use super::{AuthError, SERVICE};

/// Credentials expiring sooner than this are fetched again before signing.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// What SigV4 leaves unencoded in a query: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Signs API calls with SigV4 for `execute-api`, with credentials from the AWS SDK's default chain
/// (environment, shared config and credentials files with their profiles, SSO and processes, web
/// identity, ECS container and EC2 instance roles), loaded on the first call and kept until they
/// are about to expire.
pub(crate) struct IamSigner {
    /// The region asked for, if any (else the SDK's region chain decides).
    region: Option<String>,
    loaded: tokio::sync::OnceCell<Loaded>,
    credentials: tokio::sync::Mutex<Option<Credentials>>,
}

/// The region to sign for and where credentials come from.
struct Loaded {
    region: String,
    provider: SharedCredentialsProvider,
}

impl fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSigner")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl IamSigner {
    pub(crate) fn new(region: Option<String>) -> Self {
        Self {
            region,
            loaded: tokio::sync::OnceCell::new(),
            credentials: tokio::sync::Mutex::new(None),
        }
    }

    /// The SDK's configuration, loaded once: the region, and the default credentials chain on the
    /// same HTTP and TLS stack as the rest of the workspace (hyper 1, rustls on ring).
    async fn loaded(&self) -> Result<&Loaded, AuthError> {
        self.loaded
            .get_or_try_init(|| async {
                let https = aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https();
                let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
                if let Some(region) = &self.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                let sdk = loader.load().await;
                let region = sdk.region().ok_or(AuthError::NoRegion)?.to_string();
                let provider = sdk
                    .credentials_provider()
                    .ok_or(AuthError::NoCredentialsProvider)?;
                Ok(Loaded { region, provider })
            })
            .await
    }

    /// Credentials that will not expire in the next few minutes: the kept ones, or new ones.
    async fn credentials(
        &self,
        provider: &SharedCredentialsProvider,
    ) -> Result<Credentials, AuthError> {
        let mut kept = self.credentials.lock().await;
        let fresh = |credentials: &Credentials| {
            credentials
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE)
        };
        if let Some(credentials) = kept.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(AuthError::NoCredentials)?;
        *kept = Some(credentials.clone());
        Ok(credentials)
    }

    /// Signs `request` in place: its method, path, query, headers and the SHA-256 of its body,
    /// adding `x-amz-date`, `x-amz-security-token` (temporary credentials) and `authorization`.
    /// The query is first written the way SigV4 canonicalises it (RFC 3986, `%20` for a space), so
    /// what is sent is exactly what was signed.
    ///
    /// # Errors
    /// [`AuthError`] when there is no region or no credentials, or the request cannot be signed.
    pub(crate) async fn sign(&self, request: &mut reqwest::Request) -> Result<(), AuthError> {
        let loaded = self.loaded().await?;
        let identity: Identity = self.credentials(&loaded.provider).await?.into();
        rfc3986_query(request.url_mut());
        let body = match request.body() {
            None => &[][..],
            Some(body) => body.as_bytes().ok_or(AuthError::StreamedBody)?,
        };
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                value
                    .to_str()
                    .map(|value| (name.as_str(), value))
                    .map_err(|_| AuthError::Header(name.as_str().to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&loaded.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(AuthError::Params)?
            .into();
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.url().as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(AuthError::Sign)?;
        let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
            .map_err(AuthError::Sign)?
            .into_parts();
        let (headers, _params) = instructions.into_parts();
        for header in headers {
            let name = HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|_| AuthError::Signature(header.name()))?;
            let mut value = HeaderValue::from_str(header.value())
                .map_err(|_| AuthError::Signature(header.name()))?;
            value.set_sensitive(header.sensitive());
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

/// Rewrites `url`'s query with every name and value percent-encoded as RFC 3986 says (what SigV4's
/// canonical query uses), instead of the form encoding's `+` for a space, which servers may read
/// differently.
fn rfc3986_query(url: &mut reqwest::Url) {
    if url.query().is_none() {
        return;
    }
    let query = url
        .query_pairs()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(&name, QUERY_VALUE),
                utf8_percent_encode(&value, QUERY_VALUE)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    url.set_query((!query.is_empty()).then_some(query.as_str()));
}

#[cfg(test)]
mod tests {
    use super::rfc3986_query;

    #[test]
    fn the_query_is_sent_as_sigv4_encodes_it() {
        let mut url = reqwest::Url::parse(
            "http://h/images?q=two+words&cursor=a%2Bb%2Fc%3D&limit=5&e=%C3%A9~",
        )
        .expect("url");
        rfc3986_query(&mut url);
        assert_eq!(
            url.query(),
            Some("q=two%20words&cursor=a%2Bb%2Fc%3D&limit=5&e=%C3%A9~")
        );
        let mut bare = reqwest::Url::parse("http://h/images?").expect("url");
        rfc3986_query(&mut bare);
        assert_eq!(bare.as_str(), "http://h/images");
    }
}
