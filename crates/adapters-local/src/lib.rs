//! # intake-local
//!
//! Intake's ports on one machine, with no cloud account: [`FsObjectStore`] (objects in a data
//! directory, written atomically), [`SqliteRepository`] (records in SQLite, WAL, migrations) and
//! [`TesseractOcr`] (the `tesseract` 5 CLI), [`SqliteJobQueue`] (durable jobs next to the records).
//! The local server reads images with PP-OCR (`intake-ocr-onnx`) by default, or Tesseract.
//! Each runs its port's conformance suite.
//!
//! [`LocalServer`] composes them into the local server: the shared API router, the object endpoints
//! that serve the HMAC-signed URLs ([`ObjectEndpoint`]), a pool of workers ([`WorkerPool`]), and the web
//! app at `/` ([`web`]).

mod connections;
mod fs_store;
mod objects;
mod previews;
mod server;
mod sqlite;
mod tesseract;
pub mod web;
mod workers;

pub use connections::{
    ConnectionLimits, DEFAULT_BODY_GRACE, DEFAULT_HEADER_TIMEOUT, DEFAULT_MIN_BODY_RATE,
    PacedBodyError, default_max_connections,
};
pub use fs_store::{FsObjectStore, PutChecks, PutError};
/// The origins allowed to make cross-origin requests ([`ServeOptions::cors`]).
pub use intake_http::CorsOrigins;
pub use objects::{DEFAULT_INTENT_DELAY, ObjectEndpoint};
pub use previews::ImagePreviewer;
pub use server::{
    LOCAL_BUCKET, LocalServer, OcrChoice, Recovered, ServeError, ServeOptions, UnknownEngine,
};
pub use sqlite::{OpenError, SqliteDatabase, SqliteJobQueue, SqliteKeyStore, SqliteRepository};
pub use tesseract::{DEFAULT_MAX_PIXELS, TesseractOcr, TesseractOptions, parse_tsv};
pub use workers::{IDLE_POLL, RECOVERY_POLL, WorkerPool};
