//! Webhooks end to end: a receiver on 127.0.0.1 verifies every request's Standard Webhooks signature
//! and keeps what it got; the server delivers each event of an owner's images to their subscriptions,
//! logs the deliveries, refuses URLs outside its allow-list, and after a SIGKILL with deliveries
//! pending delivers every event at least once, inventing none, a duplicate carrying its first
//! delivery's `webhook-id`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use intake_signing::webhook::{DEFAULT_TOLERANCE, headers, verify};
use intake_webhooks::WebhookSecret;
use serde_json::{Value, json};

use super::crash::ChildServer;
use super::{client_with_key, prerequisites, spawn_app, text_png};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    body: Value,
    signed: bool,
}

#[derive(Default)]
struct ReceiverState {
    secret: Option<WebhookSecret>,
    /// The status it answers (204 unless told otherwise).
    answer: Option<StatusCode>,
    got: Vec<Received>,
}

/// A webhook receiver on 127.0.0.1 with an ephemeral port, stopped when dropped.
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Self {
        let state: Arc<Mutex<ReceiverState>> = Arc::default();
        let shared = Arc::clone(&state);
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = Arc::clone(&shared);
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let mut state = state.lock().unwrap();
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let signed = state.secret.as_ref().is_some_and(|secret| {
                        verify(
                            secret,
                            &header(headers::ID),
                            &header(headers::TIMESTAMP),
                            &header(headers::SIGNATURE),
                            &body,
                            i64::try_from(now).unwrap(),
                            DEFAULT_TOLERANCE,
                        )
                        .is_ok()
                    });
                    state.got.push(Received {
                        id: header(headers::ID),
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        signed,
                    });
                    state.answer.unwrap_or(StatusCode::NO_CONTENT)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, task }
    }

    fn trust(&self, secret: &str) {
        self.state.lock().unwrap().secret = Some(WebhookSecret::parse(secret).unwrap());
    }

    fn answer(&self, status: StatusCode) {
        self.state.lock().unwrap().answer = Some(status);
    }

    fn got(&self) -> Vec<Received> {
        self.state.lock().unwrap().got.clone()
    }

    /// Waits until `done` holds for what was received, for up to `timeout`.
    async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.got();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver still lacks deliveries: {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// (image id, event type) of each request received.
fn changes(got: &[Received]) -> BTreeSet<(String, String)> {
    got.iter()
        .map(|r| {
            (
                r.body["data"]["image"]["imageId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                r.body["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn subscribe(http: &reqwest::Client, api: &str, body: &Value) -> (u16, Value) {
    let response = http
        .post(format!("{api}/webhooks"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn events_are_signed_delivered_and_logged_to_their_owner_only() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let (status, created) = subscribe(
        &app.http,
        &app.url,
        &json!({"url": receiver.url, "events": ["image.uploaded", "image.processed"], "description": "ledger"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    receiver.trust(secret);
    let webhook = created["webhookId"].as_str().unwrap().to_owned();
    assert_eq!(
        created["events"],
        json!(["image.uploaded", "image.processed"])
    );

    let (_, listed) = app.get_json("/webhooks").await;
    assert_eq!(listed["webhooks"][0]["webhookId"], webhook.as_str());
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "the secret is shown once"
    );

    // Another owner subscribes the same receiver to every event: none of this owner's may reach it.
    let other = app
        .server
        .keys()
        .create(
            intake_domain::model::Owner::parse("other").unwrap(),
            "other",
            false,
        )
        .await
        .unwrap();
    let stranger = client_with_key(&other.secret.expose());
    let (status, _) = subscribe(&stranger, &app.url, &json!({"url": receiver.url})).await;
    assert_eq!(status, 201);

    let png = text_png(&font, &["INVOICE 2231"]);
    let id = app.upload("invoice.png", &png).await;
    app.wait_terminal(&id).await;
    let got = receiver
        .wait_for(Duration::from_secs(30), |got| got.len() >= 2)
        .await;
    assert!(
        got.iter().all(|r| r.signed),
        "every request is signed: {got:#?}"
    );
    assert_eq!(
        changes(&got),
        BTreeSet::from([
            (id.clone(), "image.uploaded".to_owned()),
            (id.clone(), "image.processed".to_owned()),
        ])
    );
    for r in &got {
        assert_eq!(r.body["id"], r.id.as_str(), "webhook-id is the event id");
        assert_eq!(r.body["schemaVersion"], 1);
        assert_eq!(r.body["data"]["links"]["image"], format!("/images/{id}"));
        assert!(r.body["data"]["image"].get("ocrText").is_none());
    }
    let processed = got
        .iter()
        .find(|r| r.body["type"] == "image.processed")
        .unwrap();
    assert_eq!(processed.body["data"]["image"]["status"], "PROCESSED");

    // Deleting reports image.deleted, which this subscription did not ask for.
    let deleted = app
        .http
        .delete(app.api(&format!("/images/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let (status, log) = app
        .get_json(&format!("/webhooks/{webhook}/deliveries"))
        .await;
    assert_eq!(status, 200);
    let log = log["deliveries"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:#?}");
    for delivery in log {
        assert_eq!(delivery["state"], "DELIVERED");
        assert_eq!(delivery["lastStatus"], 204);
        assert_eq!(delivery["attempts"], 1);
    }

    // Only where the operator allows, only http(s), only known events.
    for (body, code) in [
        (
            json!({"url": "http://169.254.169.254/latest/meta-data/"}),
            "WEBHOOK_HOST_NOT_ALLOWED",
        ),
        (
            json!({"url": "http://10.0.0.7:8080/hook"}),
            "WEBHOOK_HOST_NOT_ALLOWED",
        ),
        (
            json!({"url": "http://localhost.evil.example/hook"}),
            "WEBHOOK_HOST_NOT_ALLOWED",
        ),
        (json!({"url": "file:///etc/passwd"}), "INVALID_WEBHOOK_URL"),
        (
            json!({"url": "http://user:pw@localhost/hook"}),
            "INVALID_WEBHOOK_URL",
        ),
        (
            json!({"url": receiver.url, "events": ["image.exploded"]}),
            "INVALID_EVENT_TYPE",
        ),
    ] {
        let (status, error) = subscribe(&app.http, &app.url, &body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let (status, error) = subscribe(
        &app.http,
        &app.url,
        &json!({"url": receiver.url, "extra": 1}),
    )
    .await;
    assert_eq!(status, 422, "{error}");

    // Another owner neither sees nor removes it.
    for request in [
        stranger.get(app.api(&format!("/webhooks/{webhook}"))),
        stranger.delete(app.api(&format!("/webhooks/{webhook}"))),
        stranger.get(app.api(&format!("/webhooks/{webhook}/deliveries"))),
    ] {
        assert_eq!(request.send().await.unwrap().status(), 404);
    }
    let theirs: Value = stranger
        .get(app.api("/webhooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs["webhooks"].as_array().unwrap().len(),
        1,
        "only their own"
    );
    assert_eq!(
        app.http
            .get(app.api("/webhooks/not-an-id"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    let removed = app
        .http
        .delete(app.api(&format!("/webhooks/{webhook}")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let (status, _) = app.get_json(&format!("/webhooks/{webhook}")).await;
    assert_eq!(status, 404);
    // Long enough for the outbox to be drained (it is looked at every 200 ms) and the deletion's
    // event to be fanned out, had anyone subscribed to it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.got().len(),
        2,
        "nothing else was sent: not image.deleted to this subscription, nothing to the other owner's"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_killed_server_delivers_every_event_at_least_once_after_restart() {
    let Some(font) = prerequisites() else { return };
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    // The receiver takes each request but answers 503: deliveries stay pending and are retried,
    // so some arrive twice.
    receiver.answer(StatusCode::SERVICE_UNAVAILABLE);
    let first = ChildServer::start(dir.path());
    let http = client_with_key(&super::admin_key(dir.path()));
    let (status, created) = subscribe(&http, &first.url, &json!({"url": receiver.url})).await;
    assert_eq!(status, 201, "{created}");
    receiver.trust(created["secret"].as_str().unwrap());
    let mut ids = Vec::new();
    for n in 0..4 {
        let png = text_png(&font, &[&format!("CHEQUE {}", 7000 + n)]);
        let ticket = super::request_ticket(&http, &first.url, &format!("c{n}.png"), &png).await;
        assert_eq!(super::put_ticket(&http, &ticket, &png).await.status(), 200);
        ids.push(ticket["imageId"].as_str().unwrap().to_owned());
    }
    // At least one attempt has reached the receiver (and failed) before the kill.
    receiver
        .wait_for(Duration::from_secs(60), |got| !got.is_empty())
        .await;
    first.kill();

    receiver.answer(StatusCode::NO_CONTENT);
    let second = ChildServer::start(dir.path());
    let expected: BTreeSet<(String, String)> = ids
        .iter()
        .flat_map(|id| {
            [
                (id.clone(), "image.uploaded".to_owned()),
                (id.clone(), "image.processed".to_owned()),
            ]
        })
        .collect();
    for id in &ids {
        let record = super::wait_terminal(&http, &second.url, id, Duration::from_secs(120)).await;
        assert_eq!(record["status"], "PROCESSED");
    }
    // Retries after the restart come at most a back-off (10 s, then 20 s) after the last attempt.
    let got = receiver
        .wait_for(Duration::from_secs(90), |got| changes(got) == expected)
        .await;
    assert!(got.iter().all(|r| r.signed), "every request is signed");
    // None invented: one event id per change, and every change is one of these images'.
    let mut ids_of: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in &got {
        let change = changes(std::slice::from_ref(r)).pop_first().unwrap();
        assert!(expected.contains(&change), "an invented event: {r:#?}");
        ids_of.entry(change).or_default().insert(r.id.clone());
    }
    for (change, event_ids) in &ids_of {
        assert_eq!(
            event_ids.len(),
            1,
            "{change:?} arrived under several ids: {event_ids:?}"
        );
    }
    // A duplicate is the same message: same id, same body.
    let mut bodies: BTreeMap<&str, &Value> = BTreeMap::new();
    for r in &got {
        let first = bodies.entry(&r.id).or_insert(&r.body);
        assert_eq!(*first, &r.body, "a redelivery of {} differs", r.id);
    }
    // Wait until the deliveries are recorded as delivered, then check the log agrees.
    let webhook = created["webhookId"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log: Value = http
            .get(format!(
                "{}/webhooks/{webhook}/deliveries?limit=100",
                second.url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let log = log["deliveries"].as_array().unwrap().clone();
        if log.len() == expected.len() && log.iter().all(|d| d["state"] == "DELIVERED") {
            break;
        }
        assert!(Instant::now() < deadline, "the log disagrees: {log:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill();
}
