//! The `EventOutbox` contract (with the repository whose writes fill it) and the `EventPublisher`
//! contract.

use std::future::Future;
use std::pin::Pin;

use futures::future::join_all;

use super::{LEASE, epoch, id_at, record};
use crate::model::{
    EventId, EventKind, EventLinks, FailureCode, ImageEvent, ImageRecord, Measurements, OcrResult,
    RejectionCode,
};
use crate::ports::{EventOutbox, EventPublisher, ImageRepository, RepoError};

/// Runs every outbox check, each on a fresh (empty) repository from `make`.
pub async fn run_outbox_suite<R, F, Fut>(make: F)
where
    R: ImageRepository + EventOutbox,
    F: Fn() -> Fut,
    Fut: Future<Output = R>,
{
    events_wait_in_commit_order(&make().await).await;
    refused_writes_commit_no_event(&make().await).await;
    acknowledged_events_leave_once(&make().await).await;
    racing_writers_commit_one_set_of_events(&make().await).await;
}

/// What a first run measured of the bytes.
fn measured() -> Measurements {
    Measurements {
        size_bytes: Some(1234),
        ..Measurements::default()
    }
}

/// A record created and claimed (a write that reports nothing), then processed: that write commits
/// `image.uploaded` and `image.processed`. Returns the processed record and its events.
async fn processed(
    repo: &(impl ImageRepository + EventOutbox),
    n: u64,
) -> (ImageRecord, Vec<ImageEvent>) {
    let first = record(id_at(i64::try_from(n).expect("small"), n));
    repo.create(&first).await.expect("create");
    let claimed = first.claim(epoch(), LEASE).expect("claim");
    let none = ImageEvent::changes(&first, &claimed, EventLinks::NONE);
    assert!(none.is_empty(), "a claim reports nothing: {none:?}");
    repo.replace(&claimed, first.version(), &none)
        .await
        .expect("claim");
    let empty = OcrResult::new("conformance-engine", Vec::new(), false).expect("result");
    let done = claimed
        .complete(epoch(), &measured(), &empty)
        .expect("complete");
    let events = ImageEvent::changes(&claimed, &done, EventLinks::NONE);
    assert_eq!(
        events.iter().map(ImageEvent::kind).collect::<Vec<_>>(),
        [EventKind::Uploaded, EventKind::Processed]
    );
    repo.replace(&done, claimed.version(), &events)
        .await
        .expect("complete");
    (done, events)
}

fn ids(events: &[ImageEvent]) -> Vec<EventId> {
    events.iter().map(ImageEvent::id).collect()
}

/// Events wait in the order their writes committed, exactly as they were made (id, type, time,
/// owner, image and document), and `limit` bounds a read.
pub async fn events_wait_in_commit_order(repo: &(impl ImageRepository + EventOutbox)) {
    assert!(repo.pending(10).await.expect("pending").is_empty());
    let (_, first) = processed(repo, 1).await;
    let (_, second) = processed(repo, 2).await;
    let all: Vec<ImageEvent> = first.iter().chain(&second).cloned().collect();
    let pending = repo.pending(10).await.expect("pending");
    assert_eq!(
        pending, all,
        "every field of every event survives, in commit order"
    );
    assert_eq!(
        ids(&repo.pending(2).await.expect("pending")),
        ids(&first),
        "the limit takes the oldest"
    );
    let document: serde_json::Value =
        serde_json::from_str(pending[1].body()).expect("the document is JSON");
    assert_eq!(document["type"], "image.processed");
    assert_eq!(document["data"]["image"]["status"], "PROCESSED");
}

/// A write refused for its version, or for a missing record, commits none of its events.
pub async fn refused_writes_commit_no_event(repo: &(impl ImageRepository + EventOutbox)) {
    let (_, committed) = processed(repo, 1).await;
    let other = record(id_at(2, 2));
    repo.create(&other).await.expect("create");
    let claimed = other.claim(epoch(), LEASE).expect("claim");
    let stale = claimed
        .fail(
            epoch(),
            Some(&measured()),
            FailureCode::OcrError,
            "a stale writer",
        )
        .expect("fail");
    let events = ImageEvent::changes(&claimed, &stale, EventLinks::NONE);
    assert_eq!(events.len(), 2);
    match repo.replace(&stale, claimed.version(), &events).await {
        Err(RepoError::Precondition { .. }) => {}
        other => panic!("a stale version must be refused, got {other:?}"),
    }
    let ghost_first = record(id_at(9, 9));
    let ghost = ghost_first
        .claim(epoch(), LEASE)
        .expect("claim")
        .fail(epoch(), Some(&measured()), FailureCode::OcrError, "a ghost")
        .expect("fail");
    let ghost_events = ImageEvent::changes(&ghost_first, &ghost, EventLinks::NONE);
    match repo.replace(&ghost, 2, &ghost_events).await {
        Err(RepoError::NotFound { .. }) => {}
        other => panic!("a missing record must be NotFound, got {other:?}"),
    }
    assert_eq!(
        ids(&repo.pending(10).await.expect("pending")),
        ids(&committed),
        "only the committed write's events wait"
    );
}

/// Acknowledged events leave the outbox; acknowledging again, or an id never committed, is
/// harmless; the others stay.
pub async fn acknowledged_events_leave_once(repo: &(impl ImageRepository + EventOutbox)) {
    let (_, first) = processed(repo, 1).await;
    let (_, second) = processed(repo, 2).await;
    repo.acknowledge(&[first[0].id(), second[1].id()])
        .await
        .expect("acknowledge");
    let waiting = vec![first[1].id(), second[0].id()];
    assert_eq!(ids(&repo.pending(10).await.expect("pending")), waiting);
    repo.acknowledge(&[first[0].id(), EventId::generate(epoch())])
        .await
        .expect("acknowledging again is harmless");
    repo.acknowledge(&[]).await.expect("nothing to acknowledge");
    assert_eq!(ids(&repo.pending(10).await.expect("pending")), waiting);
    repo.acknowledge(&waiting).await.expect("acknowledge");
    assert!(repo.pending(10).await.expect("pending").is_empty());
}

/// Of writers racing on one version, only the winner's events are committed.
pub async fn racing_writers_commit_one_set_of_events(repo: &(impl ImageRepository + EventOutbox)) {
    let first = record(id_at(1, 1));
    repo.create(&first).await.expect("create");
    let claimed = first.claim(epoch(), LEASE).expect("claim");
    repo.replace(&claimed, first.version(), &[])
        .await
        .expect("claim");
    let claimed = &claimed;
    let attempts = (0..8).map(|n| {
        let done = claimed
            .fail(
                epoch(),
                Some(&measured()),
                FailureCode::OcrError,
                format!("writer {n}"),
            )
            .expect("fail");
        let events = ImageEvent::changes(claimed, &done, EventLinks::NONE);
        async move {
            repo.replace(&done, claimed.version(), &events)
                .await
                .map(|()| events)
        }
    });
    let results = join_all(attempts).await;
    let winners: Vec<&Vec<ImageEvent>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "one writer wins");
    assert_eq!(
        ids(&repo.pending(100).await.expect("pending")),
        ids(winners[0]),
        "only the winner's events are committed"
    );
}

/// What a transport delivered: the event ids and documents it received, oldest first.
pub type Received<'a> = Pin<Box<dyn Future<Output = Vec<(String, String)>> + Send + 'a>>;

/// Runs every publisher check on `publisher`, reading what its transport delivered with `received`
/// (the subscriber's side: a webhook receiver, an SQS queue behind an EventBridge rule, ...).
/// `received` returns `(event id, document)` pairs; it may wait for deliveries to arrive.
pub async fn run_publisher_suite<'a>(
    publisher: &dyn EventPublisher,
    received: impl Fn(usize) -> Received<'a>,
) {
    let one = record(id_at(1, 1));
    let claimed = one.claim(epoch(), LEASE).expect("claim");
    let done = claimed
        .reject(
            epoch(),
            &measured(),
            RejectionCode::Corrupt,
            "rejected by a test",
        )
        .expect("reject");
    let events = ImageEvent::changes(&claimed, &done, EventLinks::NONE);
    assert_eq!(events.len(), 2);
    publisher.publish(&[]).await.expect("publishing nothing");
    publisher.publish(&events).await.expect("publish");
    // At least once: the same events again (after a crash before their acknowledgement) are taken.
    publisher
        .publish(&events[1..])
        .await
        .expect("publish again");
    let got = received(3).await;
    for event in &events {
        let copies: Vec<&(String, String)> = got
            .iter()
            .filter(|(id, _)| *id == event.id().to_string())
            .collect();
        assert!(!copies.is_empty(), "{} was not delivered", event.id());
        for (_, body) in copies {
            let sent: serde_json::Value = serde_json::from_str(event.body()).expect("json");
            let delivered: serde_json::Value = serde_json::from_str(body).expect("delivered json");
            assert_eq!(delivered, sent, "the document arrives as it was made");
        }
    }
    assert!(
        got.iter()
            .all(|(id, _)| events.iter().any(|e| e.id().to_string() == *id)),
        "no event is invented"
    );
}
