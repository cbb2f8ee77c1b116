//! The `JobQueue` contract.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures::future::join_all;

use super::{epoch, id_at, record};
use crate::model::{ObjectKey, Timestamp};
use crate::ports::{JobQueue, QueueError};

/// Runs every check, each on a fresh (empty) queue from `make`.
pub async fn run_suite<Q, F, Fut>(make: F)
where
    Q: JobQueue,
    F: Fn() -> Fut,
    Fut: Future<Output = Q>,
{
    empty_queue_has_nothing(&make().await).await;
    lease_complete_round_trip(&make().await).await;
    enqueue_is_idempotent_and_keeps_earliest_due(&make().await).await;
    future_jobs_wait_until_due(&make().await).await;
    expired_leases_are_taken_over(&make().await).await;
    retry_waits_and_keeps_the_error(&make().await).await;
    enqueue_during_lease_runs_again(&make().await).await;
    buried_jobs_leave_the_queue(&make().await).await;
    dead_jobs_are_revived_or_forgotten(&make().await).await;
    release_all_frees_every_lease(&make().await).await;
    oldest_due_first(&make().await).await;
    concurrent_leases_never_share_a_job(&make().await).await;
}

fn key(n: u64) -> ObjectKey {
    record(id_at(i64::try_from(n).expect("small"), n))
        .object_key()
        .clone()
}

fn at(seconds: u64) -> Timestamp {
    epoch().saturating_add(Duration::from_secs(seconds))
}

const LEASE: Duration = Duration::from_secs(60);

async fn empty_queue_has_nothing(queue: &impl JobQueue) {
    assert!(queue.lease(at(0), LEASE).await.expect("lease").is_none());
    assert_eq!(queue.next_due().await.expect("next due"), None);
    assert_eq!(queue.stats().await.expect("stats").outstanding(), 0);
    assert!(queue.dead_jobs(10).await.expect("dead").is_empty());
    assert_eq!(queue.release_all().await.expect("release"), 0);
}

async fn lease_complete_round_trip(queue: &impl JobQueue) {
    queue.enqueue(&key(1), at(0)).await.expect("enqueue");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.leased), (1, 0));
    let job = queue
        .lease(at(1), LEASE)
        .await
        .expect("lease")
        .expect("a due job");
    assert_eq!(job.key, key(1));
    assert_eq!(job.attempts, 1);
    assert_eq!(job.lease_expires_at, at(61));
    assert_eq!(job.last_error, None);
    assert_eq!(
        job.due_at,
        Some(at(0)),
        "when it became due, to measure its wait"
    );
    assert!(
        queue.lease(at(2), LEASE).await.expect("lease").is_none(),
        "a leased job was handed out twice"
    );
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.leased), (0, 1));
    queue.complete(&job).await.expect("complete");
    assert_eq!(queue.stats().await.expect("stats").outstanding(), 0);
    assert!(matches!(
        queue.complete(&job).await,
        Err(QueueError::LeaseLost { .. })
    ));
    assert!(queue.lease(at(200), LEASE).await.expect("lease").is_none());
}

async fn enqueue_is_idempotent_and_keeps_earliest_due(queue: &impl JobQueue) {
    queue.enqueue(&key(1), at(50)).await.expect("enqueue");
    queue.enqueue(&key(1), at(10)).await.expect("enqueue");
    queue.enqueue(&key(1), at(30)).await.expect("enqueue");
    assert_eq!(queue.stats().await.expect("stats").waiting, 1);
    assert_eq!(queue.next_due().await.expect("next due"), Some(at(10)));
    assert!(queue.lease(at(9), LEASE).await.expect("lease").is_none());
    let job = queue.lease(at(10), LEASE).await.expect("lease");
    assert_eq!(job.map(|j| j.key), Some(key(1)));
}

async fn future_jobs_wait_until_due(queue: &impl JobQueue) {
    queue.enqueue(&key(2), at(100)).await.expect("enqueue");
    assert!(queue.lease(at(99), LEASE).await.expect("lease").is_none());
    assert_eq!(queue.next_due().await.expect("next due"), Some(at(100)));
    assert!(queue.lease(at(100), LEASE).await.expect("lease").is_some());
    assert_eq!(
        queue.next_due().await.expect("next due"),
        Some(at(160)),
        "with only a leased job, the next due instant is when its lease ends"
    );
}

async fn expired_leases_are_taken_over(queue: &impl JobQueue) {
    queue.enqueue(&key(3), at(0)).await.expect("enqueue");
    let first = queue
        .lease(at(0), Duration::from_secs(10))
        .await
        .expect("lease")
        .expect("job");
    assert!(queue.lease(at(9), LEASE).await.expect("lease").is_none());
    let second = queue
        .lease(at(11), LEASE)
        .await
        .expect("lease")
        .expect("the expired lease is taken over");
    assert_eq!(second.key, first.key);
    assert_eq!(second.attempts, 2);
    assert_ne!(second.token, first.token);
    for report in [
        queue.complete(&first).await,
        queue.retry(&first, at(20), "late").await,
        queue.bury(&first, "late", at(20)).await,
    ] {
        assert!(
            matches!(report, Err(QueueError::LeaseLost { .. })),
            "a report from a lost lease was applied: {report:?}"
        );
    }
    queue.complete(&second).await.expect("complete");
    assert_eq!(queue.stats().await.expect("stats").outstanding(), 0);
}

async fn retry_waits_and_keeps_the_error(queue: &impl JobQueue) {
    queue.enqueue(&key(4), at(0)).await.expect("enqueue");
    let job = queue
        .lease(at(0), LEASE)
        .await
        .expect("lease")
        .expect("job");
    queue
        .retry(&job, at(30), "database is locked")
        .await
        .expect("retry");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.leased), (1, 0));
    assert!(queue.lease(at(29), LEASE).await.expect("lease").is_none());
    let again = queue
        .lease(at(30), LEASE)
        .await
        .expect("lease")
        .expect("job");
    assert_eq!(again.attempts, 2);
    assert_eq!(again.last_error.as_deref(), Some("database is locked"));
}

async fn enqueue_during_lease_runs_again(queue: &impl JobQueue) {
    queue.enqueue(&key(5), at(0)).await.expect("enqueue");
    let job = queue
        .lease(at(0), LEASE)
        .await
        .expect("lease")
        .expect("job");
    queue
        .enqueue(&key(5), at(5))
        .await
        .expect("enqueue while leased");
    assert!(
        queue.lease(at(6), LEASE).await.expect("lease").is_none(),
        "enqueue must not break a live lease"
    );
    queue.complete(&job).await.expect("complete");
    assert_eq!(queue.stats().await.expect("stats").waiting, 1);
    let again = queue
        .lease(at(6), LEASE)
        .await
        .expect("lease")
        .expect("the job again");
    assert_eq!(again.key, key(5));
    assert_eq!(
        (again.attempts, again.last_error.as_deref()),
        (1, None),
        "a new delivery starts afresh"
    );
    // However often it is delivered during its attempts, a job that keeps succeeding never wears out.
    let mut job = again;
    for n in 0..30 {
        queue
            .enqueue(&key(5), at(7 + n))
            .await
            .expect("enqueue while leased");
        queue.complete(&job).await.expect("complete");
        job = queue
            .lease(at(7 + n), LEASE)
            .await
            .expect("lease")
            .expect("the job again");
        assert_eq!(job.attempts, 1);
    }
    queue.complete(&job).await.expect("complete");
    assert_eq!(queue.stats().await.expect("stats").waiting, 0);
}

async fn buried_jobs_leave_the_queue(queue: &impl JobQueue) {
    queue.enqueue(&key(6), at(0)).await.expect("enqueue");
    queue.enqueue(&key(7), at(0)).await.expect("enqueue");
    let first = queue
        .lease(at(0), LEASE)
        .await
        .expect("lease")
        .expect("job");
    queue
        .bury(&first, "UNKNOWN_OBJECT: no upload was issued", at(3))
        .await
        .expect("bury");
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.leased, stats.dead), (1, 0, 1));
    let dead = queue.dead_jobs(10).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].key, first.key);
    assert_eq!(dead[0].attempts, 1);
    assert_eq!(dead[0].reason, "UNKNOWN_OBJECT: no upload was issued");
    assert_eq!(dead[0].buried_at, at(3));
    let other = queue
        .lease(at(4), LEASE)
        .await
        .expect("lease")
        .expect("job");
    assert_ne!(other.key, first.key);
    queue.complete(&other).await.expect("complete");
    assert!(queue.lease(at(500), LEASE).await.expect("lease").is_none());
}

/// A dead job can be taken back into the queue as a fresh job (no attempts counted) or forgotten;
/// a key without a dead job is neither.
async fn dead_jobs_are_revived_or_forgotten(queue: &impl JobQueue) {
    for n in [20, 21] {
        queue.enqueue(&key(n), at(0)).await.expect("enqueue");
        let job = queue
            .lease(at(0), LEASE)
            .await
            .expect("lease")
            .expect("job");
        queue.bury(&job, "gave up", at(1)).await.expect("bury");
    }
    assert!(!queue.revive(&key(22), at(2)).await.expect("revive"));
    assert!(!queue.forget_dead(&key(22)).await.expect("forget"));
    assert!(queue.revive(&key(20), at(5)).await.expect("revive"));
    assert!(
        !queue.revive(&key(20), at(5)).await.expect("revive again"),
        "once"
    );
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.dead), (1, 1));
    assert!(
        queue.lease(at(4), LEASE).await.expect("lease").is_none(),
        "due at 5"
    );
    let again = queue
        .lease(at(5), LEASE)
        .await
        .expect("lease")
        .expect("revived");
    assert_eq!(
        (again.key.clone(), again.attempts, again.last_error.clone()),
        (key(20), 1, None)
    );
    queue.complete(&again).await.expect("complete");
    assert!(queue.forget_dead(&key(21)).await.expect("forget"));
    assert!(!queue.forget_dead(&key(21)).await.expect("forget again"));
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.outstanding(), stats.dead), (0, 0));
    assert!(queue.dead_jobs(10).await.expect("dead").is_empty());
}

async fn release_all_frees_every_lease(queue: &impl JobQueue) {
    for n in 10..13 {
        queue.enqueue(&key(n), at(0)).await.expect("enqueue");
    }
    let a = queue
        .lease(at(0), LEASE)
        .await
        .expect("lease")
        .expect("job");
    let b = queue
        .lease(at(0), LEASE)
        .await
        .expect("lease")
        .expect("job");
    assert_eq!(queue.release_all().await.expect("release"), 2);
    let stats = queue.stats().await.expect("stats");
    assert_eq!((stats.waiting, stats.leased), (3, 0));
    let mut keys = BTreeSet::new();
    while let Some(job) = queue.lease(at(1), LEASE).await.expect("lease") {
        keys.insert(job.key.clone());
        queue.complete(&job).await.expect("complete");
    }
    assert_eq!(keys.len(), 3);
    assert!(keys.contains(&a.key) && keys.contains(&b.key));
}

async fn oldest_due_first(queue: &impl JobQueue) {
    queue.enqueue(&key(20), at(3)).await.expect("enqueue");
    queue.enqueue(&key(21), at(1)).await.expect("enqueue");
    queue.enqueue(&key(22), at(2)).await.expect("enqueue");
    let mut order = Vec::new();
    while let Some(job) = queue.lease(at(10), LEASE).await.expect("lease") {
        order.push(job.key.clone());
        queue.complete(&job).await.expect("complete");
    }
    assert_eq!(order, vec![key(21), key(22), key(20)]);
}

async fn concurrent_leases_never_share_a_job(queue: &impl JobQueue) {
    for n in 100..120 {
        queue.enqueue(&key(n), at(0)).await.expect("enqueue");
    }
    let leases = join_all((0..40).map(|_| queue.lease(at(1), LEASE))).await;
    let keys: Vec<ObjectKey> = leases
        .into_iter()
        .filter_map(|lease| lease.expect("lease"))
        .map(|job| job.key)
        .collect();
    let distinct: BTreeSet<&ObjectKey> = keys.iter().collect();
    assert_eq!(keys.len(), 20, "every due job is leased once");
    assert_eq!(distinct.len(), 20, "no job is leased twice");
}
