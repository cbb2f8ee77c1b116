//! Textract `AnalyzeExpense` through the real SDK client without a server (`aws-smithy-mocks`):
//! recorded answers (`tests/fixtures/expense_*.json`, as Textract sends them on the wire) are
//! deserialised by the SDK and mapped to the domain's fields; errors arrive as Textract sends them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_textract::Client;
use aws_sdk_textract::config::retry::RetryConfig;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use intake_aws::TextractExpense;
use intake_domain::model::{
    ContentType, DateOrder, DocumentFields, DocumentKind, Field, FieldOptions, FieldType,
    FieldWarning, FileName, ObjectKey, OcrResult, Sha256Digest,
};
use intake_domain::ports::{
    FieldError, FieldExtractor, FieldInput, ImageFacts, OcrInput, PortError,
};
use intake_domain::testkit::fields::{assert_well_formed, run_suite_with, scripted_receipt};
use intake_domain::testkit::id_at;

const RECEIPT: &str = include_str!("fixtures/expense_receipt.json");
const INVOICE: &str = include_str!("fixtures/expense_invoice.json");

fn response(status: u16, body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_owned()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.1");
    response
}

fn json_error(status: u16, code: &str) -> HttpResponse {
    response(
        status,
        &format!(r#"{{"__type":"{code}","message":"{code} from the mock"}}"#),
    )
}

fn key() -> ObjectKey {
    ObjectKey::for_upload(id_at(0, 1), &FileName::sanitize("receipt.jpg").unwrap())
}

fn facts(content_type: ContentType, size: u64) -> ImageFacts {
    ImageFacts::new(
        content_type,
        size,
        Some((1200, 1600)),
        Sha256Digest::of(b"x"),
    )
}

fn object(content_type: ContentType) -> OcrInput {
    OcrInput::Object {
        bucket: "b".into(),
        key: key(),
        version: Some("v7".into()),
        facts: facts(content_type, 1000),
    }
}

fn extractor(rules: &[&Rule]) -> TextractExpense {
    let client: Client = mock_client!(aws_sdk_textract, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    TextractExpense::new(client).with_options(FieldOptions::with_date_order(DateOrder::DayFirst))
}

fn answering(body: &'static str) -> Rule {
    mock!(Client::analyze_expense).then_http_response(move || response(200, body))
}

async fn extract(rule: &Rule, image: &OcrInput) -> Result<DocumentFields, FieldError> {
    let ocr = scripted_receipt();
    extractor(&[rule])
        .extract(FieldInput::of(&ocr).with_image(image))
        .await
}

fn first(doc: &DocumentFields, field_type: FieldType) -> &Field {
    doc.first(field_type)
        .unwrap_or_else(|| panic!("no {field_type:?} in {doc:#?}"))
}

#[tokio::test]
async fn a_receipt_reads_the_stored_object_and_maps_to_the_vocabulary_normalised_by_the_domain() {
    let rule = mock!(Client::analyze_expense)
        .match_requests(|req| {
            let s3 = req.document().and_then(|d| d.s3_object());
            s3.and_then(|o| o.name()) == Some(key().as_str())
                && s3.and_then(|o| o.version()) == Some("v7")
                && req.document().and_then(|d| d.bytes()).is_none()
        })
        .then_http_response(|| response(200, RECEIPT));
    let doc = extract(&rule, &object(ContentType::Jpeg)).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_well_formed(&scripted_receipt(), &doc);
    assert_eq!(doc.document_type.kind, DocumentKind::Receipt);

    let names: Vec<_> = doc.fields.iter().map(|f| f.field_type.name()).collect();
    assert_eq!(
        names,
        [
            "VENDOR_NAME",
            "INVOICE_RECEIPT_DATE",
            "INVOICE_RECEIPT_ID",
            "OTHER",
            "SUBTOTAL",
            "TAX",
            "TOTAL",
            "AMOUNT_PAID",
            // The vendor group's ADDRESS stands in for VENDOR_ADDRESS; its NAME repeats
            // VENDOR_NAME, its STREET, CITY and ADDRESS_BLOCK repeat the address.
            "VENDOR_ADDRESS",
        ]
    );

    let total = first(&doc, FieldType::Total);
    assert_eq!(total.label.as_deref(), Some("TOTAL"));
    assert_eq!(total.value, "RM12.72");
    assert_eq!(total.normalized.as_deref(), Some("12.72"));
    assert_eq!(total.currency.as_deref(), Some("MYR"));
    // The lower of the type's 99.9 and the value's 98.4, on 0..1.
    assert!((total.confidence - 0.984).abs() < 1e-5, "{total:?}");
    assert_eq!(total.page.get(), 1);
    let b = total.bounding_box;
    assert!((b.left() - 0.6).abs() < 1e-6 && (b.top() - 0.70).abs() < 1e-6);
    assert!((b.width() - 0.2).abs() < 1e-6 && (b.height() - 0.03).abs() < 1e-6);
    assert!(total.warnings.is_empty(), "12.00 + 0.72: {total:?}");

    let date = first(&doc, FieldType::InvoiceReceiptDate);
    assert_eq!(date.normalized.as_deref(), Some("2026-04-03"));
    assert_eq!(date.label.as_deref(), Some("Date:"));
    let vendor = first(&doc, FieldType::VendorName);
    assert_eq!(vendor.value, "KEDAI MAKAN SEDAP");
    assert_eq!(vendor.label, None);
    let other = first(&doc, FieldType::Other);
    assert_eq!(
        (other.label.as_deref(), other.value.as_str()),
        (Some("Cashier"), "Aminah")
    );
    assert_eq!(
        first(&doc, FieldType::VendorAddress).value,
        "12 Jalan Ampang, 50450 Kuala Lumpur"
    );

    let rows: Vec<Vec<(String, String)>> = doc
        .line_items
        .iter()
        .map(|i| {
            i.fields
                .iter()
                .map(|f| {
                    (
                        f.field_type.name(),
                        f.normalized.clone().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .collect();
    let cell = |t: &str, v: &str| (t.to_owned(), v.to_owned());
    assert_eq!(
        rows,
        [
            vec![
                cell("ITEM", "Nasi Lemak"),
                cell("QUANTITY", "2"),
                cell("UNIT_PRICE", "4.50"),
                cell("PRICE", "9.00"),
            ],
            vec![cell("ITEM", "Teh Tarik"), cell("PRICE", "3.00")],
        ]
    );
    // The items add up to the subtotal: no warning.
    assert!(first(&doc, FieldType::Subtotal).warnings.is_empty());
}

#[tokio::test]
async fn an_invoice_is_known_by_its_fields_and_the_domain_flags_a_total_that_is_not_its_parts() {
    let rule = mock!(Client::analyze_expense)
        .match_requests(|req| {
            req.document()
                .and_then(|d| d.bytes())
                .is_some_and(|b| b.as_ref() == b"%PDF-1.7 one page")
        })
        .then_http_response(|| response(200, INVOICE));
    let bytes = OcrInput::Bytes {
        bytes: Bytes::from_static(b"%PDF-1.7 one page"),
        facts: facts(ContentType::Pdf, 17),
    };
    let doc = extract(&rule, &bytes).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_well_formed(&scripted_receipt(), &doc);
    assert_eq!(doc.document_type.kind, DocumentKind::Invoice);
    assert!(doc.document_type.confidence > 0.9);

    assert_eq!(
        first(&doc, FieldType::ReceiverName).value,
        "Fabrikam Traders"
    );
    assert_eq!(
        first(&doc, FieldType::ReceiverAddress).value,
        "Hauptstraße 5, 10115 Berlin"
    );
    assert_eq!(
        first(&doc, FieldType::DueDate).normalized.as_deref(),
        Some("2026-12-25")
    );
    assert_eq!(
        first(&doc, FieldType::InvoiceReceiptId)
            .normalized
            .as_deref(),
        Some("RE2026118")
    );
    // A type outside the vocabulary is OTHER, its name kept as the label.
    let iban = first(&doc, FieldType::Other);
    assert_eq!(iban.label.as_deref(), Some("IBAN"));
    assert!((iban.confidence - 0.71).abs() < 1e-5);

    let total = first(&doc, FieldType::Total);
    assert_eq!(total.normalized.as_deref(), Some("1209.00"));
    assert_eq!(total.currency.as_deref(), Some("EUR"));
    assert_eq!(
        total.warnings,
        [FieldWarning::PartsDisagree {
            expected: "1190.00".into()
        }]
    );
    assert!(
        !doc.fields.iter().any(|f| f.value == "10115"),
        "ZIP_CODE repeats the address"
    );
}

#[tokio::test]
async fn the_conformance_suite_holds_on_the_recorded_answers() {
    for body in [RECEIPT, INVOICE] {
        let rule = answering(body);
        run_suite_with(&extractor(&[&rule]), Some(&object(ContentType::Png))).await;
        assert_eq!(rule.num_calls(), 2);
    }
}

#[tokio::test]
async fn throttling_and_outages_are_retryable_and_refused_documents_unsupported() {
    for (status, code) in [
        (400, "ThrottlingException"),
        (400, "ProvisionedThroughputExceededException"),
        (500, "InternalServerError"),
        (400, "UnsupportedDocumentException"),
        (400, "BadDocumentException"),
        (400, "DocumentTooLargeException"),
        (400, "InvalidParameterException"),
        (400, "InvalidS3ObjectException"),
        (400, "AccessDeniedException"),
    ] {
        let rule =
            mock!(Client::analyze_expense).then_http_response(move || json_error(status, code));
        let error = extract(&rule, &object(ContentType::Tiff))
            .await
            .unwrap_err();
        match code {
            "ThrottlingException" | "ProvisionedThroughputExceededException" => {
                assert!(
                    error.is_throttled() && error.is_retryable(),
                    "{code}: {error:?}"
                );
            }
            "InternalServerError" => assert!(error.is_retryable(), "{code}: {error:?}"),
            "AccessDeniedException" => {
                assert!(matches!(error, FieldError::Failed(_)) && !error.is_retryable());
            }
            _ => match &error {
                FieldError::Unsupported { reason } => assert!(reason.contains(code), "{reason}"),
                other => panic!("{code}: {other:?}"),
            },
        }
    }
}

#[tokio::test]
async fn what_analyze_expense_cannot_read_is_refused_before_the_call() {
    let rule = answering(RECEIPT);
    let ocr = OcrResult::new("scripted", vec![], false).unwrap();
    let textract = extractor(&[&rule]);
    assert!(matches!(
        textract.extract(FieldInput::of(&ocr)).await,
        Err(FieldError::Unsupported { .. })
    ));
    for image in [
        object(ContentType::Webp),
        object(ContentType::Heic),
        OcrInput::Object {
            bucket: "b".into(),
            key: key(),
            version: None,
            facts: facts(ContentType::Png, 11 * 1024 * 1024),
        },
    ] {
        let refused = textract
            .extract(FieldInput::of(&ocr).with_image(&image))
            .await;
        assert!(
            matches!(refused, Err(FieldError::Unsupported { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(rule.num_calls(), 0);
    assert_eq!(textract.name(), "textract-expense");
}
