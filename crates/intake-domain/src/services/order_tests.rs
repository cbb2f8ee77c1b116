//! The processor stores an engine's text fragments as visual lines in reading order, and an
//! engine's own lines as the engine gave them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use super::tests::{awaiting, build, caps, event, repo_serving, store_with};
use super::*;
use crate::model::{BoundingBox, OcrLine, OcrResult, OcrWord};
use crate::ports::{MockOcrEngine, MockUrlSigner};

/// A fragment of one word at `left`, `top` (relative), a twentieth of the page tall.
fn fragment(text: &str, left: f32, top: f32) -> OcrLine {
    let b = BoundingBox::new(left, top, 0.15, 0.05).unwrap();
    OcrLine::from_words(vec![OcrWord::new(text, 90.0, b).unwrap()]).unwrap()
}

/// A receipt's two rows as a detector reports them: labels first, then the amounts.
fn receipt() -> OcrResult {
    OcrResult::new(
        "ppocr",
        vec![
            fragment("Tea", 0.05, 0.1),
            fragment("Total:", 0.05, 0.2),
            fragment("2.50", 0.8, 0.1),
            fragment("9.00", 0.8, 0.2),
        ],
        false,
    )
    .unwrap()
}

async fn stored_text(fragments: bool) -> String {
    let record = awaiting();
    let writes = Arc::new(Mutex::new(Vec::new()));
    let mut ocr = MockOcrEngine::new();
    let mut capabilities = caps("ppocr", vec![ContentType::Png]);
    if fragments {
        capabilities = capabilities.reporting_fragments();
    }
    ocr.expect_capabilities().return_const(capabilities);
    ocr.expect_detect().returning(|_| Ok(receipt()));
    let intake = build(
        store_with(crate::testkit_png()),
        repo_serving(&record, &writes),
        ocr,
        MockUrlSigner::new(),
    );
    let outcome = intake
        .process_object_created(&event(&record))
        .await
        .unwrap();
    assert!(
        matches!(outcome, ProcessOutcome::Processed(_)),
        "{outcome:?}"
    );
    let writes = writes.lock().unwrap();
    let done = writes.last().unwrap();
    assert_eq!(
        done.ocr_lines().unwrap().len(),
        if fragments { 2 } else { 4 }
    );
    done.ocr_text().unwrap().to_owned()
}

#[tokio::test]
async fn fragments_are_stored_as_lines_in_reading_order_and_lines_as_given() {
    assert_eq!(stored_text(true).await, "Tea 2.50\nTotal: 9.00");
    assert_eq!(stored_text(false).await, "Tea\nTotal:\n2.50\n9.00");
}
