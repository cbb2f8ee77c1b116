//! The deployment's settings, from the environment.

use intake_settings::table::{self, Setting};
use intake_settings::{EngineName, OfferedEngines, UnknownEngine};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use intake_domain::IntakeConfig;

use crate::fields::FieldsChoice;
use intake_settings::{SettingError, parse_bool, read_setting};

/// Which OCR engine processes images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EngineChoice {
    /// Rekognition `DetectText` only (fast; stops at 100 words).
    Rekognition,
    /// Textract `DetectDocumentText` only (complete text; TIFF and PDF too).
    Textract,
    /// PP-OCR in the function when its models are there (the template's OCR models layer), else
    /// Rekognition; escalating to Textract when the result is truncated (Rekognition stops at 100
    /// words; PP-OCR never does) or the format is one only Textract takes (PDF).
    #[default]
    Auto,
    /// PP-OCR in the function itself (`intake-ocr-onnx`, models from a layer): no per-page charge and no
    /// 100-word limit. The entry point supplies the engine (see [`crate::AwsAdapters::load`]).
    PpOcr,
}

impl OfferedEngines for EngineChoice {
    const WHERE: &'static str = "on AWS";
    const OFFERED: &'static [Self] = &[Self::PpOcr, Self::Rekognition, Self::Textract, Self::Auto];

    fn name(self) -> EngineName {
        match self {
            Self::Rekognition => EngineName::Rekognition,
            Self::Textract => EngineName::Textract,
            Self::Auto => EngineName::Auto,
            Self::PpOcr => EngineName::PpOcr,
        }
    }
}

impl FromStr for EngineChoice {
    type Err = UnknownEngine;
    /// An engine's name ([`EngineName`]), of one the AWS deployment offers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_offered(s)
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name().fmt(f)
    }
}

/// Why the settings cannot be read.
pub type SettingsError = SettingError;

/// How long one image's OCR may take in a function unless `INTAKE_OCR_TIMEOUT_SECONDS` says
/// otherwise: well inside the processor's 120 s timeout, so that work still running ends in a
/// retryable error the function reports rather than in the function being killed with its batch.
pub const DEFAULT_OCR_TIME_LIMIT: Duration = Duration::from_secs(90);

/// Everything an AWS deployment of Intake is configured with. AWS itself (region, credentials,
/// endpoints) is configured by the SDK's standard variables: `AWS_REGION`, `AWS_ENDPOINT_URL`,
/// `AWS_ACCESS_KEY_ID`, ..., so the same code runs against AWS and against emulators.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AwsSettings {
    /// `INTAKE_BUCKET` (required): the private bucket uploads and OCR sidecars go to.
    pub bucket: String,
    /// `INTAKE_TABLE` (required): the DynamoDB table of records.
    pub table: String,
    /// `INTAKE_OCR_ENGINE`: `rekognition`, `textract`, `auto` (default) or `ppocr`.
    pub engine: EngineChoice,
    /// `INTAKE_S3_FORCE_PATH_STYLE`: path-style S3 addressing, needed by emulators; defaults to true
    /// when `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3` is set, false otherwise.
    pub s3_force_path_style: bool,
    /// The shared settings (URL lifetimes, limits, allowed types, ...), see
    /// [`intake_settings::intake_config`] for their variables.
    pub config: IntakeConfig,
    /// `INTAKE_PROCESSING_QUEUE_URL`: the processing queue, where the API asks for images to be
    /// processed again (without it, reprocessing answers 501 `REPROCESS_UNAVAILABLE`).
    pub processing_queue_url: Option<String>,
    /// `INTAKE_FINGERPRINT_TABLE`: the DynamoDB table of the near-duplicate fingerprint index
    /// (without it, records are not checked for near-duplicates and `GET /images/{id}/similar`
    /// answers 501 `SIMILAR_UNAVAILABLE`).
    pub fingerprint_table: Option<String>,
    /// `INTAKE_EVENT_BUS`: the EventBridge bus (name or ARN) the processor publishes the table
    /// stream's events to.
    pub event_bus: Option<String>,
    /// `INTAKE_OCR_TIMEOUT_SECONDS` (default [`DEFAULT_OCR_TIME_LIMIT`]): the longest one image's
    /// OCR may take in the function, which is also how long the processor waits for a Textract
    /// job, and how long the in-function reader may take on a document.
    pub ocr_time_limit: Duration,
    /// `INTAKE_FIELDS`: what reads a document's type and fields, `rules` (default) or
    /// `textract-expense`.
    pub fields: FieldsChoice,
}

impl AwsSettings {
    /// Settings for `bucket` and `table` with defaults for the rest.
    pub fn new(bucket: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            table: table.into(),
            engine: EngineChoice::default(),
            s3_force_path_style: false,
            config: IntakeConfig::default(),
            processing_queue_url: None,
            fingerprint_table: None,
            event_bus: None,
            ocr_time_limit: DEFAULT_OCR_TIME_LIMIT,
            fields: FieldsChoice::default(),
        }
    }

    /// With another reader of fields.
    #[must_use]
    pub fn with_fields(mut self, fields: FieldsChoice) -> Self {
        self.fields = fields;
        self
    }

    /// With another OCR time limit.
    #[must_use]
    pub fn with_ocr_time_limit(mut self, limit: Duration) -> Self {
        self.ocr_time_limit = limit;
        self
    }

    /// With an event bus.
    #[must_use]
    pub fn with_event_bus(mut self, bus: Option<String>) -> Self {
        self.event_bus = bus.filter(|b| !b.trim().is_empty());
        self
    }

    /// With the fingerprint index's table.
    #[must_use]
    pub fn with_fingerprint_table(mut self, table: Option<String>) -> Self {
        self.fingerprint_table = table.filter(|t| !t.trim().is_empty());
        self
    }

    /// With the processing queue's URL.
    #[must_use]
    pub fn with_processing_queue(mut self, url: Option<String>) -> Self {
        self.processing_queue_url = url.filter(|u| !u.trim().is_empty());
        self
    }

    /// With an engine choice.
    #[must_use]
    pub fn with_engine(mut self, engine: EngineChoice) -> Self {
        self.engine = engine;
        self
    }

    /// With path-style S3 addressing.
    #[must_use]
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.s3_force_path_style = path_style;
        self
    }

    /// With the shared settings.
    #[must_use]
    pub fn with_config(mut self, config: IntakeConfig) -> Self {
        self.config = config;
        self
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the variable that is missing or invalid.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the settings from any name → value source (the environment, a map in tests).
    ///
    /// # Errors
    /// [`SettingsError`] naming the variable that is missing or invalid.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let required = |setting: &Setting| {
            read_setting(lookup, setting, |v| Ok::<_, String>(v.to_owned()))?
                .ok_or(SettingError::Missing { name: setting.name })
        };
        let endpoint_set = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|v| lookup(v).is_some_and(|e| !e.trim().is_empty()));
        Ok(Self {
            bucket: required(&table::BUCKET)?,
            table: required(&table::TABLE)?,
            engine: read_setting(lookup, &table::OCR_ENGINE, EngineChoice::from_str)?
                .unwrap_or_default(),
            s3_force_path_style: read_setting(lookup, &table::S3_FORCE_PATH_STYLE, parse_bool)?
                .unwrap_or(endpoint_set),
            // The function's locale is the platform's (Lambda sets LANG=en_US.UTF-8), not the
            // operator's: on AWS dates are day-first unless INTAKE_DATE_ORDER says otherwise.
            config: intake_settings::intake_config(&|name| {
                (!intake_settings::LOCALE_VARIABLES.contains(&name))
                    .then(|| lookup(name))
                    .flatten()
            })?,
            processing_queue_url: read_setting(lookup, &table::PROCESSING_QUEUE_URL, |v| {
                Ok::<_, String>(v.to_owned())
            })?,
            fingerprint_table: read_setting(lookup, &table::FINGERPRINT_TABLE, |v| {
                Ok::<_, String>(v.to_owned())
            })?,
            event_bus: read_setting(lookup, &table::EVENT_BUS, |v| Ok::<_, String>(v.to_owned()))?,
            ocr_time_limit: read_setting(lookup, &table::OCR_TIMEOUT, parse_time_limit)?
                .unwrap_or(DEFAULT_OCR_TIME_LIMIT),
            fields: read_setting(lookup, &table::FIELDS, FieldsChoice::from_str)?
                .unwrap_or_default(),
        })
    }
}

/// A time limit in whole seconds, at least one.
///
/// # Errors
/// What is wrong with `value`, for the setting's error.
pub fn parse_time_limit(value: &str) -> Result<Duration, &'static str> {
    match value.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err("expected a positive number of seconds"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<AwsSettings, SettingsError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        AwsSettings::from_lookup(&|k| map.get(k).map(|v| (*v).to_owned()))
    }

    #[test]
    fn ppocr_is_an_engine_choice() {
        let s = from(&[
            ("INTAKE_BUCKET", "b"),
            ("INTAKE_TABLE", "t"),
            ("INTAKE_OCR_ENGINE", "PPOCR"),
        ])
        .unwrap();
        assert_eq!(s.engine, EngineChoice::PpOcr);
        assert_eq!(s.engine.to_string(), "ppocr");
    }

    #[test]
    fn reads_required_and_optional_settings() {
        let s = from(&[
            ("INTAKE_BUCKET", "images"),
            ("INTAKE_TABLE", "records"),
            ("INTAKE_OCR_ENGINE", "Textract"),
            ("INTAKE_UPLOAD_URL_TTL_SECONDS", "120"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ])
        .unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.table.as_str(), s.engine),
            ("images", "records", EngineChoice::Textract)
        );
        assert!(
            s.s3_force_path_style,
            "an endpoint override implies path-style addressing"
        );
        assert_eq!(
            s.config.upload_url_ttl,
            intake_domain::model::UrlTtl::from_secs(120).unwrap()
        );
        let plain = from(&[("INTAKE_BUCKET", "b"), ("INTAKE_TABLE", "t")]).unwrap();
        assert_eq!(
            (plain.engine, plain.s3_force_path_style),
            (EngineChoice::Auto, false)
        );
        assert_eq!(plain.ocr_time_limit, Duration::from_secs(90));
        let limited = from(&[
            ("INTAKE_BUCKET", "b"),
            ("INTAKE_TABLE", "t"),
            ("INTAKE_OCR_TIMEOUT_SECONDS", "45"),
        ])
        .unwrap();
        assert_eq!(limited.ocr_time_limit, Duration::from_secs(45));
        for bad in ["0", "-1", "soon"] {
            let error = from(&[
                ("INTAKE_BUCKET", "b"),
                ("INTAKE_TABLE", "t"),
                ("INTAKE_OCR_TIMEOUT_SECONDS", bad),
            ])
            .unwrap_err();
            assert!(
                error.to_string().contains("INTAKE_OCR_TIMEOUT_SECONDS"),
                "{error}"
            );
        }
    }

    #[test]
    fn missing_and_invalid_settings_are_named() {
        assert_eq!(
            from(&[("INTAKE_TABLE", "t")]).unwrap_err(),
            SettingError::Missing {
                name: "INTAKE_BUCKET"
            }
        );
        let error = from(&[
            ("INTAKE_BUCKET", "b"),
            ("INTAKE_TABLE", "t"),
            ("INTAKE_OCR_ENGINE", "tesseract"),
        ])
        .unwrap_err();
        assert!(error.to_string().contains("INTAKE_OCR_ENGINE"), "{error}");
    }
}
