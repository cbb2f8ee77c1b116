use std::time::Duration;

use crate::model::{ContentType, DuplicateRule, FieldOptions, UrlTtl};

/// The default lifetime of upload and download URLs (5 minutes).
const DEFAULT_URL_TTL: UrlTtl = match UrlTtl::from_secs(300) {
    Ok(ttl) => ttl,
    Err(_) => UrlTtl::MIN,
};
use crate::ports::OcrCapabilities;

/// The default largest export answered inline, in bytes (5 MB): within what a Lambda function may
/// answer through API Gateway (6 MB, 6,291,456 bytes, for the whole response), where an export
/// travels as JSON-escaped text (every `"` of the XML's attributes escaped: 10–20% more, measured
/// by `intake-export`'s tests) with its headers.
pub const DEFAULT_EXPORT_INLINE_BYTES: u64 = 5_000_000;

/// Intake's settings, in one typed place. Every entry point builds one of these (from the environment,
/// flags or code) and [`crate::IntakeBuilder::build`] validates it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct IntakeConfig {
    /// Lifetime of upload URLs (default 300 s).
    pub upload_url_ttl: UrlTtl,
    /// Lifetime of download URLs (default 300 s).
    pub download_url_ttl: UrlTtl,
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
    /// The largest export answered inline, in bytes (default [`DEFAULT_EXPORT_INLINE_BYTES`]); a
    /// larger one is stored under `exports/{imageId}/{format}` and answered with a short-lived
    /// download URL. `None`: every export inline (the local server, which has no response limit).
    pub export_inline_limit: Option<u64>,
    /// The thresholds that call two pages the same document (near-duplicate presentment; default:
    /// the measured [`DuplicateRule::default`]). Used where the deployment has a fingerprint index.
    pub duplicate_rule: DuplicateRule,
    /// How fields are read where a page leaves them open (the day/month order of `03/04/2026`;
    /// default day-first): what the processor settles every extractor's fields with, and what a
    /// field filter's value is read with.
    pub field_options: FieldOptions,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            upload_url_ttl: DEFAULT_URL_TTL,
            download_url_ttl: DEFAULT_URL_TTL,
            max_upload_bytes: 15 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_pages: 100,
            allowed_types: None,
            processing_lease: Duration::from_mins(15),
            max_attempts: 5,
            reuse_duplicate_ocr: true,
            delete_objects: false,
            export_inline_limit: Some(DEFAULT_EXPORT_INLINE_BYTES),
            duplicate_rule: DuplicateRule::default(),
            field_options: FieldOptions::default(),
        }
    }
}

/// Why a configuration is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A limit is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A value is outside what it may be.
    #[error("{0}")]
    OutOfRange(&'static str),
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
    pub fn with_upload_url_ttl(mut self, ttl: UrlTtl) -> Self {
        self.upload_url_ttl = ttl;
        self
    }
    /// With download URLs valid for `ttl`.
    #[must_use]
    pub fn with_download_url_ttl(mut self, ttl: UrlTtl) -> Self {
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
    /// With the largest export answered inline (`None`: no limit).
    #[must_use]
    pub fn with_export_inline_limit(mut self, bytes: Option<u64>) -> Self {
        self.export_inline_limit = bytes;
        self
    }

    /// With the near-duplicate rule's thresholds.
    #[must_use]
    pub fn with_duplicate_rule(mut self, rule: DuplicateRule) -> Self {
        self.duplicate_rule = rule;
        self
    }

    /// With the options fields are read with.
    #[must_use]
    pub fn with_field_options(mut self, options: FieldOptions) -> Self {
        self.field_options = options;
        self
    }

    /// Checks the settings against an engine and returns the accepted content types.
    ///
    /// # Errors
    /// [`ConfigError`] for out-of-range values or an allow-list the engine cannot serve.
    pub fn validate(&self, engine: &OcrCapabilities) -> Result<Vec<ContentType>, ConfigError> {
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
        let rule = &self.duplicate_rule;
        if rule.max_image_distance > crate::model::MAX_INDEXED_DISTANCE {
            return Err(ConfigError::OutOfRange(
                "the duplicate rule's image distance is beyond what the index finds",
            ));
        }
        if ![
            rule.min_image_token_agreement,
            rule.min_text_token_agreement,
        ]
        .iter()
        .all(|share| (0.0..=1.0).contains(share))
        {
            return Err(ConfigError::OutOfRange(
                "the duplicate rule's token agreements are shares from 0 to 1",
            ));
        }
        if rule.min_text_matched_tokens == 0 {
            return Err(ConfigError::Zero(
                "the duplicate rule's matched tokens for a duplicate by text",
            ));
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
