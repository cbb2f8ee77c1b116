use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router, middleware};
use intake_domain::Intake;
use intake_domain::model::{EventLinks, ImageId};
use intake_domain::ports::OcrDetail;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use crate::ApiError;
use crate::auth::{Authenticator, Caller, require_caller};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::views::{ImagePageView, ImageView, ListParams, UploadBody, UploadTicketView};

/// One route of the API: what `openapi.yaml` must describe and what the router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template (`/images/{imageId}`: the same syntax in axum and OpenAPI).
    pub path: &'static str,
    /// Whether the route requires an authenticated caller (every route but `/health`).
    pub authenticated: bool,
}

impl Route {
    /// A route that requires an authenticated caller.
    pub(crate) const fn authenticated(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            authenticated: true,
        }
    }
}

/// The path of one image (`GET` answers it with its OCR text).
const IMAGE_PATH: &str = "/images/{imageId}";

/// The API path of image `id` (`/images/{id}`), from the route that answers it.
pub fn image_link(id: ImageId) -> String {
    IMAGE_PATH.replace("{imageId}", &id.to_string())
}

/// The links the events' documents give (`data.links.image`: [`image_link`]), for the compositions
/// to hand to [`intake_domain::IntakeBuilder::event_links`]: the API's paths are the API's to say.
pub const EVENT_LINKS: EventLinks = EventLinks::new(image_link);

/// Every route with its handler, in one table: the router is built from it, [`ROUTES`] lists it, and
/// tests check `openapi.yaml` and the SAM template against it, so no route can exist in one place only.
fn table() -> [(Route, MethodRouter<Intake>); 10] {
    [
        (
            Route {
                method: "POST",
                path: "/uploads",
                authenticated: true,
            },
            post(create_upload),
        ),
        (
            Route {
                method: "GET",
                path: "/images",
                authenticated: true,
            },
            get(list_images),
        ),
        (
            Route {
                method: "GET",
                path: IMAGE_PATH,
                authenticated: true,
            },
            get(get_image),
        ),
        (
            Route {
                method: "DELETE",
                path: IMAGE_PATH,
                authenticated: true,
            },
            delete(delete_image),
        ),
        (
            Route {
                method: "POST",
                path: "/images/{imageId}/reprocess",
                authenticated: true,
            },
            post(reprocess_image),
        ),
        (
            Route::authenticated("GET", crate::fields::FIELDS_PATH),
            get(crate::fields::image_fields),
        ),
        (
            Route::authenticated("GET", "/images/{imageId}/similar"),
            get(similar_images),
        ),
        (
            Route::authenticated("GET", crate::exports::EXPORT_PATH),
            get(crate::exports::export_image),
        ),
        (
            Route::authenticated("GET", crate::pages::PAGE_PATH),
            get(crate::pages::page_picture),
        ),
        (
            Route {
                method: "GET",
                path: "/health",
                authenticated: false,
            },
            get(health),
        ),
    ]
}

/// `GET /metrics`: the local server's metrics (admin keys). Its handler is the server's, which reads
/// the local database; the route is declared here so that `openapi.yaml` is checked against it like
/// every other route.
pub const METRICS_ROUTE: Route = Route {
    method: "GET",
    path: "/metrics",
    authenticated: true,
};

/// Every route the API serves (see [`Route`]).
pub static ROUTES: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(|| listed(table()));

/// The router of a route table, over `state`: each route's handler at its path.
pub(crate) fn build<S: Clone + Send + Sync + 'static>(
    table: impl IntoIterator<Item = (Route, MethodRouter<S>)>,
    state: S,
) -> Router {
    table
        .into_iter()
        .fold(Router::new(), |router, (route, handler)| {
            router.route(route.path, handler)
        })
        .with_state(state)
}

/// The routes of a route table, without their handlers: what the `*_ROUTES` statics list.
pub(crate) fn listed<S>(table: impl IntoIterator<Item = (Route, MethodRouter<S>)>) -> Vec<Route> {
    table.into_iter().map(|(route, _)| route).collect()
}

/// The API's routes; those that require it run behind `auth`, and so do the `authenticated` extra
/// routes.
pub(crate) fn router(
    intake: Intake,
    auth: Arc<dyn Authenticator>,
    body_limit: usize,
    public: Router,
    authenticated: Router,
) -> Router {
    let (private, open): (Vec<_>, Vec<_>) = table()
        .into_iter()
        .partition(|(route, _)| route.authenticated);
    build(private, intake.clone())
        .merge(authenticated)
        .route_layer(middleware::from_fn_with_state(auth, require_caller))
        .merge(build(open, intake))
        .layer(DefaultBodyLimit::max(body_limit))
        .merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn create_upload(
    State(intake): State<Intake>,
    caller: Caller,
    ApiJson(body): ApiJson<UploadBody>,
) -> Result<Response, ApiError> {
    let request = body.into_request(intake.accepted_types())?;
    let ticket = intake.request_upload(&caller.owner, request).await?;
    let location = HeaderValue::from_str(&format!("/images/{}", ticket.image_id)).ok();
    let mut response = (StatusCode::CREATED, Json(UploadTicketView::from(ticket))).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn list_images(
    State(intake): State<Intake>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let page = intake
        .list_images(&caller.owner, &params.into_request()?)
        .await?;
    Ok(Json(ImagePageView::of(&page)).into_response())
}

/// The query of `GET /images/{imageId}`: `include=ocrLines` adds the OCR lines, words, confidences
/// and boxes (a dense document's geometry is most of its record, so only clients that draw boxes
/// ask for it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageQuery {
    #[serde(default)]
    include: Option<Include>,
}

/// What `include` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Include {
    #[serde(rename = "ocrLines")]
    OcrLines,
}

async fn get_image(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
    ApiQuery(query): ApiQuery<ImageQuery>,
) -> Result<Response, ApiError> {
    let detail = match query.include {
        Some(Include::OcrLines) => OcrDetail::Lines,
        None => OcrDetail::Text,
    };
    let details = intake.get_image(&caller.owner, id, detail).await?;
    Ok(Json(ImageView::of(&details)).into_response())
}

/// `GET /images/{imageId}/similar`: the caller's live images that look like the same document as
/// this one (re-scanned, re-photographed), the most alike first, each saying why.
async fn similar_images(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
) -> Result<Response, ApiError> {
    let similar = intake.similar_images(&caller.owner, id).await?;
    Ok(Json(json!({ "imageId": id, "similar": similar })).into_response())
}

/// The query of `DELETE /images/{imageId}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteQuery {
    #[serde(default)]
    purge: Option<bool>,
}

async fn delete_image(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    if query.purge == Some(true) {
        intake
            .purge_image(&caller.owner, id, caller.owner.as_str())
            .await?;
    } else {
        intake.delete_image(&caller.owner, id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /images/{imageId}/reprocess` (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReprocessBody {
    #[serde(default)]
    engine: Option<String>,
}

async fn reprocess_image(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body: ReprocessBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReprocessBody::default()
    } else {
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_JSON", e.to_string()))
            .and_then(|value| {
                if !value.is_object() {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "INVALID_BODY",
                        "the body is a JSON object",
                    ));
                }
                serde_json::from_value(value).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "INVALID_BODY",
                        e.to_string(),
                    )
                })
            })?
    };
    let record = intake
        .reprocess(&caller.owner, id, body.engine.as_deref())
        .await?;
    let view = serde_json::to_value(ImageView::of_record(&record))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(view)))
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

#[cfg(test)]
mod tests {
    use intake_domain::model::{ImageId, Timestamp};

    use super::{EVENT_LINKS, image_link};

    #[test]
    fn events_link_to_the_route_that_answers_the_image() {
        let id = ImageId::generate(Timestamp::UNIX_EPOCH);
        assert_eq!(image_link(id), format!("/images/{id}"));
        assert_eq!(EVENT_LINKS.image(id), Some(format!("/images/{id}")));
    }
}
