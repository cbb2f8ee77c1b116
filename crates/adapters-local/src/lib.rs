//! # intake-local
//!
//! Intake's ports on one machine, with no cloud account: [`FsObjectStore`] (objects in a data
//! directory, written atomically), [`SqliteRepository`] (records in SQLite, WAL, migrations) and
//! [`TesseractOcr`] (the `tesseract` 5 CLI). Each runs its port's conformance suite.

mod fs_store;
mod sqlite;
mod tesseract;

pub use fs_store::{FsObjectStore, PutChecks, PutError};
pub use sqlite::{SqliteJobQueue, SqliteRepository};
pub use tesseract::{TesseractOcr, TesseractOptions, parse_tsv};
