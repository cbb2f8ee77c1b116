//! The router: the shared API with the local server's own routes, where it listens, and the URL
//! clients reach it at.

use std::net::SocketAddr;
use std::sync::Arc;

use intake_domain::Intake;
use intake_domain::ports::JobQueue;
use intake_http::{ApiKeyAuth, ApiOptions};
use intake_keys::ApiKeys;
use intake_local::SqliteDatabase;
use intake_webhooks::Webhooks;
use tokio::net::TcpListener;

use super::{ServeError, ServeOptions};
use crate::connections::{ConnectionLimits, Pace, pace_bodies};
use crate::metrics::{Metrics, count_requests, metrics_routes};
use crate::objects::ObjectEndpoint;

/// The URL clients reach the server at: the configured one, or the bound address.
pub(super) fn public_url(options: &ServeOptions, addr: SocketAddr) -> String {
    options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned()
}

/// What the server's router serves.
pub(super) struct Served<'a> {
    pub(super) intake: &'a Intake,
    pub(super) keys: &'a ApiKeys,
    pub(super) webhooks: &'a Webhooks,
    pub(super) queue: &'a Arc<dyn JobQueue>,
    pub(super) metrics: &'a Arc<Metrics>,
    pub(super) database: &'a SqliteDatabase,
    pub(super) endpoint: &'a ObjectEndpoint,
    pub(super) url: &'a str,
    pub(super) options: &'a ServeOptions,
}

/// The shared API router with the local server's own routes (objects, web app, keys, webhooks, jobs,
/// metrics), every route counted, bodies paced.
pub(super) fn router(served: &Served<'_>) -> axum::Router {
    let router = intake_http::app_with_routes(
        served.intake.clone(),
        Arc::new(ApiKeyAuth::new(served.keys.clone())),
        ApiOptions::default().with_cors(served.options.cors.clone()),
        served
            .endpoint
            .clone()
            .router()
            .merge(crate::web::router(served.url)),
        intake_http::key_routes(served.keys.clone())
            .merge(intake_http::webhook_routes(served.webhooks.clone()))
            .merge(intake_http::job_routes(
                served.intake.clone(),
                Arc::clone(served.queue),
            ))
            .merge(metrics_routes(
                Arc::clone(served.metrics),
                served.intake.clone(),
                served.database.repository(),
                Arc::clone(served.queue),
            )),
    )
    .route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(served.metrics),
        count_requests,
    ));
    paced(router, &served.options.connections)
}

/// `router` with bodies that trickle in cut off (the object endpoint answers 408 and stores nothing),
/// when the limits set a pace.
fn paced(router: axum::Router, limits: &ConnectionLimits) -> axum::Router {
    match Pace::of(limits) {
        Some(pace) => router.layer(axum::middleware::from_fn_with_state(pace, pace_bodies)),
        None => router,
    }
}

/// Binds `addr`; returns the listener and the address bound (the port chosen for port 0).
pub(super) async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}
