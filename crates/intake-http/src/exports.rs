//! `GET /images/{imageId}/export?format=hocr|alto|txt|pdf`: what was read on an image, as a file.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_domain::Intake;
use intake_domain::IntakeError;
use intake_domain::model::{ExportFormat, ImageId};
use intake_domain::services::{Export, ExportBody};
use serde::Deserialize;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::{ApiQuery, Id};

/// The path of an image's exports.
pub(crate) const EXPORT_PATH: &str = "/images/{imageId}/export";

/// The query of `GET /images/{imageId}/export`: the format, required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    format: String,
}

/// 200 with the export as a download (`Content-Disposition: attachment`), or 303 to a short-lived
/// URL of the stored export when it is larger than the deployment answers inline; 400
/// `UNKNOWN_FORMAT`, 404 for another owner's or a deleted image, 409 `INVALID_STATE` for an image
/// that is not processed.
pub(crate) async fn export_image(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = ExportFormat::parse(&query.format).map_err(IntakeError::from)?;
    let export = intake.export(&caller.owner, id, format).await?;
    Ok(answer(export))
}

fn answer(export: Export) -> Response {
    let mut response = match export.body {
        ExportBody::Inline(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(export.content_type),
            );
            if let Ok(value) = HeaderValue::from_str(&export.file_name.content_disposition()) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            guard(headers);
            response
        }
        ExportBody::Stored(request) => match HeaderValue::from_str(&request.url) {
            Ok(location) => {
                let mut response = StatusCode::SEE_OTHER.into_response();
                response.headers_mut().insert(header::LOCATION, location);
                response
            }
            Err(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
            .into_response(),
        },
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// An export is the owner's text, served from the API's origin: no browser may sniff another type
/// from it or run anything in it (hOCR is XHTML, a PDF may hold scripts), were it ever opened
/// rather than saved.
fn guard(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
}
