//! Headers anywhere in the file, through the processing service: a TIFF written the usual way (its
//! directories after its pixel data) and a JPEG whose frame header follows 600 KiB of metadata are
//! processed with their dimensions, whether the object is read in one chunk, in chunks of 4 KiB or in
//! chunks of 7 bytes that split every marker, length and directory entry, and whether the processor
//! keeps the body or not. Damaged ones are still corrupt, and the byte and page limits still hold.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use bytes::Bytes;
use intake_domain::IntakeConfig;
use intake_domain::model::{ContentType, ImageRecord, ImageStatus, RejectionCode};
use intake_domain::ports::OcrCapabilities;
use intake_domain::services::{ObjectCreated, ProcessOutcome, UploadRequest};
use intake_domain::testkit::images::{jpeg_gray, tiff_gray};
use intake_domain::testkit::scenarios;
use intake_memory::{MemoryHarness, ScriptedOcr};

/// How the store splits its reads: one chunk for any of these files, 4 KiB, and 7 bytes.
const CHUNKINGS: [usize; 3] = [4 * 1024 * 1024, 4096, 7];

/// A TIFF of three 700 × 500 pages as libtiff writes it, each page's pixels before its directory: the
/// first directory is 350,008 bytes in. Its first pixels are `C` and `R`, which the format sniffer
/// must not take for a Canon raw file.
fn libtiff_layout() -> Bytes {
    let pixels: Vec<u8> = (0..700 * 500)
        .map(|i: u32| match i {
            0 => b'C',
            1 => b'R',
            _ => i.to_le_bytes()[0] | 0x80,
        })
        .collect();
    let page: ((u32, u32), &[u8]) = ((700, 500), &pixels);
    let tiff = tiff_gray(&[page; 3]);
    let first_directory = u32::from_le_bytes(tiff[4..8].try_into().unwrap());
    assert!(first_directory > 256 * 1024, "at {first_directory}");
    tiff
}

/// A 1700 × 2200 JPEG whose frame header follows 600 KiB of metadata.
fn photo() -> Bytes {
    jpeg_gray(1700, 2200, 600 * 1024)
}

/// Uploads `bytes` declared as `declared`, with their size and checksum, and processes them.
async fn process(h: &MemoryHarness, declared: ContentType, bytes: &Bytes) -> ProcessOutcome {
    let (_, key) = scenarios::upload(
        h,
        scenarios::request_for("upload", declared, bytes),
        bytes.clone(),
    )
    .await;
    h.intake
        .process_object_created(&ObjectCreated::new(h.intake.bucket(), key))
        .await
        .unwrap()
}

fn processed(outcome: ProcessOutcome) -> ImageRecord {
    match outcome {
        ProcessOutcome::Processed(record) => *record,
        other => panic!("expected Processed, got {other:?}"),
    }
}

fn rejected(outcome: ProcessOutcome) -> ImageRecord {
    match outcome {
        ProcessOutcome::Rejected(record) => *record,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

/// An engine that takes bytes, not objects: the processor keeps every body for it.
fn bytes_engine() -> ScriptedOcr {
    ScriptedOcr::new(OcrCapabilities::new(
        "bytes-only",
        ContentType::ALL.to_vec(),
        50 * 1024 * 1024,
        16,
    ))
}

#[tokio::test]
async fn a_tiff_with_its_directories_after_its_pixels_is_processed() {
    let tiff = libtiff_layout();
    for chunk in CHUNKINGS {
        for ocr in [ScriptedOcr::default(), bytes_engine()] {
            let h = MemoryHarness::with_read_chunks(IntakeConfig::default(), ocr, chunk);
            let record = processed(process(&h, ContentType::Tiff, &tiff).await);
            assert_eq!(record.status(), ImageStatus::Processed);
            assert_eq!(record.content_type(), Some(ContentType::Tiff));
            assert_eq!(
                (record.width_px(), record.height_px(), record.page_count()),
                (Some(700), Some(500), Some(3)),
                "chunks of {chunk}"
            );
        }
    }
}

#[tokio::test]
async fn a_jpeg_with_600_kib_of_metadata_before_its_frame_is_processed() {
    let jpeg = photo();
    for chunk in CHUNKINGS {
        // By reference (the body is not kept) and by bytes (it is).
        for ocr in [ScriptedOcr::default(), bytes_engine()] {
            let h = MemoryHarness::with_read_chunks(IntakeConfig::default(), ocr, chunk);
            let record = processed(process(&h, ContentType::Jpeg, &jpeg).await);
            assert_eq!(record.content_type(), Some(ContentType::Jpeg));
            assert_eq!(
                (record.width_px(), record.height_px(), record.page_count()),
                (Some(1700), Some(2200), Some(1)),
                "chunks of {chunk}"
            );
        }
    }
}

#[tokio::test]
async fn dimensions_are_measured_when_the_body_is_not_kept() {
    // Declared a PNG, the TIFF's body is not kept (only a declared TIFF's pages are counted), and it
    // is rejected for its type; what was measured is still right.
    let h = MemoryHarness::with_read_chunks(IntakeConfig::default(), ScriptedOcr::default(), 7);
    let record = rejected(process(&h, ContentType::Png, &libtiff_layout()).await);
    assert_eq!(record.rejection_code(), Some(RejectionCode::TypeMismatch));
    assert_eq!(record.content_type(), Some(ContentType::Tiff));
    assert_eq!(
        (record.width_px(), record.height_px()),
        (Some(700), Some(500))
    );
    let record = rejected(process(&h, ContentType::Png, &photo()).await);
    assert_eq!(record.rejection_code(), Some(RejectionCode::TypeMismatch));
    assert_eq!(
        (record.width_px(), record.height_px()),
        (Some(1700), Some(2200))
    );
}

#[tokio::test]
async fn damaged_headers_are_still_corrupt() {
    let h = MemoryHarness::with_read_chunks(IntakeConfig::default(), ScriptedOcr::default(), 4096);
    let corrupt = |outcome| {
        let record = rejected(outcome);
        assert_eq!(
            record.rejection_code(),
            Some(RejectionCode::Corrupt),
            "{record:?}"
        );
        record
    };
    // A JPEG cut inside its metadata, ended as if whole: no frame header.
    let jpeg = photo();
    let mut cut = jpeg[..400 * 1024].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let record = corrupt(process(&h, ContentType::Jpeg, &Bytes::from(cut)).await);
    assert_eq!(record.width_px(), None);

    let tiff = libtiff_layout();
    let first = u32::from_le_bytes(tiff[4..8].try_into().unwrap()) as usize;
    // The first directory's offset past the end of the file.
    let mut past_the_end = tiff.to_vec();
    past_the_end[4..8].copy_from_slice(&(tiff.len() as u32 + 2).to_le_bytes());
    corrupt(process(&h, ContentType::Tiff, &Bytes::from(past_the_end)).await);
    // The last directory's link to the next one (the file's last four bytes) back to the first: a
    // loop.
    let mut looping = tiff.to_vec();
    let last_link = looping.len() - 4;
    looping[last_link..].copy_from_slice(&(first as u32).to_le_bytes());
    let record = corrupt(process(&h, ContentType::Tiff, &Bytes::from(looping)).await);
    assert!(
        record
            .rejection_message()
            .unwrap()
            .contains("directory chain cannot be read"),
        "{:?}",
        record.rejection_message()
    );
}

#[tokio::test]
async fn the_byte_and_page_limits_still_hold() {
    let tiff = libtiff_layout();
    let h = MemoryHarness::with_read_chunks(
        IntakeConfig::default().with_max_pages(2),
        ScriptedOcr::default(),
        4096,
    );
    let record = rejected(process(&h, ContentType::Tiff, &tiff).await);
    assert_eq!(record.rejection_code(), Some(RejectionCode::TooLarge));
    assert!(
        record
            .rejection_message()
            .unwrap()
            .contains("more than 2 pages"),
        "{:?}",
        record.rejection_message()
    );
    assert_eq!(h.ocr.call_count(), 0);
    // Within the pixel limit page by page, not all together.
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_pixels(1_000_000),
        ScriptedOcr::default(),
    );
    let record = rejected(process(&h, ContentType::Tiff, &tiff).await);
    assert_eq!(record.rejection_code(), Some(RejectionCode::TooLarge));
    // Past the byte limit, nothing is read, wherever the headers are.
    let limit = tiff.len() as u64 - 1;
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_upload_bytes(limit),
        ScriptedOcr::default(),
    );
    let request = UploadRequest::named("big.tiff", ContentType::Tiff).unwrap();
    let ticket = h
        .intake
        .request_upload(&intake_domain::testkit::default_owner(), request)
        .await
        .unwrap();
    h.store.put(
        &ticket.object_key,
        tiff.clone(),
        ContentType::Tiff.as_mime(),
    );
    let record = rejected(
        h.intake
            .process_object_created(&ObjectCreated::new(h.intake.bucket(), ticket.object_key))
            .await
            .unwrap(),
    );
    assert_eq!(record.rejection_code(), Some(RejectionCode::TooLarge));
}
