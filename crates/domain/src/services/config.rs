use std::time::Duration;

use crate::model::ContentType;
use crate::ports::OcrCapabilities;

/// The longest presigned URL lifetime (SigV4's limit, 7 days).
pub const MAX_URL_TTL: Duration = Duration::from_hours(168);

/// Intake's settings, in one typed place. Every entry point builds one of these (from the environment,
/// flags or code) and [`crate::IntakeBuilder::build`] validates it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntakeConfig {
    /// Lifetime of upload URLs (default 300 s; `1 s..=7 days`).
    pub upload_url_ttl: Duration,
    /// Lifetime of download URLs (default 300 s; `1 s..=7 days`).
    pub download_url_ttl: Duration,
    /// The largest upload in bytes (default 15 MiB); the engine's own limit applies if lower.
    pub max_upload_bytes: u64,
    /// The largest image in pixels, width × height (default 100 megapixels): a guard against
    /// decompression bombs.
    pub max_pixels: u64,
    /// The most pages a multi-page image (TIFF) may have (default 100); its pages' pixels count
    /// together against [`IntakeConfig::max_pixels`].
    pub max_pages: u32,
    /// The accepted formats; `None` accepts every format the engine declares.
    pub allowed_types: Option<Vec<ContentType>>,
    /// How long a processor's claim on an image holds (default 900 s, the Lambda maximum). Another
    /// event for the image is a no-op until the claim expires. Keep it no longer than the queue's
    /// visibility timeout so that a crashed processor's redelivered event can reclaim the image.
    pub processing_lease: Duration,
    /// How many claims an image gets before it is marked `FAILED` with `RETRIES_EXHAUSTED` (default 5).
    pub max_attempts: u32,
    /// Whether an image whose bytes equal an earlier processed image reuses its OCR result instead of
    /// calling the engine again (default true). Either way the record names the earlier image in
    /// `duplicateOf`.
    pub reuse_duplicate_ocr: bool,
    /// Whether deleting an image also deletes its object (default false: soft delete keeps both; the
    /// bucket's lifecycle rules govern the bytes).
    pub delete_objects: bool,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            upload_url_ttl: Duration::from_mins(5),
            download_url_ttl: Duration::from_mins(5),
            max_upload_bytes: 15 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_pages: 100,
            allowed_types: None,
            processing_lease: Duration::from_mins(15),
            max_attempts: 5,
            reuse_duplicate_ocr: true,
            delete_objects: false,
        }
    }
}

/// Why a setting read from the environment (or any name → value source) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// A required variable is not set.
    #[error("{name} must be set")]
    Missing {
        /// The variable.
        name: &'static str,
    },
    /// A variable's value cannot be used.
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is expected.
        reason: String,
    },
}

/// Reads one variable from `lookup` and parses it with `parse`; unset or blank means `None`.
///
/// # Errors
/// [`SettingError::Invalid`] when `parse` fails.
pub fn read_setting<T, E: std::fmt::Display>(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, SettingError> {
    match lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(None),
        Some(value) => parse(&value).map(Some).map_err(|e| SettingError::Invalid {
            name,
            reason: e.to_string(),
            value,
        }),
    }
}

/// Parses a boolean setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".to_owned()),
    }
}

fn parse_secs(text: &str) -> Result<Duration, std::num::ParseIntError> {
    text.parse::<u64>().map(Duration::from_secs)
}

/// Why a configuration is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A URL lifetime is outside `1 s..=7 days`.
    #[error("{which} must be between 1 second and 7 days, got {value:?}")]
    UrlTtl {
        /// Which setting.
        which: &'static str,
        /// Its value.
        value: Duration,
    },
    /// A limit is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// The allow-list shares no format with the engine.
    #[error("none of the allowed content types is accepted by the OCR engine {engine}")]
    NoAcceptedType {
        /// The engine.
        engine: String,
    },
}

impl IntakeConfig {
    /// With upload URLs valid for `ttl`.
    #[must_use]
    pub fn with_upload_url_ttl(mut self, ttl: Duration) -> Self {
        self.upload_url_ttl = ttl;
        self
    }
    /// With download URLs valid for `ttl`.
    #[must_use]
    pub fn with_download_url_ttl(mut self, ttl: Duration) -> Self {
        self.download_url_ttl = ttl;
        self
    }
    /// With a byte limit.
    #[must_use]
    pub fn with_max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }
    /// With a pixel limit.
    #[must_use]
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
    /// With a page limit for multi-page images.
    #[must_use]
    pub fn with_max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages;
        self
    }
    /// Accepting only these formats.
    #[must_use]
    pub fn with_allowed_types(mut self, types: Vec<ContentType>) -> Self {
        self.allowed_types = Some(types);
        self
    }
    /// With a processing lease.
    #[must_use]
    pub fn with_processing_lease(mut self, lease: Duration) -> Self {
        self.processing_lease = lease;
        self
    }
    /// With an attempt limit.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }
    /// Whether duplicates reuse OCR.
    #[must_use]
    pub fn with_reuse_duplicate_ocr(mut self, reuse: bool) -> Self {
        self.reuse_duplicate_ocr = reuse;
        self
    }
    /// Whether deletes remove objects.
    #[must_use]
    pub fn with_delete_objects(mut self, delete: bool) -> Self {
        self.delete_objects = delete;
        self
    }

    /// Reads the settings every deployment shares from `lookup` (usually the environment), starting from
    /// the defaults; unset variables keep their default:
    ///
    /// | variable | setting |
    /// |---|---|
    /// | `INTAKE_UPLOAD_URL_TTL_SECONDS` | [`IntakeConfig::upload_url_ttl`] |
    /// | `INTAKE_DOWNLOAD_URL_TTL_SECONDS` | [`IntakeConfig::download_url_ttl`] |
    /// | `INTAKE_MAX_UPLOAD_BYTES` | [`IntakeConfig::max_upload_bytes`] |
    /// | `INTAKE_MAX_PIXELS` | [`IntakeConfig::max_pixels`] |
    /// | `INTAKE_MAX_PAGES` | [`IntakeConfig::max_pages`] |
    /// | `INTAKE_ALLOWED_TYPES` | [`IntakeConfig::allowed_types`], comma-separated media types |
    /// | `INTAKE_PROCESSING_LEASE_SECONDS` | [`IntakeConfig::processing_lease`] |
    /// | `INTAKE_MAX_ATTEMPTS` | [`IntakeConfig::max_attempts`] |
    /// | `INTAKE_REUSE_DUPLICATE_OCR` | [`IntakeConfig::reuse_duplicate_ocr`] |
    /// | `INTAKE_DELETE_OBJECTS` | [`IntakeConfig::delete_objects`] |
    ///
    /// # Errors
    /// [`SettingError::Invalid`] naming the first variable that does not parse.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let mut config = Self::default();
        if let Some(v) = read_setting(lookup, "INTAKE_UPLOAD_URL_TTL_SECONDS", parse_secs)? {
            config.upload_url_ttl = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_DOWNLOAD_URL_TTL_SECONDS", parse_secs)? {
            config.download_url_ttl = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_MAX_UPLOAD_BYTES", str::parse::<u64>)? {
            config.max_upload_bytes = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_MAX_PIXELS", str::parse::<u64>)? {
            config.max_pixels = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_MAX_PAGES", str::parse::<u32>)? {
            config.max_pages = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_ALLOWED_TYPES", |text| {
            text.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(ContentType::parse)
                .collect::<Result<Vec<_>, _>>()
        })? {
            config.allowed_types = Some(v);
        }
        if let Some(v) = read_setting(lookup, "INTAKE_PROCESSING_LEASE_SECONDS", parse_secs)? {
            config.processing_lease = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_MAX_ATTEMPTS", str::parse::<u32>)? {
            config.max_attempts = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_REUSE_DUPLICATE_OCR", parse_bool)? {
            config.reuse_duplicate_ocr = v;
        }
        if let Some(v) = read_setting(lookup, "INTAKE_DELETE_OBJECTS", parse_bool)? {
            config.delete_objects = v;
        }
        Ok(config)
    }

    /// Checks the settings against an engine and returns the accepted content types.
    ///
    /// # Errors
    /// [`ConfigError`] for out-of-range values or an allow-list the engine cannot serve.
    pub fn validate(&self, engine: &OcrCapabilities) -> Result<Vec<ContentType>, ConfigError> {
        for (which, value) in [
            ("upload URL lifetime", self.upload_url_ttl),
            ("download URL lifetime", self.download_url_ttl),
        ] {
            if value < Duration::from_secs(1) || value > MAX_URL_TTL {
                return Err(ConfigError::UrlTtl { which, value });
            }
        }
        if self.max_upload_bytes == 0 {
            return Err(ConfigError::Zero("max upload bytes"));
        }
        if self.max_pixels == 0 {
            return Err(ConfigError::Zero("max pixels"));
        }
        if self.max_attempts == 0 {
            return Err(ConfigError::Zero("max attempts"));
        }
        if self.max_pages == 0 {
            return Err(ConfigError::Zero("max pages"));
        }
        if self.processing_lease.is_zero() {
            return Err(ConfigError::Zero("processing lease"));
        }
        let accepted: Vec<ContentType> = ContentType::ALL
            .into_iter()
            .filter(|t| engine.formats.contains(t))
            .filter(|t| {
                self.allowed_types
                    .as_ref()
                    .is_none_or(|allowed| allowed.contains(t))
            })
            .collect();
        if accepted.is_empty() {
            return Err(ConfigError::NoAcceptedType {
                engine: engine.engine.clone(),
            });
        }
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn reads_every_setting_and_keeps_defaults_for_the_rest() {
        let config = IntakeConfig::from_lookup(&lookup(&[
            ("INTAKE_UPLOAD_URL_TTL_SECONDS", "60"),
            ("INTAKE_MAX_UPLOAD_BYTES", "1000"),
            ("INTAKE_ALLOWED_TYPES", "image/png, image/jpeg"),
            ("INTAKE_REUSE_DUPLICATE_OCR", "false"),
            ("INTAKE_DELETE_OBJECTS", "yes"),
            ("INTAKE_MAX_ATTEMPTS", " 3 "),
        ]))
        .unwrap();
        assert_eq!(config.upload_url_ttl, Duration::from_secs(60));
        assert_eq!(config.max_upload_bytes, 1000);
        assert_eq!(
            config.allowed_types,
            Some(vec![ContentType::Png, ContentType::Jpeg])
        );
        assert!(!config.reuse_duplicate_ocr && config.delete_objects);
        assert_eq!(config.max_attempts, 3);
        assert_eq!(
            config.download_url_ttl,
            IntakeConfig::default().download_url_ttl
        );
        assert_eq!(
            IntakeConfig::from_lookup(&lookup(&[])).unwrap(),
            IntakeConfig::default()
        );
    }

    #[test]
    fn names_the_variable_that_does_not_parse() {
        let error =
            IntakeConfig::from_lookup(&lookup(&[("INTAKE_MAX_PIXELS", "lots")])).unwrap_err();
        assert!(
            matches!(
                error,
                SettingError::Invalid {
                    name: "INTAKE_MAX_PIXELS",
                    ..
                }
            ),
            "{error}"
        );
        let error =
            IntakeConfig::from_lookup(&lookup(&[("INTAKE_ALLOWED_TYPES", "image/png,text/html")]))
                .unwrap_err();
        assert!(error.to_string().contains("text/html"), "{error}");
        assert!(IntakeConfig::from_lookup(&lookup(&[("INTAKE_DELETE_OBJECTS", "maybe")])).is_err());
    }
}
