//! How the CLI authenticates its API calls: `iam` signs each call with SigV4 for `execute-api`
//! (API Gateway's IAM authorization) with credentials from the AWS SDK's default chain, `key` sends
//! the local server's API key, `jwt` a bearer token (API Gateway's JWT authorizer).
//!
//! Only API calls are authenticated: presigned URLs carry their own signature and go out as they
//! are.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningError, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{HeaderName, HeaderValue};

/// The SigV4 service name of API Gateway's APIs.
const SERVICE: &str = "execute-api";

/// Credentials expiring sooner than this are fetched again before signing.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// What SigV4 leaves unencoded in a query: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How API calls are authenticated (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AuthMode {
    /// SigV4 with AWS credentials from the usual places (API Gateway's IAM authorization).
    Iam,
    /// The local server's API keys (`--api-key`, `--api-key-file`, the local admin key).
    Key,
    /// A bearer token (`--token`), for API Gateway's JWT authorizer.
    Jwt,
}

/// The mode the arguments choose and, for `iam`, the region they name, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) mode: AuthMode,
    /// `--region`, else the API Gateway host's region; `None` leaves it to the AWS SDK's region
    /// chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`).
    pub(crate) region: Option<String>,
}

/// The authentication `api` gets: `requested` if given; else `jwt` when a token is given, `iam`
/// for an API Gateway `execute-api` host, and `key` for anything else (the local server).
pub(crate) fn choose(
    api: &str,
    requested: Option<AuthMode>,
    token_given: bool,
    region: Option<&str>,
) -> Choice {
    let gateway_region = execute_api_region(api);
    let mode = requested.unwrap_or(if token_given {
        AuthMode::Jwt
    } else if gateway_region.is_some() {
        AuthMode::Iam
    } else {
        AuthMode::Key
    });
    let region = match mode {
        AuthMode::Iam => region.map(str::to_owned).or(gateway_region),
        AuthMode::Key | AuthMode::Jwt => None,
    };
    Choice { mode, region }
}

/// The region of an API Gateway URL's host, `{api-id}.execute-api.{region}.amazonaws.com`
/// (`.amazonaws.com.cn` in China; an `api-id` may carry a VPC endpoint's id), else `None`.
pub(crate) fn execute_api_region(api: &str) -> Option<String> {
    let url = reqwest::Url::parse(api).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let [id, service, region] = rest.split('.').collect::<Vec<_>>()[..] else {
        return None;
    };
    let label = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    (service == SERVICE && label(id) && label(region)).then(|| region.to_owned())
}

/// Why an API call could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// `iam` needs a region and none was found.
    #[error(
        "no AWS region to sign for: give --region (or set AWS_REGION), or use the API's \
         execute-api URL, which names its region"
    )]
    NoRegion,
    /// The AWS SDK's default chain found no credentials.
    #[error(
        "no AWS credentials (looked in the environment, the shared config and credentials files \
         and their SSO sessions, web identity, and container and instance roles): {}",
        intake_domain::error_chain(.0)
    )]
    NoCredentials(#[source] CredentialsError),
    /// The AWS SDK's configuration has no credentials provider at all.
    #[error("the AWS configuration has no credentials provider")]
    NoCredentialsProvider,
    /// `jwt` needs a token and none was given.
    #[error("--auth jwt needs a token: --token or INTAKE_TOKEN")]
    NoToken,
    /// A request whose body is a stream cannot be signed (API calls send JSON).
    #[error("cannot sign a request whose body is streamed")]
    StreamedBody,
    /// A header value of the request is not text, which SigV4 cannot sign.
    #[error("cannot sign the header {0}: its value is not text")]
    Header(String),
    /// The signing parameters were incomplete.
    #[error("cannot sign the request: {0}")]
    Params(#[source] v4::signing_params::BuildError),
    /// SigV4 signing failed.
    #[error("cannot sign the request: {}", intake_domain::error_chain(.0))]
    Sign(#[source] SigningError),
    /// The signature is not a valid header.
    #[error("the signature's {0} is not a valid header")]
    Signature(&'static str),
}

impl AuthError {
    /// The exit code (see `intake --help`): 8 without credentials, 2 without a region.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::NoCredentials(_) | Self::NoCredentialsProvider | Self::NoToken => 8,
            Self::NoRegion => 2,
            Self::StreamedBody
            | Self::Header(_)
            | Self::Params(_)
            | Self::Sign(_)
            | Self::Signature(_) => 1,
        }
    }
}

/// How the client authenticates each API call.
#[derive(Clone)]
pub(crate) enum Auth {
    /// Nothing is sent (no API key found).
    Anonymous,
    /// `Authorization: Bearer` with an API key or a JWT.
    Bearer(String),
    /// A SigV4 signature.
    Iam(Arc<IamSigner>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
            Self::Iam(signer) => f.debug_tuple("Iam").field(signer).finish(),
        }
    }
}

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
    use super::{AuthMode, Choice, choose, execute_api_region, rfc3986_query};

    #[test]
    fn an_execute_api_host_is_signed_for_its_region() {
        for (api, region) in [
            (
                "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
                "eu-west-1",
            ),
            (
                "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/",
                "us-east-1",
            ),
            (
                "https://A1B2C3D4E5.Execute-Api.AP-SOUTHEAST-2.amazonaws.com",
                "ap-southeast-2",
            ),
            (
                "https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-gov-west-1.amazonaws.com",
                "us-gov-west-1",
            ),
            (
                "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn",
                "cn-north-1",
            ),
        ] {
            assert_eq!(
                choose(api, None, false, None),
                Choice {
                    mode: AuthMode::Iam,
                    region: Some(region.to_owned())
                },
                "{api}"
            );
        }
    }

    #[test]
    fn anything_else_uses_the_local_servers_keys() {
        for api in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:8080",
            "https://intake.example.com",
            "https://execute-api.us-east-1.amazonaws.com",
            "https://a.b.execute-api.us-east-1.amazonaws.com",
            "https://abc.execute-api.us-east-1.amazonaws.com.evil.example",
            "https://abc.execute-api..amazonaws.com",
            "https://abc.lambda-url.us-east-1.on.aws",
            "https://evil.example/abc.execute-api.us-east-1.amazonaws.com",
            "not a url",
        ] {
            assert_eq!(execute_api_region(api), None, "{api}");
            assert_eq!(
                choose(api, None, false, None),
                Choice {
                    mode: AuthMode::Key,
                    region: None
                },
                "{api}"
            );
        }
    }

    #[test]
    fn auth_and_region_flags_override_the_guess() {
        let gateway = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
        // A custom domain: IAM only when asked, with the region given.
        assert_eq!(
            choose(
                "https://api.example.com",
                Some(AuthMode::Iam),
                false,
                Some("eu-central-1")
            ),
            Choice {
                mode: AuthMode::Iam,
                region: Some("eu-central-1".to_owned())
            }
        );
        // Without a region the SDK's region chain decides.
        assert_eq!(
            choose("http://127.0.0.1:9", Some(AuthMode::Iam), false, None),
            Choice {
                mode: AuthMode::Iam,
                region: None
            }
        );
        // --region wins over the host's.
        assert_eq!(
            choose(gateway, None, false, Some("us-east-2"))
                .region
                .as_deref(),
            Some("us-east-2")
        );
        // A token means a JWT authorizer, unless another mode is asked for.
        assert_eq!(choose(gateway, None, true, None).mode, AuthMode::Jwt);
        assert_eq!(
            choose(gateway, Some(AuthMode::Iam), true, None).mode,
            AuthMode::Iam
        );
        assert_eq!(
            choose(gateway, Some(AuthMode::Key), false, None),
            Choice {
                mode: AuthMode::Key,
                region: None
            }
        );
    }

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
