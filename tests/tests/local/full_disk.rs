//! A full disk: writes fail with a typed "no space" condition, answered 507 with `Retry-After`;
//! tickets that could not be kept are refused instead of answered; and work whose result could not be
//! written resumes within seconds of space coming back, without a restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::model::{
    ImageEvent, ImageId, ImageRecord, ImageStatus, ObjectKey, Owner, Sha256Digest, Timestamp,
};
use intake_domain::ports::{
    DeadJob, Failure, ImageRepository, Job, JobQueue, ListQuery, OcrCapabilities, OcrDetail,
    OcrEngine, OcrError, OcrInput, Page, QueueError, QueueStats, RepoError, SystemClock,
};
use intake_domain::services::{JobPolicy, UploadRequest};
use intake_domain::{Intake, IntakeConfig};
use intake_memory::{
    MemoryJobQueue, MemoryObjectStore, MemoryRepository, MemoryUrlSigner, ScriptedOcr,
};
use intake_server::WorkerPool;
use tokio::sync::Notify;

fn no_space() -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(std::io::Error::from(std::io::ErrorKind::StorageFull))
}

/// Memory records whose writes fail with "no space" while `full` is set.
#[derive(Debug, Clone)]
struct FullRepository {
    inner: MemoryRepository,
    full: Arc<AtomicBool>,
}

impl FullRepository {
    fn check(&self) -> Result<(), RepoError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(RepoError::from(Failure::storage_full(no_space())));
        }
        Ok(())
    }
}

#[async_trait]
impl ImageRepository for FullRepository {
    async fn create(&self, record: &ImageRecord) -> Result<(), RepoError> {
        self.check()?;
        self.inner.create(record).await
    }
    async fn get(&self, id: &ImageId) -> Result<Option<ImageRecord>, RepoError> {
        self.inner.get(id).await
    }
    async fn get_view(
        &self,
        id: &ImageId,
        detail: OcrDetail,
    ) -> Result<Option<ImageRecord>, RepoError> {
        self.inner.get_view(id, detail).await
    }
    async fn replace(
        &self,
        record: &ImageRecord,
        expected_version: u64,
        events: &[ImageEvent],
    ) -> Result<(), RepoError> {
        self.check()?;
        self.inner.replace(record, expected_version, events).await
    }
    async fn list(&self, query: &ListQuery) -> Result<Page, RepoError> {
        self.inner.list(query).await
    }
    async fn find_processed_by_sha256(
        &self,
        owner: &Owner,
        sha256: &Sha256Digest,
        limit: u32,
    ) -> Result<Vec<ImageRecord>, RepoError> {
        self.inner
            .find_processed_by_sha256(owner, sha256, limit)
            .await
    }
}

/// A memory job queue whose writes fail with "no space" while `full` is set.
#[derive(Debug, Clone)]
struct FullQueue {
    inner: MemoryJobQueue,
    full: Arc<AtomicBool>,
}

impl FullQueue {
    fn check(&self) -> Result<(), QueueError> {
        if self.full.load(Ordering::SeqCst) {
            return Err(QueueError::from(Failure::storage_full(no_space())));
        }
        Ok(())
    }
}

#[async_trait]
impl JobQueue for FullQueue {
    async fn enqueue(&self, key: &ObjectKey, due: Timestamp) -> Result<(), QueueError> {
        self.check()?;
        self.inner.enqueue(key, due).await
    }
    async fn lease(&self, now: Timestamp, lease: Duration) -> Result<Option<Job>, QueueError> {
        self.check()?;
        self.inner.lease(now, lease).await
    }
    async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        self.check()?;
        self.inner.complete(job).await
    }
    async fn retry(&self, job: &Job, due: Timestamp, error: &str) -> Result<(), QueueError> {
        self.check()?;
        self.inner.retry(job, due, error).await
    }
    async fn bury(&self, job: &Job, reason: &str, now: Timestamp) -> Result<(), QueueError> {
        self.check()?;
        self.inner.bury(job, reason, now).await
    }
    async fn release_all(&self) -> Result<u64, QueueError> {
        self.check()?;
        self.inner.release_all().await
    }
    async fn next_due(&self) -> Result<Option<Timestamp>, QueueError> {
        self.inner.next_due().await
    }
    async fn stats(&self) -> Result<QueueStats, QueueError> {
        self.inner.stats().await
    }
    async fn dead_jobs(&self, limit: u32) -> Result<Vec<DeadJob>, QueueError> {
        self.inner.dead_jobs(limit).await
    }
    async fn revive(&self, key: &ObjectKey, due: Timestamp) -> Result<bool, QueueError> {
        self.check()?;
        self.inner.revive(key, due).await
    }
    async fn forget_dead(&self, key: &ObjectKey) -> Result<bool, QueueError> {
        self.check()?;
        self.inner.forget_dead(key).await
    }
}

/// An engine during whose first read the disk fills up.
#[derive(Debug)]
struct FillsTheDisk {
    inner: ScriptedOcr,
    full: Arc<AtomicBool>,
    filled: AtomicBool,
}

#[async_trait]
impl OcrEngine for FillsTheDisk {
    fn capabilities(&self) -> &OcrCapabilities {
        self.inner.capabilities()
    }
    async fn detect(&self, input: &OcrInput) -> Result<intake_domain::model::OcrResult, OcrError> {
        if !self.filled.swap(true, Ordering::SeqCst) {
            self.full.store(true, Ordering::SeqCst);
        }
        self.inner.detect(input).await
    }
}

#[tokio::test]
async fn work_whose_result_could_not_be_written_resumes_soon_after_space_comes_back() {
    let full = Arc::new(AtomicBool::new(false));
    let store = MemoryObjectStore::new("local");
    let repository = MemoryRepository::default();
    let intake = Intake::builder()
        .store(store.clone())
        .signer(MemoryUrlSigner::new(
            "http://127.0.0.1:1/objects",
            "local",
            &[3; 32],
        ))
        .repository(FullRepository {
            inner: repository.clone(),
            full: Arc::clone(&full),
        })
        .ocr(FillsTheDisk {
            inner: ScriptedOcr::default(),
            full: Arc::clone(&full),
            filled: AtomicBool::new(false),
        })
        .clock(SystemClock)
        .config(IntakeConfig::default())
        .build()
        .unwrap();
    let png = intake_domain::testkit::images::png(320, 120, 5);
    let ticket = intake
        .request_upload(
            &intake_domain::testkit::default_owner(),
            UploadRequest::named("a.png", intake_domain::model::ContentType::Png)
                .unwrap()
                .with_size(png.len() as u64),
        )
        .await
        .unwrap();
    store.put(&ticket.object_key, Bytes::clone(&png), "image/png");
    let queue = FullQueue {
        inner: MemoryJobQueue::default(),
        full: Arc::clone(&full),
    };
    queue
        .enqueue(&ticket.object_key, Timestamp::now_utc())
        .await
        .unwrap();
    let pool = WorkerPool::start(
        1,
        intake.clone(),
        Arc::new(queue.clone()),
        Arc::new(SystemClock),
        JobPolicy::for_config(intake.config()),
        Arc::new(Notify::new()),
    );
    // The disk fills up while the image is read: its result, the release of its claim and the
    // job's report all fail.
    let filled = Instant::now();
    while !full.load(Ordering::SeqCst) {
        assert!(
            filled.elapsed() < Duration::from_secs(10),
            "the job never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stuck = repository.get(&ticket.image_id).await.unwrap().unwrap();
    assert_eq!(stuck.status(), ImageStatus::Processing, "{stuck:?}");
    assert!(
        stuck.lease_expires_at().is_some(),
        "the claim is held: its release failed"
    );
    // Space comes back: the image is processed within seconds, not after its 15-minute lease.
    full.store(false, Ordering::SeqCst);
    let back = Instant::now();
    loop {
        let record = repository.get(&ticket.image_id).await.unwrap().unwrap();
        if record.status() == ImageStatus::Processed {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "still {:?} {}s after space came back",
            record.status(),
            back.elapsed().as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(queue.stats().await.unwrap().outstanding(), 0);
    pool.shutdown(Duration::from_secs(5)).await;
}

/// A small tmpfs mounted for one test, unmounted when dropped; `None` (with a message) where this
/// machine does not let the test mount one.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here (needs root); the full-disk behaviour is also tested with failing adapters"
            );
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes zeros into `filler` until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0_u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let small = [0_u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn on_a_full_disk_every_write_is_answered_507_and_work_resumes_when_space_is_back() {
    let Some(_font) = super::prerequisites() else {
        return;
    };
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let app = super::spawn_app_at(tempfile::tempdir_in(disk.path()).unwrap(), |dir| {
        super::options(dir, IntakeConfig::default())
    })
    .await;
    let png = intake_domain::testkit::images::png(320, 120, 9);
    let before = app.ticket("before.png", "image/png", &png).await;
    let processed = app.upload("kept.png", &png.clone()).await;
    app.wait_terminal(&processed).await;
    let filler = disk.fill();

    // New tickets: refused with 507 once the database has failed to write one (never answered and
    // then lost without a trace: a lost one's URL says so).
    let mut refused = None;
    let mut answered = Vec::new();
    for n in 0..40 {
        let response = app
            .http
            .post(app.api("/uploads"))
            .json(&serde_json::json!({"filename": format!("f{n}.png"), "contentType": "image/png"}))
            .send()
            .await
            .unwrap();
        if response.status() == 507 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), 201);
        answered.push(response.json::<serde_json::Value>().await.unwrap());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let refused = refused.expect("POST /uploads never answered 507 on a full disk");
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "INSUFFICIENT_STORAGE", "{body}");
    // The PUT of a ticket issued before: 507, nothing stored.
    let put = app.put(&before, png.clone(), &[]).await;
    assert_eq!(put.status(), 507);
    // A delete: 507, not 500.
    let delete = app
        .http
        .delete(app.api(&format!("/images/{processed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 507);

    // Space comes back: the same URL takes the upload and the image is processed.
    std::fs::remove_file(filler).unwrap();
    let put = app.put(&before, png.clone(), &[]).await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    let record = app.wait_terminal(&before.image_id).await;
    assert_eq!(record["status"], "PROCESSED", "{record:#}");
    // Tickets answered while the disk filled are either kept, or say they were lost.
    for ticket in answered {
        let response = super::put_ticket(&app.http, &ticket, &png).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(
            status == 200 || (status == 410 && text.contains("UPLOAD_TICKET_LOST")),
            "{status} {text}"
        );
    }
    app.stop().await;
}
