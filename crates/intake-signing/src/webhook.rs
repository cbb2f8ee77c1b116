//! Webhook signatures as the Standard Webhooks specification describes them: the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, the signature `v1,` and the base64 of its HMAC-SHA256
//! under the subscription's secret (the bytes after `whsec_`, base64-decoded). Receivers check the
//! signature and that the timestamp is recent, and drop a `webhook-id` they have seen.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use intake_webhooks::WebhookSecret;
use sha2::Sha256;

/// The headers of a signed webhook request.
pub mod headers {
    /// The message id: the same on every attempt of one delivery.
    pub const ID: &str = "webhook-id";
    /// The attempt's time, in seconds since the Unix epoch.
    pub const TIMESTAMP: &str = "webhook-timestamp";
    /// Space-separated signatures, each `v1,<base64>`.
    pub const SIGNATURE: &str = "webhook-signature";
}

/// How far a request's timestamp may be from the receiver's clock (the specification's suggestion).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Why a webhook request is not authentic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookVerifyError {
    /// The timestamp header is not a number of seconds.
    #[error("the webhook-timestamp header is not a number of seconds")]
    BadTimestamp,
    /// The timestamp is further from now than the tolerance (a replay, or a badly wrong clock).
    #[error("the webhook timestamp is outside the tolerance")]
    Stale,
    /// No `v1` signature in the header matches.
    #[error("no webhook signature matches")]
    NoMatch,
}

fn mac(secret: &WebhookSecret, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.key())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` header value for a message.
pub fn sign(secret: &WebhookSecret, id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let digest = mac(secret, id, &timestamp_secs.to_string(), body)
        .finalize()
        .into_bytes();
    format!("v1,{}", STANDARD.encode(digest))
}

/// Checks a received request's headers and body against `secret` at `now_secs`.
///
/// # Errors
/// [`WebhookVerifyError`] when the timestamp is malformed or outside `tolerance`, or no `v1`
/// signature matches (compared in constant time).
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
    tolerance: Duration,
) -> Result<(), WebhookVerifyError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| WebhookVerifyError::BadTimestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now_secs.abs_diff(sent) > tolerance.unsigned_abs() {
        return Err(WebhookVerifyError::Stale);
    }
    let expected = mac(secret, id, timestamp.trim(), body);
    let matched = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| STANDARD.decode(s).ok())
        .any(|candidate| expected.clone().verify_slice(&candidate).is_ok());
    if matched {
        Ok(())
    } else {
        Err(WebhookVerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_specification_example() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&secret, id, 1_614_265_330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        verify(
            &secret,
            id,
            "1614265330",
            &format!("v1,bm90IHRoaXMgb25l {signature}"),
            body,
            1_614_265_330 + 60,
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }

    #[test]
    fn refuses_altered_stale_and_unsigned_requests() {
        let secret = WebhookSecret::generate().unwrap();
        let signature = sign(&secret, "evt_1", 1000, b"{}");
        let check = |id: &str, ts: &str, sig: &str, body: &[u8], now| {
            verify(&secret, id, ts, sig, body, now, DEFAULT_TOLERANCE)
        };
        assert_eq!(check("evt_1", "1000", &signature, b"{}", 1000), Ok(()));
        assert_eq!(
            check("evt_1", "1000", &signature, b"{ }", 1000),
            Err(WebhookVerifyError::NoMatch)
        );
        assert_eq!(
            check("evt_2", "1000", &signature, b"{}", 1000),
            Err(WebhookVerifyError::NoMatch)
        );
        assert_eq!(
            check("evt_1", "1000", &signature, b"{}", 1000 + 301),
            Err(WebhookVerifyError::Stale)
        );
        assert_eq!(
            check("evt_1", "soon", &signature, b"{}", 1000),
            Err(WebhookVerifyError::BadTimestamp)
        );
        assert_eq!(
            check("evt_1", "1000", "v2,abc", b"{}", 1000),
            Err(WebhookVerifyError::NoMatch)
        );
        let other = WebhookSecret::generate().unwrap();
        assert_eq!(
            verify(
                &other,
                "evt_1",
                "1000",
                &signature,
                b"{}",
                1000,
                DEFAULT_TOLERANCE
            ),
            Err(WebhookVerifyError::NoMatch)
        );
    }
}
