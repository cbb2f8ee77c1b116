//! Documents and phone photos in the function: the processor's own executable is the PDF reader's
//! worker, and a function composed with PP-OCR and libpdfium from the models layer (here the models
//! `scripts/ocr-models.sh` installs, `INTAKE_MODELS_DIR` or `~/.local/share/intake/models`) reads a
//! PDF upload page by page, and a HEIC photo upright, over the AWS adapters against moto server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../intake-aws/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use intake_aws::{AwsAdapters, AwsSettings, EngineChoice, TableSchema};
use intake_domain::model::{ContentType, ImageStatus, PageSource, Sha256Digest};
use intake_domain::ports::{DocumentReader, OcrDetail};
use intake_domain::services::UploadRequest;
use intake_domain::testkit::images::{DEJAVU_SANS_PATHS, render_pixels};
use intake_pdf::testkit::{TestPage, pages, pdf};
use intake_pdf::{PdfOptions, PdfReader, WORKER_ARG, library_path};
use serde_json::json;

/// The models directory with libpdfium, or `None` (the test is skipped) where it is not installed
/// outside CI.
fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("INTAKE_MODELS_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".local/share/intake/models")
        },
        PathBuf::from,
    );
    if library_path(&dir).is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |ci| ci != "true"),
        "libpdfium is not in {}: run scripts/ocr-models.sh",
        dir.display()
    );
    eprintln!(
        "SKIPPED: libpdfium is not in {}; run scripts/ocr-models.sh",
        dir.display()
    );
    None
}

#[tokio::test]
async fn both_functions_are_the_pdf_worker_when_asked() {
    let Some(models) = models_dir() else {
        return;
    };
    for program in [env!("CARGO_BIN_EXE_processor"), env!("CARGO_BIN_EXE_api")] {
        let reader = PdfReader::new(PdfOptions::new(
            program,
            vec![WORKER_ARG.into()],
            library_path(&models),
        ));
        let info = reader.probe(&Bytes::from(pages(3)), 10).await.unwrap();
        assert_eq!(info.page_count, 3, "{program}");
    }
}

/// A scanned page: text rendered into a grey JPEG.
fn scan(lines: &[&str]) -> TestPage {
    let font = DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("DejaVu Sans (scripts/system-deps.sh)");
    let (pixels, (width, height)) = render_pixels(lines, &font).expect("font");
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode(&pixels, width, height, image::ExtendedColorType::L8)
        .expect("jpeg");
    TestPage::Jpeg {
        bytes,
        width,
        height,
    }
}

/// The processor as the function composes it with PP-OCR and the PDF reader from `models`, over
/// a new bucket and table in moto.
async fn processor(
    sdk: &aws_config::SdkConfig,
    settings: &AwsSettings,
    models: &std::path::Path,
) -> (intake_domain::Intake, aws_sdk_s3::Client) {
    let env: HashMap<&str, String> = [
        ("INTAKE_MODELS_DIR", models.display().to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048".into()),
    ]
    .into_iter()
    .collect();
    let lookup = |name: &str| env.get(name).cloned();
    // The function's composition: PP-OCR and, beside it, the PDF reader from the same models.
    let own = intake_lambda::in_function(settings, &lookup).await.unwrap();
    assert!(own.engine.is_some() && own.documents.is_some());
    // Its workers run as the function's own executable; this test's is not one, so the reader
    // is composed again with the processor's.
    let mut options = intake_lambda::pdf_options(&lookup, models)
        .unwrap()
        .unwrap();
    assert_eq!(options.args, [WORKER_ARG]);
    assert_eq!(options.memory_limit, 512 << 20);
    options.program = env!("CARGO_BIN_EXE_processor").into();
    let reader: Arc<dyn DocumentReader> = Arc::new(PdfReader::new(options));
    let adapters = AwsAdapters::from_sdk_config(sdk, settings, own.engine, Some(reader)).unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(&settings.bucket)
        .send()
        .await
        .unwrap();
    TableSchema::create(&aws_sdk_dynamodb::Client::new(sdk), &settings.table)
        .await
        .unwrap();
    let intake = adapters
        .intake(settings, intake_http::EVENT_LINKS, None)
        .unwrap();
    (intake, s3)
}

#[tokio::test]
async fn a_pdf_upload_is_read_page_by_page_in_the_function() {
    let Some(models) = models_dir() else {
        return;
    };
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let id = std::process::id();
    let settings = AwsSettings::new(format!("pdfs-{id}"), format!("records-{id}"))
        .with_path_style(true)
        .with_engine(EngineChoice::PpOcr);
    let (intake, s3) = processor(&sdk, &settings, &models).await;
    assert!(intake.accepted_types().contains(&ContentType::Pdf));

    // A born-digital page and a scanned one.
    let document = Bytes::from(pdf(&[
        TestPage::text(&[
            "Service agreement between ACME Supplies Ltd",
            "and the customer, dated 2026-11-30",
        ]),
        scan(&["SIGNED IN DUPLICATE"]),
    ]));
    let record = upload_and_process(
        &intake,
        &s3,
        &settings,
        &document,
        ("agreement.pdf", ContentType::Pdf),
    )
    .await;
    assert_eq!(record.status(), ImageStatus::Processed, "{record:?}");
    assert_eq!(record.page_count(), Some(2));
    let pages: Vec<_> = record
        .pages()
        .unwrap()
        .iter()
        .map(|p| (p.page.get(), p.source, p.width_px.is_some()))
        .collect();
    assert_eq!(
        pages,
        [(1, PageSource::TextLayer, true), (2, PageSource::Ocr, true)]
    );
    let text = record.ocr_text().unwrap();
    let (first, second) = text.split_once('\u{c}').expect("two pages");
    assert!(first.contains("Service agreement between ACME"), "{text}");
    assert!(second.to_uppercase().contains("DUPLICATE"), "{text}");
    let lines = record.ocr_lines().unwrap();
    assert!(lines.iter().any(|l| l.page().get() == 2));
    assert!(
        record.ocr_engine().unwrap().starts_with("ppocr"),
        "{record:?}"
    );
}

/// `bytes` uploaded as `name` through a presigned ticket into the bucket, its S3 event handled by
/// the processor function's handler, and the record it left.
async fn upload_and_process(
    intake: &intake_domain::Intake,
    s3: &aws_sdk_s3::Client,
    settings: &AwsSettings,
    bytes: &Bytes,
    (name, content_type): (&str, ContentType),
) -> intake_domain::model::ImageRecord {
    let owner = intake_domain::testkit::default_owner();
    let ticket = intake
        .request_upload(
            &owner,
            UploadRequest::named(name, content_type)
                .unwrap()
                .with_size(bytes.len() as u64)
                .with_sha256(Sha256Digest::of(bytes)),
        )
        .await
        .unwrap();
    s3.put_object()
        .bucket(&settings.bucket)
        .key(ticket.object_key.as_str())
        .content_type(content_type.as_mime())
        .body(bytes.to_vec().into())
        .send()
        .await
        .unwrap();
    let event = json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": settings.bucket},
            "object": {"key": ticket.object_key.as_str(), "size": bytes.len()}
        }
    }]});
    intake_lambda::processor::handle(intake, event)
        .await
        .unwrap();
    intake
        .get_image(&owner, ticket.object_key.image_id(), OcrDetail::Lines)
        .await
        .unwrap()
        .record
}

/// A phone photo as HEIC (written by libheif's `heif-enc`, turned by an `irot` property as a phone
/// held sideways writes it) is read upright by PP-OCR in the function: HEIC is among the in-function
/// engine's types on Amazon Linux too, decoded in pure Rust.
#[tokio::test]
async fn a_heic_photo_is_read_upright_in_the_function() {
    use intake_heic::testkit::{heif_enc, heif_enc_available, with_rotation};
    let Some(models) = models_dir() else {
        return;
    };
    if !heif_enc_available() {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI must install heif-enc (scripts/system-deps.sh)"
        );
        eprintln!("SKIPPED: needs heif-enc (libheif-examples)");
        return;
    }
    let Some(moto) = support::moto().await else {
        return;
    };
    let sdk = support::sdk_config(&moto.endpoint, ("test", "test")).await;
    let id = std::process::id();
    let settings = AwsSettings::new(format!("photos-{id}"), format!("photo-records-{id}"))
        .with_path_style(true)
        .with_engine(EngineChoice::PpOcr);
    let (intake, s3) = processor(&sdk, &settings, &models).await;
    assert!(intake.accepted_types().contains(&ContentType::Heic));

    let font = DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("DejaVu Sans (scripts/system-deps.sh)");
    let (pixels, (width, height)) =
        render_pixels(&["RECEIPT 7713", "Paid with card 42.90"], &font).expect("font");
    let page = image::GrayImage::from_raw(width, height, pixels).expect("page");
    // The sensor saw the page turned a quarter clockwise; `irot` turns it back.
    let sensor = image::imageops::rotate90(&page);
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(sensor)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let photo = with_rotation(&heif_enc(&png, 90).expect("heif-enc"), 1).expect("turned");

    let record = upload_and_process(
        &intake,
        &s3,
        &settings,
        &Bytes::from(photo),
        ("IMG_0042.HEIC", ContentType::Heic),
    )
    .await;
    assert_eq!(record.status(), ImageStatus::Processed, "{record:?}");
    let text = record.ocr_text().unwrap().to_lowercase();
    for word in ["receipt", "7713", "42.90"] {
        assert!(text.contains(word), "{word} in {text:?}");
    }
    let pages = record.pages().unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(
        (pages[0].width_px, pages[0].height_px),
        (Some(width), Some(height)),
        "upright"
    );
}
