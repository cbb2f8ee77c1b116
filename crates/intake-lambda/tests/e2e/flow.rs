//! The steps of the flow: API Gateway HTTP API (v2) events for the API function with an IAM
//! identity, the upload's PUT, the queue's batches to the processor until an image is done, the
//! bus's rule, and the OCR timeout path.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::runtime::Function;
use super::sources::{QueueSource, receive};
use super::stack::{Stack, call};
use super::template::{ACCOUNT, REGION};

/// The IAM caller the HTTP API's authorizer names (a user of the account).
const CALLER_ARN: &str = "arn:aws:iam::123456789012:user/e2e-tester";

/// A page of text rendered as a grayscale PNG (DejaVu Sans, 40 px).
pub(crate) fn render(lines: &[&str]) -> Vec<u8> {
    let font = intake_domain::testkit::images::DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .expect("DejaVu Sans (scripts/system-deps.sh)");
    intake_domain::testkit::images::render_text(lines, &font)
        .expect("font")
        .0
        .to_vec()
}

/// The API function behind the template's HTTP API routes.
pub(crate) struct Api {
    function: Function,
    /// `METHOD /path` of every route, with its authorization type.
    routes: Vec<(String, String)>,
}

impl Api {
    /// The API function and the routes the template declares for it, each through an integration
    /// that proxies to `function_id` with payload format 2.0.
    pub(crate) fn new(function: Function, stack: &Stack, function_id: &str) -> Self {
        let function_arn = stack.template.attribute(function_id, "Arn").unwrap();
        let routes = stack
            .template
            .resources_of_type("AWS::ApiGatewayV2::Route")
            .iter()
            .map(|id| {
                let route = stack.template.properties(id).unwrap();
                let target = route["Target"].as_str().unwrap();
                let integration = stack
                    .template
                    .resources_of_type("AWS::ApiGatewayV2::Integration")
                    .into_iter()
                    .find(|i| target == format!("integrations/{i}-e2e"))
                    .unwrap_or_else(|| panic!("{id} targets no integration: {target}"));
                let integration = stack.template.properties(&integration).unwrap();
                assert_eq!(
                    (
                        &integration["IntegrationType"],
                        &integration["IntegrationUri"],
                        &integration["PayloadFormatVersion"]
                    ),
                    (&json!("AWS_PROXY"), &json!(function_arn), &json!("2.0")),
                    "{id} reaches the function by a proxy integration with payload 2.0"
                );
                (
                    route["RouteKey"].as_str().unwrap().to_owned(),
                    route["AuthorizationType"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Self { function, routes }
    }

    /// Sends `method path` through the route the template declares for it, as API Gateway's HTTP
    /// API (payload 2.0) invokes the function with the IAM authorizer's identity; the status and body.
    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (route, parameters) = self
            .routes
            .iter()
            .find_map(|(key, _)| route_match(key, method, path).map(|p| (key.clone(), p)))
            .unwrap_or_else(|| panic!("the template has no route for {method} {path}"));
        let authorization = &self.routes.iter().find(|(k, _)| *k == route).unwrap().1;
        assert_eq!(
            authorization, "AWS_IAM",
            "{route} is authorized by IAM in the default stack"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let event = json!({
            "version": "2.0",
            "routeKey": route,
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json", "host": format!("e2e.execute-api.{REGION}.amazonaws.com")},
            "pathParameters": parameters,
            "requestContext": {
                "accountId": ACCOUNT,
                "apiId": "e2e",
                "authorizer": {"iam": {
                    "accessKey": "AKIAE2ECALLER", "accountId": ACCOUNT, "callerId": "AIDAE2ECALLER",
                    "cognitoIdentity": null, "principalOrgId": null,
                    "userArn": CALLER_ARN, "userId": "AIDAE2ECALLER"
                }},
                "domainName": format!("e2e.execute-api.{REGION}.amazonaws.com"),
                "domainPrefix": "e2e",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "e2e"},
                "requestId": format!("req-{}", now.as_nanos()),
                "routeKey": route,
                "stage": "$default",
                "time": "07/Dec/2026:19:00:00 +0000",
                "timeEpoch": now.as_millis(),
            },
            "body": body.map(Value::to_string),
            "isBase64Encoded": false,
        });
        let response = self.function.call(event).await;
        let status = u16::try_from(response["statusCode"].as_u64().unwrap()).unwrap();
        let text = response["body"].as_str().unwrap_or_default();
        let text = if response["isBase64Encoded"] == true {
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap(),
            )
            .unwrap()
        } else {
            text.to_owned()
        };
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// How long the function's init took.
    pub(crate) fn init(&self) -> std::time::Duration {
        self.function.init
    }

    /// `POST /uploads`, then the PUT of `bytes` to the presigned URL with the headers the ticket
    /// requires; the image's id.
    pub(crate) async fn upload(&mut self, name: &str, bytes: &[u8]) -> String {
        self.upload_as(name, "image/png", bytes).await
    }

    /// As [`Api::upload`], with another media type.
    pub(crate) async fn upload_as(
        &mut self,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        let (status, ticket) = self
            .request("POST", "/uploads", Some(&json!({
                "filename": name, "contentType": content_type, "sizeBytes": bytes.len(), "sha256": intake_domain::model::Sha256Digest::of(bytes).to_string()
            })))
            .await;
        assert_eq!(status, 201, "{ticket}");
        let mut put = reqwest::Client::new().put(ticket["uploadUrl"].as_str().unwrap());
        for (header, value) in ticket["requiredHeaders"].as_object().unwrap() {
            put = put.header(header, value.as_str().unwrap());
        }
        let response = put.body(bytes.to_vec()).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "PUT to the presigned URL: {response:?}"
        );
        ticket["imageId"].as_str().unwrap().to_owned()
    }

    /// `GET /images/{id}`.
    pub(crate) async fn image(&mut self, id: &str) -> Value {
        let (status, image) = self.request("GET", &format!("/images/{id}"), None).await;
        assert_eq!(status, 200, "{image}");
        image
    }
}

/// The path parameters when `path` matches the route key `METHOD /a/{b}`.
fn route_match(key: &str, method: &str, path: &str) -> Option<Value> {
    let (route_method, pattern) = key.split_once(' ')?;
    if route_method != method {
        return None;
    }
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut parameters = serde_json::Map::new();
    for (p, s) in pattern.iter().zip(&path) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            parameters.insert(name.to_owned(), json!(s));
        } else if p != s {
            return None;
        }
    }
    Some(if parameters.is_empty() {
        Value::Null
    } else {
        Value::Object(parameters)
    })
}

/// Runs the queue's batches through `processor` until the image `id` is no longer being processed;
/// the image as the API shows it. Every batch must succeed whole.
pub(crate) async fn process_until_done(
    uploads: &QueueSource,
    processor: &mut Function,
    api: &mut Api,
    id: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(batch) = uploads.run_once(processor, 1).await {
            assert!(
                batch.failed.is_empty(),
                "{batch:?}\n{}",
                processor.log_tail()
            );
        }
        let image = api.image(id).await;
        if image["status"] != "PROCESSING" && image["status"] != "AWAITING_UPLOAD" {
            return image;
        }
        assert!(
            Instant::now() < deadline,
            "{id} was not processed: {image}\n{}",
            processor.log_tail()
        );
    }
}

/// A rule on the template's bus that sends Intake's events to a new queue (what a user adds);
/// the queue's URL.
pub(crate) async fn rule_to_queue(stack: &Stack) -> String {
    let endpoint = &stack.endpoint;
    let url = call(
        endpoint,
        "sqs",
        "AmazonSQS.CreateQueue",
        &json!({"QueueName": "e2e-intake-events"}),
    )
    .await["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:e2e-intake-events");
    call(endpoint, "events", "AWSEvents.PutRule", &json!({
        "Name": "intake-images", "EventBusName": stack.bus, "EventPattern": json!({"source": ["intake"]}).to_string()
    }))
    .await;
    call(endpoint, "events", "AWSEvents.PutTargets", &json!({
        "Rule": "intake-images", "EventBusName": stack.bus, "Targets": [{"Id": "queue", "Arn": arn}]
    }))
    .await;
    url
}

/// The detail types of the events about image `id` that reached the rule's queue, in order, once
/// `expected` are all there.
pub(crate) async fn events_for(
    stack: &Stack,
    queue: &str,
    id: &str,
    expected: &[&str],
) -> Vec<String> {
    let mut types = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !expected.iter().all(|e| types.iter().any(|t| t == e)) {
        assert!(
            Instant::now() < deadline,
            "events for {id}: {types:?}, expected {expected:?}"
        );
        for message in receive(&stack.endpoint, queue, 10, 1).await {
            let envelope: Value = serde_json::from_str(message["Body"].as_str().unwrap()).unwrap();
            assert_eq!(envelope["source"], "intake");
            if envelope["detail"].to_string().contains(id) {
                types.push(envelope["detail-type"].as_str().unwrap().to_owned());
            }
        }
    }
    types
}

/// The API and processor functions with S3 at s3s-fs (`AWS_ENDPOINT_URL_S3`, the SDK's own
/// per-service endpoint), which verifies every signature: the upload URL the API presigns is
/// accepted as issued and refused once altered, the processor reads the object, and the download
/// URL serves the bytes. s3s-fs sends no notifications, so the test queues the one S3 would send.
pub(crate) async fn presigned_urls_are_signed_for_the_store(
    stack: &Stack,
    models: &Path,
    uploads: &QueueSource,
    s3s: &str,
) {
    let sdk = super::support::sdk_config(s3s, super::stack::ACCESS_KEY).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let (env, _, _) = stack.function("ProcessorFunction", models);
    let bucket = env
        .into_iter()
        .find(|(k, _)| k == "INTAKE_BUCKET")
        .unwrap()
        .1;
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let store = [("AWS_ENDPOINT_URL_S3", s3s)];
    let mut api = Api::new(
        super::start(stack, "ApiFunction", "api", models, &store).await,
        stack,
        "ApiFunction",
    );
    let mut processor = super::start(stack, "ProcessorFunction", "processor", models, &store).await;
    let page = render(&["SIGNED 5150"]);
    let (status, ticket) = api
        .request(
            "POST",
            "/uploads",
            Some(&json!({
                "filename": "signed.png", "contentType": "image/png", "sizeBytes": page.len(),
                "sha256": intake_domain::model::Sha256Digest::of(&page).to_string()
            })),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let url = ticket["uploadUrl"].as_str().unwrap();
    assert!(url.starts_with(s3s), "{url}");
    let put = |url: String| {
        let mut put = reqwest::Client::new().put(url);
        for (header, value) in ticket["requiredHeaders"].as_object().unwrap() {
            put = put.header(header, value.as_str().unwrap());
        }
        put.body(page.clone()).send()
    };
    let altered = url.replace("X-Amz-Expires=", "X-Amz-Expires=1");
    let refused = put(altered).await.unwrap();
    assert_eq!(
        refused.status(),
        403,
        "an altered URL is refused: {refused:?}"
    );
    let accepted = put(url.to_owned()).await.unwrap();
    let status = accepted.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        accepted.text().await.unwrap_or_default()
    );
    let key = ticket["objectKey"].as_str().unwrap();
    let notification = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key.replace('/', "%2F"), "size": page.len()}}
    }]});
    uploads.send(&notification.to_string()).await;
    let id = ticket["imageId"].as_str().unwrap();
    let image = process_until_done(uploads, &mut processor, &mut api, id).await;
    assert_eq!(image["status"], "PROCESSED", "{image}");
    assert!(
        image["ocrText"].as_str().unwrap().contains("5150"),
        "{image}"
    );
    let download = image["downloadUrl"].as_str().unwrap();
    assert!(download.starts_with(s3s), "{download}");
    let fetched = reqwest::get(download).await.unwrap();
    assert!(fetched.status().is_success(), "{fetched:?}");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), page.as_slice());
}
