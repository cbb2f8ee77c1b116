//! How the CLI authenticates its API calls: `iam` signs each call with SigV4 for `execute-api`
//! (API Gateway's IAM authorization) with credentials from the AWS SDK's default chain, `key` sends
//! the local server's API key, `jwt` a bearer token (API Gateway's JWT authorizer).
//!
//! Only API calls are authenticated: presigned URLs carry their own signature and go out as they
//! are.

use std::fmt;
#[cfg(feature = "iam")]
use std::sync::Arc;

#[cfg(feature = "iam")]
mod sigv4;

#[cfg(feature = "iam")]
pub(crate) use sigv4::IamSigner;

/// The SigV4 service name of API Gateway's APIs.
const SERVICE: &str = "execute-api";

/// How to build an `intake` that signs with SigV4, for the error that says it was built without.
#[cfg(not(feature = "iam"))]
pub(crate) const IAM_BUILD: &str = "cargo install --locked --path crates/intake-cli --features iam";

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
    #[cfg(feature = "iam")]
    #[error(
        "no AWS region to sign for: give --region (or set AWS_REGION), or use the API's \
         execute-api URL, which names its region"
    )]
    NoRegion,
    /// This `intake` was built without SigV4 signing (the `iam` feature).
    #[error(
        "this intake was built without SigV4 signing, which --auth iam (the default for an API \
         Gateway URL) needs; build it with: {IAM_BUILD}"
    )]
    #[cfg(not(feature = "iam"))]
    IamNotBuilt,
    /// The AWS SDK's default chain found no credentials.
    #[cfg(feature = "iam")]
    #[error(
        "no AWS credentials (looked in the environment, the shared config and credentials files \
         and their SSO sessions, web identity, and container and instance roles): {}",
        intake_domain::error_chain(.0)
    )]
    NoCredentials(#[source] aws_credential_types::provider::error::CredentialsError),
    /// The AWS SDK's configuration has no credentials provider at all.
    #[cfg(feature = "iam")]
    #[error("the AWS configuration has no credentials provider")]
    NoCredentialsProvider,
    /// `jwt` needs a token and none was given.
    #[error("--auth jwt needs a token: --token or INTAKE_TOKEN")]
    NoToken,
    /// A request whose body is a stream cannot be signed (API calls send JSON).
    #[cfg(feature = "iam")]
    #[error("cannot sign a request whose body is streamed")]
    StreamedBody,
    /// A header value of the request is not text, which SigV4 cannot sign.
    #[cfg(feature = "iam")]
    #[error("cannot sign the header {0}: its value is not text")]
    Header(String),
    /// The signing parameters were incomplete.
    #[cfg(feature = "iam")]
    #[error("cannot sign the request: {0}")]
    Params(#[source] aws_sigv4::sign::v4::signing_params::BuildError),
    /// SigV4 signing failed.
    #[cfg(feature = "iam")]
    #[error("cannot sign the request: {}", intake_domain::error_chain(.0))]
    Sign(#[source] aws_sigv4::http_request::SigningError),
    /// The signature is not a valid header.
    #[cfg(feature = "iam")]
    #[error("the signature's {0} is not a valid header")]
    Signature(&'static str),
}

impl AuthError {
    /// The exit code (see `intake --help`): 8 without credentials, 2 without a region or a
    /// SigV4 signer.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::NoToken => 8,
            #[cfg(not(feature = "iam"))]
            Self::IamNotBuilt => 2,
            #[cfg(feature = "iam")]
            Self::NoCredentials(_) | Self::NoCredentialsProvider => 8,
            #[cfg(feature = "iam")]
            Self::NoRegion => 2,
            #[cfg(feature = "iam")]
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
    #[cfg(feature = "iam")]
    Iam(Arc<IamSigner>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
            #[cfg(feature = "iam")]
            Self::Iam(signer) => f.debug_tuple("Iam").field(signer).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthMode, Choice, choose, execute_api_region};

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
}
