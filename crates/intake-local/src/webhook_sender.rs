//! Webhook requests over HTTP(S) with `reqwest`: a `POST` of the event's document, signed with the
//! Standard Webhooks headers, no redirects followed, no proxy taken from the environment, and a time
//! limit, so a slow or hostile receiver cannot hold a delivery worker or steer a request elsewhere.

use std::time::Duration;

use async_trait::async_trait;
use intake_signing::webhook::{headers, sign};
use intake_webhooks::{SendError, WebhookRequest, WebhookSender};

/// The sender's settings.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SenderOptions {
    /// The longest a request may take, answer included.
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
}

impl Default for SenderOptions {
    /// 10 s per request, 5 s to connect.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the sender could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the webhook HTTP client")]
pub struct SenderError(#[source] reqwest::Error);

/// Sends webhook requests with `reqwest` (rustls, ring).
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl HttpWebhookSender {
    /// A sender with `options`.
    ///
    /// # Errors
    /// [`SenderError`] when the TLS set-up fails.
    pub fn new(options: SenderOptions) -> Result<Self, SenderError> {
        // The process may have chosen a provider already; then this one is not needed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("Intake-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SenderError)?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: &WebhookRequest<'_>) -> Result<u16, SendError> {
        let id = request.id.to_string();
        let timestamp = request.timestamp.unix_seconds();
        let signature = sign(request.secret, &id, timestamp, request.body.as_bytes());
        let response = self
            .client
            .post(request.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(headers::ID, &id)
            .header(headers::TIMESTAMP, timestamp.to_string())
            .header(headers::SIGNATURE, signature)
            .body(request.body.to_owned())
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    SendError::Timeout
                } else if error.is_connect() {
                    SendError::Unreachable {
                        source: Box::new(error),
                    }
                } else {
                    SendError::Other {
                        source: Box::new(error),
                    }
                }
            })?;
        // The answer's body is not read: only its status counts, and a receiver cannot make the
        // server read an endless body.
        Ok(response.status().as_u16())
    }
}
