//! A client of Intake's REST API and of the presigned URLs it hands out.

use std::path::PathBuf;

use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, AuthError};
use crate::views::{ImagePage, ImageView, Ticket, UploadBody};

/// Why a command failed; each maps to a documented exit code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// The API could not be reached.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The API answered with an error.
    #[error("{code}: {message} (HTTP {status})")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer was not what Intake's API sends.
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The arguments cannot be acted on.
    #[error("{0}")]
    Input(String),
    /// Processing did not finish in time.
    #[error("timed out after {seconds} s waiting for processing of {pending} image(s)")]
    Timeout { seconds: u64, pending: usize },
    /// The server could not start or failed.
    #[error("{0}")]
    Serve(String),
    /// An API call could not be authenticated (no credentials, no region, signing failed).
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl ClientError {
    /// The exit code (see `intake --help`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Api {
                status: 401 | 403, ..
            } => 8,
            Self::Api { status: 404, .. } => 3,
            Self::Api { status, .. } if *status < 500 => 4,
            Self::Input(_) => 2,
            Self::Unreachable { .. } | Self::Api { .. } | Self::Serve(_) => 5,
            Self::Timeout { .. } => 6,
            Self::Protocol { .. } | Self::File { .. } => 1,
            Self::Auth(error) => error.exit_code(),
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::File { path, source }
    }
}

/// The API's error envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Debug, Deserialize)]
struct EnvelopeError {
    code: String,
    message: String,
}

/// Whether an image in `status` (as the API spells it) will not change any more: the domain's rule.
pub(crate) fn is_terminal(status: &str) -> bool {
    status
        .parse::<intake_domain::model::ImageStatus>()
        .is_ok_and(intake_domain::model::ImageStatus::is_terminal)
}

/// An API at a base URL.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    base: String,
    /// How API calls are authenticated; never applied to presigned URLs (they go to storage, with
    /// their own signature).
    auth: Auth,
    pub(crate) http: reqwest::Client,
}

fn unreachable(url: &str, error: &reqwest::Error) -> ClientError {
    ClientError::Unreachable {
        url: url.to_owned(),
        reason: intake_domain::error_chain(error),
    }
}

/// Turns a non-success answer into [`ClientError::Api`], reading Intake's envelope when there is one
/// (an S3 endpoint answers in XML: its status and text are kept).
pub(crate) async fn error_of(response: Response) -> ClientError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<Envelope>(&text) {
        Ok(envelope) => ClientError::Api {
            status: status.as_u16(),
            code: envelope.error.code,
            message: envelope.error.message,
        },
        Err(_) => ClientError::Api {
            status: status.as_u16(),
            code: format!("HTTP_{}", status.as_u16()),
            message: text.chars().take(300).collect::<String>().trim().to_owned(),
        },
    }
}

impl Api {
    pub(crate) fn new(base: &str, auth: Auth) -> Result<Self, ClientError> {
        // TLS for https APIs is rustls on ring, the one crypto provider of the `intake` binary
        // (installed once; a second call finds it installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are never followed by the client: a redirect's target (a stored export's
        // presigned URL) is fetched on purpose, without the API's credentials, which reqwest would
        // otherwise carry to a target on the API's own host.
        let http = reqwest::Client::builder()
            .user_agent(concat!("intake-cli/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Input(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            auth,
            http,
        })
    }

    /// A request to the API, with its bearer token if it sends one (a SigV4 signature is added
    /// when it is sent, by [`Api::execute`]).
    fn call(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, url);
        match &self.auth {
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Anonymous => request,
            #[cfg(feature = "iam")]
            Auth::Iam(_) => request,
        }
    }

    /// Sends an API call made by [`Api::call`], signed first when the API takes SigV4.
    async fn execute(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Response, ClientError> {
        #[cfg_attr(
            not(feature = "iam"),
            expect(unused_mut, reason = "only SigV4 changes it")
        )]
        let mut request = request.build().map_err(|e| unreachable(url, &e))?;
        #[cfg(feature = "iam")]
        if let Auth::Iam(signer) = &self.auth {
            signer.sign(&mut request).await?;
        }
        self.http
            .execute(request)
            .await
            .map_err(|e| unreachable(url, &e))
    }

    /// `{base}/{segments...}`, each segment percent-encoded.
    fn segments_url(&self, segments: &[&str]) -> Result<String, ClientError> {
        let mut url = reqwest::Url::parse(&self.base)
            .map_err(|e| ClientError::Input(format!("invalid --api URL {}: {e}", self.base)))?;
        url.path_segments_mut()
            .map_err(|()| ClientError::Input(format!("invalid --api URL {}", self.base)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url.into())
    }

    /// `GET {base}{path}`, its answer read as `T`.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = self.url(path);
        self.json(&url, self.call(reqwest::Method::GET, &url)).await
    }

    /// `GET {base}/{segments...}` with `query`, each segment percent-encoded.
    pub(crate) async fn get_segments<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let url = self.segments_url(segments)?;
        self.json(&url, self.call(reqwest::Method::GET, &url).query(query))
            .await
    }

    /// `POST {base}/{segments...}` with a JSON body, each segment percent-encoded.
    pub(crate) async fn post_segments<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.segments_url(segments)?;
        self.json(&url, self.call(reqwest::Method::POST, &url).json(body))
            .await
    }

    /// `POST {base}{path}` with a JSON body, its answer read as `T`.
    pub(crate) async fn post_json<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        self.json(&url, self.call(reqwest::Method::POST, &url).json(body))
            .await
    }

    /// `DELETE {base}/{segments...}`, each segment percent-encoded, its answer read as `T`.
    pub(crate) async fn delete_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<T, ClientError> {
        let url = self.segments_url(segments)?;
        self.json(&url, self.call(reqwest::Method::DELETE, &url))
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `{base}/images/{id}`, with the id percent-encoded as one path segment (ids are UUIDs; anything
    /// else is passed on safely for the API to refuse).
    fn image_url(&self, id: &str) -> Result<String, ClientError> {
        self.segments_url(&["images", id])
    }

    /// Sends an API call and reads its answer as `T`.
    async fn json<T: DeserializeOwned>(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = self.execute(request, url).await?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        let bytes = response.bytes().await.map_err(|e| unreachable(url, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol {
            url: url.to_owned(),
            reason: e.to_string(),
        })
    }

    pub(crate) async fn create_upload(&self, body: &UploadBody) -> Result<Ticket, ClientError> {
        self.post_json("/uploads", body).await
    }

    pub(crate) async fn image(&self, id: &str) -> Result<ImageView, ClientError> {
        let url = self.image_url(id)?;
        self.json(&url, self.call(reqwest::Method::GET, &url)).await
    }

    pub(crate) async fn list(&self, query: &[(&str, String)]) -> Result<ImagePage, ClientError> {
        let url = self.url("/images");
        self.json(&url, self.call(reqwest::Method::GET, &url).query(query))
            .await
    }

    /// Deletes an image; with `purge`, erases its bytes and text for good (a tombstone stays).
    pub(crate) async fn delete(&self, id: &str, purge: bool) -> Result<(), ClientError> {
        let url = self.segments_url(&["images", id])?;
        let mut request = self.call(reqwest::Method::DELETE, &url);
        if purge {
            request = request.query(&[("purge", "true")]);
        }
        let response = self.execute(request, &url).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// `DELETE {base}/{segments...}`, expecting any success (`204` included) and no body.
    pub(crate) async fn delete_segments(&self, segments: &[&str]) -> Result<(), ClientError> {
        self.bodiless(reqwest::Method::DELETE, segments).await
    }

    /// `POST {base}/{segments...}` without a body, expecting any success and no answer body.
    pub(crate) async fn post_segments_empty(&self, segments: &[&str]) -> Result<(), ClientError> {
        self.bodiless(reqwest::Method::POST, segments).await
    }

    /// A request without a body to `{base}/{segments...}`, expecting any success.
    async fn bodiless(
        &self,
        method: reqwest::Method,
        segments: &[&str],
    ) -> Result<(), ClientError> {
        let url = self.segments_url(segments)?;
        let response = self.execute(self.call(method, &url), &url).await?;
        if response.status() == StatusCode::NO_CONTENT || response.status().is_success() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// `GET {base}/{segments...}` with `query`, its answer as it came (a redirect is not followed:
    /// see [`Api::new`]), with the URL called.
    pub(crate) async fn get_unfollowed(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<(Response, String), ClientError> {
        let url = self.segments_url(segments)?;
        let response = self
            .execute(self.call(reqwest::Method::GET, &url).query(query), &url)
            .await?;
        Ok((response, url))
    }

    /// Sends a request to a presigned URL (which is not under the API's base).
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Response, ClientError> {
        let response = request.send().await.map_err(|e| unreachable(url, &e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_of(response).await)
        }
    }
}
