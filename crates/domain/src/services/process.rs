use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};

use super::Intake;
use crate::error::{IntakeError, error_chain};
use crate::model::{
    ContentType, FailureCode, ImageId, ImageRecord, ImageStatus, ObjectKey, OcrStatus,
    RejectionCode, Sha256Digest, Timestamp,
};
use crate::ports::{ImageFacts, OcrCapabilities, OcrError, OcrInput, RepoError, StoreError};
use crate::sniff::{PNG_TRAILER, Pages, SNIFF_BYTES, Sniffed, sniff, tiff_pages};

/// How many times a service re-reads and retries a write that lost a race before giving up with
/// [`IntakeError::Conflict`].
const MAX_RACES: usize = 8;

/// An object-created notification, decoded from whatever carried it (S3 event, SQS message, local queue).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ObjectCreated {
    /// The bucket.
    pub bucket: String,
    /// The key, already URL-decoded.
    pub key: String,
    /// The size the notification reports, if any (informational; the processor measures).
    pub size: Option<u64>,
    /// The entity tag the notification reports, if any.
    pub etag: Option<String>,
    /// S3's sequencer, if any (orders events for one key).
    pub sequencer: Option<String>,
}

impl ObjectCreated {
    /// A notification for `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            size: None,
            etag: None,
            sequencer: None,
        }
    }
    /// With the reported size.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
    /// With the reported entity tag.
    #[must_use]
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }
    /// With S3's sequencer.
    #[must_use]
    pub fn with_sequencer(mut self, sequencer: impl Into<String>) -> Self {
        self.sequencer = Some(sequencer.into());
        self
    }
}

/// Why a notification was skipped without processing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SkipReason {
    /// The image was deleted before it was processed.
    Deleted,
    /// The object is not in the store (a notification that outran or outlived its object); the record
    /// stays as it was.
    ObjectMissing,
}

/// What processing a notification did.
#[derive(Clone, PartialEq, Debug)]
#[non_exhaustive]
pub enum ProcessOutcome {
    /// OCR ran (or an identical image's result was reused); the record is `PROCESSED`.
    Processed(Box<ImageRecord>),
    /// The object broke a rule; the record is `REJECTED` and OCR was not called.
    Rejected(Box<ImageRecord>),
    /// OCR failed permanently, or retries ran out; the record is `FAILED`.
    Failed(Box<ImageRecord>),
    /// The image was already in a terminal state: a replayed notification, nothing done.
    AlreadyDone(Box<ImageRecord>),
    /// Another processor holds a live claim on the image; nothing done.
    InProgress {
        /// The image.
        image_id: ImageId,
        /// When the other claim expires.
        lease_expires_at: Option<Timestamp>,
    },
    /// Nothing to do.
    Skipped {
        /// The image.
        image_id: ImageId,
        /// Why.
        reason: SkipReason,
    },
}

impl ProcessOutcome {
    fn terminal(record: ImageRecord) -> Self {
        match record.status {
            ImageStatus::Rejected => Self::Rejected(Box::new(record)),
            ImageStatus::Failed => Self::Failed(Box::new(record)),
            _ => Self::Processed(Box::new(record)),
        }
    }

    /// The record, when the outcome carries one.
    pub fn record(&self) -> Option<&ImageRecord> {
        match self {
            Self::Processed(r) | Self::Rejected(r) | Self::Failed(r) | Self::AlreadyDone(r) => {
                Some(r)
            }
            Self::InProgress { .. } | Self::Skipped { .. } => None,
        }
    }
}

enum Claim {
    Won(Box<ImageRecord>),
    Settled(ProcessOutcome),
}

enum Run {
    Finished(Box<ImageRecord>),
    ObjectMissing,
    /// A retryable failure after the object was measured: the error, and the record with what was
    /// measured (hash, size, type, dimensions), which a release or a final failure keeps.
    Interrupted {
        error: IntakeError,
        measured: Box<ImageRecord>,
    },
}

/// What one streaming pass over an object established.
#[derive(Debug)]
struct Inspection {
    /// Bytes read; one chunk past the limit at most when `oversize`.
    size: u64,
    /// The size the store reported.
    stored_size: u64,
    /// The object version the store reported, so OCR by reference reads the same bytes.
    version: Option<String>,
    /// `None` when reading stopped at the limit.
    sha256: Option<Sha256Digest>,
    sniffed: Sniffed,
    /// The last bytes of the object (up to 12).
    tail: Vec<u8>,
    /// The whole object, when the engine needs bytes or the image may have several pages.
    body: Option<Bytes>,
    oversize: bool,
    /// A multi-page image's pages from its headers (TIFF), or why they cannot be read.
    pages: Option<Result<Pages, String>>,
}

/// A reason to reject, with a message for humans.
#[derive(Debug, PartialEq, Eq)]
struct Rejection {
    code: RejectionCode,
    message: String,
}

fn reject(code: RejectionCode, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// The rules an object must pass before OCR, in order. Pure, so each rule is tested on its own.
fn examine(
    record: &ImageRecord,
    inspection: &Inspection,
    accepted: &[ContentType],
    engine: &OcrCapabilities,
    max_bytes: u64,
    max_pixels: u64,
    max_pages: u32,
) -> Result<ImageFacts, Rejection> {
    let size = inspection.size;
    if size == 0 {
        return Err(reject(RejectionCode::Empty, "the object is empty"));
    }
    if inspection.oversize || size > max_bytes {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "the object is {} bytes; the limit is {max_bytes}",
                inspection.stored_size.max(size)
            ),
        ));
    }
    if let Some(declared) = record.declared_size_bytes.filter(|&d| d != size) {
        return Err(reject(
            RejectionCode::SizeMismatch,
            format!("declared {declared} bytes, received {size}"),
        ));
    }
    let sha256 = inspection
        .sha256
        .ok_or_else(|| reject(RejectionCode::TooLarge, "the object was not read whole"))?;
    if let Some(declared) = record.declared_sha256.filter(|&d| d != sha256) {
        return Err(reject(
            RejectionCode::ChecksumMismatch,
            format!("declared sha256 {declared}, received {sha256}"),
        ));
    }
    let Some(actual) = inspection.sniffed.content_type else {
        return Err(reject(
            RejectionCode::UnsupportedType,
            "the bytes are not a recognised image format",
        ));
    };
    if !accepted.contains(&actual) {
        return Err(reject(
            RejectionCode::UnsupportedType,
            format!("{actual} is not accepted by this deployment"),
        ));
    }
    if actual != record.declared_content_type {
        return Err(reject(
            RejectionCode::TypeMismatch,
            format!(
                "declared {}, but the bytes are {actual}",
                record.declared_content_type
            ),
        ));
    }
    let dimensions = inspection.sniffed.dimensions;
    if actual != ContentType::Pdf {
        let Some((width, height)) = dimensions else {
            return Err(reject(
                RejectionCode::Corrupt,
                format!("the {actual} header is unreadable or damaged"),
            ));
        };
        if width < engine.min_dimension_px || height < engine.min_dimension_px {
            return Err(reject(
                RejectionCode::TooSmall,
                format!(
                    "{width}×{height} px is below the minimum of {0}×{0} px",
                    engine.min_dimension_px
                ),
            ));
        }
        if engine
            .max_dimension_px
            .is_some_and(|max| width > max || height > max)
        {
            return Err(reject(
                RejectionCode::TooLarge,
                format!("{width}×{height} px exceeds the engine's largest dimension"),
            ));
        }
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(reject(
                RejectionCode::TooLarge,
                format!("{width}×{height} px exceeds {max_pixels} pixels"),
            ));
        }
    }
    check_pages(inspection.pages.as_ref(), engine, max_pixels, max_pages)?;
    check_trailer(actual, &inspection.tail)?;
    let facts = ImageFacts::new(actual, size, dimensions, sha256);
    if !engine.accepts(&facts) {
        return Err(reject(
            RejectionCode::UnsupportedType,
            format!("the OCR engine {} cannot take this image", engine.engine),
        ));
    }
    Ok(facts)
}

/// A multi-page image's pages count together: at most `max_pages` of them, their pixels together
/// within `max_pixels`, and no page beyond the engine's largest side. A directory chain that cannot be
/// read is corrupt.
fn check_pages(
    pages: Option<&Result<Pages, String>>,
    engine: &OcrCapabilities,
    max_pixels: u64,
    max_pages: u32,
) -> Result<(), Rejection> {
    let pages = match pages {
        None => return Ok(()),
        Some(Err(reason)) => {
            return Err(reject(
                RejectionCode::Corrupt,
                format!("the TIFF's pages cannot be read: {reason}"),
            ));
        }
        Some(Ok(pages)) => pages,
    };
    if pages.count > max_pages {
        return Err(reject(
            RejectionCode::TooLarge,
            format!("the image has more than {max_pages} pages"),
        ));
    }
    if pages.pixels > max_pixels {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "its {} pages hold {} pixels together; the limit is {max_pixels}",
                pages.count, pages.pixels
            ),
        ));
    }
    if engine
        .max_dimension_px
        .is_some_and(|max| pages.longest_side > max)
    {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "a page {} px long exceeds the engine's largest dimension",
                pages.longest_side
            ),
        ));
    }
    Ok(())
}

/// Truncated files and files with data after the image (polyglots) are refused: a PNG must end with
/// its `IEND` chunk, a JPEG with its end-of-image marker.
fn check_trailer(actual: ContentType, tail: &[u8]) -> Result<(), Rejection> {
    if actual == ContentType::Jpeg && !ends_with_jpeg_eoi(tail) {
        return Err(reject(
            RejectionCode::Corrupt,
            "the JPEG does not end with its end-of-image marker: truncated or trailing data",
        ));
    }
    if actual == ContentType::Png && tail != PNG_TRAILER {
        return Err(reject(
            RejectionCode::Corrupt,
            "the PNG does not end with its IEND chunk: truncated or trailing data",
        ));
    }
    Ok(())
}

/// Whether the last bytes end a JPEG: the end-of-image marker `FF D9`, optionally followed by zero
/// padding (which some encoders add).
fn ends_with_jpeg_eoi(tail: &[u8]) -> bool {
    let end = tail.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    tail.get(..end).is_some_and(|t| t.ends_with(&[0xFF, 0xD9]))
}

/// Writes what one pass over the object measured onto `record`: size, hash, type, dimensions and
/// pages (1 for single-image formats; a multi-page image's count when it is within `max_pages`).
fn record_measurements(record: &mut ImageRecord, inspection: &Inspection, max_pages: u32) {
    record.size_bytes = Some(if inspection.oversize {
        inspection.stored_size.max(inspection.size)
    } else {
        inspection.size
    });
    record.sha256 = inspection.sha256;
    record.content_type = inspection.sniffed.content_type;
    record.width_px = inspection.sniffed.dimensions.map(|d| d.0);
    record.height_px = inspection.sniffed.dimensions.map(|d| d.1);
    record.page_count = match (&inspection.pages, inspection.sniffed.content_type) {
        (Some(Ok(pages)), _) if pages.count <= max_pages => Some(pages.count),
        (Some(_), _) | (None, None | Some(ContentType::Pdf | ContentType::Tiff)) => None,
        (None, Some(_)) => Some(1),
    };
}

/// Copies what a run measured of the object onto `record`.
fn keep_measurements(record: &mut ImageRecord, measured: &ImageRecord) {
    record.size_bytes = measured.size_bytes;
    record.sha256 = measured.sha256;
    record.content_type = measured.content_type;
    record.width_px = measured.width_px;
    record.height_px = measured.height_px;
    record.page_count = measured.page_count;
}

/// Marks a record `FAILED` with `RETRIES_EXHAUSTED` after `attempts` claims.
fn mark_exhausted(record: &mut ImageRecord, attempts: u32, last_error: Option<&IntakeError>) {
    record.status = ImageStatus::Failed;
    record.ocr_status = OcrStatus::Failed;
    record.failure_code = Some(FailureCode::RetriesExhausted);
    record.failure_message = Some(match last_error {
        Some(error) => format!(
            "gave up after {attempts} attempts; last error: {}",
            error_chain(error)
        ),
        None => format!("gave up after {attempts} attempts"),
    });
    record.processed_at = Some(record.updated_at);
    record.lease_expires_at = None;
}

/// Records a permanent OCR failure on `done`, or hands back a retryable one. A timeout is retryable
/// on the first attempt only: on a retry the image, not a passing fault, is the likely cause, and each
/// further try would cost the whole time limit again.
fn record_ocr_failure(
    done: &mut ImageRecord,
    error: OcrError,
    attempt: u32,
) -> Option<IntakeError> {
    let (code, message) = match error {
        OcrError::Timeout if attempt > 1 => (
            FailureCode::OcrTimeout,
            format!("OCR ran out of time on attempt {attempt} as well"),
        ),
        error if error.is_retryable() => return Some(error.into()),
        error => (failure_code(&error), error_chain(&error)),
    };
    done.status = ImageStatus::Failed;
    done.ocr_status = OcrStatus::Failed;
    done.failure_code = Some(code);
    done.failure_message = Some(message);
    None
}

fn failure_code(error: &OcrError) -> FailureCode {
    match error {
        OcrError::InvalidImage { .. } => FailureCode::OcrInvalidImage,
        OcrError::UnsupportedFormat { .. } => FailureCode::OcrUnsupportedFormat,
        OcrError::TooLarge { .. } => FailureCode::OcrTooLarge,
        _ => FailureCode::OcrError,
    }
}

/// The record Intake issued `key` for, or why there is none.
fn issued(key: &ObjectKey, record: Option<ImageRecord>) -> Result<ImageRecord, IntakeError> {
    let Some(record) = record else {
        return Err(IntakeError::UnknownObject {
            key: key.to_string(),
            reason: "no upload was issued for this image".into(),
        });
    };
    if record.object_key != *key {
        return Err(IntakeError::UnknownObject {
            key: key.to_string(),
            reason: "the key differs from the issued one".into(),
        });
    }
    Ok(record)
}

impl Intake {
    /// Processes an object-created notification: claims the image, streams the object once (SHA-256,
    /// size, format, dimensions), rejects it or runs OCR, and records the result.
    ///
    /// Idempotent: a replayed or concurrent duplicate notification never runs OCR twice; it returns
    /// [`ProcessOutcome::AlreadyDone`] or [`ProcessOutcome::InProgress`].
    ///
    /// # Errors
    /// [`IntakeError::UnknownObject`] / [`IntakeError::ForeignBucket`] for objects Intake did not issue;
    /// retryable errors ([`IntakeError::is_retryable`]) when a dependency failed, after releasing the
    /// claim so a retry can proceed at once. Permanent OCR failures are not errors: they are recorded.
    pub async fn process_object_created(
        &self,
        event: &ObjectCreated,
    ) -> Result<ProcessOutcome, IntakeError> {
        let expected = self.inner.store.bucket();
        if event.bucket != expected {
            return Err(IntakeError::ForeignBucket {
                bucket: event.bucket.clone(),
                expected: expected.to_owned(),
            });
        }
        let key = ObjectKey::parse(&event.key).map_err(|e| IntakeError::UnknownObject {
            key: event.key.clone(),
            reason: e.to_string(),
        })?;
        if key.is_preview() {
            return Err(IntakeError::UnknownObject {
                key: event.key.clone(),
                reason: "a preview Intake made is not an upload to process".into(),
            });
        }
        let claimed = match self.claim(&key).await? {
            Claim::Won(record) => *record,
            Claim::Settled(outcome) => return Ok(outcome),
        };
        let mut measured = None;
        let result = match self.run(&claimed).await {
            Ok(Run::Finished(done)) => self.finish(&claimed, *done).await,
            Ok(Run::Interrupted { error, measured: m }) => {
                measured = Some(m);
                Err(error)
            }
            Ok(Run::ObjectMissing) => {
                // Undo the claim, but only if nobody has written since: never over another's claim.
                let mut back = claimed.next(self.inner.clock.now());
                back.status = ImageStatus::AwaitingUpload;
                back.attempts = claimed.attempts.saturating_sub(1);
                back.lease_expires_at = None;
                match self.inner.repository.replace(&back, claimed.version).await {
                    Ok(()) | Err(RepoError::Precondition { .. }) => Ok(ProcessOutcome::Skipped {
                        image_id: claimed.image_id,
                        reason: SkipReason::ObjectMissing,
                    }),
                    Err(other) => Err(other.into()),
                }
            }
            Err(error) => Err(error),
        };
        match result {
            Err(error) if claimed.attempts >= self.inner.config.max_attempts => {
                // The last allowed attempt failed: record it now, as no further delivery may come,
                // with whatever this attempt measured.
                let mut failed = claimed.next(self.inner.clock.now());
                if let Some(measured) = measured.as_deref() {
                    keep_measurements(&mut failed, measured);
                }
                mark_exhausted(&mut failed, claimed.attempts, Some(&error));
                if let Ok(outcome) = self.finish(&claimed, failed).await {
                    Ok(outcome)
                } else {
                    self.release(&claimed, measured.as_deref()).await;
                    Err(error)
                }
            }
            Err(error) => {
                self.release(&claimed, measured.as_deref()).await;
                Err(error)
            }
            ok => ok,
        }
    }

    /// Whether an upload to `key` may be accepted: only for an image Intake issued this key for. A
    /// store that receives uploads itself (the local server) asks before taking any bytes, so that an
    /// upload whose record was never issued (or was lost in a crash before it was durable,
    /// see [`ImageRepository::create_relaxed`](crate::ports::ImageRepository::create_relaxed)) is
    /// refused instead of stored and never processed.
    ///
    /// The caller has checked that Intake signed the URL for `key`, so a key with no record at all
    /// had its ticket lost before it was stored.
    ///
    /// # Errors
    /// [`IntakeError::UploadTicketLost`] when there is no record for this key;
    /// [`IntakeError::UnknownObject`] when the record names another key, or its image was deleted;
    /// repository errors.
    pub async fn expect_upload(&self, key: &ObjectKey) -> Result<(), IntakeError> {
        let Some(record) = self
            .inner
            .repository
            .get_view(&key.image_id(), crate::ports::OcrDetail::Text)
            .await?
        else {
            return Err(IntakeError::UploadTicketLost {
                key: key.to_string(),
            });
        };
        let record = issued(key, Some(record))?;
        if record.is_deleted() {
            return Err(IntakeError::UnknownObject {
                key: key.to_string(),
                reason: "the image was deleted".into(),
            });
        }
        Ok(())
    }

    /// Takes the image for processing with a conditional write, or says why not.
    async fn claim(&self, key: &ObjectKey) -> Result<Claim, IntakeError> {
        let inner = &self.inner;
        let id = key.image_id();
        for _ in 0..MAX_RACES {
            let current = issued(key, inner.repository.get(&id).await?)?;
            if current.is_deleted() {
                return Ok(Claim::Settled(ProcessOutcome::Skipped {
                    image_id: id,
                    reason: SkipReason::Deleted,
                }));
            }
            if current.is_terminal() {
                return Ok(Claim::Settled(ProcessOutcome::AlreadyDone(Box::new(
                    current,
                ))));
            }
            let now = inner.clock.now();
            if current.status == ImageStatus::Processing
                && current.lease_expires_at.is_some_and(|until| until > now)
            {
                return Ok(Claim::Settled(ProcessOutcome::InProgress {
                    image_id: id,
                    lease_expires_at: current.lease_expires_at,
                }));
            }
            let mut next = current.next(now);
            if current.attempts >= inner.config.max_attempts {
                mark_exhausted(&mut next, current.attempts, None);
            } else {
                next.status = ImageStatus::Processing;
                next.attempts = current.attempts.saturating_add(1);
                next.lease_expires_at = Some(now.saturating_add(inner.config.processing_lease));
            }
            match inner.repository.replace(&next, current.version).await {
                Ok(()) if next.status == ImageStatus::Failed => {
                    return Ok(Claim::Settled(ProcessOutcome::Failed(Box::new(next))));
                }
                Ok(()) => return Ok(Claim::Won(Box::new(next))),
                Err(RepoError::Precondition { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict { id })
    }

    /// Streams the object once: hash, size, first bytes for sniffing, last bytes for trailer checks,
    /// and the whole body only when the engine needs bytes. Stops reading past the byte limit.
    async fn inspect(&self, key: &ObjectKey, keep_body: bool) -> Result<Inspection, StoreError> {
        let limit = self.inner.max_bytes;
        let got = self.inner.store.get(key).await?;
        let stored_size = got.meta.size;
        let version = got.meta.version.clone();
        if stored_size > limit {
            // Larger than allowed: rejected without reading a byte of it.
            return Ok(Inspection {
                size: stored_size,
                stored_size,
                version,
                sha256: None,
                sniffed: Sniffed {
                    content_type: None,
                    dimensions: None,
                },
                tail: Vec::new(),
                body: None,
                oversize: true,
                pages: None,
            });
        }
        let mut stream = got.stream;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::new();
        let mut tail: Vec<u8> = Vec::with_capacity(PNG_TRAILER.len() * 2);
        let mut body = keep_body
            .then(|| BytesMut::with_capacity(usize::try_from(stored_size.min(limit)).unwrap_or(0)));
        let mut oversize = false;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                oversize = true;
                break;
            }
            hasher.update(&chunk);
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(chunk.get(..take).unwrap_or_default());
            }
            tail.extend_from_slice(
                chunk
                    .get(chunk.len().saturating_sub(PNG_TRAILER.len())..)
                    .unwrap_or_default(),
            );
            let excess = tail.len().saturating_sub(PNG_TRAILER.len());
            tail.drain(..excess);
            if let Some(body) = body.as_mut() {
                body.extend_from_slice(&chunk);
            }
        }
        if !oversize && size != stored_size {
            return Err(StoreError::Unavailable {
                source: format!("read {size} bytes of {key}, but the store reports {stored_size}")
                    .into(),
            });
        }
        let sniffed = sniff(&head);
        let body = body.map(BytesMut::freeze);
        // A TIFF's pages are counted from its whole directory chain, never decoding a pixel.
        let pages = match (&body, sniffed.content_type) {
            (Some(bytes), Some(ContentType::Tiff)) if !oversize => {
                Some(tiff_pages(bytes, self.inner.config.max_pages))
            }
            _ => None,
        };
        Ok(Inspection {
            size,
            stored_size,
            version,
            sha256: (!oversize).then(|| Sha256Digest::from_bytes(hasher.finalize().into())),
            sniffed,
            tail,
            body,
            oversize,
            pages,
        })
    }

    /// Does the work of a claimed image and returns its terminal record (not yet written).
    async fn run(&self, claimed: &ImageRecord) -> Result<Run, IntakeError> {
        let inner = &self.inner;
        let engine = inner.ocr.capabilities();
        let inspection = match self
            .inspect(
                &claimed.object_key,
                // A TIFF is kept whole (within the byte limit) to count its pages.
                !engine.reads_objects || claimed.declared_content_type == ContentType::Tiff,
            )
            .await
        {
            Ok(inspection) => inspection,
            Err(StoreError::NotFound { .. }) => return Ok(Run::ObjectMissing),
            Err(error) if error.is_retryable() => return Err(error.into()),
            Err(error) => {
                // Denied or refused by the store: retrying the same read will not help.
                let mut failed = claimed.next(inner.clock.now());
                failed.status = ImageStatus::Failed;
                failed.ocr_status = OcrStatus::Failed;
                failed.failure_code = Some(FailureCode::StoreError);
                failed.failure_message = Some(error_chain(&error));
                failed.lease_expires_at = None;
                failed.processed_at = Some(failed.updated_at);
                return Ok(Run::Finished(Box::new(failed)));
            }
        };
        let mut done = claimed.next(inner.clock.now());
        done.lease_expires_at = None;
        record_measurements(&mut done, &inspection, inner.config.max_pages);

        let facts = match examine(
            claimed,
            &inspection,
            &inner.accepted,
            engine,
            inner.max_bytes,
            inner.config.max_pixels,
            inner.config.max_pages,
        ) {
            Ok(facts) => facts,
            Err(rejection) => {
                done.status = ImageStatus::Rejected;
                done.ocr_status = OcrStatus::Skipped;
                done.rejection_code = Some(rejection.code);
                done.rejection_message = Some(rejection.message);
                done.processed_at = Some(done.updated_at);
                return Ok(Run::Finished(Box::new(done)));
            }
        };

        let original = self
            .original_of(&claimed.owner, &facts.sha256, claimed.image_id)
            .await?;
        done.duplicate_of = original.as_ref().map(|r| r.image_id);
        // Listings may omit OCR detail, so the original is read whole before its result is reused.
        let reusable = match original {
            Some(o) if inner.config.reuse_duplicate_ocr && o.ocr_status == OcrStatus::Completed => {
                inner
                    .repository
                    .get(&o.image_id)
                    .await?
                    .filter(|full| full.ocr_lines.is_some())
            }
            _ => None,
        };
        // The bytes in hand (engines that read bytes get them) also make the preview.
        let drawable = match (&inner.previewer, &inspection.body) {
            (Some(_), Some(bytes)) => Some((bytes.clone(), facts.clone())),
            _ => None,
        };
        if let Some(original) = reusable {
            done.copy_ocr_from(&original);
            done.status = ImageStatus::Processed;
        } else {
            let input = match inspection.body {
                Some(bytes) if !engine.reads_objects => OcrInput::Bytes { bytes, facts },
                _ => OcrInput::Object {
                    bucket: claimed.bucket.clone(),
                    key: claimed.object_key.clone(),
                    version: inspection.version.clone(),
                    facts,
                },
            };
            match inner.ocr.detect(&input).await {
                Ok(result) => {
                    done.set_ocr(&result);
                    done.status = ImageStatus::Processed;
                }
                Err(error) => {
                    if let Some(error) = record_ocr_failure(&mut done, error, claimed.attempts) {
                        return Ok(Run::Interrupted {
                            error,
                            measured: Box::new(done),
                        });
                    }
                }
            }
        }
        done.preview_key = self.store_preview(&done, drawable).await;
        let finished = inner.clock.now();
        done.updated_at = finished;
        done.processed_at = Some(finished);
        Ok(Run::Finished(Box::new(done)))
    }

    /// Makes and stores the preview of the processed image `done` from its bytes, where the deployment
    /// makes previews; its key, or `None` when there is none. A preview is an extra: an image it cannot
    /// be made or stored for is processed without one.
    async fn store_preview(
        &self,
        done: &ImageRecord,
        drawable: Option<(Bytes, ImageFacts)>,
    ) -> Option<ObjectKey> {
        let previewer = self.inner.previewer.as_ref()?;
        let (bytes, facts) = drawable?;
        if done.status != ImageStatus::Processed {
            return None;
        }
        let preview = previewer.preview(&bytes, &facts).await.ok().flatten()?;
        let key = ObjectKey::for_preview(done.image_id);
        self.inner
            .store
            .put(&key, preview.bytes, preview.content_type.as_mime())
            .await
            .ok()
            .map(|()| key)
    }

    /// Writes the result over the claim. If the record changed meanwhile (a delete, or a processor that
    /// reclaimed after the lease ran out) the result is merged over the newer version unless that one is
    /// already terminal.
    async fn finish(
        &self,
        claimed: &ImageRecord,
        mut done: ImageRecord,
    ) -> Result<ProcessOutcome, IntakeError> {
        let repository = &self.inner.repository;
        let mut expected = claimed.version;
        for _ in 0..MAX_RACES {
            match repository.replace(&done, expected).await {
                Ok(()) => {
                    // Deleted while it was being processed: what processing stored since (the
                    // preview) goes the way the delete sent the rest. Best effort, as a delete is.
                    if done.is_deleted() {
                        let _ = self.delete_object(&done).await;
                    }
                    return Ok(ProcessOutcome::terminal(done));
                }
                Err(RepoError::Precondition { .. }) => {
                    let current =
                        repository
                            .get(&claimed.image_id)
                            .await?
                            .ok_or(IntakeError::NotFound {
                                id: claimed.image_id,
                            })?;
                    if current.is_terminal() {
                        return Ok(ProcessOutcome::AlreadyDone(Box::new(current)));
                    }
                    done.version = current.version.saturating_add(1);
                    done.deleted_at = current.deleted_at;
                    done.attempts = done.attempts.max(current.attempts);
                    expected = current.version;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(IntakeError::Conflict {
            id: claimed.image_id,
        })
    }

    /// Gives up a claim after a failure so that a retry can take the image at once. Best effort: if the
    /// write fails, the lease runs out on its own.
    pub(super) async fn release(&self, claimed: &ImageRecord, measured: Option<&ImageRecord>) {
        let mut released = claimed.next(self.inner.clock.now());
        released.lease_expires_at = None;
        // What was measured stays on the record, so that even a record that later fails without
        // another read reports the object's hash, size, type and dimensions.
        if let Some(measured) = measured {
            keep_measurements(&mut released, measured);
        }
        let _ignored = self
            .inner
            .repository
            .replace(&released, claimed.version)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileName, NewUpload};

    fn record(declared: ContentType, size: Option<u64>, sha: Option<Sha256Digest>) -> ImageRecord {
        let now = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        ImageRecord::awaiting_upload(NewUpload::new(
            ImageId::generate(now),
            crate::model::Owner::parse("o").unwrap(),
            "b",
            FileName::sanitize("x.png").unwrap(),
            declared,
            size,
            sha,
            now,
            now,
        ))
    }

    fn inspection(
        size: u64,
        ct: Option<ContentType>,
        dims: Option<(u32, u32)>,
        tail: &[u8],
    ) -> Inspection {
        Inspection {
            size,
            stored_size: size,
            version: None,
            sha256: Some(Sha256Digest::of(b"x")),
            sniffed: Sniffed {
                content_type: ct,
                dimensions: dims,
            },
            tail: tail.to_vec(),
            body: None,
            oversize: false,
            pages: None,
        }
    }

    fn caps() -> OcrCapabilities {
        OcrCapabilities::new(
            "e",
            vec![ContentType::Png, ContentType::Jpeg, ContentType::Pdf],
            1000,
            10,
        )
        .with_max_dimension(5000)
    }

    fn code(r: &ImageRecord, i: &Inspection) -> Option<RejectionCode> {
        let accepted = [ContentType::Png, ContentType::Jpeg, ContentType::Pdf];
        examine(r, i, &accepted, &caps(), 1000, 1_000_000, 100)
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn every_rule_rejects_with_its_code() {
        let png = record(ContentType::Png, None, None);
        let ok = inspection(100, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER);
        assert_eq!(code(&png, &ok), None);
        assert_eq!(
            code(&png, &inspection(0, None, None, &[])),
            Some(RejectionCode::Empty)
        );
        assert_eq!(
            code(
                &png,
                &inspection(1001, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(&record(ContentType::Png, Some(99), None), &ok),
            Some(RejectionCode::SizeMismatch)
        );
        assert_eq!(
            code(
                &record(ContentType::Png, None, Some(Sha256Digest::of(b"y"))),
                &ok
            ),
            Some(RejectionCode::ChecksumMismatch)
        );
        assert_eq!(
            code(
                &record(ContentType::Png, None, Some(Sha256Digest::of(b"x"))),
                &ok
            ),
            None
        );
        assert_eq!(
            code(&png, &inspection(100, None, None, &[])),
            Some(RejectionCode::UnsupportedType)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Gif), Some((100, 100)), &[])
            ),
            Some(RejectionCode::UnsupportedType)
        );
        assert_eq!(
            code(&record(ContentType::Jpeg, None, None), &ok),
            Some(RejectionCode::TypeMismatch)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), None, &PNG_TRAILER)
            ),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), Some((9, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooSmall)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), Some((5001, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(
                &png,
                &inspection(
                    100,
                    Some(ContentType::Png),
                    Some((1001, 1000)),
                    &PNG_TRAILER
                )
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(
                &png,
                &inspection(
                    100,
                    Some(ContentType::Png),
                    Some((100, 100)),
                    b"trailing zip"
                )
            ),
            Some(RejectionCode::Corrupt)
        );
        let pdf = record(ContentType::Pdf, None, None);
        assert_eq!(
            code(
                &pdf,
                &inspection(100, Some(ContentType::Pdf), None, b"%%EOF")
            ),
            None
        );
    }

    #[test]
    fn jpegs_must_end_with_their_end_of_image_marker() {
        let jpeg = record(ContentType::Jpeg, None, None);
        let with_tail =
            |tail: &[u8]| inspection(100, Some(ContentType::Jpeg), Some((100, 100)), tail);
        assert_eq!(code(&jpeg, &with_tail(&[1, 2, 0xFF, 0xD9])), None);
        assert_eq!(code(&jpeg, &with_tail(&[0xFF, 0xD9, 0, 0, 0])), None);
        assert_eq!(
            code(&jpeg, &with_tail(&[0xFF, 0xD9, b'P', b'K'])),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(
            code(&jpeg, &with_tail(&[0x12, 0x34])),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(code(&jpeg, &with_tail(&[])), Some(RejectionCode::Corrupt));
    }

    #[test]
    fn oversize_reads_are_too_large_even_without_a_hash() {
        let mut i = inspection(1001, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER);
        i.oversize = true;
        i.sha256 = None;
        i.stored_size = 5000;
        let r = examine(
            &record(ContentType::Png, None, None),
            &i,
            &[ContentType::Png],
            &caps(),
            1000,
            1_000_000,
            100,
        )
        .unwrap_err();
        assert_eq!(r.code, RejectionCode::TooLarge);
        assert!(r.message.contains("5000"), "{}", r.message);
    }
}
