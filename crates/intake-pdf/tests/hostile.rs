//! The PDF reader against hostile documents (`intake_pdf::testkit::hostile`): each probe and each
//! reading ends with its expected outcome within the time limit, and no worker outlives the call,
//! even when the consumer lets go of the pages halfway.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc
)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use intake_domain::model::ContentType;
use intake_domain::ports::{
    DocumentPage, DocumentReadError, DocumentReader, PageContent, ReadRequest,
};
use intake_pdf::testkit::hostile;

mod common;
use common::reader;

/// The reading's time limit (the worker's CPU limit, and the longest wait for a page).
const LIMIT: Duration = Duration::from_secs(20);

/// The most pages the probes allow (the default of `INTAKE_MAX_PAGES`).
const MAX_PAGES: u32 = 100;

/// One case at a time: each counts the workers left behind, and the bombs take a core each.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn request(time_limit: Duration) -> ReadRequest {
    ReadRequest::new(300, 36_000_000, time_limit)
}

/// The worker processes of this test process still alive (zombies, already dead, aside).
fn live_workers() -> Vec<u32> {
    let me = std::process::id();
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces and parentheses.
        let Some((comm, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let mut fields = rest.split(' ');
        let (state, ppid) = (fields.next(), fields.next());
        if comm.contains("intake-pdf-work")
            && ppid == Some(&me.to_string())
            && state != Some("Z")
            && state != Some("X")
        {
            live.push(pid);
        }
    }
    live
}

/// Waits (a moment, for the kill to land) until no worker is left; panics naming the case if one
/// is.
async fn no_worker_left(case: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let live = live_workers();
        if live.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{case}: workers {live:?} outlived the call"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a probe and a reading of one document gave.
struct Outcome {
    probe: Result<u32, DocumentReadError>,
    pages: Vec<DocumentPage>,
    error: Option<DocumentReadError>,
}

/// Probes `doc` (at most [`MAX_PAGES`]) and reads it within [`LIMIT`], each within a bounded
/// time, leaving no worker behind.
async fn run(case: &str, doc: Vec<u8>) -> Outcome {
    let _one = ONE_AT_A_TIME.lock().await;
    let reader = reader();
    let bytes = Bytes::from(doc);
    let started = Instant::now();
    let probe = reader
        .probe(&bytes, MAX_PAGES)
        .await
        .map(|info| info.page_count);
    assert!(started.elapsed() < LIMIT, "{case}: the probe took too long");
    no_worker_left(case).await;
    let started = Instant::now();
    let (mut pages, mut error) = (Vec::new(), None);
    match reader.read(&bytes, &request(LIMIT)).await {
        Ok(mut stream) => {
            while let Some(page) = stream.next().await {
                match page {
                    Ok(page) => pages.push(page),
                    Err(e) => error = Some(e),
                }
            }
        }
        Err(e) => error = Some(e),
    }
    // The worker's CPU limit, and the kernel's time to stop it.
    let took = started.elapsed();
    assert!(
        took < LIMIT + Duration::from_secs(5),
        "{case}: read in {took:?}"
    );
    no_worker_left(case).await;
    eprintln!(
        "{case}: probe {probe:?}; read {} page(s), {error:?}, in {took:?}",
        pages.len()
    );
    Outcome {
        probe,
        pages,
        error,
    }
}

/// The one page's text, when it came from its text layer.
fn text(outcome: &Outcome) -> String {
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.pages.len(), 1);
    match &outcome.pages[0].content {
        PageContent::TextLayer(lines) => lines
            .iter()
            .map(|l| l.text().to_owned())
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("page 1 was not read from its layer: {other:?}"),
    }
}

/// The one page, which was rendered into a PNG: its size in pixels.
fn rendered(outcome: &Outcome) -> (u32, u32) {
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.pages.len(), 1);
    let page = &outcome.pages[0];
    match &page.content {
        PageContent::Picture {
            bytes,
            content_type: ContentType::Png,
        } => {
            let decoded = image::load_from_memory(bytes).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (page.width_px, page.height_px)
            );
            (page.width_px, page.height_px)
        }
        other => panic!("page 1 was not rendered: {other:?}"),
    }
}

fn corrupt(result: Option<&DocumentReadError>) -> bool {
    matches!(result, Some(DocumentReadError::Corrupt { .. }))
}

#[tokio::test]
async fn a_content_stream_bomb_is_stopped_at_the_memory_limit() {
    // 4 GiB of white space from a 4 MB file, past the worker's 3 GiB.
    let outcome = run("content bomb", hostile::content_bomb(4 << 30)).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    assert!(outcome.pages.is_empty());
    assert!(
        matches!(outcome.error, Some(DocumentReadError::BeyondLimits { .. })),
        "{:?}",
        outcome.error
    );
}

#[tokio::test]
async fn an_image_bomb_is_decoded_no_larger_than_it_is_drawn() {
    // 60000 × 60000 grey pixels (3.6 GB) drawn over a Letter page.
    let outcome = run("image bomb", hostile::image_bomb(60_000)).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    assert_eq!(rendered(&outcome), (2550, 3300));
}

#[tokio::test]
async fn a_huge_page_is_rendered_within_the_pixel_budget() {
    let outcome = run("huge page", hostile::huge_page(14_400)).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    let (width, height) = rendered(&outcome);
    assert_eq!(width, height);
    assert!(u64::from(width) * u64::from(height) <= 36_000_000);
    assert!(width > 5900, "{width}");
}

#[tokio::test]
async fn page_trees_that_loop_or_go_too_deep_are_corrupt_before_any_page() {
    for (case, doc) in [
        ("looping page tree", hostile::looping_page_tree()),
        ("5000-level page tree", hostile::deep_page_tree(5000)),
    ] {
        let outcome = run(case, doc).await;
        assert!(
            matches!(outcome.probe, Err(DocumentReadError::Corrupt { .. })),
            "{case}: {:?}",
            outcome.probe
        );
        assert!(outcome.pages.is_empty(), "{case}");
        assert!(
            corrupt(outcome.error.as_ref()),
            "{case}: {:?}",
            outcome.error
        );
    }
    // A tree of a sane depth is followed.
    let outcome = run("50-level page tree", hostile::deep_page_tree(50)).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    assert_eq!(text(&outcome), "Remittance advice 2041, total 31.00 EUR");
}

#[tokio::test]
async fn loops_deep_nesting_and_lying_object_streams_are_read_as_far_as_they_make_sense() {
    for (case, doc) in [
        ("a form that draws itself", hostile::self_drawing_form()),
        ("a 200 000-deep array", hostile::deep_array(200_000)),
        ("100 000 nested q", hostile::nested_states(100_000)),
        (
            "an object stream claiming 10 000 000 objects",
            hostile::claiming_object_stream(10_000_000),
        ),
        ("JavaScript run on opening", hostile::with_javascript()),
    ] {
        let outcome = run(case, doc).await;
        assert_eq!(*outcome.probe.as_ref().unwrap(), 1, "{case}");
        assert_eq!(
            text(&outcome),
            "Remittance advice 2041, total 31.00 EUR",
            "{case}"
        );
    }
}

#[tokio::test]
async fn a_repairable_table_is_repaired_and_a_hopeless_file_is_corrupt() {
    let outcome = run("broken xref", hostile::broken_xref()).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    assert_eq!(text(&outcome), "Remittance advice 2041\nTotal 31.00 EUR");
    for (case, doc) in [
        ("missing xref and trailer", hostile::missing_xref()),
        ("truncated", hostile::truncated()),
    ] {
        let outcome = run(case, doc).await;
        assert!(
            matches!(outcome.probe, Err(DocumentReadError::Corrupt { .. })),
            "{case}: {:?}",
            outcome.probe
        );
        assert!(
            corrupt(outcome.error.as_ref()),
            "{case}: {:?}",
            outcome.error
        );
    }
}

/// A qpdf-made document, or `None` when qpdf is not installed (it must be on CI).
fn made_by_qpdf(made: std::io::Result<Vec<u8>>) -> Option<Vec<u8>> {
    match made {
        Ok(doc) => Some(doc),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "qpdf is not installed (scripts/system-deps.sh)"
            );
            None
        }
        Err(e) => panic!("qpdf: {e}"),
    }
}

#[tokio::test]
async fn user_passwords_are_encrypted_and_an_owner_password_alone_is_read() {
    for (case, doc) in [
        ("RC4 user password", hostile::rc4_user_password()),
        ("AES-256 user password", hostile::aes256_user_password()),
    ] {
        let Some(doc) = made_by_qpdf(doc) else {
            return;
        };
        let outcome = run(case, doc).await;
        assert!(
            matches!(outcome.probe, Err(DocumentReadError::Encrypted)),
            "{case}: {:?}",
            outcome.probe
        );
        assert!(
            matches!(outcome.error, Some(DocumentReadError::Encrypted)),
            "{case}"
        );
    }
    let Some(doc) = made_by_qpdf(hostile::aes256_owner_password_only()) else {
        return;
    };
    let outcome = run("owner password only", doc).await;
    assert_eq!(text(&outcome), "Remittance advice 2041\nTotal 31.00 EUR");
}

#[tokio::test]
async fn an_unreadable_text_layer_is_rendered_for_ocr() {
    let outcome = run("private-use text layer", hostile::private_use_text_layer()).await;
    assert_eq!(*outcome.probe.as_ref().unwrap(), 1);
    assert_eq!(rendered(&outcome), (2550, 3300));
}

#[tokio::test]
async fn too_many_pages_are_refused_with_the_limit_asked() {
    let _one = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let probed = reader()
        .probe(&Bytes::from(intake_pdf::testkit::pages(5000)), MAX_PAGES)
        .await;
    assert!(
        matches!(
            probed,
            Err(DocumentReadError::TooManyPages {
                count: 5000,
                limit: MAX_PAGES
            })
        ),
        "{probed:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    no_worker_left("5000 pages").await;
}

#[tokio::test]
async fn a_reading_past_its_time_limit_is_stopped() {
    let _one = ONE_AT_A_TIME.lock().await;
    // 5000 pages rendered one after the other take minutes: the worker's CPU limit stops them.
    let started = Instant::now();
    let stream = reader()
        .read(
            &Bytes::from(intake_pdf::testkit::pages(5000)),
            &request(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    let read: Vec<_> = stream.collect().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(read.len() < 5000);
    assert!(
        matches!(
            read.last(),
            Some(Err(DocumentReadError::BeyondLimits { .. }))
        ),
        "{:?}",
        read.last()
    );
    no_worker_left("time limit").await;
}

#[tokio::test]
async fn a_consumer_that_lets_go_halfway_stops_the_worker() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut stream = reader()
        .read(
            &Bytes::from(intake_pdf::testkit::pages(5000)),
            &request(LIMIT),
        )
        .await
        .unwrap();
    for expected in 1..=2 {
        let page = stream.next().await.unwrap().unwrap();
        assert_eq!(page.number.get(), expected);
    }
    assert_eq!(live_workers().len(), 1, "the worker is not reading");
    drop(stream);
    no_worker_left("dropped halfway").await;
    // A worker busy inside PDFium (inflating a bomb for seconds, deaf to its closed pipe) is
    // killed, not left to finish.
    let stream = reader()
        .read(
            &Bytes::from(hostile::content_bomb(4 << 30)),
            &request(LIMIT),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(live_workers().len(), 1, "the worker is not inflating");
    drop(stream);
    no_worker_left("dropped while busy").await;
}
