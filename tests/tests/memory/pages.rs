//! Multi-page images: every page counts against the pixel limit, a page limit applies, and the record
//! says how many pages the image has. Pages are counted from the TIFF's headers, never decoded.

use bytes::Bytes;
use intake_domain::IntakeConfig;
use intake_domain::model::{ImageStatus, RejectionCode};
use intake_domain::services::ProcessOutcome;
use intake_domain::testkit::images::tiff_gray;
use intake_memory::{MemoryHarness, ScriptedOcr};

use super::{created, page, process_ok, upload, upload_typed};

/// A TIFF of `pages` blank 80 × 50 pages.
fn tiff(pages: usize) -> Bytes {
    let pixels = vec![255_u8; 80 * 50];
    let list: Vec<((u32, u32), &[u8])> =
        (0..pages).map(|_| ((80, 50), pixels.as_slice())).collect();
    tiff_gray(&list)
}

async fn process_tiff(h: &MemoryHarness, bytes: &Bytes) -> ProcessOutcome {
    let (_, key) = upload_typed(h, "scan.tiff", "image/tiff", bytes).await;
    h.intake
        .process_object_created(&created(h, &key))
        .await
        .unwrap()
}

fn rejection(outcome: &ProcessOutcome) -> (Option<RejectionCode>, String) {
    match outcome {
        ProcessOutcome::Rejected(r) => (
            r.rejection_code(),
            r.rejection_message().unwrap_or_default().to_owned(),
        ),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn the_record_says_how_many_pages_an_image_has() {
    let h = MemoryHarness::default();
    match process_tiff(&h, &tiff(3)).await {
        ProcessOutcome::Processed(r) => {
            assert_eq!(r.status(), ImageStatus::Processed);
            assert_eq!(r.page_count(), Some(3));
            assert_eq!((r.width_px(), r.height_px()), (Some(80), Some(50)));
        }
        other => panic!("{other:?}"),
    }
    let (_, key) = upload(&h, "one.png", &page(1)).await;
    assert_eq!(process_ok(&h, &key).await.page_count(), Some(1));
}

#[tokio::test]
async fn every_page_counts_against_the_pixel_limit() {
    // Each page (4000 px) is within the limit; three together (12000 px) are not.
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_pixels(10_000),
        ScriptedOcr::default(),
    );
    let (code, message) = rejection(&process_tiff(&h, &tiff(3)).await);
    assert_eq!(code, Some(RejectionCode::TooLarge));
    assert!(message.contains("12000"), "{message}");
    assert_eq!(h.ocr.call_count(), 0, "OCR ran on a rejected image");
}

#[tokio::test]
async fn a_page_limit_applies() {
    let h = MemoryHarness::new(
        IntakeConfig::default().with_max_pages(2),
        ScriptedOcr::default(),
    );
    let outcome = process_tiff(&h, &tiff(3)).await;
    let (code, message) = rejection(&outcome);
    assert_eq!(code, Some(RejectionCode::TooLarge));
    assert!(message.contains("more than 2 pages"), "{message}");
    if let ProcessOutcome::Rejected(r) = outcome {
        assert_eq!(r.page_count(), None, "an over-limit count is not a count");
    }
    // Within the limit, accepted.
    assert!(matches!(
        process_tiff(&h, &tiff(2)).await,
        ProcessOutcome::Processed(_)
    ));
}

#[tokio::test]
async fn a_tiff_whose_page_chain_is_damaged_is_corrupt() {
    let h = MemoryHarness::default();
    let mut bytes = tiff(2).to_vec();
    // Point the first page's link to the next directory past the end of the file.
    let first_ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let entries = u16::from_le_bytes(bytes[first_ifd..first_ifd + 2].try_into().unwrap()) as usize;
    let link = first_ifd + 2 + entries * 12;
    bytes[link..link + 4].copy_from_slice(&0x7FFF_FFF0_u32.to_le_bytes());
    let (code, _) = rejection(&process_tiff(&h, &Bytes::from(bytes)).await);
    assert_eq!(code, Some(RejectionCode::Corrupt));
}
