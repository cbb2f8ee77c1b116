//! The use cases. Every business rule of Intake lives here (and in the model's constructors).
//!
//! [`Intake`] is cheap to clone and safe to share between tasks. It needs no particular async runtime:
//! it only awaits the ports.

mod accept;
mod config;
mod dead_jobs;
mod documents;
mod erase;
mod events;
mod export;
mod fields;
mod jobs;
mod near_duplicates;
mod observed_ocr;
mod ocr_policy;
mod pages;
mod process;
mod query;
mod reprocess;
mod upload;

use std::sync::Arc;

pub use config::{ConfigError, DEFAULT_EXPORT_INLINE_BYTES, IntakeConfig};
pub use documents::{DOCUMENT_DPI, DOCUMENT_TIME_LIMIT, DocumentOcr, MAX_PAGE_PIXELS};
pub use erase::RETENTION;
pub use events::PUBLISH_BATCH;
pub use export::{Export, ExportBody};
pub use jobs::{JobPolicy, JobReport, jitter, redelivery_after_lease, redelivery_delay};
pub use observed_ocr::{ObservedOcr, OcrObserver};
pub use ocr_policy::EscalatingOcr;
pub use process::{ObjectCreated, ProcessOutcome, SkipReason};
pub use query::{DEFAULT_PAGE_LIMIT, ImageDetails, ImagePage, ListRequest, ListedImage};
pub use upload::{UploadRequest, UploadTicket};

use crate::model::{ContentType, EventLinks};
#[cfg(doc)]
use crate::ports::QueueRequests;
use crate::ports::ReadRequest;
use crate::ports::{
    Clock, DocumentReader, ExportRenderer, FieldExtractor, FingerprintIndex, IdGenerator,
    ImageRepository, ImageSearch, ObjectStore, OcrEngine, Previewer, ProcessingRequests, RandomIds,
    SystemClock, UrlSigner,
};

/// Intake's services composed over one set of ports.
#[derive(Clone, Debug)]
pub struct Intake {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn ObjectStore>,
    signer: Arc<dyn UrlSigner>,
    ocr: Arc<dyn OcrEngine>,
    /// Other engines a reprocessing run may ask for by name, with what each accepts.
    alternatives: Vec<Alternative>,
    repository: Arc<dyn ImageRepository>,
    /// Full-text search, where the deployment has it.
    search: Option<Arc<dyn ImageSearch>>,
    /// Previews of processed images, where the deployment makes them.
    previewer: Option<Arc<dyn Previewer>>,
    /// The reader of documents (PDF), where the deployment reads them page by page.
    documents: Option<Arc<dyn DocumentReader>>,
    /// The export formats' writer, where the deployment exports.
    exports: Option<Arc<dyn ExportRenderer>>,
    /// Where processing is requested again (reprocessing), where the deployment can.
    requests: Option<Arc<dyn ProcessingRequests>>,
    /// The near-duplicate fingerprint index, where the deployment keeps one.
    fingerprints: Option<Arc<dyn FingerprintIndex>>,
    /// How many times the fingerprint index failed (a lookup, a put or a remove).
    index_failures: std::sync::atomic::AtomicU64,
    /// The reader of documents' types and fields, where the deployment reads them.
    fields: Option<Arc<dyn FieldExtractor>>,
    /// The reader of expenses (receipts and invoices), where the deployment has one beside it.
    expense_fields: Option<Arc<dyn FieldExtractor>>,
    /// What the field extractor did: documents read by kind, failures.
    field_counts: fields::FieldCounts,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    /// The links the events' documents give.
    links: EventLinks,
    config: IntakeConfig,
    /// The content types accepted: the configured allow-list intersected with the engine's formats.
    accepted: Vec<ContentType>,
    /// The byte limit: the configured limit, or the engine's if lower.
    max_bytes: u64,
}

/// An engine besides the deployment's, for reprocessing runs that ask for it.
#[derive(Debug)]
struct Alternative {
    ocr: Arc<dyn OcrEngine>,
    /// The content types it accepts (the allow-list intersected with its formats).
    accepted: Vec<ContentType>,
    /// Its byte limit within the configured one.
    max_bytes: u64,
}

/// Why [`IntakeBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A port was not provided.
    #[error("no {0} was given to the builder")]
    Missing(&'static str),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Composes [`Intake`] from port implementations and a configuration.
///
/// The clock defaults to the system clock and ids to random version 7 UUIDs; every other port is
/// required.
#[derive(Debug, Default)]
#[must_use]
pub struct IntakeBuilder {
    store: Option<Arc<dyn ObjectStore>>,
    signer: Option<Arc<dyn UrlSigner>>,
    ocr: Option<Arc<dyn OcrEngine>>,
    alternatives: Vec<Arc<dyn OcrEngine>>,
    repository: Option<Arc<dyn ImageRepository>>,
    search: Option<Arc<dyn ImageSearch>>,
    previewer: Option<Arc<dyn Previewer>>,
    documents: Option<(Arc<dyn DocumentReader>, Option<ReadRequest>)>,
    exports: Option<Arc<dyn ExportRenderer>>,
    requests: Option<Arc<dyn ProcessingRequests>>,
    fingerprints: Option<Arc<dyn FingerprintIndex>>,
    fields: Option<Arc<dyn FieldExtractor>>,
    expense_fields: Option<Arc<dyn FieldExtractor>>,
    clock: Option<Arc<dyn Clock>>,
    ids: Option<Arc<dyn IdGenerator>>,
    links: EventLinks,
    config: IntakeConfig,
}

impl IntakeBuilder {
    /// The object store uploads land in.
    pub fn store(self, store: impl ObjectStore + 'static) -> Self {
        self.shared_store(Arc::new(store))
    }
    /// The object store, shared.
    pub fn shared_store(mut self, store: Arc<dyn ObjectStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// The URL signer.
    pub fn signer(self, signer: impl UrlSigner + 'static) -> Self {
        self.shared_signer(Arc::new(signer))
    }
    /// The URL signer, shared.
    pub fn shared_signer(mut self, signer: Arc<dyn UrlSigner>) -> Self {
        self.signer = Some(signer);
        self
    }
    /// The OCR engine (see [`EscalatingOcr`] to combine two).
    pub fn ocr(self, ocr: impl OcrEngine + 'static) -> Self {
        self.shared_ocr(Arc::new(ocr))
    }
    /// The OCR engine, shared.
    pub fn shared_ocr(mut self, ocr: Arc<dyn OcrEngine>) -> Self {
        self.ocr = Some(ocr);
        self
    }
    /// Another engine a reprocessing run may ask for by its name (`capabilities().engine`); the
    /// deployment's own engine reads everything else.
    pub fn alternative_ocr(mut self, ocr: Arc<dyn OcrEngine>) -> Self {
        self.alternatives.push(ocr);
        self
    }
    /// Other engines, as [`IntakeBuilder::alternative_ocr`] adds one.
    pub fn alternative_ocrs(mut self, ocrs: impl IntoIterator<Item = Arc<dyn OcrEngine>>) -> Self {
        self.alternatives.extend(ocrs);
        self
    }
    /// The record repository.
    pub fn repository(self, repository: impl ImageRepository + 'static) -> Self {
        self.shared_repository(Arc::new(repository))
    }
    /// The record repository, shared.
    pub fn shared_repository(mut self, repository: Arc<dyn ImageRepository>) -> Self {
        self.repository = Some(repository);
        self
    }
    /// Full-text search over the records (optional: without it searches answer
    /// [`crate::IntakeError::SearchUnavailable`]). Give the adapter that indexes the repository's records.
    pub fn search(self, search: impl ImageSearch + 'static) -> Self {
        self.shared_search(Arc::new(search))
    }
    /// Full-text search, shared.
    pub fn shared_search(mut self, search: Arc<dyn ImageSearch>) -> Self {
        self.search = Some(search);
        self
    }
    /// Previews of processed images (optional: without it records have no preview and lists no
    /// `thumbnailUrl`). Made where the processor holds the image's bytes.
    pub fn previews(mut self, previewer: impl Previewer + 'static) -> Self {
        self.previewer = Some(Arc::new(previewer));
        self
    }
    /// The reader of documents (optional: without it a deployment accepts PDF only if its engine
    /// takes PDF itself, as Textract does). Every engine that does not take the reader's formats
    /// reads them through it ([`DocumentOcr`]): pages at [`DOCUMENT_DPI`] within
    /// [`MAX_PAGE_PIXELS`] (and the pixel limit), in [`DOCUMENT_TIME_LIMIT`].
    pub fn documents(mut self, reader: Arc<dyn DocumentReader>) -> Self {
        self.documents = Some((reader, None));
        self
    }
    /// The reader of documents, reading them as `request` says.
    pub fn documents_as(mut self, reader: Arc<dyn DocumentReader>, request: ReadRequest) -> Self {
        self.documents = Some((reader, Some(request)));
        self
    }
    /// The writer of the export formats (optional: without it exports answer
    /// [`crate::IntakeError::ExportUnavailable`]), e.g. `intake_export::Renderer`.
    pub fn exports(self, renderer: impl ExportRenderer + 'static) -> Self {
        self.shared_exports(Arc::new(renderer))
    }
    /// The writer of the export formats, shared.
    pub fn shared_exports(mut self, renderer: Arc<dyn ExportRenderer>) -> Self {
        self.exports = Some(renderer);
        self
    }
    /// Where processing is requested again (optional: without it reprocessing answers
    /// [`crate::IntakeError::ReprocessUnavailable`]): the local job queue ([`QueueRequests`]), the
    /// processing queue on AWS.
    pub fn processing_requests(mut self, requests: Arc<dyn ProcessingRequests>) -> Self {
        self.requests = Some(requests);
        self
    }
    /// The near-duplicate fingerprint index (optional: without it records are not checked for
    /// near-duplicates, `nearDuplicates` is absent, and similar-image lookups answer
    /// [`crate::IntakeError::SimilarUnavailable`]). Give the index that lives with the repository.
    pub fn fingerprint_index(self, index: impl FingerprintIndex + 'static) -> Self {
        self.shared_fingerprint_index(Arc::new(index))
    }
    /// The near-duplicate fingerprint index, shared.
    pub fn shared_fingerprint_index(mut self, index: Arc<dyn FingerprintIndex>) -> Self {
        self.fingerprints = Some(index);
        self
    }
    /// The reader of documents' types and fields (optional: without it records have no
    /// `documentType` or `fields`). It reads each processed image's OCR result after reading order;
    /// what it returns is settled with [`IntakeConfig::field_options`]. A failure is logged and
    /// counted and never fails the upload.
    pub fn field_extractor(self, extractor: impl FieldExtractor + 'static) -> Self {
        self.shared_field_extractor(Arc::new(extractor))
    }
    /// The reader of types and fields, shared.
    pub fn shared_field_extractor(mut self, extractor: Arc<dyn FieldExtractor>) -> Self {
        self.fields = Some(extractor);
        self
    }
    /// The reader of expenses (optional; Textract AnalyzeExpense on AWS): a document the field
    /// extractor reads as a receipt or an invoice ([`crate::model::DocumentKind::is_expense`]) is
    /// read again by it, and its reading is kept; every other kind keeps the field extractor's. A
    /// document it cannot read (more than one page) keeps the field extractor's reading; when it
    /// fails otherwise, the failure is logged and counted and the field extractor's reading kept.
    pub fn expense_field_extractor(mut self, extractor: Arc<dyn FieldExtractor>) -> Self {
        self.expense_fields = Some(extractor);
        self
    }
    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }
    /// The id generator (default: random version 7 UUIDs).
    pub fn ids(mut self, ids: impl IdGenerator + 'static) -> Self {
        self.ids = Some(Arc::new(ids));
        self
    }
    /// The links the events' documents give (default: none): the API's paths, which the composition
    /// takes from the API crate, so that the domain knows no route.
    pub fn event_links(mut self, links: EventLinks) -> Self {
        self.links = links;
        self
    }
    /// The settings.
    pub fn config(mut self, config: IntakeConfig) -> Self {
        self.config = config;
        self
    }

    /// Validates the configuration and composes the services.
    ///
    /// # Errors
    /// [`BuildError::Missing`] for a missing port, [`BuildError::Config`] for invalid settings (including
    /// an allow-list that leaves no format the engine accepts).
    pub fn build(self) -> Result<Intake, BuildError> {
        let request = self
            .documents
            .as_ref()
            .and_then(|(_, request)| *request)
            .unwrap_or_else(|| {
                ReadRequest::new(
                    DOCUMENT_DPI,
                    self.config.max_pixels.min(MAX_PAGE_PIXELS),
                    DOCUMENT_TIME_LIMIT,
                )
            });
        let with_documents = |engine: Arc<dyn OcrEngine>| -> Arc<dyn OcrEngine> {
            match &self.documents {
                Some((reader, _)) if DocumentOcr::extends(engine.as_ref(), reader.as_ref()) => {
                    Arc::new(DocumentOcr::new(engine, Arc::clone(reader), request))
                }
                _ => engine,
            }
        };
        let ocr = with_documents(self.ocr.ok_or(BuildError::Missing("OCR engine"))?);
        let accepted = self.config.validate(ocr.capabilities())?;
        let max_bytes = self
            .config
            .max_upload_bytes
            .min(ocr.capabilities().max_bytes);
        let mut alternatives = Vec::new();
        for alternative in self.alternatives.iter().cloned().map(with_documents) {
            let name = &alternative.capabilities().engine;
            if *name == ocr.capabilities().engine
                || alternatives
                    .iter()
                    .any(|a: &Alternative| a.ocr.capabilities().engine == *name)
            {
                continue;
            }
            alternatives.push(Alternative {
                accepted: self.config.validate(alternative.capabilities())?,
                max_bytes: self
                    .config
                    .max_upload_bytes
                    .min(alternative.capabilities().max_bytes),
                ocr: alternative,
            });
        }
        Ok(Intake {
            inner: Arc::new(Inner {
                store: self.store.ok_or(BuildError::Missing("object store"))?,
                signer: self.signer.ok_or(BuildError::Missing("URL signer"))?,
                repository: self.repository.ok_or(BuildError::Missing("repository"))?,
                search: self.search,
                previewer: self.previewer,
                documents: self.documents.map(|(reader, _)| reader),
                exports: self.exports,
                requests: self.requests,
                fingerprints: self.fingerprints,
                index_failures: std::sync::atomic::AtomicU64::new(0),
                fields: self.fields,
                expense_fields: self.expense_fields,
                field_counts: fields::FieldCounts::default(),
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                ids: self.ids.unwrap_or_else(|| Arc::new(RandomIds::default())),
                links: self.links,
                ocr,
                alternatives,
                config: self.config,
                accepted,
                max_bytes,
            }),
        })
    }
}

impl Intake {
    /// Starts composing the services.
    pub fn builder() -> IntakeBuilder {
        IntakeBuilder::default()
    }

    /// The settings in force.
    pub fn config(&self) -> &IntakeConfig {
        &self.inner.config
    }

    /// The links the events' documents give.
    pub fn event_links(&self) -> EventLinks {
        self.inner.links
    }

    /// The content types this deployment accepts.
    pub fn accepted_types(&self) -> &[ContentType] {
        &self.inner.accepted
    }

    /// The largest accepted object, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.inner.max_bytes
    }

    /// The names of the engines a reprocessing run may ask for: the deployment's first.
    pub fn engine_names(&self) -> Vec<&str> {
        std::iter::once(self.inner.ocr.capabilities().engine.as_str())
            .chain(
                self.inner
                    .alternatives
                    .iter()
                    .map(|a| a.ocr.capabilities().engine.as_str()),
            )
            .collect()
    }

    /// The engine, accepted types and byte limit that read `record`: the one its reprocessing run
    /// asked for, else the deployment's.
    fn engine_for(
        &self,
        record: &crate::model::ImageRecord,
    ) -> (&Arc<dyn OcrEngine>, &[ContentType], u64) {
        let inner = &self.inner;
        record
            .requested_engine()
            .and_then(|name| {
                inner
                    .alternatives
                    .iter()
                    .find(|a| a.ocr.capabilities().engine == name)
            })
            .map_or(
                (&inner.ocr, inner.accepted.as_slice(), inner.max_bytes),
                |a| (&a.ocr, a.accepted.as_slice(), a.max_bytes),
            )
    }

    /// What the configured OCR engine accepts.
    pub fn ocr_capabilities(&self) -> &crate::ports::OcrCapabilities {
        self.inner.ocr.capabilities()
    }

    /// The bucket uploads go to.
    pub fn bucket(&self) -> &str {
        self.inner.store.bucket()
    }

    /// Now, on the clock the services stamp records and leases with (so that an entry point waiting
    /// for a lease to end measures it on the same clock).
    pub fn now(&self) -> crate::model::Timestamp {
        self.inner.clock.now()
    }
}

#[cfg(test)]
mod fields_tests;
#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod tests;
