//! The stack of `deploy/template.yaml` created in moto from the template's own definitions (the
//! bucket with its notification, the queues with their redrive, the table with its keys, stream and
//! indexes, the bus), the functions' environments resolved from the template, and the two event
//! source mappings Lambda would run (the queue's and the table stream's).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::template::{ACCOUNT, REGION, Template};

/// The credentials every emulated caller uses: the ones s3s-fs checks signatures with (moto accepts
/// any).
pub(crate) const ACCESS_KEY: (&str, &str) = super::support::S3S_KEY;

/// Moto has no clock to advance, so the processing queue's visibility timeout (720 s in the
/// template, six times the processor's timeout) is scaled down for the test; every other attribute
/// is the template's.
pub(crate) const VISIBILITY_IN_TEST: u64 = 2;

/// Where the template's OCR models layer is mounted in a function.
const LAYER_MOUNT: &str = "/opt/intake-models";

/// A call in one of AWS's JSON protocols to moto (SQS, DynamoDB, DynamoDB Streams, EventBridge).
pub(crate) async fn call(endpoint: &str, service: &str, target: &str, body: &Value) -> Value {
    let content_type = if service == "events" {
        "application/x-amz-json-1.1"
    } else {
        "application/x-amz-json-1.0"
    };
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", target)
        .header("content-type", content_type)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20261201/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0",
                ACCESS_KEY.0
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{target}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn string_attributes(properties: &Value, names: &[&str]) -> serde_json::Map<String, Value> {
    names
        .iter()
        .filter_map(|name| {
            properties.get(*name).map(|v| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Object(_) => v.to_string(),
                    other => other.to_string(),
                };
                ((*name).to_owned(), Value::String(text))
            })
        })
        .collect()
}

/// The created stack: the template resolved against it, and the emulators' endpoint.
pub(crate) struct Stack {
    pub(crate) template: Template,
    pub(crate) endpoint: String,
    pub(crate) stream_arn: String,
    pub(crate) bus: String,
    /// Queue URL and ARN by logical id.
    pub(crate) queues: BTreeMap<String, (String, String)>,
}

impl Stack {
    /// Creates the template's resources in moto at `endpoint`.
    pub(crate) async fn create(endpoint: &str, s3: &aws_sdk_s3::Client) -> Self {
        let mut template = Template::load();
        let queues = create_queues(endpoint, &mut template).await;
        register_unemulated(&mut template);
        // The bus.
        let bus_id = single(&template, "AWS::Events::EventBus");
        let bus_name = template.properties(&bus_id).unwrap()["Name"]
            .as_str()
            .unwrap()
            .to_owned();
        let bus_arn = call(
            endpoint,
            "events",
            "AWSEvents.CreateEventBus",
            &json!({"Name": bus_name}),
        )
        .await["EventBusArn"]
            .as_str()
            .unwrap()
            .to_owned();
        template.created(
            &bus_id,
            &bus_name,
            &[("Arn", &bus_arn), ("Name", &bus_name)],
        );
        let stream_arn = create_tables(endpoint, &mut template).await;
        // The bucket (its name, notification and policy refer to the queue and to itself).
        let bucket_id = single(&template, "AWS::S3::Bucket");
        let bucket_name =
            template.raw()["Resources"][bucket_id.as_str()]["Properties"]["BucketName"].clone();
        let bucket = template
            .resolve(&bucket_name)
            .unwrap()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        template.created(
            &bucket_id,
            &bucket,
            &[("Arn", &format!("arn:aws:s3:::{bucket}"))],
        );
        create_bucket(s3, &template.properties(&bucket_id).unwrap(), &bucket).await;
        for policy in template.resources_of_type("AWS::SQS::QueuePolicy") {
            let properties = template.properties(&policy).unwrap();
            for url in properties["Queues"].as_array().unwrap() {
                call(endpoint, "sqs", "AmazonSQS.SetQueueAttributes", &json!({
                    "QueueUrl": url, "Attributes": {"Policy": properties["PolicyDocument"].to_string()}
                }))
                .await;
            }
        }
        Self {
            template,
            endpoint: endpoint.to_owned(),
            stream_arn,
            bus: bus_name,
            queues,
        }
    }

    /// A queue's URL and ARN by its logical id.
    pub(crate) fn queue(&self, id: &str) -> (String, String) {
        self.queues
            .get(id)
            .cloned()
            .unwrap_or_else(|| panic!("no queue {id}"))
    }

    /// A function's environment exactly as the template sets it (the globals and its own
    /// variables), with the models layer's mount point mapped to `models` when the layer is
    /// attached; its memory size and timeout. Fails on anything the emulation cannot resolve.
    pub(crate) fn function(
        &self,
        id: &str,
        models: &std::path::Path,
    ) -> (Vec<(String, String)>, u64, Duration) {
        let setting = |name: &str| {
            let own = self
                .template
                .property(id, name)
                .unwrap_or_else(|e| panic!("{id}.{name}: {e}"));
            if own.is_null() {
                self.template
                    .function_global(name)
                    .unwrap_or_else(|e| panic!("Globals.{name}: {e}"))
            } else {
                own
            }
        };
        let layers = setting("Layers");
        let with_layer = layers.as_array().is_some_and(|l| !l.is_empty());
        let mut env = BTreeMap::new();
        let globals = self
            .template
            .function_global("Environment")
            .unwrap_or_else(|e| panic!("Globals: {e}"));
        let own = self
            .template
            .property(id, "Environment")
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        for source in [&globals, &own] {
            if let Some(Value::Object(vars)) = source.pointer("/Variables") {
                for (name, value) in vars {
                    let value = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => panic!("{id}: {name} resolves to {other}"),
                    };
                    env.insert(name.clone(), value);
                }
            }
        }
        for value in env.values_mut() {
            if with_layer && value.starts_with(LAYER_MOUNT) {
                *value = value.replacen(LAYER_MOUNT, &models.display().to_string(), 1);
            }
        }
        let number = |v: Option<Value>, what: &str| {
            v.and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or_else(|| panic!("{id}: no {what}"))
        };
        let memory = number(Some(setting("MemorySize")), "MemorySize");
        let timeout = Duration::from_secs(number(Some(setting("Timeout")), "Timeout"));
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        // The one thing the emulation adds: the SDK's endpoints, pointed at moto.
        env.push(("AWS_ENDPOINT_URL".into(), self.endpoint.clone()));
        (env, memory, timeout)
    }

    /// A function's event source of `kind` (`SQS`, `DynamoDB`) from the template: its properties.
    pub(crate) fn event_source(&self, function: &str, kind: &str) -> Value {
        let events = self.template.property(function, "Events").unwrap();
        events
            .as_object()
            .unwrap()
            .values()
            .find(|e| e["Type"] == kind)
            .map_or_else(
                || panic!("{function} has no {kind} event source"),
                |e| e["Properties"].clone(),
            )
    }
}

/// The template's queues, those without a redrive policy first (the others point at them), with
/// their attributes; their URL and ARN by logical id.
async fn create_queues(
    endpoint: &str,
    template: &mut Template,
) -> BTreeMap<String, (String, String)> {
    let mut queues = BTreeMap::new();
    // Queues: those without a redrive policy first, then the ones that point at them.
    let mut ids = template.resources_of_type("AWS::SQS::Queue");
    ids.sort_by_key(|id| {
        !template.raw()["Resources"][id.as_str()]["Properties"]["RedrivePolicy"].is_null()
    });
    for id in ids {
        let properties = template.properties(&id).unwrap();
        let mut attributes = string_attributes(
            &properties,
            &[
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "SqsManagedSseEnabled",
                "RedrivePolicy",
            ],
        );
        if id == "ProcessingQueue" {
            attributes.insert(
                "VisibilityTimeout".into(),
                json!(VISIBILITY_IN_TEST.to_string()),
            );
        }
        let name = properties["QueueName"].as_str().unwrap();
        let url = call(
            endpoint,
            "sqs",
            "AmazonSQS.CreateQueue",
            &json!({"QueueName": name, "Attributes": attributes}),
        )
        .await["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        template.created(&id, &url, &[("Arn", &arn), ("QueueName", name)]);
        queues.insert(id, (url, arn));
    }
    queues
}

/// What the functions' settings and the routes refer to without the emulation creating it: the
/// layer (its contents are the local models directory, see [`Stack::function`]), the functions
/// (started by the test) and the HTTP API and its integrations (whose events the test sends).
fn register_unemulated(template: &mut Template) {
    // The OCR models layer: its contents are the local models directory (see `function`).
    for id in template.resources_of_type("AWS::Serverless::LayerVersion") {
        let name = template.properties(&id).unwrap()["LayerName"]
            .as_str()
            .unwrap()
            .to_owned();
        template.created(
            &id,
            &format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"),
            &[],
        );
    }
    // The functions (started by the test) and the HTTP API (whose events the test sends).
    for id in template.resources_of_type("AWS::Serverless::Function") {
        let name = template
            .property(&id, "FunctionName")
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
        template.created(&id, &name, &[("Arn", &arn)]);
    }
    for id in template.resources_of_type("AWS::ApiGatewayV2::Api") {
        template.created(&id, "e2eapi", &[]);
    }
    for id in template.resources_of_type("AWS::ApiGatewayV2::Integration") {
        template.created(&id, &format!("{id}-e2e"), &[]);
    }
}

/// Every table with its keys, indexes, stream and TTL as the template declares them; the stream's
/// ARN of the one table with a stream (the records table, whose events reach the bus).
async fn create_tables(endpoint: &str, template: &mut Template) -> String {
    let mut streams = Vec::new();
    for table_id in template.resources_of_type("AWS::DynamoDB::Table") {
        if let Some(stream_arn) = create_table(endpoint, template, &table_id).await {
            streams.push(stream_arn);
        }
    }
    assert_eq!(streams.len(), 1, "one table with a stream in the template");
    streams.remove(0)
}

/// One table with its keys, indexes, stream and TTL as the template declares them; its stream's
/// ARN when it has one.
async fn create_table(endpoint: &str, template: &mut Template, table_id: &str) -> Option<String> {
    let table = template.properties(table_id).unwrap();
    let name = table["TableName"].as_str().unwrap().to_owned();
    let mut create = json!({
        "TableName": name,
        "BillingMode": table["BillingMode"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "KeySchema": table["KeySchema"],
    });
    for optional in ["GlobalSecondaryIndexes", "DeletionProtectionEnabled"] {
        if let Some(value) = table.get(optional) {
            create[optional] = value.clone();
        }
    }
    if let Some(stream) = table.get("StreamSpecification") {
        create["StreamSpecification"] =
            json!({"StreamEnabled": true, "StreamViewType": stream["StreamViewType"]});
    }
    let described = call(
        endpoint,
        "dynamodb",
        "DynamoDB_20120810.CreateTable",
        &create,
    )
    .await;
    let table_arn = described["TableDescription"]["TableArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let stream_arn = described["TableDescription"]["LatestStreamArn"]
        .as_str()
        .map(str::to_owned);
    if let Some(ttl) = table.get("TimeToLiveSpecification") {
        call(
            endpoint,
            "dynamodb",
            "DynamoDB_20120810.UpdateTimeToLive",
            &json!({"TableName": name, "TimeToLiveSpecification": ttl}),
        )
        .await;
    }
    let stream_attr = stream_arn.clone().unwrap_or_default();
    template.created(
        table_id,
        &name,
        &[("Arn", &table_arn), ("StreamArn", &stream_attr)],
    );
    stream_arn
}

fn single(template: &Template, kind: &str) -> String {
    let ids = template.resources_of_type(kind);
    assert_eq!(ids.len(), 1, "one {kind} in the template");
    ids[0].clone()
}

async fn create_bucket(s3: &aws_sdk_s3::Client, properties: &Value, bucket: &str) {
    use aws_sdk_s3::types::{
        BucketVersioningStatus, Event, FilterRule, FilterRuleName, NotificationConfiguration,
        NotificationConfigurationFilter, PublicAccessBlockConfiguration, QueueConfiguration,
        S3KeyFilter, VersioningConfiguration,
    };
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    if properties.pointer("/VersioningConfiguration/Status") == Some(&json!("Enabled")) {
        s3.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let block = &properties["PublicAccessBlockConfiguration"];
    let flag = |name: &str| block[name].as_bool();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .set_block_public_acls(flag("BlockPublicAcls"))
                .set_block_public_policy(flag("BlockPublicPolicy"))
                .set_ignore_public_acls(flag("IgnorePublicAcls"))
                .set_restrict_public_buckets(flag("RestrictPublicBuckets"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut notifications = NotificationConfiguration::builder();
    for queue in properties
        .pointer("/NotificationConfiguration/QueueConfigurations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut rules = Vec::new();
        for rule in queue
            .pointer("/Filter/S3Key/Rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            rules.push(
                FilterRule::builder()
                    .name(FilterRuleName::from(rule["Name"].as_str().unwrap()))
                    .value(rule["Value"].as_str().unwrap())
                    .build(),
            );
        }
        notifications = notifications.queue_configurations(
            QueueConfiguration::builder()
                .queue_arn(queue["Queue"].as_str().unwrap())
                .events(Event::from(queue["Event"].as_str().unwrap()))
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(notifications.build())
        .send()
        .await
        .unwrap();
}
