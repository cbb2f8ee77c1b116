//! Draining the outbox: events are published at least once, in commit order, and leave the outbox
//! only once their publisher took them.

use intake_domain::model::{EventKind, ImageEvent};
use intake_domain::ports::{EventOutbox as _, EventPublisher, PublishError};
use intake_memory::{MemoryHarness, MemoryPublisher};

use crate::{page, process_ok, upload};

#[tokio::test]
async fn events_are_published_in_order_and_kept_until_published() {
    let h = MemoryHarness::default();
    let (id, key) = upload(&h, "cheque.png", &page(1)).await;
    process_ok(&h, &key).await;
    let publisher = MemoryPublisher::default();
    publisher.fail_next(1);
    let error = h
        .intake
        .publish_events(&h.repository, &publisher)
        .await
        .expect_err("the publisher is down");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(h.repository.pending(10).await.unwrap().len(), 2, "kept");
    assert_eq!(
        h.intake
            .publish_events(&h.repository, &publisher)
            .await
            .unwrap(),
        2
    );
    let kinds: Vec<EventKind> = publisher.published().iter().map(ImageEvent::kind).collect();
    assert_eq!(kinds, [EventKind::Uploaded, EventKind::Processed]);
    assert!(publisher.published().iter().all(|e| e.image_id() == id));
    assert!(h.repository.pending(10).await.unwrap().is_empty());
    assert_eq!(
        h.intake
            .publish_events(&h.repository, &publisher)
            .await
            .unwrap(),
        0,
        "nothing left"
    );
}

/// A transport that refuses the second event of every batch.
#[derive(Debug, Default)]
struct RefusesSecond(MemoryPublisher);

#[async_trait::async_trait]
impl EventPublisher for RefusesSecond {
    async fn publish(&self, events: &[ImageEvent]) -> Result<(), PublishError> {
        match events {
            [first, second, ..] => {
                self.0.publish(std::slice::from_ref(first)).await?;
                Err(PublishError::Refused {
                    refused: vec![second.id()],
                    reason: "too large".into(),
                })
            }
            _ => self.0.publish(events).await,
        }
    }
}

#[tokio::test]
async fn a_refused_event_keeps_itself_and_its_successors_waiting() {
    let h = MemoryHarness::default();
    let (_, key) = upload(&h, "cheque.png", &page(2)).await;
    process_ok(&h, &key).await;
    let publisher = RefusesSecond::default();
    let error = h
        .intake
        .publish_events(&h.repository, &publisher)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            intake_domain::IntakeError::Publish(PublishError::Refused { .. })
        ),
        "{error:?}"
    );
    let waiting = h.repository.pending(10).await.unwrap();
    assert_eq!(
        waiting.iter().map(ImageEvent::kind).collect::<Vec<_>>(),
        [EventKind::Processed],
        "the published one left, the refused one waits"
    );
    assert_eq!(publisher.0.published().len(), 1);
    // Alone in its batch, the refused event goes through.
    assert_eq!(
        h.intake
            .publish_events(&h.repository, &publisher)
            .await
            .unwrap(),
        1
    );
}
