//! Textract's asynchronous text detection for documents of several pages, on answers recorded in
//! `aws-smithy-mocks`: the synchronous call refuses the document as unsupported (what Textract
//! answers for more than one page), the job is started with a stable idempotency token and polled
//! (tokio's clock paused, so the back-off takes no real time) until it ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_textract::Client;
use aws_sdk_textract::config::retry::RetryConfig;
use aws_sdk_textract::operation::get_document_text_detection::GetDocumentTextDetectionOutput;
use aws_sdk_textract::operation::start_document_text_detection::StartDocumentTextDetectionOutput;
use aws_sdk_textract::types::{
    Block, BlockType, BoundingBox, DocumentMetadata, Geometry, JobStatus, Relationship,
    RelationshipType, Warning,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use intake_aws::TextractOcr;
use intake_domain::model::{ContentType, FileName, ObjectKey, PageSource, Sha256Digest};
use intake_domain::ports::{FailureKind, ImageFacts, OcrEngine, OcrError, OcrInput, PortError};
use intake_domain::testkit::{id_at, ocr::assert_result_invariants};

/// An awsJson error as Textract sends it.
fn json_error(status: u16, code: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(format!(
            r#"{{"__type":"{code}","message":"{code} from the mock"}}"#
        )),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.1");
    response
}

fn key() -> ObjectKey {
    ObjectKey::for_upload(id_at(0, 7), &FileName::sanitize("contract.pdf").unwrap())
}

fn document(content_type: ContentType, version: &str) -> OcrInput {
    OcrInput::Object {
        bucket: "images".into(),
        key: key(),
        version: Some(version.into()),
        facts: ImageFacts::new(content_type, 50_000, None, Sha256Digest::of(b"pdf")),
    }
}

fn engine(rules: &[&Rule]) -> TextractOcr {
    let client: Client = mock_client!(aws_sdk_textract, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    TextractOcr::new(client).with_time_limit(Duration::from_secs(30))
}

/// What the synchronous API answers for a document of several pages.
fn refused_as_unsupported() -> Rule {
    mock!(Client::detect_document_text)
        .then_http_response(|| json_error(400, "UnsupportedDocumentException"))
}

fn started() -> Rule {
    mock!(Client::start_document_text_detection).then_output(|| {
        StartDocumentTextDetectionOutput::builder()
            .job_id("job-1")
            .build()
    })
}

fn block(kind: BlockType, id: &str, page: i32, text: Option<&str>, children: &[&str]) -> Block {
    let mut b = Block::builder()
        .block_type(kind)
        .id(id)
        .page(page)
        .confidence(97.5)
        .geometry(
            Geometry::builder()
                .bounding_box(
                    BoundingBox::builder()
                        .left(0.1)
                        .top(0.2)
                        .width(0.3)
                        .height(0.04)
                        .build(),
                )
                .build(),
        );
    if let Some(text) = text {
        b = b.text(text);
    }
    if !children.is_empty() {
        b = b.relationships(
            Relationship::builder()
                .r#type(RelationshipType::Child)
                .set_ids(Some(children.iter().map(|c| (*c).to_owned()).collect()))
                .build(),
        );
    }
    b.build()
}

/// Page `page`: its PAGE block, one LINE of two WORDs.
fn page_blocks(page: i32, first: &str, second: &str) -> Vec<Block> {
    let (l, w1, w2) = (format!("l{page}"), format!("w{page}a"), format!("w{page}b"));
    vec![
        block(BlockType::Page, &format!("p{page}"), page, None, &[&l]),
        block(
            BlockType::Line,
            &l,
            page,
            Some(&format!("{first} {second}")),
            &[&w1, &w2],
        ),
        block(BlockType::Word, &w1, page, Some(first), &[]),
        block(BlockType::Word, &w2, page, Some(second), &[]),
    ]
}

fn answer(status: JobStatus, blocks: Vec<Block>, pages: i32) -> GetDocumentTextDetectionOutput {
    GetDocumentTextDetectionOutput::builder()
        .job_status(status)
        .document_metadata(DocumentMetadata::builder().pages(pages).build())
        .set_blocks(Some(blocks))
        .build()
}

fn two_pages() -> GetDocumentTextDetectionOutput {
    let mut blocks = page_blocks(1, "SERVICE", "AGREEMENT");
    blocks.extend(page_blocks(2, "Signed", "here"));
    answer(JobStatus::Succeeded, blocks, 2)
}

fn in_progress() -> GetDocumentTextDetectionOutput {
    GetDocumentTextDetectionOutput::builder()
        .job_status(JobStatus::InProgress)
        .build()
}

#[tokio::test(start_paused = true)]
async fn two_pages_are_read_with_each_line_on_its_page() {
    let (sync, start) = (refused_as_unsupported(), started());
    let get = mock!(Client::get_document_text_detection)
        .match_requests(|r| r.job_id() == Some("job-1") && r.next_token().is_none())
        .then_output(two_pages);
    let result = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap();
    assert_result_invariants(&result);
    assert_eq!(result.engine(), "textract");
    assert_eq!(result.text(), "SERVICE AGREEMENT\n\u{c}Signed here");
    let lines: Vec<_> = result
        .lines()
        .iter()
        .map(|l| (l.text(), l.page().get(), l.words().len()))
        .collect();
    assert_eq!(lines, [("SERVICE AGREEMENT", 1, 2), ("Signed here", 2, 2)]);
    let pages: Vec<_> = result
        .pages()
        .iter()
        .map(|p| (p.page().get(), p.size(), p.source()))
        .collect();
    assert_eq!(
        pages,
        [(1, None, PageSource::Ocr), (2, None, PageSource::Ocr)]
    );
    let summaries = result.page_summaries(None);
    assert_eq!(
        summaries
            .iter()
            .map(|p| (p.page.get(), p.width_px, p.line_count))
            .collect::<Vec<_>>(),
        [(1, None, 1), (2, None, 1)]
    );
    assert!(!result.truncated());
    assert_eq!(
        (sync.num_calls(), start.num_calls(), get.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn results_are_read_page_after_page_by_next_token() {
    // A line on the first answer whose second word comes in the next one.
    let (sync, start) = (refused_as_unsupported(), started());
    let first = mock!(Client::get_document_text_detection)
        .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
        .then_output(|| {
            let mut blocks = page_blocks(1, "one", "first");
            blocks.pop();
            GetDocumentTextDetectionOutput::builder()
                .job_status(JobStatus::Succeeded)
                .document_metadata(DocumentMetadata::builder().pages(3).build())
                .set_blocks(Some(blocks))
                .next_token("t2")
                .build()
        });
    let second = mock!(Client::get_document_text_detection)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(|| {
            let mut blocks = vec![block(BlockType::Word, "w1b", 1, Some("first"), &[])];
            blocks.extend(page_blocks(2, "two", "second"));
            GetDocumentTextDetectionOutput::builder()
                .job_status(JobStatus::Succeeded)
                .set_blocks(Some(blocks))
                .next_token("t3")
                .build()
        });
    let third = mock!(Client::get_document_text_detection)
        .match_requests(|r| r.next_token() == Some("t3"))
        .then_output(|| {
            GetDocumentTextDetectionOutput::builder()
                .job_status(JobStatus::Succeeded)
                .set_blocks(Some(Vec::new()))
                .build()
        });
    let result = engine(&[&sync, &start, &first, &second, &third])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap();
    assert_result_invariants(&result);
    assert_eq!(result.text(), "one first\n\u{c}two second");
    assert_eq!(result.lines()[0].words()[1].text(), "first");
    // The third page, where nothing was read, is reported all the same.
    assert_eq!(result.pages().len(), 3);
    assert_eq!(
        (first.num_calls(), second.num_calls(), third.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_running_job_is_polled_with_a_growing_back_off_until_it_succeeds() {
    let (sync, start) = (refused_as_unsupported(), started());
    let get = mock!(Client::get_document_text_detection)
        .sequence()
        .output(in_progress)
        .times(3)
        .output(two_pages)
        .build();
    let began = tokio::time::Instant::now();
    let result = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap();
    assert_eq!(result.pages().len(), 2);
    assert_eq!(get.num_calls(), 4);
    // 1 s, 2 s, then 4 s between the looks.
    assert_eq!(began.elapsed().as_secs(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_job_not_done_in_time_is_retryable_and_the_retry_takes_up_the_same_job() {
    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&tokens);
    let sync = refused_as_unsupported();
    let start = mock!(Client::start_document_text_detection)
        .match_requests(move |r| {
            seen.lock()
                .unwrap()
                .push(r.client_request_token().unwrap_or_default().to_owned());
            true
        })
        .then_output(|| {
            StartDocumentTextDetectionOutput::builder()
                .job_id("job-1")
                .build()
        });
    // Still running for the whole first attempt (30 s: looks at 0, 1, 3, 7, 12, … 27, 30 s).
    let get = mock!(Client::get_document_text_detection)
        .sequence()
        .output(in_progress)
        .times(9)
        .output(two_pages)
        .repeatedly()
        .build();
    let ocr = engine(&[&sync, &start, &get]);
    let began = tokio::time::Instant::now();
    let error = ocr
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(!matches!(error, OcrError::Timeout), "{error:?}");
    assert_eq!(error.failure(), Some(FailureKind::Unavailable));
    let detail = format!("{error:?}");
    assert!(detail.contains("job-1"), "{detail}");
    assert_eq!(began.elapsed(), Duration::from_secs(30));
    assert_eq!(get.num_calls(), 9);
    // The next delivery starts the job again with the same token, and finds it done.
    let result = ocr.detect(&document(ContentType::Pdf, "v1")).await.unwrap();
    assert_eq!(result.pages().len(), 2);
    // Another version of the object is another reading.
    let _ = ocr.detect(&document(ContentType::Pdf, "v2")).await;
    let tokens = tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens[0], tokens[1], "a retry must take up the same job");
    assert_ne!(tokens[0], tokens[2], "another version is another job");
    assert!(
        tokens
            .iter()
            .all(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())),
        "{tokens:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_job_reads_the_version_the_processor_read_and_is_tagged_with_the_image() {
    let sync = refused_as_unsupported();
    let start = mock!(Client::start_document_text_detection)
        .match_requests(|r| {
            let object = r.document_location().and_then(|d| d.s3_object());
            object.and_then(|o| o.bucket()) == Some("images")
                && object.and_then(|o| o.name()) == Some(key().as_str())
                && object.and_then(|o| o.version()) == Some("v7")
                && r.job_tag() == Some(key().image_id().to_string().as_str())
        })
        .then_output(|| {
            StartDocumentTextDetectionOutput::builder()
                .job_id("job-1")
                .build()
        });
    let get = mock!(Client::get_document_text_detection).then_output(two_pages);
    engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v7"))
        .await
        .unwrap();
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_job_is_a_permanent_failure_with_its_reason() {
    let (sync, start) = (refused_as_unsupported(), started());
    let get = mock!(Client::get_document_text_detection).then_output(|| {
        GetDocumentTextDetectionOutput::builder()
            .job_status(JobStatus::Failed)
            .status_message("UNSUPPORTED_DOCUMENT")
            .build()
    });
    let error = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error:?}");
    assert!(
        matches!(&error, OcrError::InvalidImage { reason } if reason.contains("UNSUPPORTED_DOCUMENT")),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_partial_success_keeps_what_was_read_marked_truncated() {
    let (sync, start) = (refused_as_unsupported(), started());
    let get = mock!(Client::get_document_text_detection).then_output(|| {
        GetDocumentTextDetectionOutput::builder()
            .job_status(JobStatus::PartialSuccess)
            .warnings(
                Warning::builder()
                    .error_code("PAGE_PROCESSING_FAILED")
                    .pages(2)
                    .build(),
            )
            .document_metadata(DocumentMetadata::builder().pages(2).build())
            .set_blocks(Some(page_blocks(1, "only", "this")))
            .build()
    });
    let result = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap();
    assert!(result.truncated());
    assert_eq!(result.text(), "only this");
    assert_eq!(result.pages().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn throttling_and_outages_are_retryable_wherever_they_happen() {
    for code in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "InternalServerError",
    ] {
        let status = if code == "InternalServerError" {
            500
        } else {
            400
        };
        let sync = refused_as_unsupported();
        let start = mock!(Client::start_document_text_detection)
            .then_http_response(move || json_error(status, code));
        let error = engine(&[&sync, &start])
            .detect(&document(ContentType::Pdf, "v1"))
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "start {code}: {error:?}");
        let (sync, start) = (refused_as_unsupported(), started());
        let get = mock!(Client::get_document_text_detection)
            .then_http_response(move || json_error(status, code));
        let error = engine(&[&sync, &start, &get])
            .detect(&document(ContentType::Pdf, "v1"))
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "get {code}: {error:?}");
    }
    // A job id Textract does not know, or a document it cannot read, is final.
    let (sync, start) = (refused_as_unsupported(), started());
    let get = mock!(Client::get_document_text_detection)
        .then_http_response(|| json_error(400, "InvalidJobIdException"));
    let error = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Pdf, "v1"))
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn images_and_bytes_keep_the_synchronous_answer() {
    // An image Textract refuses is refused: images have no pages for the asynchronous API.
    let (sync, start) = (refused_as_unsupported(), started());
    let ocr = engine(&[&sync, &start]);
    let png = OcrInput::Object {
        bucket: "images".into(),
        key: key(),
        version: None,
        facts: ImageFacts::new(
            ContentType::Png,
            50_000,
            Some((800, 600)),
            Sha256Digest::of(b"png"),
        ),
    };
    assert!(matches!(
        ocr.detect(&png).await,
        Err(OcrError::UnsupportedFormat { .. })
    ));
    // Bytes cannot be handed to the asynchronous API, which reads S3 objects only.
    let bytes = Bytes::from_static(b"%PDF-1.7");
    let pdf = OcrInput::Bytes {
        facts: ImageFacts::new(ContentType::Pdf, 8, None, Sha256Digest::of(&bytes)),
        bytes,
    };
    assert!(matches!(
        ocr.detect(&pdf).await,
        Err(OcrError::UnsupportedFormat { .. })
    ));
    assert_eq!((sync.num_calls(), start.num_calls()), (2, 0));
    // A multi-page TIFF goes the way of a PDF.
    let get = mock!(Client::get_document_text_detection).then_output(two_pages);
    let tiff = engine(&[&sync, &start, &get])
        .detect(&document(ContentType::Tiff, "v1"))
        .await
        .unwrap();
    assert_eq!(tiff.pages().len(), 2);
}
