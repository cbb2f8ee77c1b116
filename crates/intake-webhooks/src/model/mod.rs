//! Webhooks: an owner's subscriptions to their images' events, where they may point, and the log of
//! each delivery.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use intake_domain::model::{
    EventId, EventKind, ImageEvent, Owner, Timestamp, parse_prefixed_uuid, uuid_v7_at,
};

mod delivery;
mod subscription;

pub use delivery::{Delivery, DeliveryJob, DeliveryReport, DeliveryState};
pub use subscription::WebhookSubscription;

/// The identity of a subscription: `wh_` and the 32 hex digits of a version 7 UUID.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WebhookId(Uuid);

/// Why a webhook's part is invalid. The variants are the API's `400` reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// Not `wh_` and 32 hex digits.
    #[error("a webhook id is wh_ and 32 hex digits")]
    Id,
    /// Not an absolute `http` or `https` URL with a host and without credentials, or too long.
    #[error(
        "a webhook URL is an absolute http(s) URL with a host, no user name or password, no fragment, at most {MAX_WEBHOOK_URL_BYTES} bytes: {0}"
    )]
    Url(String),
    /// The URL's host is not on the operator's allow-list.
    #[error(
        "webhooks may not be sent to {host}: the server's operator allows other hosts only (INTAKE_WEBHOOK_HOSTS)"
    )]
    HostNotAllowed {
        /// The refused host.
        host: String,
    },
    /// Not `whsec_` and the base64 of 24 to 64 bytes.
    #[error("a webhook secret is whsec_ and the base64 of 24 to 64 bytes")]
    Secret,
    /// An event filter that names no event, or an unknown one.
    #[error("{0}")]
    Events(String),
    /// A description longer than [`MAX_WEBHOOK_DESCRIPTION_CHARS`] or with control characters.
    #[error(
        "a webhook description is at most {MAX_WEBHOOK_DESCRIPTION_CHARS} characters without control characters"
    )]
    Description,
    /// An allow-list entry that is not a host name, an IP address, `*.domain` or `*`.
    #[error("{0:?} is not a host, an IP address, *.domain or *")]
    AllowListEntry(String),
}

impl WebhookId {
    /// The prefix of every subscription id.
    pub const PREFIX: &'static str = "wh_";

    /// A fresh id made at `time`.
    pub fn generate(time: Timestamp) -> Self {
        Self(uuid_v7_at(time))
    }

    /// Parses `wh_` followed by 32 hex digits.
    ///
    /// # Errors
    /// [`WebhookError::Id`] for any other text.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        parse_prefixed_uuid(text, Self::PREFIX)
            .map(Self)
            .ok_or(WebhookError::Id)
    }
}

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0.simple())
    }
}

impl fmt::Debug for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

intake_domain::text_serde!(WebhookId, WebhookId::parse);

/// The longest webhook URL, in bytes.
pub const MAX_WEBHOOK_URL_BYTES: usize = 2048;

/// Where a subscription's deliveries go: an absolute `http` or `https` URL with a host, without a
/// user name, password or fragment.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// Parses and checks a URL.
    ///
    /// # Errors
    /// [`WebhookError::Url`] for anything but an absolute http(s) URL with a host, or one with
    /// credentials or a fragment, or longer than [`MAX_WEBHOOK_URL_BYTES`].
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let refuse = |why: &str| WebhookError::Url(why.to_owned());
        if text.len() > MAX_WEBHOOK_URL_BYTES {
            return Err(refuse("too long"));
        }
        // The URL parser would drop spaces and control characters silently; such a URL is refused
        // instead, so the URL stored is the URL given.
        if text.chars().any(|c| c <= ' ' || c.is_control()) {
            return Err(refuse("spaces or control characters"));
        }
        let url = url::Url::parse(text).map_err(|e| refuse(&e.to_string()))?;
        // The URL as stored and sent is the normalized one, which escapes may have made longer.
        if url.as_str().len() > MAX_WEBHOOK_URL_BYTES {
            return Err(refuse("too long once escaped"));
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("only http and https URLs"));
        }
        if url.host().is_none() {
            return Err(refuse("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("credentials in the URL"));
        }
        if url.fragment().is_some() {
            return Err(refuse("a fragment"));
        }
        Ok(Self(url))
    }

    /// The host as the allow-list matches it: a lowercase name, an IPv4 address, or an IPv6 address
    /// without brackets.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(url::Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => String::new(),
        }
    }

    /// The URL's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.0)
    }
}

intake_domain::text_serde!(WebhookUrl, WebhookUrl::parse);

/// The hosts webhooks may be sent to, chosen by the operator: exact host names or IP addresses,
/// `*.domain` (any name under the domain), or `*` (anywhere: only for a server whose network allows
/// nothing it should not reach). The local server's default is the machine itself
/// (`localhost,127.0.0.1,::1`), so a subscriber cannot make the server call into other networks
/// (server-side request forgery). Redirects are never followed, so a listed host cannot send a
/// delivery elsewhere.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HostAllowList(Vec<String>);

impl HostAllowList {
    /// The machine itself.
    pub fn local() -> Self {
        Self(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
    }

    /// Parses a comma-separated list (an empty list allows nothing).
    ///
    /// # Errors
    /// [`WebhookError::AllowListEntry`] for an entry that is not a host, an IP address, `*.domain`
    /// or `*`.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let mut entries = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            let name = entry.strip_prefix("*.").unwrap_or(&entry);
            let valid = entry == "*"
                || entry.parse::<std::net::IpAddr>().is_ok()
                || (!name.is_empty()
                    && name.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    }));
            if !valid {
                return Err(WebhookError::AllowListEntry(entry));
            }
            entries.push(entry);
        }
        Ok(Self(entries))
    }

    /// Whether deliveries may go to `url`'s host.
    pub fn allows(&self, url: &WebhookUrl) -> bool {
        let host = url.host();
        // `*.domain` matches names only: `*.0.1` must not match the address 10.0.0.1.
        let is_name = matches!(url.0.host(), Some(url::Host::Domain(_)));
        self.0.iter().any(|entry| {
            entry == "*"
                || *entry == host
                || (is_name
                    && entry
                        .strip_prefix("*.")
                        .is_some_and(|domain| host.ends_with(&format!(".{domain}"))))
        })
    }

    /// Refuses `url` unless its host is allowed.
    ///
    /// # Errors
    /// [`WebhookError::HostNotAllowed`] naming the host and the list.
    pub fn check(&self, url: &WebhookUrl) -> Result<(), WebhookError> {
        if self.allows(url) {
            return Ok(());
        }
        Err(WebhookError::HostNotAllowed { host: url.host() })
    }
}

impl Default for HostAllowList {
    fn default() -> Self {
        Self::local()
    }
}

impl fmt::Display for HostAllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(no host)");
        }
        f.write_str(&self.0.join(","))
    }
}

/// The key a subscription's deliveries are signed with, in the Standard Webhooks form: `whsec_` and
/// the base64 of the key's bytes. Shown once, when the subscription is made; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// The prefix of every secret.
    pub const PREFIX: &'static str = "whsec_";

    /// A secret from 32 bytes of the operating system's randomness.
    ///
    /// # Errors
    /// [`getrandom::Error`] when the system has no randomness to give.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Parses `whsec_` and the base64 of 24 to 64 bytes.
    ///
    /// # Errors
    /// [`WebhookError::Secret`] for any other text.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let encoded = text
            .strip_prefix(Self::PREFIX)
            .ok_or(WebhookError::Secret)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| WebhookError::Secret)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(WebhookError::Secret);
        }
        Ok(Self(bytes))
    }

    /// The key's bytes (what the HMAC is keyed with).
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The secret's text, `whsec_...`: for its one showing, and for storage.
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// The longest subscription description, in characters.
pub const MAX_WEBHOOK_DESCRIPTION_CHARS: usize = 200;

/// Which events a subscription receives: a non-empty set of kinds, sorted, without repeats.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EventFilter(Vec<EventKind>);

impl EventFilter {
    /// Every kind.
    pub fn all() -> Self {
        Self(EventKind::ALL.to_vec())
    }

    /// The kinds named (every kind if none is).
    ///
    /// # Errors
    /// [`WebhookError::Events`] for an unknown name.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, WebhookError> {
        let mut kinds = Vec::new();
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            kinds.push(
                name.parse::<EventKind>()
                    .map_err(|e| WebhookError::Events(e.to_string()))?,
            );
        }
        if kinds.is_empty() {
            return Ok(Self::all());
        }
        Ok(Self::of(kinds))
    }

    /// The kinds given (every kind if none is).
    pub fn of(kinds: impl IntoIterator<Item = EventKind>) -> Self {
        let mut kinds: Vec<EventKind> = kinds.into_iter().collect();
        if kinds.is_empty() {
            return Self::all();
        }
        kinds.sort();
        kinds.dedup();
        Self(kinds)
    }

    /// Whether `kind` passes.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.0.contains(&kind)
    }

    /// The kinds.
    pub fn kinds(&self) -> &[EventKind] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        for good in [
            "http://localhost:8080/hooks",
            "https://example.com/a?b=c",
            "http://[::1]:9/x",
        ] {
            WebhookUrl::parse(good).unwrap();
        }
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "https://example.com/#frag",
            "localhost:8080",
            "/relative",
            "",
            " http://localhost/",
            "http://local\nhost/",
            "http://localhost/a b",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(WebhookUrl::parse(&format!("http://a.com/{}", "x".repeat(3000))).is_err());
        // Short as typed, too long once escaped: refused, so that what is stored reads back.
        assert!(WebhookUrl::parse(&format!("http://a.com/{}", "\"".repeat(1000))).is_err());
    }

    #[test]
    fn the_allow_list_matches_hosts_exactly_or_by_domain() {
        let url = |text: &str| WebhookUrl::parse(text).unwrap();
        let local = HostAllowList::local();
        assert!(local.allows(&url("http://LOCALHOST:1/")));
        assert!(local.allows(&url("http://127.0.0.1:1/")));
        assert!(local.allows(&url("http://[::1]:1/")));
        assert!(!local.allows(&url("http://169.254.169.254/latest/meta-data")));
        assert!(!local.allows(&url("http://localhost.evil.com/")));
        assert!(!local.allows(&url("http://127.0.0.2/")));
        let list = HostAllowList::parse("hooks.example.com, *.corp.example").unwrap();
        assert!(list.allows(&url("https://hooks.example.com/x")));
        assert!(list.allows(&url("https://a.b.corp.example/x")));
        assert!(!list.allows(&url("https://corp.example/x")));
        assert!(!list.allows(&url("https://evilcorp.example/x")));
        assert!(!list.allows(&url("https://hooks.example.com.evil.net/x")));
        assert!(
            HostAllowList::parse("*")
                .unwrap()
                .allows(&url("http://10.0.0.1/"))
        );
        assert!(
            !HostAllowList::parse("")
                .unwrap()
                .allows(&url("http://localhost/"))
        );
        for bad in ["exa mple.com", "http://x", "*.", "a..b", "*.*.x"] {
            assert!(HostAllowList::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_round_trip_and_hide() {
        let secret = WebhookSecret::generate().unwrap();
        let text = secret.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert!(!format!("{secret:?}").contains(&text[6..]));
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSecret::parse("secret").is_err());
    }

    #[test]
    fn filters_default_to_every_event_and_refuse_unknown_ones() {
        assert_eq!(EventFilter::parse([]).unwrap(), EventFilter::all());
        let some = EventFilter::parse(["image.failed", "image.processed", "image.failed"]).unwrap();
        assert_eq!(some.kinds(), [EventKind::Processed, EventKind::Failed]);
        assert!(EventFilter::parse(["image.nope"]).is_err());
    }
}
