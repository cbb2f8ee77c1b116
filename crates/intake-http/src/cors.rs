//! Cross-origin requests (CORS): which browser origins may call the API and the object endpoints.
//! None by default, so a browser page on another site can use Intake only when the operator says so.
//! Intake never asks browsers for credentials (keys travel in headers the page sets itself), so `*`
//! (any origin) is allowed and never combined with credentials.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::REQUEST_ID;

/// The origins allowed to make cross-origin requests: none (the default), any (`*`), or a list of
/// `scheme://host[:port]` origins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsOrigins {
    any: bool,
    list: Vec<String>,
}

/// Why a list of origins was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorsError {
    /// An entry is not an origin.
    #[error(
        "{origin:?} is not an origin (expected http(s)://host[:port], without a path): {reason}"
    )]
    Invalid {
        /// The entry as given.
        origin: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `*` was given beside other origins, which it already includes.
    #[error("`*` allows every origin and cannot be combined with a list")]
    MixedWildcard,
}

impl CorsOrigins {
    /// No cross-origin requests (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Every origin (`*`).
    pub fn any() -> Self {
        Self {
            any: true,
            list: Vec::new(),
        }
    }

    /// Whether no origin is allowed.
    pub fn is_none(&self) -> bool {
        !self.any && self.list.is_empty()
    }

    /// The allowed origins as given (`["*"]` for any).
    pub fn origins(&self) -> Vec<String> {
        if self.any {
            vec!["*".to_owned()]
        } else {
            self.list.clone()
        }
    }

    /// The layer answering preflight requests and adding the CORS headers, or `None` when no origin
    /// is allowed (preflights then get the router's own answer: 405).
    pub(crate) fn into_layer(self) -> Option<CorsLayer> {
        if self.is_none() {
            return None;
        }
        let origins = if self.any {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                self.list
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok()),
            )
        };
        Some(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([
                    Method::GET,
                    Method::HEAD,
                    Method::POST,
                    Method::PUT,
                    Method::DELETE,
                ])
                // What a client sends: its key, JSON, and the headers an upload URL binds.
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::IF_NONE_MATCH,
                    header::RANGE,
                    HeaderName::from_static("x-api-key"),
                    HeaderName::from_static(REQUEST_ID),
                    HeaderName::from_static(intake_domain::ports::header::CHECKSUM_SHA256),
                ])
                // What a client reads: ids to quote, where a new image is, when to retry, downloads.
                .expose_headers([
                    HeaderName::from_static(REQUEST_ID),
                    header::ETAG,
                    header::LOCATION,
                    header::RETRY_AFTER,
                    header::CONTENT_RANGE,
                    header::CONTENT_DISPOSITION,
                    header::ACCEPT_RANGES,
                ])
                .max_age(Duration::from_secs(600)),
        )
    }
}

impl FromStr for CorsOrigins {
    type Err = CorsError;

    /// A comma-separated list of origins, `*` for any, or nothing for none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entries: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.contains(&"*") {
            return if entries.len() == 1 {
                Ok(Self::any())
            } else {
                Err(CorsError::MixedWildcard)
            };
        }
        let mut list = Vec::new();
        for entry in entries {
            let origin = parse_origin(entry)?;
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
        Ok(Self { any: false, list })
    }
}

impl fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origins().join(","))
    }
}

/// An origin as browsers send it: lowercase scheme and host, no path, no trailing slash.
fn parse_origin(entry: &str) -> Result<String, CorsError> {
    let invalid = |reason| CorsError::Invalid {
        origin: entry.to_owned(),
        reason,
    };
    let uri: Uri = entry.parse().map_err(|_| invalid("it does not parse"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| invalid("it has no scheme"))?;
    if !matches!(scheme, "http" | "https") {
        return Err(invalid("only http and https origins exist for pages"));
    }
    let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("an origin has no user name"));
    }
    let rest = entry
        .split_once("://")
        .map_or("", |(_, rest)| rest.trim_start_matches(authority.as_str()));
    if !rest.is_empty() {
        return Err(invalid("an origin has no path, query or trailing slash"));
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_into_none_any_or_a_list() {
        assert!("".parse::<CorsOrigins>().unwrap().is_none());
        assert_eq!(" * ".parse::<CorsOrigins>().unwrap(), CorsOrigins::any());
        let list: CorsOrigins =
            "https://App.Example.com, http://localhost:5173,https://app.example.com"
                .parse()
                .unwrap();
        assert_eq!(
            list.origins(),
            ["https://app.example.com", "http://localhost:5173"]
        );
        assert_eq!(
            list.to_string(),
            "https://app.example.com,http://localhost:5173"
        );
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for bad in [
            "app.example.com",
            "ftp://files.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?x=1",
            "https://user@app.example.com",
            "https://",
        ] {
            assert!(
                matches!(bad.parse::<CorsOrigins>(), Err(CorsError::Invalid { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            "*,https://a.example".parse::<CorsOrigins>(),
            Err(CorsError::MixedWildcard)
        );
    }
}
