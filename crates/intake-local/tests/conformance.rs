//! The local adapters against their ports' conformance suites, and what is particular to them:
//! atomic write-once files, a database that survives reopening, Tesseract reading rendered text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use intake_domain::model::{BodyRefusal, ContentType, FileName, ObjectKey, Sha256Digest};
use intake_domain::ports::{
    ImageFacts, ImageRepository, JobQueue as _, ObjectStore, OcrEngine as _, OcrInput, PortError,
    StoreError,
};
use intake_domain::testkit::{epoch, id_at, images, ocr, queue, record, repository, store};
use intake_keys::testkit as keys;
use intake_local::{
    FsObjectStore, PutChecks, PutError, SqliteJobQueue, SqliteKeyStore, SqliteRepository,
    TesseractOcr, TesseractOptions,
};

#[tokio::test]
async fn sqlite_repository_conforms() {
    repository::run_suite(|| async { SqliteRepository::in_memory().unwrap() }).await;
}

#[tokio::test]
async fn sqlite_outbox_conforms() {
    intake_domain::testkit::events::run_outbox_suite(|| async {
        SqliteRepository::in_memory().unwrap()
    })
    .await;
}

#[tokio::test]
async fn sqlite_webhook_store_conforms() {
    intake_webhooks::testkit::run_suite(|| async {
        intake_local::SqliteWebhookStore::in_memory().unwrap()
    })
    .await;
}

#[tokio::test]
async fn sqlite_fingerprint_index_conforms() {
    intake_domain::testkit::fingerprints::run_suite(|| async {
        intake_local::SqliteFingerprintIndex::in_memory().unwrap()
    })
    .await;
}

#[tokio::test]
async fn the_back_fill_is_noted_once() {
    let index = intake_local::SqliteFingerprintIndex::in_memory().unwrap();
    assert!(!index.backfilled().await.unwrap());
    index.mark_backfilled(3).await.unwrap();
    assert!(index.backfilled().await.unwrap());
    index.mark_backfilled(5).await.unwrap();
    assert!(index.backfilled().await.unwrap(), "noting it again is fine");
}

#[tokio::test]
async fn sqlite_search_conforms() {
    intake_domain::testkit::search::run_suite(|| async { SqliteRepository::in_memory().unwrap() })
        .await;
}

/// The records, the queue and the keys of one database file (as the server opens them: one database
/// thread, read-only connections beside it) conform as well, each on a fresh file.
#[tokio::test]
async fn a_shared_database_file_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let fresh = || {
        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        intake_local::SqliteDatabase::open(dir.path().join(format!("intake-{n}.db"))).unwrap()
    };
    repository::run_suite(|| async { fresh().repository() }).await;
    intake_domain::testkit::events::run_outbox_suite(|| async { fresh().repository() }).await;
    intake_domain::testkit::search::run_suite(|| async { fresh().repository() }).await;
    queue::run_suite(|| async { fresh().queue() }).await;
    intake_webhooks::testkit::run_suite(|| async { fresh().webhooks() }).await;
    intake_domain::testkit::fingerprints::run_suite(|| async { fresh().fingerprints() }).await;
    keys::run_suite(|| async { fresh().keys().await.unwrap() }).await;
}

#[tokio::test]
async fn sqlite_key_store_conforms() {
    keys::run_suite(|| async { SqliteKeyStore::in_memory().await.unwrap() }).await;
}

#[tokio::test]
async fn keys_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    let keys = intake_keys::ApiKeys::new(std::sync::Arc::new(
        SqliteKeyStore::open(&path).await.unwrap(),
    ));
    let admin = keys.ensure_admin().await.unwrap().unwrap();
    let alice = keys
        .create(intake_domain::testkit::owner("alice"), "ci", false)
        .await
        .unwrap();
    keys.revoke(alice.record.key_id).await.unwrap();
    let reopened = intake_keys::ApiKeys::new(std::sync::Arc::new(
        SqliteKeyStore::open(&path).await.unwrap(),
    ));
    assert!(reopened.ensure_admin().await.unwrap().is_none());
    let principal = reopened
        .authenticate(Some(&admin.secret.expose()))
        .await
        .unwrap();
    assert!(principal.admin);
    assert!(
        reopened
            .authenticate(Some(&alice.secret.expose()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_database_file_survives_reopening_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    let r = record(id_at(0, 1));
    SqliteRepository::open(&path)
        .unwrap()
        .create(&r)
        .await
        .unwrap();
    let reopened = SqliteRepository::open(&path).unwrap();
    assert_eq!(reopened.get(&r.image_id()).await.unwrap(), Some(r));
}

/// Upload tickets written behind reach the file on their own: another connection (a reader) sees every
/// one of them shortly after, without any later write or listing to push them; a reopened file has
/// them.
#[tokio::test]
async fn tickets_written_behind_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    let repo = SqliteRepository::open(&path).unwrap();
    let tickets: Vec<_> = (0..200).map(|n| record(id_at(5, 1000 + n))).collect();
    for ticket in &tickets {
        repo.create_relaxed(ticket).await.unwrap();
        assert_eq!(
            repo.get(&ticket.image_id()).await.unwrap().as_ref(),
            Some(ticket)
        );
    }
    let other = SqliteRepository::open(&path).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    for ticket in &tickets {
        while other.get(&ticket.image_id()).await.unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "a ticket never reached the file"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // A stored id is refused (it is no longer among the tickets being created: the table answers).
    assert!(matches!(
        repo.create_relaxed(&tickets[0]).await,
        Err(intake_domain::ports::RepoError::AlreadyExists { .. })
    ));
    drop((repo, other));
    let reopened = SqliteRepository::open(&path).unwrap();
    for ticket in &tickets {
        assert_eq!(
            reopened.get(&ticket.image_id()).await.unwrap().as_ref(),
            Some(ticket)
        );
    }
}

#[tokio::test]
async fn sqlite_job_queue_conforms() {
    queue::run_suite(|| async { SqliteJobQueue::in_memory().unwrap() }).await;
}

#[tokio::test]
async fn jobs_and_leases_survive_reopening_next_to_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    let r = record(id_at(0, 1));
    let repo = SqliteRepository::open(&path).unwrap();
    repo.create(&r).await.unwrap();
    let jobs = SqliteJobQueue::open(&path).unwrap();
    jobs.enqueue(r.object_key(), epoch()).await.unwrap();
    let leased = jobs
        .lease(epoch(), Duration::from_secs(600))
        .await
        .unwrap()
        .unwrap();
    drop(jobs);
    // A new process: the lease is still held until it expires or is released.
    let reopened = SqliteJobQueue::open(&path).unwrap();
    assert!(
        reopened
            .lease(epoch(), Duration::from_secs(1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(reopened.release_all().await.unwrap(), 1);
    let again = reopened
        .lease(epoch(), Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.key, again.attempts), (leased.key, 2));
    assert_eq!(
        SqliteRepository::open(&path)
            .unwrap()
            .get(&r.image_id())
            .await
            .unwrap(),
        Some(r)
    );
}

struct Seed(FsObjectStore);

#[async_trait]
impl store::Seeder for Seed {
    async fn put(&self, key: &ObjectKey, bytes: Bytes, content_type: &str) {
        self.0.put_new(key, bytes, content_type).await.unwrap();
    }
}

#[tokio::test]
async fn filesystem_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let fs = FsObjectStore::open(dir.path(), "local").await.unwrap();
    store::run_suite(&fs, &Seed(fs.clone()), 1).await;
}

fn key(n: u64) -> ObjectKey {
    ObjectKey::for_upload(id_at(0, n), &FileName::sanitize("chèque +#&.png").unwrap())
}

fn body(
    bytes: &Bytes,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn writes_are_checked_whole_and_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let fs = FsObjectStore::open(dir.path(), "local").await.unwrap();
    let bytes = images::png(100, 50, 1);
    let sha = Sha256Digest::of(&bytes);
    let len = bytes.len() as u64;
    let cases = [
        (PutChecks::new(Some(len + 1), None, None), "length"),
        (PutChecks::new(Some(len - 1), None, None), "length"),
        (
            PutChecks::new(None, Some(Sha256Digest::of(b"other")), None),
            "checksum",
        ),
        (PutChecks::new(None, None, Some(len - 1)), "size limit"),
    ];
    for (checks, what) in cases {
        let refused = fs
            .put_stream(&key(1), "image/png", checks, body(&bytes))
            .await;
        assert!(
            matches!(
                refused,
                Err(PutError::Refused(
                    BodyRefusal::LengthMismatch { .. }
                        | BodyRefusal::ChecksumMismatch
                        | BodyRefusal::TooLarge { .. }
                ))
            ),
            "{what}: {refused:?}"
        );
        assert!(
            matches!(fs.head(&key(1)).await, Err(StoreError::NotFound { .. })),
            "a refused write ({what}) left an object"
        );
    }
    let meta = fs
        .put_stream(
            &key(1),
            "image/png",
            PutChecks::new(Some(len), Some(sha), Some(len)),
            body(&bytes),
        )
        .await
        .unwrap();
    assert_eq!(
        (meta.size, meta.content_type.as_deref()),
        (len, Some("image/png"))
    );
    let again = fs
        .put_stream(
            &key(1),
            "image/png",
            PutChecks::default(),
            body(&images::png(100, 50, 2)),
        )
        .await;
    assert!(
        matches!(again, Err(PutError::AlreadyExists(_))),
        "{again:?}"
    );
    let stored = fs.get(&key(1)).await.unwrap();
    let read: Vec<u8> =
        futures::TryStreamExt::try_concat(futures::TryStreamExt::map_ok(stored.stream, |b| {
            b.to_vec()
        }))
        .await
        .unwrap();
    assert_eq!(
        Sha256Digest::of(&read),
        sha,
        "the first write was overwritten"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "temporary files were left behind"
    );
}

/// The DejaVu Sans font (Debian's fonts-dejavu-core), which `.ci/run` installs.
fn font_bytes() -> Option<Vec<u8>> {
    intake_domain::testkit::images::DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(PathBuf::from(p)).ok())
}

fn render(lines: &[&str], font: &[u8]) -> (Bytes, (u32, u32)) {
    images::render_text(lines, font).expect("DejaVu Sans parses")
}

fn bytes_input(png: Bytes, dims: (u32, u32)) -> OcrInput {
    let facts = ImageFacts::new(
        ContentType::Png,
        png.len() as u64,
        Some(dims),
        Sha256Digest::of(&png),
    );
    OcrInput::Bytes { bytes: png, facts }
}

fn tesseract_installed() -> bool {
    let found = std::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "tesseract is not installed; .ci/run must install it"
        );
        eprintln!(
            "SKIPPED: tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)"
        );
    }
    found
}

#[tokio::test]
async fn tesseract_conforms_and_reads_rendered_text() {
    if !tesseract_installed() {
        return;
    }
    let Some(font) = font_bytes() else {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "fonts-dejavu-core is not installed"
        );
        eprintln!("SKIPPED: no DejaVu font to render test images with");
        return;
    };
    let engine = TesseractOcr::new(TesseractOptions::default());
    let (cheque, dims) = render(&["PAY TO THE ORDER OF", "JANE DOE  1000 DOLLARS"], &font);
    let (memo, memo_dims) = render(&["Invoice 2026-11-25"], &font);
    let samples = [
        ocr::Sample::new(bytes_input(cheque, dims), &["PAY", "ORDER", "JANE", "1000"]),
        ocr::Sample::new(bytes_input(memo, memo_dims), &["Invoice"]),
    ];
    let garbage =
        Bytes::from_static(b"\x89PNG\r\n\x1a\n but then nothing an image decoder can use");
    let facts = ImageFacts::new(
        ContentType::Png,
        garbage.len() as u64,
        Some((900, 200)),
        Sha256Digest::of(&garbage),
    );
    let pdf = ImageFacts::new(ContentType::Pdf, 10, None, Sha256Digest::of(b"pdf"));
    let refused = [
        OcrInput::Bytes {
            bytes: garbage,
            facts,
        },
        OcrInput::Bytes {
            bytes: Bytes::from_static(b"%PDF-1.7"),
            facts: pdf,
        },
    ];
    ocr::run_suite(&engine, &samples, &refused).await;
    let result = engine.detect(&samples[0].input).await.unwrap();
    assert_eq!(result.line_count(), 2, "{:?}", result.text());
    assert!(
        result.avg_confidence_pct().unwrap() > 60.0,
        "{:?}",
        result.avg_confidence_pct()
    );
}

#[tokio::test]
async fn tesseract_reads_a_page_beyond_its_pixel_budget_grey_and_scaled_down() {
    use image::{ImageEncoder as _, codecs::png::PngEncoder};
    if !tesseract_installed() {
        return;
    }
    let Some(font) = font_bytes() else {
        eprintln!("SKIPPED: no DejaVu font to render test images with");
        return;
    };
    // The cheque, three times larger and in colour (1.6 MP), against a budget of 0.4 MP.
    let (pixels, (w, h)) =
        images::render_pixels(&["PAY TO THE ORDER OF", "JANE DOE  1000 DOLLARS"], &font)
            .expect("DejaVu Sans parses");
    let (big_w, big_h) = (w * 3, h * 3);
    let rgb: Vec<u8> = (0..big_h)
        .flat_map(|y| (0..big_w).map(move |x| (x / 3, y / 3)))
        .flat_map(|(x, y)| {
            let v = pixels[(y * w + x) as usize];
            [v, v, v.saturating_add(40)]
        })
        .collect();
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&rgb, big_w, big_h, image::ExtendedColorType::Rgb8)
        .expect("encodes");
    let engine = TesseractOcr::new(TesseractOptions::default().with_max_pixels(400_000));
    let result = engine
        .detect(&bytes_input(Bytes::from(png), (big_w, big_h)))
        .await
        .expect("read after reducing");
    let text = result.text();
    for word in ["PAY", "ORDER", "JANE", "1000", "DOLLARS"] {
        assert!(text.contains(word), "{word} missing from {text:?}");
    }
    assert_eq!(result.line_count(), 2, "{text:?}");
    // Boxes stay relative to the page, whatever size Tesseract read it at.
    let first = result.lines().first().expect("a line").bounding_box();
    assert!(first.left() < 0.2 && first.top() < 0.5, "{first:?}");

    // Damaged pixels behind an intact header, past the budget: refused as unreadable, for good.
    let garbage = Bytes::from(
        images::png_header_only(big_w, big_h)
            .iter()
            .copied()
            .chain(std::iter::repeat_n(7u8, 64))
            .collect::<Vec<u8>>(),
    );
    let error = engine
        .detect(&bytes_input(garbage, (big_w, big_h)))
        .await
        .expect_err("nothing to read");
    assert!(
        matches!(error, intake_domain::ports::OcrError::InvalidImage { .. }),
        "{error:?}"
    );
}

/// A `tesseract` that notes each start in `log` and then runs the real one.
fn counting_tesseract(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let log = dir.join("starts.log");
    let program = dir.join("tesseract");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec tesseract \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    (program, log)
}

/// An engine of `concurrency` processes whose starts are counted in the returned log, and the font to
/// render pages with; `None` (skipped) without Tesseract or the font.
fn counting_engine(
    concurrency: usize,
) -> Option<(tempfile::TempDir, PathBuf, TesseractOcr, Vec<u8>)> {
    if !tesseract_installed() {
        return None;
    }
    let Some(font) = font_bytes() else {
        eprintln!("SKIPPED: no DejaVu font to render test images with");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let (program, log) = counting_tesseract(dir.path());
    let engine = TesseractOcr::new(
        TesseractOptions::default()
            .with_program(&program)
            .with_concurrency(concurrency),
    );
    Some((dir, log, engine, font))
}

fn starts(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |s| s.lines().count())
}

/// The text of `n`'s page: each page different, so answers cannot be mixed up unnoticed.
fn numbered_page(n: usize, font: &[u8]) -> (OcrInput, String) {
    let word = [
        "INVOICE", "CHEQUE", "RECEIPT", "BALANCE", "PAYMENT", "ACCOUNT",
    ][n % 6];
    let text = format!("{word} {}", 1000 + n * 17);
    let (png, dims) = render(&[&text], font);
    (bytes_input(png, dims), text)
}

/// Images go one after another through one running process (the model is loaded once); an image
/// it cannot read ends that process with a permanent error for that image only, and the next image
/// starts a fresh one.
#[tokio::test]
async fn tesseract_keeps_its_process_between_images_and_replaces_a_failed_one() {
    let Some((_dir, log, engine, font)) = counting_engine(1) else {
        return;
    };
    for n in 0..4 {
        let (input, text) = numbered_page(n, &font);
        assert_eq!(engine.detect(&input).await.unwrap().text(), text);
    }
    assert_eq!(starts(&log), 1, "one process for four images");
    assert_eq!(engine.idle_processes(), 1);

    let truncated = {
        let (png, _) = render(&["TRUNCATED"], &font);
        png.slice(..png.len() / 2)
    };
    let error = engine
        .detect(&bytes_input(truncated, (900, 100)))
        .await
        .unwrap_err();
    assert!(
        matches!(error, intake_domain::ports::OcrError::InvalidImage { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(engine.idle_processes(), 0, "the failed process is gone");

    let (input, text) = numbered_page(4, &font);
    assert_eq!(engine.detect(&input).await.unwrap().text(), text);
    assert_eq!(starts(&log), 2, "a fresh process after the failure");
}

/// A TIFF may hold several pages (a scanned or faxed document): every page is read.
#[tokio::test]
async fn every_page_of_a_tiff_is_read() {
    let Some((_dir, _log, engine, font)) = counting_engine(1) else {
        return;
    };
    let (first, dims) = images::render_pixels(&["FIRST PAGE 111"], &font).unwrap();
    let (second, second_dims) = images::render_pixels(&["SECOND PAGE 222"], &font).unwrap();
    let tiff = images::tiff_gray(&[(dims, &first), (second_dims, &second)]);
    let facts = ImageFacts::new(
        ContentType::Tiff,
        tiff.len() as u64,
        Some(dims),
        Sha256Digest::of(&tiff),
    );
    let result = engine
        .detect(&OcrInput::Bytes { bytes: tiff, facts })
        .await
        .unwrap();
    assert_eq!(result.text(), "FIRST PAGE 111\n\u{c}SECOND PAGE 222");
    let on: Vec<u32> = result.lines().iter().map(|l| l.page().get()).collect();
    assert_eq!(on, [1, 2]);
    let sizes: Vec<(u32, u32)> = result
        .pages()
        .iter()
        .map(|p| (p.width_px(), p.height_px()))
        .collect();
    assert_eq!(sizes, [dims, second_dims]);
}

/// Concurrent images on several processes each get their own answer.
#[tokio::test]
async fn concurrent_images_on_running_processes_get_their_own_text() {
    let Some((_dir, log, engine, font)) = counting_engine(2) else {
        return;
    };
    let pages: Vec<_> = (0..8).map(|n| numbered_page(n, &font)).collect();
    let answers =
        futures::future::join_all(pages.iter().map(|(input, _)| engine.detect(input))).await;
    for ((_, text), answer) in pages.iter().zip(answers) {
        assert_eq!(&answer.unwrap().text(), text);
    }
    assert!(
        starts(&log) <= 2,
        "at most one process per slot: {}",
        starts(&log)
    );
}

/// A process past the timeout is killed (a timeout is retryable); idle processes stop after the
/// keep-alive; a missing language is a retryable, explained error.
#[tokio::test]
async fn timeouts_idle_processes_and_missing_languages() {
    if !tesseract_installed() {
        return;
    }
    let Some(font) = font_bytes() else {
        eprintln!("SKIPPED: no DejaVu font to render test images with");
        return;
    };
    let (input, text) = numbered_page(0, &font);

    let hasty =
        TesseractOcr::new(TesseractOptions::default().with_timeout(Duration::from_millis(1)));
    let error = hasty.detect(&input).await.unwrap_err();
    assert!(
        matches!(error, intake_domain::ports::OcrError::Timeout),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(hasty.idle_processes(), 0);

    let brief =
        TesseractOcr::new(TesseractOptions::default().with_keep_alive(Duration::from_millis(100)));
    assert_eq!(brief.detect(&input).await.unwrap().text(), text);
    assert_eq!(brief.idle_processes(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(brief.idle_processes(), 0, "stopped after the keep-alive");
    assert_eq!(brief.detect(&input).await.unwrap().text(), text);

    let klingon = TesseractOcr::new(TesseractOptions::default().with_language("tlh-none"));
    let error = klingon.detect(&input).await.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    let said = intake_domain::error_chain(&error);
    assert!(said.contains("language data"), "{said}");
}

#[tokio::test]
async fn a_missing_tesseract_is_a_retryable_error_that_says_how_to_install_it() {
    let engine =
        TesseractOcr::new(TesseractOptions::default().with_program("/nonexistent/tesseract"));
    let png = images::png(100, 100, 1);
    let error = intake_domain::ports::OcrEngine::detect(&engine, &bytes_input(png, (100, 100)))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let said = intake_domain::error_chain(&error);
    assert!(said.contains("apt-get install tesseract-ocr"), "{said}");
}

/// `r`'s row as version 1 of the schema wrote it: no owner, the lines inside the record.
fn version_one_row(r: &intake_domain::model::ImageRecord) -> serde_json::Value {
    serde_json::json!({
        "schemaVersion": 1,
        "imageId": r.image_id(),
        "version": r.version(),
        "status": r.status(),
        "bucket": r.bucket(),
        "objectKey": r.object_key(),
        "fileName": r.file_name(),
        "createdAt": r.created_at(),
        "updatedAt": r.updated_at(),
        "uploadExpiresAt": r.upload_expires_at(),
        "declaredContentType": r.declared_content_type(),
        "declaredSizeBytes": r.declared_size_bytes(),
        "processedAt": r.processed_at(),
        "ocrStatus": r.ocr_status(),
        "ocrText": r.ocr_text(),
        "ocrLineCount": r.ocr_line_count(),
        "ocrAvgConfidencePct": r.ocr_avg_confidence_pct(),
        "ocrEngine": r.ocr_engine(),
        "ocrTruncated": r.ocr_truncated(),
        "ocrLines": r.ocr_lines(),
        "attempts": r.attempts(),
    })
}

#[tokio::test]
async fn records_from_before_owners_are_migrated_to_the_admin_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    // A database as an earlier schema (user_version 2) left it, holding a record without `owner`,
    // with its OCR lines inside the record.
    let b = intake_domain::model::BoundingBox::new(0.1, 0.2, 0.3, 0.05).unwrap();
    let words = vec![intake_domain::model::OcrWord::new("PAY", 97.5, b).unwrap()];
    let line = intake_domain::model::OcrLine::from_words(words).unwrap();
    let r = intake_domain::testkit::advanced_with(
        &record(id_at(0, 1)),
        intake_domain::model::ImageStatus::Processed,
        None,
        &intake_domain::model::OcrResult::new("tesseract", vec![line], false).unwrap(),
        intake_domain::testkit::epoch(),
    );
    let old = version_one_row(&r);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE images (image_id BLOB PRIMARY KEY NOT NULL, version INTEGER NOT NULL,
                 status TEXT NOT NULL, sha256 TEXT, deleted INTEGER NOT NULL DEFAULT 0,
                 record TEXT NOT NULL) WITHOUT ROWID;
             CREATE INDEX images_by_status ON images (status, image_id);
             CREATE INDEX images_by_sha256 ON images (sha256, image_id) WHERE sha256 IS NOT NULL;
             CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, object_key TEXT NOT NULL UNIQUE,
                 due_ms INTEGER NOT NULL, free_at_ms INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0, lease_token INTEGER, lease_until_ms INTEGER,
                 again_ms INTEGER, last_error TEXT);
             CREATE INDEX jobs_by_free_at ON jobs (free_at_ms, seq);
             CREATE TABLE dead_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, object_key TEXT NOT NULL,
                 attempts INTEGER NOT NULL, reason TEXT NOT NULL, buried_at_ms INTEGER NOT NULL);
             PRAGMA user_version = 2;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO images (image_id, version, status, deleted, record) VALUES (?1, 1, ?2, 0, ?3)",
            rusqlite::params![r.image_id().to_bytes().to_vec(), r.status().as_str(), old.to_string()],
        )
        .unwrap();
    }
    let repo = SqliteRepository::open(&path).unwrap();
    let migrated = repo.get(&r.image_id()).await.unwrap().unwrap();
    assert_eq!(migrated.owner().as_str(), "admin");
    assert_eq!(migrated.schema_version(), 2);
    assert_eq!(
        migrated.ocr_lines(),
        r.ocr_lines(),
        "lines lost in the migration"
    );
    let view = repo
        .get_view(&r.image_id(), intake_domain::ports::OcrDetail::Text)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((view.ocr_lines(), view.ocr_text()), (None, r.ocr_text()));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (inline, apart): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT json_type(record, '$.ocrLines'), json_type(ocr_lines) FROM images",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((inline.as_deref(), apart.as_deref()), (None, Some("array")));
    let admins = repo
        .list(
            &intake_domain::ports::ListQuery::new([], 10)
                .for_owner(intake_domain::testkit::owner("admin")),
        )
        .await
        .unwrap();
    assert_eq!(admins.records.len(), 1);
    // Records from before full-text search are indexed by the migration that adds it.
    let found = intake_domain::ports::ImageSearch::search(
        &repo,
        &intake_domain::ports::SearchQuery::new(
            intake_domain::model::SearchText::parse("pay").unwrap(),
            intake_domain::ports::ListQuery::new([], 10)
                .for_owner(intake_domain::testkit::owner("admin")),
        ),
    )
    .await
    .unwrap();
    assert_eq!(found.hits.len(), 1);
}
