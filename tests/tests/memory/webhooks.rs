//! The webhook rules over memory adapters and a manual clock: fan-out to the subscriptions that want
//! an event, retries with back-off, giving up, disabling, and the allow-list checked at every attempt.

use std::sync::Arc;
use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_domain::ServiceError as _;
use intake_domain::model::{EventKind, Owner};
use intake_domain::ports::{Clock as _, EventPublisher as _};
use intake_domain::services::JobPolicy;
use intake_memory::{ManualClock, MemoryHarness, MemoryWebhookSender, MemoryWebhookStore};
use intake_webhooks::WebhookStore as _;
use intake_webhooks::{AttemptOutcome, WebhookPolicy, Webhooks, WebhooksError};
use intake_webhooks::{DeliveryState, EventFilter, HostAllowList};

use crate::{page, process_ok, upload};

struct Rig {
    h: MemoryHarness,
    store: MemoryWebhookStore,
    sender: MemoryWebhookSender,
    clock: ManualClock,
    webhooks: Webhooks,
}

fn rig(policy: WebhookPolicy) -> Rig {
    let h = MemoryHarness::default();
    let store = MemoryWebhookStore::default();
    let sender = MemoryWebhookSender::default();
    let clock = h.clock.clone();
    let webhooks = Webhooks::new(Arc::new(store.clone()), Arc::new(sender.clone()), policy)
        .with_clock(Arc::new(clock.clone()));
    Rig {
        h,
        store,
        sender,
        clock,
        webhooks,
    }
}

fn owner() -> Owner {
    intake_domain::testkit::default_owner()
}

/// Three attempts, 10 s then 20 s apart (no jitter below half), disabled after two give-ups.
fn short_policy() -> WebhookPolicy {
    WebhookPolicy::default()
        .with_retries(
            JobPolicy::for_config(&IntakeConfig::default())
                .with_backoff(Duration::from_secs(10), Duration::from_secs(60))
                .with_max_attempts(3),
        )
        .with_disable_after(2)
}

/// Processes one upload and drains its events into deliveries.
async fn processed_and_published(r: &Rig, seed: u64) {
    let (_, key) = upload(&r.h, &format!("p{seed}.png"), &page(seed)).await;
    process_ok(&r.h, &key).await;
    r.h.intake
        .publish_events(&r.h.repository, &r.webhooks)
        .await
        .unwrap();
}

/// Attempts every due delivery; returns the outcomes.
async fn attempt_all(r: &Rig) -> Vec<AttemptOutcome> {
    let mut outcomes = Vec::new();
    while let Some(outcome) = r.webhooks.deliver_next().await.unwrap() {
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test]
async fn events_fan_out_to_the_subscriptions_that_want_them() {
    let r = rig(WebhookPolicy::default());
    let all = r
        .webhooks
        .subscribe(&owner(), "http://localhost:9/all", EventFilter::all(), None)
        .await
        .unwrap()
        .subscription;
    let failures = r
        .webhooks
        .subscribe(
            &owner(),
            "http://127.0.0.1:9/failures",
            EventFilter::of([EventKind::Failed]),
            None,
        )
        .await
        .unwrap()
        .subscription;
    let other = r
        .webhooks
        .subscribe(
            &Owner::parse("someone-else").unwrap(),
            "http://localhost:9/other",
            EventFilter::all(),
            None,
        )
        .await
        .unwrap()
        .subscription;
    processed_and_published(&r, 1).await;
    let outcomes = attempt_all(&r).await;
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, AttemptOutcome::Delivered { status: 200, .. }))
    );
    let sent = r.sender.sent();
    assert!(
        sent.iter().all(|s| s.url == "http://localhost:9/all"),
        "{sent:?}"
    );
    let kinds: Vec<EventKind> = r
        .store
        .deliveries(&all.id, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.event_kind)
        .collect();
    assert_eq!(
        kinds,
        [EventKind::Processed, EventKind::Uploaded],
        "newest first"
    );
    assert!(
        r.store
            .deliveries(&failures.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(r.store.deliveries(&other.id, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn failed_attempts_back_off_then_give_up_and_disable() {
    let r = rig(short_policy());
    let hook = r
        .webhooks
        .subscribe(
            &owner(),
            "http://localhost:9/hook",
            EventFilter::of([EventKind::Processed]),
            None,
        )
        .await
        .unwrap()
        .subscription;
    r.sender.answer(Some(500));
    processed_and_published(&r, 1).await;
    let start = r.clock.now();
    let first = attempt_all(&r).await;
    let [AttemptOutcome::Retrying { next, .. }] = first.as_slice() else {
        panic!("{first:?}")
    };
    let wait = next.duration_since(start);
    assert!(
        (Duration::from_secs(5)..=Duration::from_secs(10)).contains(&wait),
        "{wait:?}"
    );
    assert!(attempt_all(&r).await.is_empty(), "not due yet");
    r.clock.advance(Duration::from_secs(10));
    assert!(matches!(
        attempt_all(&r).await.as_slice(),
        [AttemptOutcome::Retrying { .. }]
    ));
    r.clock.advance(Duration::from_secs(20));
    let last = attempt_all(&r).await;
    assert!(
        matches!(
            last.as_slice(),
            [AttemptOutcome::GaveUp {
                disabled: false,
                ..
            }]
        ),
        "{last:?}"
    );
    let log = r.store.deliveries(&hook.id, 10).await.unwrap();
    assert_eq!(
        (log[0].state, log[0].attempts, log[0].last_status),
        (DeliveryState::Failed, 3, Some(500))
    );
    assert_eq!(r.sender.sent().len(), 3);
    let ids: std::collections::BTreeSet<_> = r.sender.sent().iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");

    // A second delivery given up on in a row disables the subscription.
    r.sender.answer(None);
    processed_and_published(&r, 2).await;
    for _ in 0..3 {
        attempt_all(&r).await;
        r.clock.advance(Duration::from_secs(60));
    }
    let disabled = r.webhooks.get(&owner(), hook.id).await.unwrap();
    assert!(disabled.disabled_at.is_some());
    assert!(
        disabled
            .disabled_reason
            .as_deref()
            .unwrap()
            .contains("2 deliveries in a row"),
        "{disabled:?}"
    );
    // Disabled: new events are not queued for it.
    r.sender.answer(Some(200));
    processed_and_published(&r, 3).await;
    assert!(attempt_all(&r).await.is_empty());
    // Enabled again: the count starts over and new events flow.
    let enabled = r.webhooks.enable(&owner(), hook.id).await.unwrap();
    assert_eq!((enabled.disabled_at, enabled.failures_in_a_row), (None, 0));
    processed_and_published(&r, 4).await;
    assert!(matches!(
        attempt_all(&r).await.as_slice(),
        [AttemptOutcome::Delivered { status: 200, .. }]
    ));
}

#[tokio::test]
async fn gone_disables_at_once_and_a_disallowed_host_is_never_called() {
    let r = rig(WebhookPolicy::default());
    let hook = r
        .webhooks
        .subscribe(
            &owner(),
            "http://localhost:9/hook",
            EventFilter::of([EventKind::Processed]),
            None,
        )
        .await
        .unwrap()
        .subscription;
    r.sender.answer(Some(410));
    processed_and_published(&r, 1).await;
    assert!(matches!(
        attempt_all(&r).await.as_slice(),
        [AttemptOutcome::GaveUp { disabled: true, .. }]
    ));
    assert!(
        r.webhooks
            .get(&owner(), hook.id)
            .await
            .unwrap()
            .disabled_at
            .is_some()
    );

    // An operator narrows the allow-list: queued deliveries to hosts no longer allowed are given up
    // on without a request.
    let r = rig(WebhookPolicy::default());
    r.webhooks
        .subscribe(
            &owner(),
            "http://localhost:9/hook",
            EventFilter::all(),
            None,
        )
        .await
        .unwrap();
    let (_, key) = upload(&r.h, "x.png", &page(5)).await;
    process_ok(&r.h, &key).await;
    r.h.intake
        .publish_events(&r.h.repository, &r.webhooks)
        .await
        .unwrap();
    let narrowed = Webhooks::new(
        Arc::new(r.store.clone()),
        Arc::new(r.sender.clone()),
        WebhookPolicy::default()
            .with_allowed_hosts(HostAllowList::parse("hooks.example.com").unwrap()),
    )
    .with_clock(Arc::new(r.clock.clone()));
    let outcome = narrowed.deliver_next().await.unwrap().unwrap();
    assert!(
        matches!(&outcome, AttemptOutcome::GaveUp { error, .. } if error.contains("not")),
        "{outcome:?}"
    );
    assert!(
        r.sender.sent().is_empty(),
        "no request to a host not allowed"
    );
    match r
        .webhooks
        .subscribe(
            &owner(),
            "http://metadata.internal/",
            EventFilter::all(),
            None,
        )
        .await
    {
        Err(e @ WebhooksError::Invalid(_)) => assert_eq!(e.code(), "WEBHOOK_HOST_NOT_ALLOWED"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn publishing_a_batch_twice_queues_each_delivery_once() {
    let r = rig(WebhookPolicy::default());
    r.webhooks
        .subscribe(
            &owner(),
            "http://localhost:9/hook",
            EventFilter::all(),
            None,
        )
        .await
        .unwrap();
    let (_, key) = upload(&r.h, "y.png", &page(6)).await;
    process_ok(&r.h, &key).await;
    // The fan-out itself is a publisher: publishing the same batch twice leaves one delivery each.
    let events = {
        use intake_domain::ports::EventOutbox as _;
        r.h.repository.pending(10).await.unwrap()
    };
    r.webhooks.publish(&events).await.unwrap();
    r.webhooks.publish(&events).await.unwrap();
    assert_eq!(attempt_all(&r).await.len(), events.len());
}
