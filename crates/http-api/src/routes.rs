use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use intake_domain::Intake;
use intake_domain::model::ImageId;
use intake_domain::services::{ImageDetails, ImagePage, ListRequest, UploadRequest};
use serde_json::json;

use crate::ApiError;

/// One route of the API: what `openapi.yaml` must describe, and all the router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template, OpenAPI style (`/images/{imageId}`).
    pub path: &'static str,
}

/// Every route, in one table: the router is built from the same handlers and a test checks this table
/// against both the router and `openapi.yaml`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/uploads",
    },
    Route {
        method: "GET",
        path: "/images",
    },
    Route {
        method: "GET",
        path: "/images/{imageId}",
    },
    Route {
        method: "DELETE",
        path: "/images/{imageId}",
    },
    Route {
        method: "GET",
        path: "/health",
    },
];

pub(crate) fn router() -> Router<Intake> {
    Router::new()
        .route("/uploads", post(create_upload))
        .route("/images", get(list_images))
        .route("/images/{image_id}", get(get_image).delete(delete_image))
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn create_upload(
    State(intake): State<Intake>,
    body: Result<Json<UploadRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let ticket = intake.request_upload(request).await?;
    let location = HeaderValue::from_str(&format!("/images/{}", ticket.image_id)).ok();
    let mut response = (StatusCode::CREATED, Json(ticket)).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn list_images(
    State(intake): State<Intake>,
    query: Result<Query<ListRequest>, QueryRejection>,
) -> Result<Json<ImagePage>, ApiError> {
    let Query(request) = query?;
    Ok(Json(intake.list_images(&request).await?))
}

async fn get_image(
    State(intake): State<Intake>,
    Path(image_id): Path<String>,
) -> Result<Json<ImageDetails>, ApiError> {
    let id = ImageId::parse(&image_id).map_err(intake_domain::IntakeError::from)?;
    Ok(Json(intake.get_image(id).await?))
}

async fn delete_image(
    State(intake): State<Intake>,
    Path(image_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ImageId::parse(&image_id).map_err(intake_domain::IntakeError::from)?;
    intake.delete_image(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on {}", uri.path()),
    )
}
