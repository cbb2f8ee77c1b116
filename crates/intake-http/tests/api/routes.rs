//! The route table against `openapi.yaml` and the router.

use super::*;

#[test]
fn the_route_table_and_openapi_yaml_agree() {
    let spec: Value = serde_norway::from_str(include_str!("../../openapi.yaml")).unwrap();
    assert_eq!(spec["openapi"].as_str().unwrap(), "3.1.0");
    let mut documented = BTreeSet::new();
    let mut local_only = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
                if item["x-local-only"] == true {
                    local_only.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    let pairs = |routes: &[intake_http::Route]| -> BTreeSet<(String, String)> {
        routes
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect()
    };
    let shared = pairs(&ROUTES);
    let mut local = pairs(&intake_http::WEBHOOK_ROUTES);
    local.extend(pairs(&intake_http::JOB_ROUTES));
    local.extend(pairs(&intake_http::KEY_ROUTES));
    local.extend(pairs(&[intake_http::METRICS_ROUTE]));
    assert_eq!(
        documented,
        shared.union(&local).cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        local_only, local,
        "the local server's routes are x-local-only"
    );
    assert!(
        spec["security"].as_array().is_some_and(|s| !s.is_empty()),
        "no global security"
    );
    for route in ROUTES
        .iter()
        .chain(intake_http::WEBHOOK_ROUTES.iter())
        .chain(intake_http::JOB_ROUTES.iter())
        .chain(intake_http::KEY_ROUTES.iter())
        .chain([&intake_http::METRICS_ROUTE])
    {
        let operation = &spec["paths"][route.path][route.method.to_lowercase()];
        let public = operation["security"].as_array().is_some_and(Vec::is_empty);
        assert_eq!(
            public, !route.authenticated,
            "{} {}: security differs",
            route.method, route.path
        );
        if route.authenticated {
            assert!(
                operation["responses"].get("401").is_some(),
                "{} {} does not document 401",
                route.method,
                route.path
            );
        }
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let h = MemoryHarness::default();
    let id = intake_domain::testkit::id_at(0, 1).to_string();
    for route in ROUTES.iter() {
        let uri = route.path.replace("{imageId}", &id);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let body = (method == Method::POST).then(|| {
            (
                "application/json",
                r#"{"filename":"a.png","contentType":"image/png"}"#.to_owned(),
            )
        });
        let reply = call(&h, method, &uri, body).await;
        assert!(
            reply.body["error"]["code"] != "ROUTE_NOT_FOUND"
                && reply.body["error"]["code"] != "METHOD_NOT_ALLOWED",
            "{} {} is in the table but not served",
            route.method,
            route.path
        );
    }
}
