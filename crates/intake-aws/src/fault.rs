//! Classifying SDK failures once, for every adapter: which are worth retrying and which are final.

use intake_domain::ports::Failure;
use std::error::Error as StdError;
use std::fmt::Debug;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an SDK error is, independent of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The service asked us to slow down.
    Throttled,
    /// The service or the network failed in a way that may pass.
    Unavailable,
    /// No answer in time.
    Timeout,
    /// The resource does not exist.
    NotFound,
    /// Credentials or policy refused the call.
    Denied,
    /// A conditional write's condition did not hold.
    ConditionFailed,
    /// The service refused the request as invalid; retrying will not help.
    Rejected,
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "LimitExceededException",
    "TransactionConflictException",
];

const UNAVAILABLE_CODES: &[&str] = &[
    "InternalError",
    "InternalServerError",
    "InternalServerErrorException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServiceFailure",
    "RequestTimeout",
    "RequestTimeoutException",
    "TransactionInProgressException",
];

const NOT_FOUND_CODES: &[&str] = &[
    "NoSuchKey",
    "NotFound",
    "NoSuchBucket",
    "ResourceNotFoundException",
];
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
];

/// Classifies by error code first, then by HTTP status, then by the kind of SDK failure.
pub(crate) fn classify<E>(error: &SdkError<E, Response>) -> Fault
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match error {
        SdkError::TimeoutError(_) => return Fault::Timeout,
        SdkError::DispatchFailure(failure) => {
            return if failure.is_timeout() {
                Fault::Timeout
            } else {
                Fault::Unavailable
            };
        }
        SdkError::ResponseError(_) => return Fault::Unavailable,
        SdkError::ConstructionFailure(_) => return Fault::Rejected,
        _ => {}
    }
    if let Some(code) = error.code() {
        if code == "ConditionalCheckFailedException" || code == "PreconditionFailed" {
            return Fault::ConditionFailed;
        }
        if THROTTLING_CODES.contains(&code) {
            return Fault::Throttled;
        }
        if UNAVAILABLE_CODES.contains(&code) {
            return Fault::Unavailable;
        }
        if NOT_FOUND_CODES.contains(&code) {
            return Fault::NotFound;
        }
        if DENIED_CODES.contains(&code) {
            return Fault::Denied;
        }
    }
    match error.raw_response().map(|r| r.status().as_u16()) {
        Some(429) => Fault::Throttled,
        Some(404) => Fault::NotFound,
        Some(403) => Fault::Denied,
        Some(412) => Fault::ConditionFailed,
        Some(500..=599) => Fault::Unavailable,
        _ => Fault::Rejected,
    }
}

/// The error's code and message for logs and records, e.g. `InvalidImageFormatException: bad header`.
pub(crate) fn describe<E>(error: &SdkError<E, Response>) -> String
where
    E: ProvideErrorMetadata + StdError + Send + Sync + Debug + 'static,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => aws_smithy_types::error::display::DisplayErrorContext(error).to_string(),
    }
}

/// The port-neutral failure of an SDK call, for ports whose errors carry no more than that:
/// throttling, outages and timeouts retryable, anything else permanent, with the error's code and
/// message.
pub(crate) fn failure<E>(error: &SdkError<E, Response>) -> Failure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + Debug + 'static,
{
    let detail = describe(error);
    match classify(error) {
        Fault::Throttled => Failure::throttled(detail),
        Fault::Unavailable | Fault::Timeout => Failure::unavailable(detail),
        _ => Failure::other(detail),
    }
}

/// Maps an OCR service failure to the port's error: throttling, outages and timeouts are retryable;
/// the codes in `too_large` and `unsupported` and every other refusal are permanent.
pub(crate) fn ocr_error<E>(
    error: &SdkError<E, Response>,
    content_type: intake_domain::model::ContentType,
    too_large: &[&str],
    unsupported: &[&str],
) -> intake_domain::ports::OcrError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + Debug + 'static,
{
    use intake_domain::ports::OcrError;
    let detail = describe(error);
    match classify(error) {
        Fault::Throttled => OcrError::from(Failure::throttled(detail)),
        Fault::Unavailable => OcrError::from(Failure::unavailable(detail)),
        Fault::Timeout => OcrError::Timeout,
        Fault::Denied => OcrError::from(Failure::other(detail)),
        Fault::NotFound | Fault::ConditionFailed | Fault::Rejected => match error.code() {
            Some(code) if too_large.contains(&code) => OcrError::TooLarge { reason: detail },
            Some(code) if unsupported.contains(&code) => {
                OcrError::UnsupportedFormat { content_type }
            }
            _ => OcrError::InvalidImage { reason: detail },
        },
    }
}

/// Refuses, before any call, an image outside the engine's declared limits.
pub(crate) fn check_limits(
    caps: &intake_domain::ports::OcrCapabilities,
    input: &intake_domain::ports::OcrInput,
    max_inline_bytes: usize,
) -> Result<(), intake_domain::ports::OcrError> {
    use intake_domain::ports::{OcrError, OcrInput};
    let facts = input.facts();
    if !caps.formats.contains(&facts.content_type) {
        return Err(OcrError::UnsupportedFormat {
            content_type: facts.content_type,
        });
    }
    if facts.size_bytes > caps.max_bytes {
        return Err(OcrError::TooLarge {
            reason: format!("{} bytes exceed {}", facts.size_bytes, caps.max_bytes),
        });
    }
    if let OcrInput::Bytes { bytes, .. } = input
        && bytes.len() > max_inline_bytes
    {
        return Err(OcrError::TooLarge {
            reason: format!(
                "{} bytes exceed the {max_inline_bytes}-byte inline limit",
                bytes.len()
            ),
        });
    }
    if let Some((w, h)) = facts.dimensions() {
        if w < caps.min_dimension_px || h < caps.min_dimension_px {
            return Err(OcrError::InvalidImage {
                reason: format!(
                    "{w}×{h} px is below {0}×{0} px, the engine's minimum",
                    caps.min_dimension_px
                ),
            });
        }
        if caps.max_dimension_px.is_some_and(|max| w > max || h > max) {
            return Err(OcrError::TooLarge {
                reason: format!("{w}×{h} px exceeds the engine's largest dimension"),
            });
        }
    }
    Ok(())
}
