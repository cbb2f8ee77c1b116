//! # intake-server
//!
//! Intake's local application: [`LocalServer`] keeps a data directory (locked, with its secrets),
//! composes the local adapters of `intake-local` (filesystem store, SQLite, PP-OCR or Tesseract) into
//! an [`intake_domain::Intake`], and serves the shared API router, the object endpoints that serve the
//! HMAC-signed URLs ([`ObjectEndpoint`]), a pool of workers ([`WorkerPool`]) and the web app at `/`
//! ([`web`]). It is to the local adapters what `compose.rs` and `intake-lambda` are to the AWS ones.

mod connections;
mod events;
mod metrics;
mod objects;
mod retention;
mod server;
pub mod web;
mod workers;

pub use connections::{
    ConnectionLimits, DEFAULT_BODY_GRACE, DEFAULT_HEADER_TIMEOUT, DEFAULT_MIN_BODY_RATE,
    PacedBodyError, default_max_connections,
};
pub use events::{EventPump, OUTBOX_POLL};
/// The origins allowed to make cross-origin requests ([`ServeOptions::cors`]).
pub use intake_http::CorsOrigins;
pub use metrics::{Metrics, TimedQueue, count_requests, metrics_routes};
pub use objects::{DEFAULT_INTENT_DELAY, ObjectEndpoint};
pub use retention::{RETENTION_PERIOD, Retention};
pub use server::{
    LOCAL_BUCKET, LocalServer, OcrChoice, Recovered, ServeError, ServeOptions, UnknownEngine,
};
pub use workers::{IDLE_POLL, RECOVERY_POLL, WorkerPool};
