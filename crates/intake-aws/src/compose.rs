//! Building every AWS adapter from the settings and the SDK's configuration.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use intake_domain::Intake;
use intake_domain::model::EventLinks;
use intake_domain::ports::{ExportRenderer, OcrEngine};
use intake_domain::services::{BuildError, EscalatingOcr};

use crate::{
    AwsSettings, DynamoRepository, EngineChoice, EventBridgePublisher, RekognitionOcr,
    S3ObjectStore, S3UrlSigner, SqsProcessingRequests, SqsRedelivery, TextractOcr,
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
}

impl AwsAdapters {
    /// Loads the SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`) and
    /// builds the adapters. `own_engine` is the engine that runs in the function itself, which the
    /// entry point builds when the settings choose one ([`EngineChoice::PpOcr`]) and may build for
    /// [`EngineChoice::Auto`], which then prefers it to Rekognition.
    ///
    /// # Errors
    /// [`MissingEngine`] when the settings choose an in-function engine and none is given.
    pub async fn load(
        settings: &AwsSettings,
        own_engine: Option<Arc<dyn OcrEngine>>,
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
        Self::from_sdk_config(&sdk, settings, own_engine)
    }

    /// Builds the adapters from an SDK configuration.
    ///
    /// The S3 client computes request checksums only when an operation requires them: otherwise the
    /// SDK would sign a checksum of an empty body into upload URLs, which every real upload would fail.
    ///
    /// # Errors
    /// [`MissingEngine`] when the settings choose an in-function engine and `own_engine` is `None`.
    pub fn from_sdk_config(
        sdk: &SdkConfig,
        settings: &AwsSettings,
        own_engine: Option<Arc<dyn OcrEngine>>,
    ) -> Result<Self, MissingEngine> {
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(settings.s3_force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        let store = S3ObjectStore::new(s3.clone(), &settings.bucket);
        let signer = S3UrlSigner::new(s3, &settings.bucket);
        let repository = DynamoRepository::new(
            aws_sdk_dynamodb::Client::new(sdk),
            &settings.table,
            store.clone(),
        );
        let rekognition = || Arc::new(RekognitionOcr::new(aws_sdk_rekognition::Client::new(sdk)));
        let textract = || Arc::new(TextractOcr::new(aws_sdk_textract::Client::new(sdk)));
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
            // length at no per-page charge), else Rekognition; Textract for what the first cannot take.
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
        Ok(Self {
            store,
            signer,
            repository,
            ocr,
            redelivery: SqsRedelivery::new(sqs),
            alternatives,
            requests,
            publisher,
        })
    }

    /// Composes Intake's services over these adapters with the settings' configuration; the events'
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
            .event_links(links)
            .config(settings.config.clone());
        let builder = match exports {
            Some(exports) => builder.shared_exports(exports),
            None => builder,
        };
        match &self.requests {
            Some(requests) => builder.processing_requests(Arc::new(requests.clone())),
            None => builder,
        }
        .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_function_engine_must_be_supplied() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let settings = AwsSettings::new("b", "t").with_engine(EngineChoice::PpOcr);
        let err = AwsAdapters::from_sdk_config(&sdk, &settings, None).unwrap_err();
        assert_eq!(err, MissingEngine(EngineChoice::PpOcr));
        assert!(err.to_string().contains("INTAKE_OCR_ENGINE=ppocr"), "{err}");
        let aws = AwsSettings::new("b", "t").with_engine(EngineChoice::Textract);
        let adapters = AwsAdapters::from_sdk_config(&sdk, &aws, None).unwrap();
        assert_eq!(adapters.ocr.capabilities().engine, "textract");
    }

    #[test]
    fn auto_prefers_the_in_function_engine_and_escalates_to_textract() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let auto = AwsSettings::new("b", "t").with_engine(EngineChoice::Auto);
        let without = AwsAdapters::from_sdk_config(&sdk, &auto, None).unwrap();
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
        let with = AwsAdapters::from_sdk_config(&sdk, &auto, Some(own)).unwrap();
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
}
