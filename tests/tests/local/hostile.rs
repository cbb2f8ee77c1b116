//! The hostile-input corpus against the local adapters: the real server over HTTP, the file store,
//! SQLite and Tesseract.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{TestApp, prerequisites, spawn_app, wait_terminal};

#[path = "../common/hostile.rs"]
mod corpus;

use corpus::{Answer, Target};

#[async_trait]
impl Target for TestApp {
    fn reads_pdf(&self) -> bool {
        // The test server composes the PDF reader when libpdfium is installed.
        intake_pdf::library_path(&intake_ocr_onnx::default_models_dir()).is_file()
    }

    async fn api(&self, method: &str, path: &str, json_body: Option<Vec<u8>>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, self.api(path));
        if let Some(body) = json_body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn put(&self, ticket: &Value, bytes: Vec<u8>) -> u16 {
        let mut request = reqwest::Client::new()
            .put(ticket["uploadUrl"].as_str().unwrap())
            .body(bytes);
        for (name, value) in ticket["requiredHeaders"].as_object().unwrap() {
            if name != "content-length" {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn settle(&self, ticket: &Value) -> Value {
        let id = ticket["imageId"].as_str().unwrap();
        wait_terminal(&self.http, &self.url, id, Duration::from_secs(60)).await
    }
}

#[tokio::test]
async fn the_hostile_corpus_gets_its_expected_answers() {
    if prerequisites().is_none() {
        return;
    }
    let app = spawn_app().await;
    corpus::run(&app).await;
    app.stop().await;
}
