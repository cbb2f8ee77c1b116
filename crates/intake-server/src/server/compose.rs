//! The composition: the local adapters (filesystem store, SQLite, the engines, previews, keys,
//! webhooks) put together into an [`Intake`], served with the workers and the event pump.

use intake_pdf::PdfReader;
use std::path::Path;
use std::sync::Arc;

use intake_domain::Intake;
use intake_domain::model::{ObjectKey, Owner, Timestamp};
use intake_domain::ports::{Clock, JobQueue, ProcessingRequests, QueueError, SystemClock};
use intake_domain::services::{IntakeBuilder, JobPolicy};
use intake_keys::{ADMIN_OWNER, ApiKeys};
use intake_local::{
    FsObjectStore, HttpWebhookSender, ImagePreviewer, SenderOptions, SqliteDatabase,
};
use intake_signing::HmacUrlSigner;
use intake_webhooks::{WebhookPolicy, Webhooks};
use tokio::sync::{Notify, oneshot};

use super::data_dir::{data_error, lock, secret, write_private};
use super::engines::start_engines;
use super::recovery::{backfill_fingerprints, recover};
use super::router::{Served, bind, public_url, router};
use super::{LocalServer, ServeError, ServeOptions};
use crate::connections;
use crate::events::EventPump;
use crate::metrics::TimedQueue;
use crate::objects::ObjectEndpoint;
use crate::retention::Retention;
use crate::workers::WorkerPool;

/// The bucket name the local store reports (object keys and records carry it).
pub const LOCAL_BUCKET: &str = "local";

impl LocalServer {
    /// Starts the server: data directory, adapters, recovery, HTTP and workers.
    ///
    /// # Errors
    /// [`ServeError`] saying what could not be set up; nothing is left running.
    pub async fn start(options: ServeOptions) -> Result<Self, ServeError> {
        let dir = options.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(data_error(&dir))?;
        let lock = lock(&dir)?;
        let secret = secret(&dir)?;

        let (metrics, engines) = start_engines(&options, &dir).await?;
        let store = open_store(&dir.join("store")).await?;
        let database = SqliteDatabase::open(dir.join("intake.db"))?;
        let repository = database.repository();
        let queue: Arc<dyn JobQueue> = Arc::new(TimedQueue::new(
            Arc::new(database.queue()),
            Arc::clone(&metrics),
        ));
        let keys = open_keys(&dir, &database, options.new_admin_key).await?;

        let (listener, addr) = bind(options.addr).await?;
        let url = public_url(&options, addr);
        let signer = HmacUrlSigner::new(&format!("{url}/objects"), &secret);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let wake = Arc::new(Notify::new());
        let intake = with_pdf(engines.register(Intake::builder()), &options)
            .store(store.clone())
            .signer(signer.clone())
            .repository(repository.clone())
            .search(repository)
            .fingerprint_index(database.fingerprints())
            .previews(ImagePreviewer)
            .exports(intake_export::Renderer)
            .event_links(intake_http::EVENT_LINKS)
            .processing_requests(Arc::new(WakingRequests {
                queue: Arc::clone(&queue),
                wake: Arc::clone(&wake),
            }))
            .config(options.config.clone())
            .build()?;

        let webhooks = open_webhooks(&database, options.webhooks.clone(), &clock)?;
        let mut recovered = recover(&intake, queue.as_ref()).await?;
        backfill_fingerprints(&intake, &database).await?;
        recovered.deliveries = webhooks.release_all().await?;
        let endpoint = ObjectEndpoint::new(
            intake.clone(),
            store,
            signer,
            Arc::clone(&queue),
            Arc::clone(&clock),
            Arc::clone(&wake),
        );
        let router = router(&Served {
            intake: &intake,
            keys: &keys,
            webhooks: &webhooks,
            queue: &queue,
            metrics: &metrics,
            database: &database,
            endpoint: &endpoint,
            url: &url,
            options: &options,
        });
        let (stop_http, stopped) = oneshot::channel::<()>();
        let limits = options.connections;
        let http = tokio::spawn(connections::serve(listener, router, limits, stopped));
        let workers = WorkerPool::start_observed(
            options.workers,
            intake.clone(),
            Arc::clone(&queue),
            clock,
            JobPolicy::for_config(intake.config()),
            wake,
            Some(Arc::clone(&metrics)),
        );
        let events = EventPump::start(
            intake.clone(),
            Arc::new(database.repository()),
            webhooks.clone(),
            Arc::new(SystemClock),
            2,
            metrics,
        );
        let retention = options
            .retention
            .map(|after| Retention::start(intake.clone(), after));
        tracing::info!(%addr, url, data_dir = %dir.display(), workers = options.workers, "Intake is serving");
        Ok(Self {
            addr,
            url,
            intake,
            keys,
            queue,
            http,
            stop_http,
            workers,
            events,
            retention,
            webhooks,
            grace: options.shutdown_grace,
            recovered,
            database,
            _lock: lock,
        })
    }
}

/// Processing requests (reprocessing) as jobs of the local queue, waking a worker for a job due now.
#[derive(Debug)]
struct WakingRequests {
    queue: Arc<dyn JobQueue>,
    wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl ProcessingRequests for WakingRequests {
    async fn request(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        self.queue.enqueue(key, due).await?;
        self.wake.notify_one();
        Ok(())
    }
}

/// Opens the object store and removes what an interrupted upload left in its temporary folder.
async fn open_store(dir: &Path) -> Result<FsObjectStore, ServeError> {
    let store = FsObjectStore::open(dir, LOCAL_BUCKET)
        .await
        .map_err(data_error(dir))?;
    store
        .remove_temporary_files()
        .await
        .map_err(data_error(dir))?;
    Ok(store)
}

/// Loads the API keys. When no admin key is active (a first start), or `new_admin` asks for one, a new
/// admin key is written to `dir/admin-key` and only then stored, so a stored key is never unknown.
async fn open_keys(
    dir: &Path,
    database: &SqliteDatabase,
    new_admin: bool,
) -> Result<ApiKeys, ServeError> {
    let keys = ApiKeys::new(Arc::new(
        database
            .keys()
            .await
            .map_err(|e| ServeError::Keys(e.into()))?,
    ));
    if new_admin || keys.needs_admin().await.map_err(ServeError::Keys)? {
        let secret = ApiKeys::new_secret().map_err(ServeError::Keys)?;
        let path = write_private(
            dir,
            "admin-key",
            format!("{}\n", secret.expose()).as_bytes(),
        )?;
        let owner = Owner::parse(ADMIN_OWNER).map_err(|e| ServeError::Keys(e.into()))?;
        let record = keys
            .register(&secret, owner, "admin", true)
            .await
            .map_err(ServeError::Keys)?;
        tracing::warn!(
            path = %path.display(),
            key_id = %record.key_id,
            "created an admin API key; it is in this file only: copy it and delete the file"
        );
    }
    Ok(keys)
}

/// The webhook rules over the database's subscriptions and an HTTP sender.
fn open_webhooks(
    database: &SqliteDatabase,
    policy: WebhookPolicy,
    clock: &Arc<dyn Clock>,
) -> Result<Webhooks, ServeError> {
    Ok(Webhooks::new(
        Arc::new(database.webhooks()),
        Arc::new(HttpWebhookSender::new(SenderOptions::default())?),
        policy,
    )
    .with_clock(Arc::clone(clock)))
}

/// `builder` reading documents' fields with the rule engine (with the deployment's date order), and
/// PDFs where the options ask for it and libpdfium is installed.
fn with_pdf(builder: IntakeBuilder, options: &ServeOptions) -> IntakeBuilder {
    let builder = builder.field_extractor(intake_fields::RuleExtractor::new(
        options.config.field_options,
    ));
    let Some(reader) = options.pdf.clone().map(PdfReader::new) else {
        return builder;
    };
    if reader.is_installed() {
        builder.documents(Arc::new(reader))
    } else {
        tracing::info!("PDFium is not installed (scripts/ocr-models.sh): PDFs are not accepted");
        builder
    }
}
