//! Building every AWS adapter from the settings and the SDK's configuration.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use intake_domain::Intake;
use intake_domain::model::EventLinks;
use intake_domain::ports::{DocumentReader, ExportRenderer, OcrEngine, ReadRequest};
use intake_domain::services::{
    BuildError, DOCUMENT_DPI, DocumentOcr, EscalatingOcr, MAX_PAGE_PIXELS,
};

use crate::{
    AwsSettings, DynamoFingerprintIndex, DynamoRepository, EngineChoice, EventBridgePublisher,
    FieldsChoice, RekognitionOcr, S3ObjectStore, S3UrlSigner, SqsProcessingRequests, SqsRedelivery,
    TextractExpense, TextractOcr,
};

/// `INTAKE_OCR_ENGINE` names an engine that runs in the function, and the entry point gave none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("INTAKE_OCR_ENGINE={0} runs in the function, but no such engine was supplied")]
pub struct MissingEngine(pub EngineChoice);

/// Every AWS adapter, built once (per Lambda cold start) and shared.
#[derive(Debug, Clone)]
pub struct AwsAdapters {
    /// The bucket's objects.
    pub store: S3ObjectStore,
    /// Presigned URLs for the bucket.
    pub signer: S3UrlSigner,
    /// The records.
    pub repository: DynamoRepository,
    /// The configured engine (or the `auto` policy over two).
    pub ocr: Arc<dyn OcrEngine>,
    /// Puts off the next delivery of a queued notification (the processor's back-off).
    pub redelivery: SqsRedelivery,
    /// The other engines a reprocessing run may ask for by name: Rekognition, Textract, and the
    /// in-function engine when there is one.
    pub alternatives: Vec<Arc<dyn OcrEngine>>,
    /// Asks the processor to run an image again, where the settings name the queue.
    pub requests: Option<SqsProcessingRequests>,
    /// Publishes the table stream's events, where the settings name a bus.
    pub publisher: Option<EventBridgePublisher>,
    /// The near-duplicate fingerprint index, where the settings name its table.
    pub fingerprints: Option<DynamoFingerprintIndex>,
    /// The reader of documents (PDF) in the function, where the entry point has one: the
    /// in-function engine reads documents page by page through it, and the processor opens
    /// documents with it before any OCR.
    pub documents: Option<Arc<dyn DocumentReader>>,
    /// Textract AnalyzeExpense, where `INTAKE_FIELDS` chooses it: it reads again what the rule
    /// engine reads as a receipt or an invoice.
    pub expense: Option<TextractExpense>,
}

impl AwsAdapters {
    /// Loads the SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`) and
    /// builds the adapters. `own_engine` is the engine that runs in the function itself, which the
    /// entry point builds when the settings choose one ([`EngineChoice::PpOcr`]) and may build for
    /// [`EngineChoice::Auto`], which then prefers it to Rekognition; `documents` is the reader of
    /// documents in the function (see [`AwsAdapters::from_sdk_config`]).
    ///
    /// # Errors
    /// [`MissingEngine`] when the settings choose an in-function engine and none is given.
    pub async fn load(
        settings: &AwsSettings,
        own_engine: Option<Arc<dyn OcrEngine>>,
        documents: Option<Arc<dyn DocumentReader>>,
    ) -> Result<Self, MissingEngine> {
        // One HTTP and TLS stack: hyper 1 with rustls on ring (the SDK's default would add aws-lc).
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https)
            .load()
            .await;
        Self::from_sdk_config(&sdk, settings, own_engine, documents)
    }

    /// Builds the adapters from an SDK configuration.
    ///
    /// The S3 client computes request checksums only when an operation requires them: otherwise the
    /// SDK would sign a checksum of an empty body into upload URLs, which every real upload would fail.
    ///
    /// With `documents` (the reader of documents in the function), the in-function engine reads
    /// documents page by page through it ([`DocumentOcr`]), so that under `auto` they stay in the
    /// function: Textract reads a PDF only where there is no such reader. Without an in-function
    /// engine the reader still opens documents before OCR, and engines that do not take PDF read
    /// them through it when a reprocessing run asks for them.
    ///
    /// # Errors
    /// [`MissingEngine`] when the settings choose an in-function engine and `own_engine` is `None`.
    pub fn from_sdk_config(
        sdk: &SdkConfig,
        settings: &AwsSettings,
        own_engine: Option<Arc<dyn OcrEngine>>,
        documents: Option<Arc<dyn DocumentReader>>,
    ) -> Result<Self, MissingEngine> {
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(settings.s3_force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        let store = S3ObjectStore::new(s3.clone(), &settings.bucket);
        let signer = S3UrlSigner::new(s3, &settings.bucket);
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let repository = DynamoRepository::new(dynamodb.clone(), &settings.table, store.clone());
        let fingerprints = settings
            .fingerprint_table
            .as_deref()
            .map(|table| DynamoFingerprintIndex::new(dynamodb, table));
        let rekognition = || Arc::new(RekognitionOcr::new(aws_sdk_rekognition::Client::new(sdk)));
        let textract = || {
            Arc::new(
                TextractOcr::new(aws_sdk_textract::Client::new(sdk))
                    .with_time_limit(settings.ocr_time_limit),
            )
        };
        let own_engine = own_engine.map(|own| match &documents {
            Some(reader) if DocumentOcr::extends(own.as_ref(), reader.as_ref()) => Arc::new(
                DocumentOcr::new(own, Arc::clone(reader), read_request(settings)),
            )
                as Arc<dyn OcrEngine>,
            _ => own,
        });
        let mut alternatives: Vec<Arc<dyn OcrEngine>> = vec![rekognition(), textract()];
        if let Some(own) = &own_engine {
            alternatives.push(Arc::clone(own));
        }
        let ocr: Arc<dyn OcrEngine> = match (settings.engine, own_engine) {
            (EngineChoice::PpOcr, Some(own)) => own,
            (EngineChoice::PpOcr, None) => return Err(MissingEngine(EngineChoice::PpOcr)),
            (EngineChoice::Rekognition, _) => rekognition(),
            (EngineChoice::Textract, _) => textract(),
            // `auto`: the in-function engine when the entry point could load it (documents of any
            // length at no per-page charge, PDFs too where it has a reader), else Rekognition;
            // Textract for what the first cannot take.
            (_, Some(own)) => Arc::new(EscalatingOcr::new(own, textract())),
            (_, None) => Arc::new(EscalatingOcr::new(rekognition(), textract())),
        };
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let requests = settings
            .processing_queue_url
            .as_deref()
            .map(|url| SqsProcessingRequests::new(sqs.clone(), url, &settings.bucket));
        let publisher = settings
            .event_bus
            .as_deref()
            .map(|bus| EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(sdk), bus));
        let expense = (settings.fields == FieldsChoice::TextractExpense).then(|| {
            TextractExpense::new(aws_sdk_textract::Client::new(sdk))
                .with_options(settings.config.field_options)
        });
        Ok(Self {
            expense,
            store,
            signer,
            repository,
            ocr,
            redelivery: SqsRedelivery::new(sqs),
            alternatives,
            requests,
            publisher,
            fingerprints,
            documents,
        })
    }

    /// Composes Intake's services over these adapters with the settings' configuration (documents'
    /// fields read by the rule engine, and receipts' and invoices' again by AnalyzeExpense where the
    /// settings choose it); the events'
    /// documents give `links` (the API's paths, which the entry point takes from the API crate), and
    /// exports are written by `exports` (the entry point's `intake_export::Renderer`; `None`: no
    /// exports). The configuration's export inline limit stays its default, which is sized for a
    /// Lambda function's 6 MB response: larger exports are stored under `exports/` and handed out
    /// as presigned GETs.
    ///
    /// # Errors
    /// [`BuildError`] when the configuration is invalid for the engine.
    pub fn intake(
        &self,
        settings: &AwsSettings,
        links: EventLinks,
        exports: Option<Arc<dyn ExportRenderer>>,
    ) -> Result<Intake, BuildError> {
        let builder = Intake::builder()
            .store(self.store.clone())
            .signer(self.signer.clone())
            .repository(self.repository.clone())
            .shared_ocr(Arc::clone(&self.ocr))
            .alternative_ocrs(self.alternatives.iter().map(Arc::clone))
            .field_extractor(intake_fields::RuleExtractor::new(
                settings.config.field_options,
            ))
            .event_links(links)
            .config(settings.config.clone());
        let builder = match exports {
            Some(exports) => builder.shared_exports(exports),
            None => builder,
        };
        let builder = match &self.fingerprints {
            Some(index) => builder.fingerprint_index(index.clone()),
            None => builder,
        };
        let builder = match &self.documents {
            Some(reader) => builder.documents_as(Arc::clone(reader), read_request(settings)),
            None => builder,
        };
        let builder = match &self.expense {
            Some(expense) => builder.expense_field_extractor(Arc::new(expense.clone())),
            None => builder,
        };
        match &self.requests {
            Some(requests) => builder.processing_requests(Arc::new(requests.clone())),
            None => builder,
        }
        .build()
    }
}

/// How documents are read in the function: pages at [`DOCUMENT_DPI`] within [`MAX_PAGE_PIXELS`]
/// and the pixel limit, as everywhere, but within the deployment's OCR time limit rather than the
/// local server's two minutes, which is the processor function's whole timeout.
fn read_request(settings: &AwsSettings) -> ReadRequest {
    ReadRequest::new(
        DOCUMENT_DPI,
        settings.config.max_pixels.min(MAX_PAGE_PIXELS),
        settings.ocr_time_limit,
    )
}

#[cfg(test)]
mod tests {
    use intake_domain::model::ContentType;
    use intake_domain::ports::OcrCapabilities;

    use super::*;

    #[test]
    fn an_in_function_engine_must_be_supplied() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let settings = AwsSettings::new("b", "t").with_engine(EngineChoice::PpOcr);
        let err = AwsAdapters::from_sdk_config(&sdk, &settings, None, None).unwrap_err();
        assert_eq!(err, MissingEngine(EngineChoice::PpOcr));
        assert!(err.to_string().contains("INTAKE_OCR_ENGINE=ppocr"), "{err}");
        let aws = AwsSettings::new("b", "t").with_engine(EngineChoice::Textract);
        let adapters = AwsAdapters::from_sdk_config(&sdk, &aws, None, None).unwrap();
        assert_eq!(adapters.ocr.capabilities().engine, "textract");
    }

    #[test]
    fn fields_are_read_by_the_rules_and_expenses_by_analyze_expense_where_chosen() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let rules = AwsSettings::new("b", "t").with_engine(EngineChoice::Textract);
        let adapters = AwsAdapters::from_sdk_config(&sdk, &rules, None, None).unwrap();
        assert!(adapters.expense.is_none());
        let intake = adapters.intake(&rules, EventLinks::NONE, None).unwrap();
        assert_eq!(intake.field_extractor_name(), Some("rules"));
        let expense = rules.with_fields(FieldsChoice::TextractExpense);
        let adapters = AwsAdapters::from_sdk_config(&sdk, &expense, None, None).unwrap();
        assert!(adapters.expense.is_some());
        let intake = adapters.intake(&expense, EventLinks::NONE, None).unwrap();
        assert_eq!(intake.field_extractor_name(), Some("rules"));
    }

    #[test]
    fn auto_prefers_the_in_function_engine_and_escalates_to_textract() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let auto = AwsSettings::new("b", "t").with_engine(EngineChoice::Auto);
        let without = AwsAdapters::from_sdk_config(&sdk, &auto, None, None).unwrap();
        assert_eq!(
            without.ocr.capabilities().engine,
            "auto(rekognition>textract)"
        );
        let own: Arc<dyn OcrEngine> = Arc::new(intake_memory::ScriptedOcr::new(
            intake_domain::ports::OcrCapabilities::new(
                "ppocr-v6-tiny",
                vec![intake_domain::model::ContentType::Png],
                50 * 1024 * 1024,
                8,
            ),
        ));
        let with = AwsAdapters::from_sdk_config(&sdk, &auto, Some(own), None).unwrap();
        assert_eq!(
            with.ocr.capabilities().engine,
            "auto(ppocr-v6-tiny>textract)"
        );
        // Textract still takes what the in-function engine cannot (PDF).
        assert!(
            with.ocr
                .capabilities()
                .formats
                .contains(&intake_domain::model::ContentType::Pdf)
        );
    }

    /// A reader that opens nothing: only its formats matter here.
    #[derive(Debug)]
    struct PdfOnly;

    #[async_trait::async_trait]
    impl DocumentReader for PdfOnly {
        fn formats(&self) -> &[ContentType] {
            &[ContentType::Pdf]
        }
        async fn probe(
            &self,
            _: &bytes::Bytes,
            _: u32,
        ) -> Result<intake_domain::ports::DocumentInfo, intake_domain::ports::DocumentReadError>
        {
            Ok(intake_domain::ports::DocumentInfo::new(1))
        }
        async fn read(
            &self,
            _: &bytes::Bytes,
            _: &ReadRequest,
        ) -> Result<intake_domain::ports::PageStream, intake_domain::ports::DocumentReadError>
        {
            Ok(Box::pin(futures::stream::empty()))
        }
        async fn picture(
            &self,
            _: &bytes::Bytes,
            _: intake_domain::model::PageNumber,
            _: u32,
            _: std::time::Duration,
        ) -> Result<intake_domain::ports::Preview, intake_domain::ports::DocumentReadError>
        {
            Err(intake_domain::ports::DocumentReadError::Corrupt {
                reason: "opens nothing".into(),
            })
        }
        async fn add_text_layer(
            &self,
            bytes: &bytes::Bytes,
            _: &[intake_domain::ports::PageText],
            _: std::time::Duration,
        ) -> Result<bytes::Bytes, intake_domain::ports::DocumentReadError> {
            Ok(bytes.clone())
        }
    }

    #[test]
    fn with_a_reader_in_the_function_pdfs_stay_in_the_function() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let own = || -> Arc<dyn OcrEngine> {
            Arc::new(intake_memory::ScriptedOcr::new(OcrCapabilities::new(
                "ppocr-v6-tiny",
                vec![ContentType::Png],
                50 * 1024 * 1024,
                8,
            )))
        };
        let reader = || Some(Arc::new(PdfOnly) as Arc<dyn DocumentReader>);
        for engine in [EngineChoice::Auto, EngineChoice::PpOcr] {
            let settings = AwsSettings::new("b", "t").with_engine(engine);
            let adapters =
                AwsAdapters::from_sdk_config(&sdk, &settings, Some(own()), reader()).unwrap();
            let caps = adapters.ocr.capabilities();
            assert!(caps.formats.contains(&ContentType::Pdf), "{engine}");
            // The processor hands the engine bytes: the document is read in the function.
            assert!(!caps.reads_objects, "{engine}");
            let intake = adapters.intake(&settings, EventLinks::NONE, None).unwrap();
            assert!(intake.accepted_types().contains(&ContentType::Pdf));
        }
        // `auto` sends a PDF to its first engine, which reads it through the reader (here a
        // document without pages); Textract, which has no credentials here, is not asked.
        let settings = AwsSettings::new("b", "t").with_engine(EngineChoice::Auto);
        let adapters =
            AwsAdapters::from_sdk_config(&sdk, &settings, Some(own()), reader()).unwrap();
        let bytes = bytes::Bytes::from_static(b"%PDF-1.7");
        let input = intake_domain::ports::OcrInput::Bytes {
            facts: intake_domain::ports::ImageFacts::new(
                ContentType::Pdf,
                8,
                None,
                intake_domain::model::Sha256Digest::of(&bytes),
            ),
            bytes,
        };
        let read = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(adapters.ocr.detect(&input));
        assert!(
            matches!(&read, Err(intake_domain::ports::OcrError::InvalidImage { reason }) if reason.contains("no pages")),
            "{read:?}"
        );
        // A PP-OCR deployment without the reader accepts no PDF.
        let settings = AwsSettings::new("b", "t").with_engine(EngineChoice::PpOcr);
        let adapters = AwsAdapters::from_sdk_config(&sdk, &settings, Some(own()), None).unwrap();
        let intake = adapters.intake(&settings, EventLinks::NONE, None).unwrap();
        assert!(!intake.accepted_types().contains(&ContentType::Pdf));
    }
}
