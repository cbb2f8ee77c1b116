//! Dependency failures: the status each kind answers, without leaking details.

use super::*;
use intake_domain::ports::Failure;

/// A repository whose every call fails with the error `make` builds.
#[derive(Debug)]
struct Failing(fn() -> intake_domain::ports::RepoError);

#[async_trait::async_trait]
impl intake_domain::ports::ImageRepository for Failing {
    async fn create(
        &self,
        _: &intake_domain::model::ImageRecord,
    ) -> Result<(), intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn get(
        &self,
        _: &intake_domain::model::ImageId,
    ) -> Result<Option<intake_domain::model::ImageRecord>, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn replace(
        &self,
        _: &intake_domain::model::ImageRecord,
        _: u64,
        _: &[intake_domain::model::ImageEvent],
    ) -> Result<(), intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn list(
        &self,
        _: &intake_domain::ports::ListQuery,
    ) -> Result<intake_domain::ports::Page, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
    async fn find_processed_by_sha256(
        &self,
        _: &intake_domain::model::Owner,
        _: &Sha256Digest,
        _: u32,
    ) -> Result<Vec<intake_domain::model::ImageRecord>, intake_domain::ports::RepoError> {
        Err((self.0)())
    }
}

#[tokio::test]
async fn dependency_failures_are_429_503_or_500_without_leaking_details() {
    use intake_domain::ports::RepoError;
    type MakeError = fn() -> RepoError;
    let cases: [(MakeError, StatusCode, &str); 3] = [
        (
            || {
                RepoError::from(Failure::throttled(
                    "ProvisionedThroughputExceededException: table secret-table",
                ))
            },
            StatusCode::TOO_MANY_REQUESTS,
            "THROTTLED",
        ),
        (
            || RepoError::from(Failure::unavailable("connection refused to 10.0.0.7")),
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
        ),
        (
            || {
                RepoError::from(Failure::other(
                    "item secret-table#42 has no record attribute",
                ))
            },
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
        ),
    ];
    for (make, status, code) in cases {
        let intake = intake_domain::Intake::builder()
            .store(intake_memory::MemoryObjectStore::default())
            .signer(intake_memory::MemoryUrlSigner::default())
            .ocr(ScriptedOcr::default())
            .repository(Failing(make))
            .build()
            .unwrap();
        let response = app(intake)
            .await
            .oneshot(
                Request::builder()
                    .uri("/images")
                    .header(header::AUTHORIZATION, format!("Bearer {}", key_a()))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        if status != StatusCode::INTERNAL_SERVER_ERROR {
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
        let body: Value =
            serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes())
                .unwrap();
        assert_eq!(body["error"]["code"], code);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("secret") && !message.contains("10.0.0.7"),
            "internal detail leaked: {message}"
        );
    }
}
