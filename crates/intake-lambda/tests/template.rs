//! `deploy/template.yaml` stays in step with the code: its routes are the router's, its table has the
//! repository's keys, indexes and TTL attribute, and the functions get the settings they read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use intake_aws::TableSchema;
use serde_norway::Value;

fn template() -> Value {
    let path = format!("{}/../../deploy/template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<&'a Value> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some(kind))
        .collect()
}

#[test]
fn routes_are_the_routers_routes() {
    let t = template();
    let deployed: BTreeSet<String> = resources_of_type(&t, "AWS::ApiGatewayV2::Route")
        .iter()
        .map(|r| r["Properties"]["RouteKey"].as_str().unwrap().to_owned())
        .collect();
    let served: BTreeSet<String> = intake_http::ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(deployed, served);
}

#[test]
fn the_table_matches_the_repository() {
    let t = template();
    let table = &t["Resources"]["RecordsTable"]["Properties"];
    assert_eq!(
        table["KeySchema"][0]["AttributeName"].as_str(),
        Some("imageId")
    );
    let indexes: BTreeSet<(String, String)> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["IndexName"].as_str().unwrap().to_owned(),
                i["KeySchema"][0]["AttributeName"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        (TableSchema::LIST_INDEX, "listPk"),
        (TableSchema::OWNER_INDEX, "owner"),
        (TableSchema::SHA256_INDEX, "ownerSha256"),
    ]
    .iter()
    .map(|(i, k)| ((*i).to_owned(), (*k).to_owned()))
    .collect();
    assert_eq!(indexes, expected);
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(TableSchema::TTL_ATTRIBUTE)
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn functions_get_the_settings_they_read_and_the_lease_fits_the_queue() {
    let t = template();
    let vars = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    for required in ["INTAKE_BUCKET", "INTAKE_TABLE", "INTAKE_OCR_ENGINE"] {
        assert!(
            vars.contains_key(required),
            "{required} is not set for the functions"
        );
    }
    let lease: u64 = vars["INTAKE_PROCESSING_LEASE_SECONDS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let timeout = t["Resources"]["ProcessorFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = t["Resources"]["ProcessingQueue"]["Properties"]["VisibilityTimeout"]
        .as_u64()
        .unwrap();
    assert!(
        lease >= timeout,
        "the lease must outlive a running processor"
    );
    assert!(
        lease <= visibility,
        "a redelivered message must find the lease expired"
    );
    assert!(
        visibility >= 6 * timeout,
        "Lambda recommends a visibility timeout of 6x the function timeout"
    );
}

#[test]
fn ppocr_and_auto_get_the_models_layer_where_the_engine_looks() {
    let t = template();
    let engines: Vec<&str> = t["Parameters"]["OcrEngine"]["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for engine in &engines {
        assert!(
            engine.parse::<intake_aws::EngineChoice>().is_ok(),
            "the template offers {engine}, which the functions refuse"
        );
    }
    assert!(engines.contains(&"ppocr"));
    let tiers: Vec<&str> = t["Parameters"]["OcrModel"]["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for tier in tiers {
        assert!(tier.parse::<intake_ocr_onnx::ModelTier>().is_ok(), "{tier}");
    }
    let layer = &t["Resources"]["OcrModelsLayer"];
    assert_eq!(
        layer["Type"].as_str(),
        Some("AWS::Serverless::LayerVersion")
    );
    assert_eq!(layer["Condition"].as_str(), Some("UseOcrModels"));
    // The layer is attached for ppocr and for auto (which prefers PP-OCR), not for the AWS engines.
    let condition = format!("{:?}", t["Conditions"]["UseOcrModels"]);
    for engine in ["ppocr", "auto"] {
        assert!(condition.contains(&format!("{engine:?}")), "{condition}");
    }
    assert!(
        !condition.contains("rekognition") && !condition.contains("textract"),
        "{condition}"
    );
    assert_eq!(
        layer["Properties"]["CompatibleArchitectures"][0].as_str(),
        Some("arm64")
    );
    let content = layer["Properties"]["ContentUri"].as_str().unwrap();
    // Lambda extracts a layer under /opt: the Makefile fills <content>/intake-models, which the
    // functions are told to read, and which is also the engine's default in a function.
    let vars = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        vars["INTAKE_MODELS_DIR"].as_str(),
        Some(intake_lambda::LAYER_MODELS_DIR)
    );
    let folder = intake_lambda::LAYER_MODELS_DIR
        .strip_prefix("/opt/")
        .unwrap();
    let makefile =
        std::fs::read_to_string(format!("{}/../../Makefile", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let installs = format!(
        "scripts/ocr-models.sh {}/{folder}",
        content.trim_start_matches("../").trim_end_matches('/')
    );
    assert!(
        makefile.contains(&installs),
        "the Makefile does not run `{installs}`"
    );
    assert!(
        !vars["INTAKE_OCR_MODEL"].is_null(),
        "INTAKE_OCR_MODEL is not set for the functions"
    );
}

/// The branch an `!If [condition, then, else]` takes when `condition` holds, checking the condition.
fn if_true<'a>(v: &'a Value, condition: &str) -> &'a Value {
    let Value::Tagged(tagged) = v else {
        panic!("not an !If: {v:?}")
    };
    assert_eq!(tagged.tag, "If");
    assert_eq!(tagged.value[0].as_str(), Some(condition));
    &tagged.value[1]
}

#[test]
fn browsers_on_the_allowed_origins_can_use_the_api_and_the_presigned_urls() {
    let t = template();
    let param = &t["Parameters"]["CorsAllowedOrigins"];
    assert_eq!(param["Type"].as_str(), Some("CommaDelimitedList"));
    assert_eq!(param["Default"].as_str(), Some(""), "no origin by default");
    let origins_ref = |v: &Value| format!("{v:?}").contains("CorsAllowedOrigins");

    let bucket = if_true(
        &t["Resources"]["ImagesBucket"]["Properties"]["CorsConfiguration"],
        "HasCors",
    );
    let rule = &bucket["CorsRules"][0];
    assert!(origins_ref(&rule["AllowedOrigins"]));
    let list = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let methods = list(&rule["AllowedMethods"]);
    assert!(methods.iter().any(|m| m == "put") && methods.iter().any(|m| m == "get"));
    // Every header an upload URL binds is one a browser may send (content-length is the browser's own).
    let request = intake_domain::ports::PutUrlRequest::new(
        intake_domain::model::ObjectKey::parse(
            "uploads/01890a5d-ac96-774b-bcce-b302099a8057/a.png",
        )
        .unwrap(),
        intake_domain::model::ContentType::Png,
        Some(4),
        Some(intake_domain::model::Sha256Digest::of(b"body")),
        intake_domain::testkit::epoch(),
        intake_domain::model::UrlTtl::from_secs(60).unwrap(),
    );
    let allowed = list(&rule["AllowedHeaders"]);
    for header in request.required_headers().keys() {
        assert!(
            header == "content-length" || allowed.contains(header),
            "the bucket's CORS rule does not allow {header}"
        );
    }
    assert!(list(&rule["ExposedHeaders"]).contains(&"etag".to_owned()));

    let api = if_true(
        &t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"],
        "HasCors",
    );
    assert!(origins_ref(&api["AllowOrigins"]));
    assert_eq!(api["AllowCredentials"].as_bool(), Some(false));
    let headers = list(&api["AllowHeaders"]);
    for needed in ["authorization", "content-type"] {
        assert!(headers.contains(&needed.to_owned()), "{needed}");
    }
    let methods = list(&api["AllowMethods"]);
    for needed in ["post", "get", "delete"] {
        assert!(methods.contains(&needed.to_owned()), "{needed}");
    }
    assert!(list(&api["ExposeHeaders"]).contains(&intake_http::REQUEST_ID.to_owned()));
}

#[test]
fn the_processor_has_as_many_instances_reserved_as_its_queue_may_drive_and_may_put_off_retries() {
    let t = template();
    let processor = &t["Resources"]["ProcessorFunction"]["Properties"];
    let reserved = &processor["ReservedConcurrentExecutions"];
    let maximum =
        &processor["Events"]["Uploads"]["Properties"]["ScalingConfig"]["MaximumConcurrency"];
    // The same parameter (or, written as numbers, at least as many reserved).
    match (reserved.as_u64(), maximum.as_u64()) {
        (Some(r), Some(m)) => assert!(r >= m, "reserved {r} < maximum {m}"),
        _ => assert_eq!(
            format!("{reserved:?}"),
            format!("{maximum:?}"),
            "reserved concurrency must be at least the event source's maximum concurrency"
        ),
    }
    let statements = processor["Policies"][0]["Statement"].as_sequence().unwrap();
    let queue = statements
        .iter()
        .find(|s| s["Sid"].as_str() == Some("Queue"))
        .expect("the queue statement");
    let actions: Vec<&str> = queue["Action"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in ["sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"] {
        assert!(actions.contains(&needed), "{needed} is not allowed");
    }
}

#[test]
fn the_processor_takes_only_its_queue_and_the_events_function_the_stream_and_the_schedule() {
    let t = template();
    let resources = &t["Resources"];
    let events_of = |function: &str| -> Vec<String> {
        resources[function]["Properties"]["Events"]
            .as_mapping()
            .map(|m| {
                m.values()
                    .filter_map(|e| e["Type"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // The processor's reservation is exactly its queue's maximum: nothing else may drive it.
    assert_eq!(events_of("ProcessorFunction"), ["SQS"]);
    assert_eq!(events_of("EventsFunction"), ["DynamoDB"]);
    assert_eq!(
        resources["RecordsTable"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    // Intrinsic functions (`!GetAtt`, `!Ref`) are tagged values: compared by what they name.
    let names = |value: &Value, name: &str| format!("{value:?}").contains(name);
    assert!(names(
        &resources["RetentionSchedule"]["Properties"]["Targets"][0]["Arn"],
        "EventsFunction.Arn"
    ));
    let events = &resources["EventsFunction"]["Properties"];
    assert!(names(
        &events["Environment"]["Variables"]["INTAKE_EVENT_BUS"],
        "EventBus"
    ));
    let publish = events["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["Sid"].as_str() == Some("PublishEvents"))
        .expect("the events function may publish");
    assert_eq!(publish["Action"], "events:PutEvents");
    assert!(names(&publish["Resource"], "EventBus.Arn"));
}

#[test]
fn the_processor_may_run_textract_jobs_for_documents_of_several_pages() {
    let t = template();
    let ocr = t["Resources"]["ProcessorFunction"]["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["Sid"].as_str() == Some("Ocr"))
        .expect("the processor may call the OCR services");
    let actions: Vec<&str> = ocr["Action"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for action in [
        "rekognition:DetectText",
        "textract:DetectDocumentText",
        "textract:StartDocumentTextDetection",
        "textract:GetDocumentTextDetection",
    ] {
        assert!(
            actions.contains(&action),
            "{action} is missing: {actions:?}"
        );
    }
    // The layer says what it holds: the PDF reader's library too.
    let layer = t["Resources"]["OcrModelsLayer"]["Properties"]["Description"]
        .as_str()
        .unwrap();
    assert!(layer.contains("PDFium"), "{layer}");
}

#[test]
fn the_fingerprint_table_is_the_index_s_and_only_its_users_may_touch_it() {
    let t = template();
    let table = &t["Resources"]["FingerprintsTable"]["Properties"];
    assert_eq!(table["KeySchema"][0]["AttributeName"].as_str(), Some("pk"));
    assert_eq!(table["KeySchema"].as_sequence().map(Vec::len), Some(1));
    assert!(
        table.get("StreamSpecification").is_none(),
        "its writes stay off the records' stream"
    );
    let vars = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        format!("{:?}", vars["INTAKE_FINGERPRINT_TABLE"]).contains("FingerprintsTable"),
        "the functions are told the table: {:?}",
        vars["INTAKE_FINGERPRINT_TABLE"]
    );
    // What each function may do on it: the processor looks up and keeps, the API looks up and
    // forgets, the events function (retention) forgets.
    let actions = |function: &str| -> BTreeSet<String> {
        t["Resources"][function]["Properties"]["Policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
            .filter(|s| s["Sid"].as_str() == Some("Fingerprints"))
            .flat_map(|s| s["Action"].as_sequence().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect()
    };
    let set = |names: &[&str]| -> BTreeSet<String> {
        names.iter().map(|n| format!("dynamodb:{n}")).collect()
    };
    assert_eq!(
        actions("ProcessorFunction"),
        set(&[
            "GetItem",
            "BatchGetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem"
        ])
    );
    assert_eq!(
        actions("ApiFunction"),
        set(&["GetItem", "BatchGetItem", "UpdateItem", "DeleteItem"])
    );
    assert_eq!(
        actions("EventsFunction"),
        set(&["GetItem", "UpdateItem", "DeleteItem"])
    );
}
