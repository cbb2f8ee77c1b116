//! The `EventOutbox` contract (with the repository whose writes fill it) and the `EventPublisher`
//! contract.

use std::future::Future;
use std::pin::Pin;

use futures::future::join_all;

use super::{LEASE, epoch, id_at, record};
use crate::model::{
    EventId, EventKind, ImageEvent, ImageRecord, Measurements, OcrResult, RejectionCode,
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

/// A created record and a claim over it, committed with its `image.uploaded` event.
async fn claimed(repo: &(impl ImageRepository + EventOutbox), n: u64) -> (ImageRecord, ImageEvent) {
    let first = record(id_at(i64::try_from(n).expect("small"), n));
    repo.create(&first).await.expect("create");
    let next = first.claim(epoch(), LEASE).expect("claim");
    let events = ImageEvent::changes(&first, &next);
    assert_eq!(events.len(), 1, "a first claim reports the upload");
    repo.replace(&next, first.version(), &events)
        .await
        .expect("replace");
    (next, events.into_iter().next().expect("one event"))
}

fn ids(events: &[ImageEvent]) -> Vec<EventId> {
    events.iter().map(ImageEvent::id).collect()
}

/// Events wait in the order their writes committed, exactly as they were made (id, type, time,
/// owner, image and document), and `limit` bounds a read.
pub async fn events_wait_in_commit_order(repo: &(impl ImageRepository + EventOutbox)) {
    assert!(repo.pending(10).await.expect("pending").is_empty());
    let (a, uploaded_a) = claimed(repo, 1).await;
    let (_, uploaded_b) = claimed(repo, 2).await;
    let empty = OcrResult::new("conformance-engine", Vec::new(), false).expect("result");
    let done = a
        .complete(epoch(), &Measurements::default(), &empty)
        .expect("complete");
    let finished = ImageEvent::changes(&a, &done);
    assert_eq!(
        finished.iter().map(ImageEvent::kind).collect::<Vec<_>>(),
        [EventKind::Processed]
    );
    repo.replace(&done, a.version(), &finished)
        .await
        .expect("replace");
    let pending = repo.pending(10).await.expect("pending");
    assert_eq!(
        pending,
        vec![uploaded_a.clone(), uploaded_b.clone(), finished[0].clone()],
        "every field of every event survives, in commit order"
    );
    assert_eq!(
        ids(&repo.pending(2).await.expect("pending")),
        ids(&[uploaded_a, uploaded_b]),
        "the limit takes the oldest"
    );
    let document: serde_json::Value =
        serde_json::from_str(pending[2].body()).expect("the document is JSON");
    assert_eq!(document["type"], "image.processed");
    assert_eq!(document["data"]["image"]["status"], "PROCESSED");
}

/// A write refused for its version, or for a missing record, commits none of its events.
pub async fn refused_writes_commit_no_event(repo: &(impl ImageRepository + EventOutbox)) {
    let (claimed_record, uploaded) = claimed(repo, 1).await;
    let stale = claimed_record.fail(
        epoch(),
        None,
        crate::model::FailureCode::OcrError,
        "a stale writer",
    );
    let stale = stale.expect("fail");
    let events = ImageEvent::changes(&claimed_record, &stale);
    match repo.replace(&stale, 0, &events).await {
        Err(RepoError::Precondition { .. }) => {}
        other => panic!("a stale version must be refused, got {other:?}"),
    }
    let ghost = record(id_at(9, 9)).claim(epoch(), LEASE).expect("claim");
    let ghost_events = ImageEvent::changes(&record(id_at(9, 9)), &ghost);
    match repo.replace(&ghost, 1, &ghost_events).await {
        Err(RepoError::NotFound { .. }) => {}
        other => panic!("a missing record must be NotFound, got {other:?}"),
    }
    assert_eq!(
        ids(&repo.pending(10).await.expect("pending")),
        vec![uploaded.id()],
        "only the committed write's event waits"
    );
}

/// Acknowledged events leave the outbox; acknowledging again, or an id never committed, is
/// harmless; the others stay.
pub async fn acknowledged_events_leave_once(repo: &(impl ImageRepository + EventOutbox)) {
    let (_, first) = claimed(repo, 1).await;
    let (_, second) = claimed(repo, 2).await;
    let (_, third) = claimed(repo, 3).await;
    repo.acknowledge(&[first.id(), third.id()])
        .await
        .expect("acknowledge");
    assert_eq!(
        ids(&repo.pending(10).await.expect("pending")),
        vec![second.id()]
    );
    repo.acknowledge(&[first.id(), EventId::generate(epoch())])
        .await
        .expect("acknowledging again is harmless");
    repo.acknowledge(&[]).await.expect("nothing to acknowledge");
    assert_eq!(
        ids(&repo.pending(10).await.expect("pending")),
        vec![second.id()]
    );
    repo.acknowledge(&[second.id()]).await.expect("acknowledge");
    assert!(repo.pending(10).await.expect("pending").is_empty());
}

/// Of writers racing on one version, only the winner's events are committed.
pub async fn racing_writers_commit_one_set_of_events(repo: &(impl ImageRepository + EventOutbox)) {
    let first = record(id_at(1, 1));
    repo.create(&first).await.expect("create");
    let first = &first;
    let attempts = (0..8).map(|_| {
        let next = first.claim(epoch(), LEASE).expect("claim");
        let events = ImageEvent::changes(first, &next);
        async move {
            repo.replace(&next, first.version(), &events)
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
            &Measurements::default(),
            RejectionCode::Corrupt,
            "rejected by a test",
        )
        .expect("reject");
    let mut events = ImageEvent::changes(&one, &claimed);
    events.extend(ImageEvent::changes(&claimed, &done));
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
