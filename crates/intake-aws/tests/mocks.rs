//! SDK error mapping and response mapping without a server (`aws-smithy-mocks`): errors arrive as the
//! services send them on the wire, so the SDK's own deserializers produce the codes the adapters map.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

use std::sync::Arc;

use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use intake_aws::{DynamoRepository, RekognitionOcr, S3ObjectStore, TextractOcr};
use intake_domain::model::{ContentType, FileName, ObjectKey, Sha256Digest};
use intake_domain::ports::{
    ImageFacts, ImageRepository, ObjectStore, OcrEngine, OcrError, OcrInput, PortError, RepoError,
    StoreError,
};
use intake_domain::services::EscalatingOcr;
use intake_domain::testkit::{id_at, ocr::assert_result_invariants, record};

fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_owned()),
    );
    response
        .headers_mut()
        .insert("content-type", content_type.to_owned());
    response
}

/// An awsJson error as Rekognition, Textract and DynamoDB send it.
fn json_error(status: u16, code: &str) -> HttpResponse {
    response(
        status,
        "application/x-amz-json-1.1",
        &format!(r#"{{"__type":"{code}","message":"{code} from the mock"}}"#),
    )
}

/// A restXml error as S3 sends it.
fn xml_error(status: u16, code: &str) -> HttpResponse {
    response(
        status,
        "application/xml",
        &format!("<Error><Code>{code}</Code><Message>{code} from the mock</Message></Error>"),
    )
}

fn key() -> ObjectKey {
    ObjectKey::for_upload(id_at(0, 1), &FileName::sanitize("a.png").unwrap())
}

fn object(content_type: ContentType, dimensions: (u32, u32)) -> OcrInput {
    let facts = ImageFacts::new(content_type, 1000, Some(dimensions), Sha256Digest::of(b"x"));
    OcrInput::Object {
        bucket: "b".into(),
        key: key(),
        version: Some("v1".into()),
        facts,
    }
}

mod rekognition {
    use aws_sdk_rekognition::Client;
    use aws_sdk_rekognition::config::retry::RetryConfig;
    use aws_sdk_rekognition::operation::detect_text::DetectTextOutput;
    use aws_sdk_rekognition::types::{BoundingBox, Geometry, TextDetection, TextTypes};

    use super::*;

    pub(super) fn detection(
        kind: TextTypes,
        id: i32,
        parent: Option<i32>,
        text: &str,
        left: f32,
    ) -> TextDetection {
        TextDetection::builder()
            .r#type(kind)
            .id(id)
            .set_parent_id(parent)
            .detected_text(text)
            .confidence(97.5)
            .geometry(
                Geometry::builder()
                    .bounding_box(
                        BoundingBox::builder()
                            .left(left)
                            .top(0.2)
                            .width(0.1)
                            .height(0.05)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    /// `words` words on one line.
    pub(super) fn output(words: i32) -> DetectTextOutput {
        let mut detections = vec![detection(TextTypes::Line, 0, None, "the line", 0.0)];
        for i in 0..words {
            detections.push(detection(
                TextTypes::Word,
                i + 1,
                Some(0),
                &format!("w{i}"),
                0.001 * i as f32,
            ));
        }
        DetectTextOutput::builder()
            .set_text_detections(Some(detections))
            .build()
    }

    pub(super) fn engine(rules: &[&aws_smithy_mocks::Rule]) -> RekognitionOcr {
        let client: Client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled()));
        RekognitionOcr::new(client)
    }

    #[tokio::test]
    async fn errors_map_to_retryable_and_permanent() {
        for (status, code, retryable) in [
            (400, "ThrottlingException", true),
            (400, "ProvisionedThroughputExceededException", true),
            (500, "InternalServerError", true),
            (400, "InvalidImageFormatException", false),
            (400, "ImageTooLargeException", false),
            (400, "InvalidS3ObjectException", false),
            (400, "AccessDeniedException", false),
        ] {
            let rule =
                mock!(Client::detect_text).then_http_response(move || json_error(status, code));
            let error = engine(&[&rule])
                .detect(&object(ContentType::Png, (100, 100)))
                .await
                .unwrap_err();
            assert_eq!(error.is_retryable(), retryable, "{code}: {error:?}");
            match code {
                "ThrottlingException" | "ProvisionedThroughputExceededException" => {
                    assert!(error.is_throttled(), "{error:?}");
                }
                "InvalidImageFormatException" => {
                    assert!(matches!(error, OcrError::UnsupportedFormat { .. }));
                }
                "ImageTooLargeException" => assert!(matches!(error, OcrError::TooLarge { .. })),
                "InvalidS3ObjectException" => {
                    assert!(matches!(error, OcrError::InvalidImage { .. }));
                }
                _ => {}
            }
        }
    }

    #[tokio::test]
    async fn reads_the_object_by_reference_and_maps_words_to_their_lines() {
        let rule = mock!(Client::detect_text)
            .match_requests(|req| {
                let s3 = req.image().and_then(|i| i.s3_object());
                s3.and_then(|o| o.name()) == Some(key().as_str())
                    && s3.and_then(|o| o.version()) == Some("v1")
                    && req.image().and_then(|i| i.bytes()).is_none()
            })
            .then_output(|| output(3));
        let result = engine(&[&rule])
            .detect(&object(ContentType::Png, (100, 100)))
            .await
            .unwrap();
        assert_result_invariants(&result);
        assert_eq!(result.text(), "the line");
        assert_eq!(
            result.lines()[0]
                .words()
                .iter()
                .map(intake_domain::model::OcrWord::text)
                .collect::<Vec<_>>(),
            ["w0", "w1", "w2"]
        );
        assert!((result.lines()[0].bounding_box().top() - 0.2).abs() < 1e-6);
        assert!(!result.truncated());
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_hundred_words_mark_the_result_truncated() {
        let rule = mock!(Client::detect_text).then_output(|| output(100));
        let result = engine(&[&rule])
            .detect(&object(ContentType::Png, (100, 100)))
            .await
            .unwrap();
        assert!(result.truncated());
    }

    #[tokio::test]
    async fn images_below_80_px_and_other_formats_are_refused_before_the_call() {
        let rule = mock!(Client::detect_text).then_output(|| output(1));
        let ocr = engine(&[&rule]);
        assert!(matches!(
            ocr.detect(&object(ContentType::Png, (79, 500))).await,
            Err(OcrError::InvalidImage { .. })
        ));
        assert!(matches!(
            ocr.detect(&object(ContentType::Tiff, (500, 500))).await,
            Err(OcrError::UnsupportedFormat { .. })
        ));
        assert_eq!(rule.num_calls(), 0);
    }
}

mod textract {
    use aws_sdk_textract::Client;
    use aws_sdk_textract::config::retry::RetryConfig;
    use aws_sdk_textract::operation::detect_document_text::DetectDocumentTextOutput;
    use aws_sdk_textract::types::{
        Block, BlockType, BoundingBox, DocumentMetadata, Geometry, Relationship, RelationshipType,
    };

    use super::*;

    fn block(
        kind: BlockType,
        id: &str,
        text: Option<&str>,
        children: &[&str],
        left: f32,
        top: f32,
    ) -> Block {
        let mut b = Block::builder()
            .block_type(kind)
            .id(id)
            .confidence(99.1)
            .geometry(
                Geometry::builder()
                    .bounding_box(
                        BoundingBox::builder()
                            .left(left)
                            .top(top)
                            .width(0.2)
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

    /// A realistic answer for a two-line cheque: PAGE → LINEs → WORDs, in Textract's order.
    pub(super) fn cheque() -> DetectDocumentTextOutput {
        DetectDocumentTextOutput::builder()
            .document_metadata(DocumentMetadata::builder().pages(1).build())
            .blocks(block(
                BlockType::Page,
                "page",
                None,
                &["l1", "l2"],
                0.0,
                0.0,
            ))
            .blocks(block(
                BlockType::Line,
                "l1",
                Some("PAY TO THE ORDER OF"),
                &["w1", "w2", "w3", "w4", "w5"],
                0.05,
                0.30,
            ))
            .blocks(block(BlockType::Word, "w1", Some("PAY"), &[], 0.05, 0.30))
            .blocks(block(BlockType::Word, "w2", Some("TO"), &[], 0.12, 0.30))
            .blocks(block(BlockType::Word, "w3", Some("THE"), &[], 0.17, 0.30))
            .blocks(block(BlockType::Word, "w4", Some("ORDER"), &[], 0.24, 0.30))
            .blocks(block(BlockType::Word, "w5", Some("OF"), &[], 0.34, 0.30))
            .blocks(block(
                BlockType::Line,
                "l2",
                Some("$1,000.00"),
                &["w6"],
                0.70,
                0.30,
            ))
            .blocks(block(
                BlockType::Word,
                "w6",
                Some("$1,000.00"),
                &[],
                0.70,
                0.30,
            ))
            .build()
    }

    pub(super) fn engine(rules: &[&aws_smithy_mocks::Rule]) -> TextractOcr {
        let client: Client = mock_client!(aws_sdk_textract, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled()));
        TextractOcr::new(client)
    }

    #[tokio::test]
    async fn maps_lines_with_their_child_words_in_reading_order() {
        let rule = mock!(Client::detect_document_text)
            .match_requests(|req| {
                req.document()
                    .and_then(|d| d.s3_object())
                    .and_then(|o| o.version())
                    == Some("v1")
            })
            .then_output(cheque);
        let result = engine(&[&rule])
            .detect(&object(ContentType::Pdf, (1700, 2200)))
            .await
            .unwrap();
        assert_result_invariants(&result);
        assert_eq!(result.engine(), "textract");
        assert_eq!(result.text(), "PAY TO THE ORDER OF\n$1,000.00");
        assert_eq!(result.word_count(), 6);
        assert_eq!(result.lines()[0].words()[3].text(), "ORDER");
        assert!((result.lines()[1].bounding_box().left() - 0.70).abs() < 1e-6);
        assert_eq!(result.avg_confidence_pct(), Some(99.1));
    }

    #[tokio::test]
    async fn the_engine_conforms() {
        let rule = mock!(Client::detect_document_text).then_output(cheque);
        let ocr = engine(&[&rule]);
        let sample = intake_domain::testkit::ocr::Sample::new(
            object(ContentType::Tiff, (1700, 2200)),
            &["order", "$1,000.00"],
        );
        let below_text_height = object(ContentType::Png, (10, 10));
        let gif = object(ContentType::Gif, (500, 500));
        intake_domain::testkit::ocr::run_suite(&ocr, &[sample], &[below_text_height, gif]).await;
        assert_eq!(rule.num_calls(), 1, "refused inputs reached Textract");
    }

    #[tokio::test]
    async fn errors_map_to_retryable_and_permanent() {
        for (code, retryable) in [
            ("ProvisionedThroughputExceededException", true),
            ("ThrottlingException", true),
            ("LimitExceededException", true),
            ("InternalServerError", true),
            ("UnsupportedDocumentException", false),
            ("BadDocumentException", false),
            ("DocumentTooLargeException", false),
            ("InvalidParameterException", false),
        ] {
            let status = if code == "InternalServerError" {
                500
            } else {
                400
            };
            let rule = mock!(Client::detect_document_text)
                .then_http_response(move || json_error(status, code));
            let error = engine(&[&rule])
                .detect(&object(ContentType::Png, (500, 500)))
                .await
                .unwrap_err();
            assert_eq!(error.is_retryable(), retryable, "{code}: {error:?}");
            match code {
                "UnsupportedDocumentException" => {
                    assert!(matches!(error, OcrError::UnsupportedFormat { .. }));
                }
                "DocumentTooLargeException" => assert!(matches!(error, OcrError::TooLarge { .. })),
                "BadDocumentException" => assert!(matches!(error, OcrError::InvalidImage { .. })),
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn auto_escalates_a_truncated_rekognition_result_to_textract() {
    let rek_rule =
        mock!(aws_sdk_rekognition::Client::detect_text).then_output(|| rekognition::output(100));
    let tex_rule =
        mock!(aws_sdk_textract::Client::detect_document_text).then_output(textract::cheque);
    let auto = EscalatingOcr::new(
        Arc::new(rekognition::engine(&[&rek_rule])),
        Arc::new(textract::engine(&[&tex_rule])),
    );
    let result = auto
        .detect(&object(ContentType::Png, (800, 400)))
        .await
        .unwrap();
    assert_eq!(result.engine(), "textract");
    assert_eq!((rek_rule.num_calls(), tex_rule.num_calls()), (1, 1));
    // a complete Rekognition answer is kept without calling Textract
    let rek_rule =
        mock!(aws_sdk_rekognition::Client::detect_text).then_output(|| rekognition::output(12));
    let tex_rule =
        mock!(aws_sdk_textract::Client::detect_document_text).then_output(textract::cheque);
    let auto = EscalatingOcr::new(
        Arc::new(rekognition::engine(&[&rek_rule])),
        Arc::new(textract::engine(&[&tex_rule])),
    );
    assert_eq!(
        auto.detect(&object(ContentType::Png, (800, 400)))
            .await
            .unwrap()
            .engine(),
        "rekognition"
    );
    assert_eq!(tex_rule.num_calls(), 0);
}

mod s3 {
    use aws_sdk_s3::Client;
    use aws_sdk_s3::config::retry::RetryConfig;

    use super::*;

    fn store(rules: &[&aws_smithy_mocks::Rule]) -> S3ObjectStore {
        let client: Client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled())
            .force_path_style(true));
        S3ObjectStore::new(client, "b")
    }

    #[tokio::test]
    async fn not_found_throttled_and_denied_are_told_apart() {
        let missing = mock!(Client::get_object).then_http_response(|| xml_error(404, "NoSuchKey"));
        assert!(matches!(
            store(&[&missing]).get(&key()).await,
            Err(StoreError::NotFound { .. })
        ));
        let head_missing =
            mock!(Client::head_object).then_http_response(|| response(404, "application/xml", ""));
        assert!(matches!(
            store(&[&head_missing]).head(&key()).await,
            Err(StoreError::NotFound { .. })
        ));
        let slow = mock!(Client::head_object).then_http_response(|| xml_error(503, "SlowDown"));
        let error = store(&[&slow]).head(&key()).await.unwrap_err();
        assert!(error.is_retryable(), "{error:?}");
        let denied =
            mock!(Client::get_object).then_http_response(|| xml_error(403, "AccessDenied"));
        assert!(matches!(
            store(&[&denied]).get(&key()).await,
            Err(StoreError::PermissionDenied { .. })
        ));
        let gone = mock!(Client::delete_object).then_http_response(|| xml_error(404, "NoSuchKey"));
        store(&[&gone])
            .delete(&key())
            .await
            .expect("deleting a missing object succeeds");
    }

    #[tokio::test]
    async fn reads_stream_the_body() {
        let body = Bytes::from(vec![7u8; 300_000]);
        let expected = body.clone();
        let rule = mock!(Client::get_object).then_output(move || {
            aws_sdk_s3::operation::get_object::GetObjectOutput::builder()
                .content_length(300_000)
                .content_type("image/png")
                .body(aws_sdk_s3::primitives::ByteStream::from(body.clone()))
                .build()
        });
        let got = store(&[&rule]).get(&key()).await.unwrap();
        assert_eq!(got.meta.size, 300_000);
        let chunks: Vec<Bytes> = futures::StreamExt::collect::<Vec<_>>(got.stream)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(chunks.concat(), expected.to_vec());
    }
}

mod dynamodb {
    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;

    use super::*;

    fn dynamo_error(code: &str) -> HttpResponse {
        response(
            400,
            "application/x-amz-json-1.0",
            &format!(
                r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"{code} from the mock"}}"#
            ),
        )
    }

    fn repository(rules: &[&aws_smithy_mocks::Rule]) -> DynamoRepository {
        let client: Client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled()));
        let s3: aws_sdk_s3::Client = mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            &[] as &[&aws_smithy_mocks::Rule]
        );
        DynamoRepository::new(client, "records", S3ObjectStore::new(s3, "b"))
    }

    #[tokio::test]
    async fn a_failed_create_condition_is_already_exists() {
        let rule = mock!(Client::put_item)
            .then_http_response(|| dynamo_error("ConditionalCheckFailedException"));
        let r = record(id_at(0, 9));
        assert!(matches!(
            repository(&[&rule]).create(&r).await,
            Err(RepoError::AlreadyExists { .. })
        ));
    }

    #[tokio::test]
    async fn a_failed_replace_condition_is_a_precondition_or_not_found() {
        let put = mock!(Client::put_item)
            .then_http_response(|| dynamo_error("ConditionalCheckFailedException"));
        let absent = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
        let r = record(id_at(0, 9));
        assert!(matches!(
            repository(&[&put, &absent])
                .replace(&r.next(r.created_at()), 1, &[])
                .await,
            Err(RepoError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn throttling_is_retryable() {
        let rule = mock!(Client::get_item)
            .then_http_response(|| dynamo_error("ProvisionedThroughputExceededException"));
        let error = repository(&[&rule]).get(&id_at(0, 9)).await.unwrap_err();
        assert!(error.is_throttled() && error.is_retryable(), "{error:?}");
        let rule =
            mock!(Client::put_item).then_http_response(|| dynamo_error("ValidationException"));
        let error = repository(&[&rule])
            .create(&record(id_at(0, 9)))
            .await
            .unwrap_err();
        assert!(!error.is_retryable(), "{error:?}");
    }
}
