//! `GET /images/{imageId}/pages/{page}`: a picture of one page of a processed image, for people to
//! read it with its boxes drawn over it.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use intake_domain::model::{ImageId, PageNumber, PictureSize};
use intake_domain::{Intake, IntakeError};
use serde::Deserialize;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::ApiQuery;

/// The query of `GET /images/{imageId}/pages/{page}`: the picture's size, `page` by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    size: Option<String>,
}

/// The path of an image's page pictures.
pub(crate) const PAGE_PATH: &str = "/images/{imageId}/pages/{page}";

/// The route's image id and page number, parsed once.
pub(crate) struct PagePath {
    id: ImageId,
    page: PageNumber,
}

impl<S: Send + Sync> FromRequestParts<S> for PagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((id, page)) = Path::<(String, String)>::from_request_parts(parts, state).await?;
        let id = ImageId::parse(&id).map_err(IntakeError::from)?;
        let page = page
            .parse::<PageNumber>()
            .ok()
            .filter(|p| p.to_string() == page)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_PAGE",
                    format!("{page:?} is not a page number (1, 2, …)"),
                )
            })?;
        Ok(Self { id, page })
    }
}

/// 303 to a short-lived URL of the page's picture (a JPEG, upright, at most 1600 px a side, or
/// 320 px with `size=thumb`); 400 `INVALID_PAGE` (also for an unknown size), 404 for another owner's or a deleted image and `PAGE_NOT_FOUND` past its last
/// page, 409 `INVALID_STATE` for an image that is not processed, 501 `PICTURES_UNAVAILABLE` where
/// the deployment draws none of its format.
pub(crate) async fn page_picture(
    State(intake): State<Intake>,
    caller: Caller,
    PagePath { id, page }: PagePath,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let size = match query.size.as_deref() {
        None => PictureSize::Page,
        Some(name) => PictureSize::parse(name).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_PAGE",
                format!("{name:?} is not a picture size; the sizes are: page, thumb"),
            )
        })?,
    };
    let request = intake.page_picture(&caller.owner, id, page, size).await?;
    let location = HeaderValue::from_str(&request.url).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        )
    })?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
