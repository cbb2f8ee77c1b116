//! The `WebhookStore` contract (feature `testkit`): every adapter of the port runs the whole suite.
#![allow(
    clippy::missing_panics_doc,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::time::Duration;

use futures::future::join_all;

use intake_domain::model::{
    EventKind, EventLinks, ImageEvent, Measurements, Owner, RejectionCode, Timestamp,
};
use intake_domain::testkit::{LEASE, epoch, id_at, owner, record};

use crate::model::{
    DeliveryReport, DeliveryState, EventFilter, WebhookId, WebhookSecret, WebhookSubscription,
    WebhookUrl,
};
use crate::ports::{WebhookStore, WebhookStoreError};

/// Runs every check, each on a fresh (empty) store from `make`.
pub async fn run_suite<S, F, Fut>(make: F)
where
    S: WebhookStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    subscriptions_round_trip(&make().await).await;
    deliveries_are_queued_once_per_pair(&make().await).await;
    leases_are_exclusive_until_they_end(&make().await).await;
    reports_move_deliveries_and_count_failures(&make().await).await;
    disabling_and_removing(&make().await).await;
    concurrent_leases_never_share_a_delivery(&make().await).await;
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(epoch().unix_millis() + ms).expect("valid")
}

/// A subscription of `who` to `url`'s events.
pub fn subscription(who: &Owner, url: &str, created_ms: i64) -> WebhookSubscription {
    WebhookSubscription::new(
        who.clone(),
        WebhookUrl::parse(url).expect("url"),
        EventFilter::of([EventKind::Processed, EventKind::Failed]),
        WebhookSecret::generate().expect("secret"),
        Some("conformance"),
        at(created_ms),
    )
    .expect("subscription")
}

/// An event of `n`'s image (owned by the suites' default owner).
fn event(n: u64) -> ImageEvent {
    let first = record(id_at(i64::try_from(n).expect("small"), n));
    let claimed = first.claim(epoch(), LEASE).expect("claim");
    let measured = Measurements {
        size_bytes: Some(10),
        ..Measurements::default()
    };
    let done = claimed
        .reject(epoch(), &measured, RejectionCode::Corrupt, "a test")
        .expect("reject");
    ImageEvent::changes(&claimed, &done, EventLinks::NONE)
        .pop()
        .expect("a rejection event")
}

/// Subscriptions are stored whole, listed per owner oldest first, refused twice, removed once.
pub async fn subscriptions_round_trip(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let first = subscription(&a, "http://localhost:9/one", 1);
    let second = subscription(&a, "https://localhost/two?x=1", 2);
    let other = subscription(&owner("owner-b"), "http://127.0.0.1:9/", 3);
    for s in [&first, &second, &other] {
        store.add(s).await.expect("add");
    }
    match store.add(&first).await {
        Err(WebhookStoreError::AlreadyExists { id }) => assert_eq!(id, first.id),
        other => panic!("a taken id must be refused, got {other:?}"),
    }
    assert_eq!(
        store.get(&first.id).await.expect("get"),
        Some(first.clone())
    );
    assert_eq!(
        store.list(&a).await.expect("list"),
        vec![first.clone(), second.clone()],
        "an owner's own, oldest first, every field kept (the secret too)"
    );
    assert!(store.remove(&second.id).await.expect("remove"));
    assert!(!store.remove(&second.id).await.expect("remove again"));
    assert_eq!(store.get(&second.id).await.expect("get"), None);
    assert_eq!(store.list(&a).await.expect("list"), vec![first]);
    assert_eq!(
        store.get(&WebhookId::generate(epoch())).await.expect("get"),
        None
    );
}

/// Queuing an event again for the same subscription leaves one delivery; each subscription gets
/// its own; the leased job carries the subscription's URL and secret and the event's document.
pub async fn deliveries_are_queued_once_per_pair(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let one = subscription(&a, "http://localhost:9/one", 1);
    let two = subscription(&a, "http://localhost:9/two", 2);
    store.add(&one).await.expect("add");
    store.add(&two).await.expect("add");
    let e = event(1);
    store.enqueue(&e, &[one.id], at(10)).await.expect("enqueue");
    store
        .enqueue(&e, &[one.id, two.id], at(20))
        .await
        .expect("enqueue again");
    store
        .enqueue(&e, &[], at(20))
        .await
        .expect("enqueue to none");
    store
        .enqueue(&e, &[WebhookId::generate(epoch())], at(20))
        .await
        .expect("enqueue to a subscription that does not exist");
    let first = store
        .lease(at(30), Duration::from_secs(60))
        .await
        .expect("lease")
        .expect("due");
    assert_eq!(
        (first.webhook_id, first.event_id, first.attempts),
        (one.id, e.id(), 1)
    );
    assert_eq!(first.url, one.url);
    assert_eq!(first.secret, one.secret);
    assert_eq!(first.body, e.body());
    assert_eq!(first.owner, a);
    let second = store
        .lease(at(30), Duration::from_secs(60))
        .await
        .expect("lease")
        .expect("due");
    assert_eq!(second.webhook_id, two.id);
    assert!(
        store
            .lease(at(30), Duration::from_secs(60))
            .await
            .expect("lease")
            .is_none(),
        "two deliveries, not three"
    );
    let log = store.deliveries(&one.id, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].event_id,
            log[0].event_kind,
            log[0].state,
            log[0].attempts
        ),
        (e.id(), e.kind(), DeliveryState::Pending, 1)
    );
}

/// A leased delivery is not leased again until its lease ends or is released; a report with a lost
/// lease is refused; `next_due` says when to look again.
pub async fn leases_are_exclusive_until_they_end(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let s = subscription(&a, "http://localhost:9/", 1);
    store.add(&s).await.expect("add");
    assert_eq!(store.next_due().await.expect("next due"), None);
    store
        .enqueue(&event(1), &[s.id], at(100))
        .await
        .expect("enqueue");
    assert_eq!(store.next_due().await.expect("next due"), Some(at(100)));
    assert!(
        store
            .lease(at(99), Duration::from_secs(1))
            .await
            .expect("lease")
            .is_none(),
        "not due yet"
    );
    let held = store
        .lease(at(100), Duration::from_secs(1))
        .await
        .expect("lease")
        .expect("due");
    assert_eq!(store.next_due().await.expect("next due"), Some(at(1100)));
    assert!(
        store
            .lease(at(500), Duration::from_secs(1))
            .await
            .expect("lease")
            .is_none(),
        "held"
    );
    let taken = store
        .lease(at(1100), Duration::from_secs(1))
        .await
        .expect("lease")
        .expect("the lease ended");
    assert_eq!(taken.attempts, 2);
    match store
        .report(
            &held,
            &DeliveryReport::Delivered {
                at: at(1200),
                status: 200,
            },
        )
        .await
    {
        Err(WebhookStoreError::LeaseLost { .. }) => {}
        other => panic!("a lost lease's report must be refused, got {other:?}"),
    }
    assert_eq!(store.release_all().await.expect("release"), 1);
    let again = store
        .lease(at(1200), Duration::from_secs(1))
        .await
        .expect("lease")
        .expect("released");
    assert_eq!(again.attempts, 3);
}

/// A delivery is done on `Delivered`, waits on `Retry`, and is failed on `GiveUp`; the count of
/// give-ups in a row grows and a delivery resets it; the log shows the latest state, newest first.
pub async fn reports_move_deliveries_and_count_failures(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let s = subscription(&a, "http://localhost:9/", 1);
    store.add(&s).await.expect("add");
    let lease = Duration::from_secs(60);
    for n in 1..=3 {
        store
            .enqueue(&event(n), &[s.id], at(i64::try_from(n).expect("small")))
            .await
            .expect("enqueue");
    }
    let job = store
        .lease(at(10), lease)
        .await
        .expect("lease")
        .expect("due");
    let retry = DeliveryReport::Retry {
        at: at(10),
        status: Some(503),
        error: "the receiver answered 503".into(),
        next: at(5000),
    };
    assert_eq!(store.report(&job, &retry).await.expect("report"), 0);
    let give_up = |at_ms| DeliveryReport::GiveUp {
        at: at(at_ms),
        status: None,
        error: "connection refused".into(),
    };
    let second = store
        .lease(at(20), lease)
        .await
        .expect("lease")
        .expect("due");
    assert_eq!(
        store.report(&second, &give_up(20)).await.expect("report"),
        1
    );
    let third = store
        .lease(at(30), lease)
        .await
        .expect("lease")
        .expect("due");
    assert_eq!(store.report(&third, &give_up(30)).await.expect("report"), 2);
    assert!(
        store.lease(at(4999), lease).await.expect("lease").is_none(),
        "the retried one waits for its time; the failed ones are done"
    );
    assert_eq!(store.next_due().await.expect("next due"), Some(at(5000)));
    let again = store
        .lease(at(5000), lease)
        .await
        .expect("lease")
        .expect("due");
    assert_eq!((again.event_id, again.attempts), (job.event_id, 2));
    assert_eq!(
        store
            .report(
                &again,
                &DeliveryReport::Delivered {
                    at: at(5001),
                    status: 204
                }
            )
            .await
            .expect("report"),
        0,
        "a delivery resets the count"
    );
    assert_eq!(store.next_due().await.expect("next due"), None);
    let log = store.deliveries(&s.id, 10).await.expect("log");
    let states: Vec<(intake_domain::model::EventId, DeliveryState)> =
        log.iter().map(|d| (d.event_id, d.state)).collect();
    assert_eq!(
        states,
        vec![
            (third.event_id, DeliveryState::Failed),
            (second.event_id, DeliveryState::Failed),
            (job.event_id, DeliveryState::Delivered),
        ],
        "newest first"
    );
    assert_eq!(log[2].last_status, Some(204));
    assert_eq!(log[2].attempts, 2);
    assert_eq!(log[0].last_error.as_deref(), Some("connection refused"));
    assert_eq!(log[0].last_attempt_at, Some(at(30)));
    assert_eq!(store.deliveries(&s.id, 1).await.expect("log").len(), 1);
}

/// Disabling records when and why and enabling clears it (and the count); removing a subscription
/// drops its deliveries.
pub async fn disabling_and_removing(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let s = subscription(&a, "http://localhost:9/", 1);
    store.add(&s).await.expect("add");
    assert!(
        store
            .set_disabled(&s.id, Some((at(50), "too many failures".into())))
            .await
            .expect("disable")
    );
    let disabled = store.get(&s.id).await.expect("get").expect("there");
    assert_eq!(disabled.disabled_at, Some(at(50)));
    assert_eq!(
        disabled.disabled_reason.as_deref(),
        Some("too many failures")
    );
    assert!(store.set_disabled(&s.id, None).await.expect("enable"));
    let enabled = store.get(&s.id).await.expect("get").expect("there");
    assert_eq!((enabled.disabled_at, enabled.failures_in_a_row), (None, 0));
    assert!(
        !store
            .set_disabled(&WebhookId::generate(epoch()), None)
            .await
            .expect("unknown")
    );
    store
        .enqueue(&event(1), &[s.id], at(60))
        .await
        .expect("enqueue");
    let kept = subscription(&a, "http://localhost:9/kept", 2);
    store.add(&kept).await.expect("add");
    store
        .enqueue(&event(2), &[kept.id], at(61))
        .await
        .expect("enqueue");
    assert!(store.remove(&s.id).await.expect("remove"));
    let next = store
        .lease(at(61), Duration::from_secs(1))
        .await
        .expect("lease")
        .expect("the other subscription's delivery");
    assert_eq!(
        next.webhook_id, kept.id,
        "the removed one's delivery is gone, not in the way"
    );
    assert!(store.deliveries(&s.id, 10).await.expect("log").is_empty());
}

/// Workers leasing at once never get the same delivery.
pub async fn concurrent_leases_never_share_a_delivery(store: &impl WebhookStore) {
    let a = owner("owner-a");
    let s = subscription(&a, "http://localhost:9/", 1);
    store.add(&s).await.expect("add");
    for n in 1..=6 {
        store
            .enqueue(&event(n), &[s.id], at(1))
            .await
            .expect("enqueue");
    }
    let leases = (0..10).map(|_| store.lease(at(2), Duration::from_secs(60)));
    let mut got: Vec<_> = join_all(leases)
        .await
        .into_iter()
        .filter_map(|r| r.expect("lease"))
        .map(|job| job.event_id)
        .collect();
    assert_eq!(got.len(), 6);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 6, "no delivery leased twice");
}
