//! # intake-local
//!
//! Intake's ports on one machine, with no cloud account: [`FsObjectStore`] (objects in a data
//! directory, written atomically), [`SqliteRepository`] (records in SQLite, WAL, migrations, full-text
//! search), [`SqliteJobQueue`] (durable jobs next to the records), [`SqliteKeyStore`] (API keys),
//! [`SqliteWebhookStore`] (webhook subscriptions and deliveries), [`HttpWebhookSender`] (signed
//! webhook requests), [`TesseractOcr`] (the `tesseract` 5 CLI) and [`ImagePreviewer`] (thumbnails). Adapters only: each
//! translates between its port and its technology, and runs its port's conformance suite. The local
//! server that composes them is `intake-server`.

mod fs_store;
mod previews;
mod sqlite;
mod tesseract;
mod webhook_sender;

pub use fs_store::{FsObjectStore, PutChecks, PutError, is_no_space};
pub use previews::ImagePreviewer;
pub use sqlite::{
    OpenError, SqliteDatabase, SqliteFingerprintIndex, SqliteJobQueue, SqliteKeyStore,
    SqliteRepository, SqliteWebhookStore,
};
pub use tesseract::{DEFAULT_MAX_PIXELS, TesseractOcr, TesseractOptions, parse_tsv};
pub use webhook_sender::{HttpWebhookSender, SenderError, SenderOptions};
