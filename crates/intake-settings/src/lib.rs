//! # intake-settings
//!
//! Reading Intake's settings from the environment (or any name → value source), at the edge: the
//! variable names, their parsing, and errors that name the variable. The Lambda functions and the
//! local server share it; the domain keeps the typed, validated [`IntakeConfig`] and knows no
//! variable.

mod engine;
pub mod table;

pub use engine::{EngineName, OfferedEngines, UnknownEngine};

use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_domain::model::{ContentType, DateOrder, DuplicateRule, FieldOptions, UrlTtl};

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

/// Reads one variable of the [`table`] from `lookup` and parses it with `parse`; unset or blank means
/// `None`.
///
/// # Errors
/// [`SettingError::Invalid`] when `parse` fails.
pub fn read_setting<T, E: std::fmt::Display>(
    lookup: &dyn Fn(&str) -> Option<String>,
    setting: &table::Setting,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, SettingError> {
    let name = setting.name;
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

/// Log-level directives as written in `INTAKE_LOG` or `RUST_LOG` (`info`, `debug`,
/// `intake_server=debug, info`), each trimmed, empty ones dropped: the canonical form a log filter
/// parses. `None` when nothing is left (the default level applies).
pub fn log_directives(text: &str) -> Option<String> {
    let directives: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    (!directives.is_empty()).then(|| directives.join(","))
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

/// Parses a whole number of seconds.
///
/// # Errors
/// When the text is not a whole, non-negative number.
pub fn parse_secs(text: &str) -> Result<Duration, std::num::ParseIntError> {
    text.parse::<u64>().map(Duration::from_secs)
}

/// Parses a URL lifetime in seconds, `1..=604800` (7 days).
fn parse_ttl(text: &str) -> Result<UrlTtl, String> {
    let secs = parse_secs(text).map_err(|e| e.to_string())?;
    UrlTtl::new(secs).map_err(|e| e.to_string())
}

/// Parses the near-duplicate rule's thresholds as `name=value` pairs, comma-separated, over the
/// defaults (`maxImageDistance=8, minTextMatchedTokens=4`); the names are the rule's fields as its
/// JSON spells them. The domain checks the values' ranges when the services are built.
///
/// # Errors
/// A message naming a pair that is not `name=value`, an unknown name, or a value that is not a
/// number of the kind the threshold takes.
pub fn parse_duplicate_rule(text: &str) -> Result<DuplicateRule, String> {
    const NAMES: &str = "maxImageDistance, minImageTokenAgreement, maxReplacedTokens, \
        maxTextDistance, minTextTokenAgreement, minTextMatchedTokens";
    let mut rule = DuplicateRule::default();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .map(|(n, v)| (n.trim(), v.trim()))
            .ok_or_else(|| format!("{pair:?} is not name=value"))?;
        let whole = || {
            value
                .parse::<u32>()
                .map_err(|e| format!("{name}={value:?}: {e}"))
        };
        let share = || {
            value
                .parse::<f64>()
                .map_err(|e| format!("{name}={value:?}: {e}"))
        };
        match name {
            "maxImageDistance" => rule.max_image_distance = whole()?,
            "minImageTokenAgreement" => rule.min_image_token_agreement = share()?,
            "maxReplacedTokens" => rule.max_replaced_tokens = whole()? as usize,
            "maxTextDistance" => rule.max_text_distance = whole()?,
            "minTextTokenAgreement" => rule.min_text_token_agreement = share()?,
            "minTextMatchedTokens" => rule.min_text_matched_tokens = whole()? as usize,
            other => {
                return Err(format!(
                    "unknown threshold {other:?}; the thresholds are {NAMES}"
                ));
            }
        }
    }
    Ok(rule)
}

/// Parses a date order (`day-first`, `month-first`, or the short `dmy`, `mdy`).
///
/// # Errors
/// A message naming the accepted values.
pub fn parse_date_order(text: &str) -> Result<DateOrder, String> {
    DateOrder::parse(text).ok_or_else(|| "expected day-first or month-first".to_owned())
}

/// The variables that name the locale, in the order the C library reads them for dates.
pub const LOCALE_VARIABLES: [&str; 3] = ["LC_ALL", "LC_TIME", "LANG"];

/// The date order a POSIX locale implies (`LC_ALL`, else `LC_TIME`, else `LANG`, as the C library
/// picks them): month-first for a US locale (`en_US.UTF-8`, `es_US`), day-first for every other
/// and without one.
pub fn locale_date_order(lookup: &dyn Fn(&str) -> Option<String>) -> DateOrder {
    let locale = LOCALE_VARIABLES
        .into_iter()
        .filter_map(lookup)
        .find(|v| !v.trim().is_empty())
        .unwrap_or_default();
    let region = locale
        .split(['.', '@'])
        .next()
        .and_then(|l| l.split_once('_'))
        .map(|(_, region)| region.to_ascii_uppercase());
    if region.as_deref() == Some("US") {
        DateOrder::MonthFirst
    } else {
        DateOrder::DayFirst
    }
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
/// | `INTAKE_DUPLICATE_RULE` | [`IntakeConfig::duplicate_rule`], see [`parse_duplicate_rule`] |
/// | `INTAKE_DATE_ORDER` | [`IntakeConfig::field_options`]' date order; without it the locale's ([`locale_date_order`]) |
///
/// # Errors
/// [`SettingError::Invalid`] naming the first variable that does not parse.
pub fn intake_config(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IntakeConfig, SettingError> {
    let mut config = IntakeConfig::default();
    if let Some(v) = read_setting(lookup, &table::UPLOAD_URL_TTL, parse_ttl)? {
        config.upload_url_ttl = v;
    }
    if let Some(v) = read_setting(lookup, &table::DOWNLOAD_URL_TTL, parse_ttl)? {
        config.download_url_ttl = v;
    }
    if let Some(v) = read_setting(lookup, &table::MAX_UPLOAD_BYTES, str::parse::<u64>)? {
        config.max_upload_bytes = v;
    }
    if let Some(v) = read_setting(lookup, &table::MAX_PIXELS, str::parse::<u64>)? {
        config.max_pixels = v;
    }
    if let Some(v) = read_setting(lookup, &table::MAX_PAGES, str::parse::<u32>)? {
        config.max_pages = v;
    }
    if let Some(v) = read_setting(lookup, &table::ALLOWED_TYPES, |text| {
        text.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(ContentType::parse)
            .collect::<Result<Vec<_>, _>>()
    })? {
        config.allowed_types = Some(v);
    }
    if let Some(v) = read_setting(lookup, &table::PROCESSING_LEASE, parse_secs)? {
        config.processing_lease = v;
    }
    if let Some(v) = read_setting(lookup, &table::MAX_ATTEMPTS, str::parse::<u32>)? {
        config.max_attempts = v;
    }
    if let Some(v) = read_setting(lookup, &table::REUSE_DUPLICATE_OCR, parse_bool)? {
        config.reuse_duplicate_ocr = v;
    }
    if let Some(v) = read_setting(lookup, &table::DELETE_OBJECTS, parse_bool)? {
        config.delete_objects = v;
    }
    if let Some(v) = read_setting(lookup, &table::DUPLICATE_RULE, parse_duplicate_rule)? {
        config.duplicate_rule = v;
    }
    let date_order = read_setting(lookup, &table::DATE_ORDER, parse_date_order)?
        .unwrap_or_else(|| locale_date_order(lookup));
    config.field_options = FieldOptions::with_date_order(date_order);
    Ok(config)
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
    fn the_date_order_is_configured_or_the_locale_s() {
        let order = |vars: &[(&str, &str)]| {
            intake_config(&lookup(vars))
                .unwrap()
                .field_options
                .date_order
        };
        assert_eq!(order(&[]), DateOrder::DayFirst);
        assert_eq!(order(&[("LANG", "en_US.UTF-8")]), DateOrder::MonthFirst);
        assert_eq!(order(&[("LANG", "en_GB.UTF-8")]), DateOrder::DayFirst);
        assert_eq!(
            order(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "de_DE@euro")]),
            DateOrder::DayFirst
        );
        assert_eq!(
            order(&[("LANG", "en_US.UTF-8"), ("INTAKE_DATE_ORDER", "day-first")]),
            DateOrder::DayFirst
        );
        assert_eq!(
            order(&[("INTAKE_DATE_ORDER", "mdy")]),
            DateOrder::MonthFirst
        );
        let error = intake_config(&lookup(&[("INTAKE_DATE_ORDER", "ymd")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("INTAKE_DATE_ORDER"), "{error}");
    }

    #[test]
    fn reads_every_setting_and_keeps_defaults_for_the_rest() {
        let config = intake_config(&lookup(&[
            ("INTAKE_UPLOAD_URL_TTL_SECONDS", "60"),
            ("INTAKE_MAX_UPLOAD_BYTES", "1000"),
            ("INTAKE_ALLOWED_TYPES", "image/png, image/jpeg"),
            ("INTAKE_REUSE_DUPLICATE_OCR", "false"),
            ("INTAKE_DELETE_OBJECTS", "yes"),
            ("INTAKE_MAX_ATTEMPTS", " 3 "),
            (
                "INTAKE_DUPLICATE_RULE",
                "maxImageDistance = 8, minTextTokenAgreement=0.8,",
            ),
        ]))
        .unwrap();
        assert_eq!(config.duplicate_rule.max_image_distance, 8);
        assert!((config.duplicate_rule.min_text_token_agreement - 0.8).abs() < f64::EPSILON);
        assert_eq!(
            config.duplicate_rule.min_text_matched_tokens,
            DuplicateRule::default().min_text_matched_tokens
        );
        assert_eq!(config.upload_url_ttl, UrlTtl::from_secs(60).unwrap());
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
            intake_config(&lookup(&[])).unwrap(),
            IntakeConfig::default()
        );
    }

    #[test]
    fn the_readme_shows_the_settings_table() {
        let readme = include_str!("../../../README.md");
        let table = table::markdown();
        assert!(
            readme.contains(&table),
            "README.md's settings table differs from intake_settings::table; it should read:\n{table}"
        );
        let names: std::collections::BTreeSet<_> = table::SETTINGS.iter().map(|s| s.name).collect();
        assert_eq!(
            names.len(),
            table::SETTINGS.len(),
            "a variable is listed twice"
        );
    }

    #[test]
    fn log_directives_are_trimmed_and_empty_ones_dropped() {
        assert_eq!(log_directives("info "), Some("info".to_owned()));
        assert_eq!(
            log_directives(" intake=debug, tower_http=warn ,"),
            Some("intake=debug,tower_http=warn".to_owned())
        );
        assert_eq!(log_directives(" , "), None);
        assert_eq!(log_directives(""), None);
    }

    #[test]
    fn names_the_variable_that_does_not_parse() {
        let error = intake_config(&lookup(&[("INTAKE_MAX_PIXELS", "lots")])).unwrap_err();
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
            intake_config(&lookup(&[("INTAKE_ALLOWED_TYPES", "image/png,text/html")])).unwrap_err();
        assert!(error.to_string().contains("text/html"), "{error}");
        assert!(intake_config(&lookup(&[("INTAKE_DELETE_OBJECTS", "maybe")])).is_err());
        for bad in [
            "maxImageDistance",
            "maxImageDistance=-1",
            "maxImageDistance=x",
            "nearness=3",
        ] {
            assert!(
                intake_config(&lookup(&[("INTAKE_DUPLICATE_RULE", bad)])).is_err(),
                "{bad}"
            );
        }
    }
}
