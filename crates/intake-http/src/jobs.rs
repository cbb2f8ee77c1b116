//! The local server's dead jobs, for operators (admin keys only): `GET /jobs?state=dead`,
//! `POST /jobs/{imageId}/retry`, `DELETE /jobs/{imageId}`. On AWS, the processing queue's
//! dead-letter queue and its alarm play this part.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete, get, post};
use axum::{Json, Router};
use intake_domain::model::{ImageId, ObjectKey, Timestamp};
use intake_domain::ports::{DeadJob, JobQueue};
use intake_domain::{Intake, IntakeError};
use serde::{Deserialize, Serialize};

use crate::extract::{ApiQuery, Id};
use crate::{ApiError, Caller, Route};

/// What the job routes work on.
#[derive(Clone)]
struct Jobs {
    intake: Intake,
    queue: Arc<dyn JobQueue>,
}

/// A dead job as listed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadJobView {
    image_id: ImageId,
    object_key: ObjectKey,
    attempts: u32,
    reason: String,
    buried_at: Timestamp,
}

impl From<DeadJob> for DeadJobView {
    fn from(dead: DeadJob) -> Self {
        Self {
            image_id: dead.key.image_id(),
            object_key: dead.key,
            attempts: dead.attempts,
            reason: dead.reason,
            buried_at: dead.buried_at,
        }
    }
}

/// Counts of jobs by state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsView {
    waiting: u64,
    leased: u64,
    dead: u64,
}

/// Which jobs `GET /jobs` lists: only the dead are kept apart to be looked at.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum JobState {
    Dead,
}

/// The query of `GET /jobs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    state: JobState,
    #[serde(default)]
    limit: Option<u32>,
}

/// The job routes with their handlers, in one table (see [`JOB_ROUTES`]).
fn table() -> [(Route, MethodRouter<Jobs>); 3] {
    let route = Route::authenticated;
    [
        (route("GET", "/jobs"), get(list_jobs)),
        (route("POST", "/jobs/{imageId}/retry"), post(retry_job)),
        (route("DELETE", "/jobs/{imageId}"), delete(drop_job)),
    ]
}

/// The local server's job routes: documented in `openapi.yaml` as `x-local-only`, and checked against
/// it like [`crate::ROUTES`].
pub static JOB_ROUTES: std::sync::LazyLock<Vec<Route>> =
    std::sync::LazyLock::new(|| crate::routes::listed(table()));

/// The job routes over `queue`. Serve them behind authentication (the `authenticated` routes of
/// [`crate::app_with_routes`]); each also requires an admin caller (403 `ADMIN_REQUIRED`).
pub fn job_routes(intake: Intake, queue: Arc<dyn JobQueue>) -> Router {
    crate::routes::build(table(), Jobs { intake, queue })
}

async fn list_jobs(
    State(jobs): State<Jobs>,
    caller: Caller,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin("managing jobs")?;
    let JobState::Dead = query.state;
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(IntakeError::InvalidLimit {
            limit: u64::from(limit),
            max: 1000,
        }
        .into());
    }
    let dead: Vec<DeadJobView> = jobs
        .intake
        .dead_jobs(jobs.queue.as_ref(), limit)
        .await?
        .into_iter()
        .map(DeadJobView::from)
        .collect();
    let stats = jobs.queue.stats().await.map_err(IntakeError::from)?;
    Ok(Json(serde_json::json!({
        "jobs": dead,
        "stats": StatsView { waiting: stats.waiting, leased: stats.leased, dead: stats.dead },
    })))
}

async fn retry_job(
    State(jobs): State<Jobs>,
    caller: Caller,
    Id(id): Id<ImageId>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin("managing jobs")?;
    jobs.intake.retry_dead_job(jobs.queue.as_ref(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn drop_job(
    State(jobs): State<Jobs>,
    caller: Caller,
    Id(id): Id<ImageId>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin("managing jobs")?;
    jobs.intake.drop_dead_job(jobs.queue.as_ref(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
