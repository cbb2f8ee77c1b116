//! The ports: the traits through which the services reach storage, signing, OCR, persistence, time and
//! ids. Adapters implement them; each has a conformance suite in `testkit`.
//!
//! Every port is `Send + Sync + Debug`, object safe, and has one `#[non_exhaustive]` error enum that
//! says whether a failure is worth retrying. No technology's types appear here.

mod clock;
mod document;
mod events;
mod export;
mod failure;
mod fields;
mod fingerprints;
mod ocr;
mod preview;
mod queue;
mod repository;
mod requests;
mod search;
mod signer;
mod store;

pub use clock::{Clock, IdGenerator, RandomIds, SystemClock};
pub use document::{
    DocumentInfo, DocumentPage, DocumentReadError, DocumentReader, PageContent, PageStream,
    PageText, ReadRequest,
};
pub use events::{EventOutbox, EventPublisher, PublishError};
pub use export::{ExportRenderer, RenderError};
pub use failure::{Failure, FailureKind, PortError};
pub use fields::{FieldError, FieldExtractor, FieldInput};
pub use fingerprints::{FingerprintIndex, FingerprintIndexError, IndexedPage};
pub use ocr::{ImageFacts, OcrCapabilities, OcrEngine, OcrError, OcrInput};
pub use preview::{PREVIEW_SIDE, Preview, PreviewError, Previewer};
pub use queue::{DeadJob, Job, JobQueue, QueueError, QueueStats};
pub use repository::{ImageRepository, ListQuery, MAX_PAGE_LIMIT, OcrDetail, Page, RepoError};
pub use requests::{ProcessingRequests, QueueRequests};
pub use search::{
    ImageSearch, MAX_SEARCH_DEPTH, MAX_SEARCH_PAGE, SearchHit, SearchPage, SearchQuery,
};
pub use signer::{
    GetUrlRequest, HttpMethod, PresignedRequest, PutUrlRequest, SignerError, UrlSigner, header,
};
pub use store::{ByteStream, GetResult, ObjectMeta, ObjectStore, StoreError};

#[cfg(test)]
pub use clock::{MockClock, MockIdGenerator};
#[cfg(test)]
pub use events::{MockEventOutbox, MockEventPublisher};
#[cfg(test)]
pub use ocr::MockOcrEngine;
#[cfg(test)]
pub use queue::MockJobQueue;
#[cfg(test)]
pub use repository::MockImageRepository;
#[cfg(test)]
pub use signer::MockUrlSigner;
#[cfg(test)]
pub use store::MockObjectStore;

/// A boxed error from an adapter's technology, kept as the `source` of a port error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
