//! The `ImageRepository` contract.

use std::future::Future;

use futures::future::join_all;

use super::{
    LEASE, advanced, advanced_with, default_owner, epoch, id_at, owner, record, record_of,
    with_parts,
};
use crate::model::{
    BoundingBox, Cursor, FailureCode, ImageId, ImageRecord, ImageStatus, OcrLine, OcrResult,
    OcrWord, Sha256Digest,
};
use crate::ports::{ImageRepository, ListQuery, OcrDetail, RepoError};

/// Runs every check, each on a fresh (empty) repository from `make`.
pub async fn run_suite<R, F, Fut>(make: F)
where
    R: ImageRepository,
    F: Fn() -> Fut,
    Fut: Future<Output = R>,
{
    create_then_get(&make().await).await;
    create_refuses_existing_id(&make().await).await;
    full_record_round_trips(&make().await).await;
    views_carry_the_asked_detail(&make().await).await;
    replace_is_conditional_on_version(&make().await).await;
    racing_writers_have_one_winner(&make().await).await;
    lists_newest_first_across_pages(&make().await).await;
    cursor_is_stable_across_inserts(&make().await).await;
    filters_by_status_sha_and_deletion(&make().await).await;
    refuses_foreign_and_garbled_cursors(&make().await).await;
    finds_processed_by_sha256_oldest_first(&make().await).await;
    owners_see_only_their_own(&make().await).await;
    concurrent_creates_have_one_winner(&make().await).await;
    relaxed_creates_are_creates(&make().await).await;
    super::field_filters::lists_by_fields_and_document_kind(&make().await).await;
    super::field_filters::filters_follow_rereads_reprocessing_and_deletion(&make().await).await;
}

async fn put_with_status(
    repo: &impl ImageRepository,
    id: ImageId,
    status: ImageStatus,
    sha: Option<Sha256Digest>,
) -> ImageRecord {
    let first = record(id);
    repo.create(&first).await.expect("create");
    let next = advanced(&first, status, sha, id.created_at());
    repo.replace(&next, first.version(), &[])
        .await
        .expect("replace");
    next
}

async fn collect_all(repo: &impl ImageRepository, base: &ListQuery) -> Vec<ImageId> {
    let mut query = base.clone();
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = repo.list(&query).await.expect("list");
        assert!(
            page.records.len() <= query.limit as usize,
            "page larger than its limit"
        );
        out.extend(page.records.iter().map(ImageRecord::image_id));
        match page.next_cursor {
            Some(cursor) => query = query.after(Some(cursor)),
            None => return out,
        }
    }
    panic!("listing did not terminate");
}

/// A created record reads back equal; a missing id reads as `None`.
pub async fn create_then_get(repo: &impl ImageRepository) {
    let r = record(id_at(0, 1));
    repo.create(&r).await.expect("create");
    assert_eq!(repo.get(&r.image_id()).await.expect("get"), Some(r));
    assert_eq!(repo.get(&id_at(1, 1)).await.expect("get missing"), None);
}

/// Creating an existing id fails with `AlreadyExists` and leaves the stored record alone.
pub async fn create_refuses_existing_id(repo: &impl ImageRepository) {
    let r = record(id_at(0, 2));
    repo.create(&r).await.expect("create");
    let other = with_parts(r.clone(), |p| p.bucket = "someone-else".into());
    match repo.create(&other).await {
        Err(RepoError::AlreadyExists { id }) => assert_eq!(id, r.image_id()),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(repo.get(&r.image_id()).await.expect("get"), Some(r));
}

/// Every field, OCR detail and unicode text included, survives a write and a read exactly, in every
/// status.
pub async fn full_record_round_trips(repo: &impl ImageRepository) {
    let b = BoundingBox::new(0.125, 0.25, 0.5, 0.0625).expect("box");
    let words = vec![
        OcrWord::new("Zahlen Sie", 99.5, b).expect("word"),
        OcrWord::new("€1 000,00 😀 \"quoted\" \\ \n", 12.25, b).expect("word"),
    ];
    let line = OcrLine::from_words(words).expect("line");
    let result =
        OcrResult::new("conformance-engine", vec![line.clone(), line], true).expect("result");
    for (n, status) in (0u64..).zip(ImageStatus::ALL) {
        let id = id_at(0, 300 + n);
        let first = with_parts(record_of(id, owner("Zoë|auth0 42 #1")), |p| {
            p.declared_sha256 = Some(Sha256Digest::of(b"declared"));
        });
        repo.create(&first).await.expect("create");
        let reached = advanced_with(
            &first,
            status,
            Some(Sha256Digest::of(b"full")),
            &result,
            epoch(),
        );
        let full = with_parts(reached, |p| {
            p.size_bytes = Some(u64::from(u32::MAX) + 7);
            p.content_type = Some(crate::model::ContentType::Png);
            p.width_px = Some(1700);
            p.height_px = Some(2200);
            p.page_count = Some(3);
            p.attempts = 3;
            p.deleted_at = Some(epoch());
            p.rejection_message = p
                .rejection_message
                .as_ref()
                .map(|_| "declared image/jpeg, but the bytes are image/png".into());
            if status == ImageStatus::Processed {
                p.duplicate_of = Some(id_at(-5, 3));
                p.preview_key = Some(crate::model::ObjectKey::for_preview(id));
            }
        });
        repo.replace(&full, first.version(), &[])
            .await
            .expect("replace");
        assert_eq!(
            repo.get(&full.image_id()).await.expect("get"),
            Some(full),
            "a {status} record changed in the store"
        );
    }
}

/// `get_view` returns the record as `get` does, except that without [`OcrDetail::Lines`] it may leave
/// out the lines; the OCR text is always whole (here longer than any store keeps inline), views follow
/// replacements, and a missing id is `None`.
pub async fn views_carry_the_asked_detail(repo: &impl ImageRepository) {
    let id = id_at(0, 4);
    assert_eq!(
        repo.get_view(&id, OcrDetail::Text).await.expect("view"),
        None
    );
    let first = record(id);
    repo.create(&first).await.expect("create");
    for detail in [OcrDetail::Text, OcrDetail::Lines] {
        assert_eq!(
            repo.get_view(&id, detail).await.expect("view"),
            Some(first.clone()),
            "a record without OCR reads differently as a view ({detail:?})"
        );
    }

    let b = BoundingBox::new(0.1, 0.2, 0.3, 0.04).expect("box");
    let lines: Vec<OcrLine> = (0..700)
        .map(|n| {
            let word = format!("line-{n:04}-{}", "ß".repeat(30));
            OcrLine::from_words(vec![OcrWord::new(word, 90.0, b).expect("word")]).expect("line")
        })
        .collect();
    let result = OcrResult::new("conformance-engine", lines, false).expect("result");
    let processed = advanced_with(&first, ImageStatus::Processed, None, &result, epoch());
    assert!(
        processed
            .ocr_text()
            .as_ref()
            .is_some_and(|t| t.len() > 40 * 1024)
    );
    repo.replace(&processed, first.version(), &[])
        .await
        .expect("replace");

    let whole = repo.get(&id).await.expect("get");
    assert_eq!(whole.as_ref(), Some(&processed));
    assert_eq!(
        repo.get_view(&id, OcrDetail::Lines).await.expect("view"),
        whole,
        "the view with lines differs from the record"
    );
    let text = repo
        .get_view(&id, OcrDetail::Text)
        .await
        .expect("view")
        .expect("the record");
    assert_eq!(
        text.ocr_text(),
        processed.ocr_text(),
        "the view's OCR text is not whole"
    );
    assert!(
        text.ocr_lines().is_none() || text.ocr_lines() == processed.ocr_lines(),
        "the view's lines differ from the record's"
    );
    assert_eq!(
        text.without_ocr_lines(),
        processed.without_ocr_lines(),
        "the view differs beyond its lines"
    );

    let line =
        OcrLine::from_words(vec![OcrWord::new("REPLACED", 50.0, b).expect("word")]).expect("line");
    let again = with_parts(processed.next(epoch()), |p| {
        p.ocr_text = Some("REPLACED".into());
        p.ocr_line_count = Some(1);
        p.ocr_lines = Some(vec![line]);
    });
    repo.replace(&again, processed.version(), &[])
        .await
        .expect("replace");
    let text = repo
        .get_view(&id, OcrDetail::Text)
        .await
        .expect("view")
        .expect("the record");
    assert_eq!(text.ocr_text(), Some("REPLACED"), "the view is stale");
    assert_eq!(text.version(), again.version());
    assert_eq!(
        repo.get_view(&id, OcrDetail::Lines).await.expect("view"),
        Some(again)
    );
}

/// `replace` writes only over the expected version, and reports a missing record as `NotFound`.
pub async fn replace_is_conditional_on_version(repo: &impl ImageRepository) {
    let v1 = record(id_at(0, 4));
    repo.create(&v1).await.expect("create");
    let v2 = v1.claim(epoch(), LEASE).expect("claim");
    repo.replace(&v2, 1, &[]).await.expect("replace v1 -> v2");
    assert_eq!(
        repo.get(&v1.image_id()).await.expect("get"),
        Some(v2.clone())
    );

    let stale = v1
        .fail(epoch(), None, FailureCode::OcrError, "stale")
        .expect("fail");
    match repo.replace(&stale, 1, &[]).await {
        Err(RepoError::Precondition { id, expected }) => {
            assert_eq!((id, expected), (v1.image_id(), 1));
        }
        other => panic!("expected Precondition, got {other:?}"),
    }
    assert_eq!(
        repo.get(&v1.image_id()).await.expect("get"),
        Some(v2),
        "a failed write changed the record"
    );

    let ghost = record(id_at(0, 5)).next(epoch());
    assert!(
        matches!(
            repo.replace(&ghost, 1, &[]).await,
            Err(RepoError::NotFound { .. })
        ),
        "replace of a missing record"
    );
}

/// Sixteen writers racing from the same version: exactly one wins.
pub async fn racing_writers_have_one_winner(repo: &impl ImageRepository) {
    let v1 = record(id_at(0, 6));
    repo.create(&v1).await.expect("create");
    let attempts = (0..16u32).map(|i| {
        let next = with_parts(v1.next(epoch()), |p| p.attempts = i);
        let expected = v1.version();
        async move { repo.replace(&next, expected, &[]).await }
    });
    let results = join_all(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "racing replaces: {results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(RepoError::Precondition { .. })))
    );
    assert_eq!(
        repo.get(&v1.image_id())
            .await
            .expect("get")
            .expect("exists")
            .version(),
        2
    );
}

/// Listing returns every match once, newest first, in pages no larger than the limit.
pub async fn lists_newest_first_across_pages(repo: &impl ImageRepository) {
    let mut ids = Vec::new();
    for i in 0..23i64 {
        // insert out of order: creation order must not depend on insertion order
        let offset = (i * 7) % 23;
        let id = id_at(offset * 1000, 7);
        put_with_status(repo, id, ImageStatus::Processed, None).await;
        ids.push(id);
    }
    // two images created in the same millisecond still get a total order
    for n in [8u64, 9] {
        let id = id_at(5000, n);
        put_with_status(repo, id, ImageStatus::Processed, None).await;
        ids.push(id);
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for limit in [1, 4, 10, 25, 1000] {
        let listed = collect_all(repo, &ListQuery::new([ImageStatus::Processed], limit)).await;
        assert_eq!(
            listed, ids,
            "limit {limit}: not every record once, newest first"
        );
    }
}

/// Records created after a cursor was issued do not appear on later pages; nothing repeats or goes missing.
pub async fn cursor_is_stable_across_inserts(repo: &impl ImageRepository) {
    let mut original = Vec::new();
    for i in 0..10i64 {
        let id = id_at(i * 1000, 10);
        put_with_status(repo, id, ImageStatus::Processed, None).await;
        original.push(id);
    }
    let query = ListQuery::new([ImageStatus::Processed], 4);
    let first = repo.list(&query).await.expect("page 1");
    assert_eq!(first.records.len(), 4);
    let cursor = first.next_cursor.clone().expect("more pages");
    for i in 0..5i64 {
        put_with_status(repo, id_at(100_000 + i, 11), ImageStatus::Processed, None).await;
    }
    let mut seen: Vec<ImageId> = first.records.iter().map(ImageRecord::image_id).collect();
    seen.extend(collect_all(repo, &query.clone().after(Some(cursor))).await);
    original.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, original, "pages after the inserts changed");
}

/// Status, SHA-256 and deletion filters, and their combination.
pub async fn filters_by_status_sha_and_deletion(repo: &impl ImageRepository) {
    let sha = Sha256Digest::of(b"same bytes");
    let a = put_with_status(repo, id_at(1, 12), ImageStatus::Processed, Some(sha)).await;
    let b = put_with_status(repo, id_at(2, 12), ImageStatus::Rejected, Some(sha)).await;
    let c = put_with_status(
        repo,
        id_at(3, 12),
        ImageStatus::Processed,
        Some(Sha256Digest::of(b"other")),
    )
    .await;
    let d = record(id_at(4, 12));
    repo.create(&d).await.expect("create");
    let mut deleted = put_with_status(repo, id_at(5, 12), ImageStatus::Processed, Some(sha)).await;
    let gone = deleted.mark_deleted(epoch()).expect("delete");
    repo.replace(&gone, deleted.version(), &[])
        .await
        .expect("delete");
    deleted = gone;

    let ids = |q: ListQuery| async move { collect_all(repo, &q).await };
    assert_eq!(
        ids(ListQuery::new([ImageStatus::Processed], 10)).await,
        vec![c.image_id(), a.image_id()]
    );
    assert_eq!(
        ids(ListQuery::new([ImageStatus::AwaitingUpload], 10)).await,
        vec![d.image_id()]
    );
    assert_eq!(
        ids(ListQuery::new(
            [ImageStatus::Processed, ImageStatus::Rejected],
            10
        ))
        .await,
        vec![c.image_id(), b.image_id(), a.image_id()]
    );
    assert_eq!(
        ids(ListQuery::new([], 10)).await,
        vec![d.image_id(), c.image_id(), b.image_id(), a.image_id()]
    );
    assert_eq!(
        ids(ListQuery::new([], 10).with_sha256(Some(sha))).await,
        vec![b.image_id(), a.image_id()]
    );
    assert_eq!(
        ids(ListQuery::new([ImageStatus::Processed], 10)
            .with_sha256(Some(sha))
            .including_deleted(true))
        .await,
        vec![deleted.image_id(), a.image_id()]
    );
}

/// A cursor from another query, or with a payload the repository did not write, is `InvalidCursor`.
pub async fn refuses_foreign_and_garbled_cursors(repo: &impl ImageRepository) {
    for i in 0..3i64 {
        put_with_status(repo, id_at(i, 13), ImageStatus::Processed, None).await;
    }
    let processed = ListQuery::new([ImageStatus::Processed], 1);
    let cursor = repo
        .list(&processed)
        .await
        .expect("list")
        .next_cursor
        .expect("more");
    let failed = ListQuery::new([ImageStatus::Failed], 1).after(Some(cursor));
    assert!(
        matches!(repo.list(&failed).await, Err(RepoError::InvalidCursor(_))),
        "cursor of another query accepted"
    );
    for payload in [&b""[..], b"x", &[0xFF; 40], &[0u8; 16]] {
        let forged = processed
            .clone()
            .after(Some(Cursor::seal(&processed.scope(), payload)));
        assert!(
            matches!(repo.list(&forged).await, Err(RepoError::InvalidCursor(_))),
            "forged payload {payload:?} accepted"
        );
    }
}

/// Lookup by SHA-256 returns the live, processed matches only, oldest first, up to the limit; other
/// statuses and deleted records never crowd them out.
pub async fn finds_processed_by_sha256_oldest_first(repo: &impl ImageRepository) {
    let sha = Sha256Digest::of(b"dup");
    // many non-candidates first: they must not use up the limit
    for i in 0..30i64 {
        let status = if i % 2 == 0 {
            ImageStatus::Rejected
        } else {
            ImageStatus::Failed
        };
        put_with_status(repo, id_at(i, 14), status, Some(sha)).await;
    }
    let gone = put_with_status(repo, id_at(31, 14), ImageStatus::Processed, Some(sha)).await;
    let deleted = gone.mark_deleted(epoch()).expect("delete");
    repo.replace(&deleted, gone.version(), &[])
        .await
        .expect("delete");
    let mut expected = Vec::new();
    for i in [43i64, 41, 42, 40] {
        expected.push(
            put_with_status(repo, id_at(i, 14), ImageStatus::Processed, Some(sha))
                .await
                .image_id(),
        );
    }
    put_with_status(
        repo,
        id_at(50, 14),
        ImageStatus::Processed,
        Some(Sha256Digest::of(b"other")),
    )
    .await;
    expected.sort_unstable();
    let ids = |records: Vec<ImageRecord>| {
        records
            .iter()
            .map(ImageRecord::image_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(repo
            .find_processed_by_sha256(&default_owner(), &sha, 10)
            .await
            .expect("find")),
        expected
    );
    assert_eq!(
        ids(repo
            .find_processed_by_sha256(&default_owner(), &sha, 2)
            .await
            .expect("find")),
        expected[..2]
    );
    assert!(
        repo.find_processed_by_sha256(&default_owner(), &Sha256Digest::of(b"none"), 10)
            .await
            .expect("find")
            .is_empty()
    );
}

/// Sixteen concurrent creates of one id: exactly one succeeds, the others see `AlreadyExists`.
pub async fn concurrent_creates_have_one_winner(repo: &impl ImageRepository) {
    let id = id_at(0, 15);
    let results = join_all((0..16).map(|i| {
        let r = with_parts(record(id), |p| p.bucket = format!("writer-{i}"));
        async move { (repo.create(&r).await, r) }
    }))
    .await;
    let winners: Vec<&ImageRecord> = results
        .iter()
        .filter(|(res, _)| res.is_ok())
        .map(|(_, r)| r)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "concurrent creates: {:?}",
        results.iter().map(|(r, _)| r).collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .all(|(r, _)| matches!(r, Ok(()) | Err(RepoError::AlreadyExists { .. })))
    );
    assert_eq!(
        repo.get(&id).await.expect("get").as_ref(),
        Some(winners[0]),
        "the stored record is not the winner's"
    );
}

async fn put_owned(
    repo: &impl ImageRepository,
    id: ImageId,
    who: &crate::model::Owner,
    sha: Sha256Digest,
) -> ImageId {
    let first = record_of(id, who.clone());
    repo.create(&first).await.expect("create");
    let next = advanced(&first, ImageStatus::Processed, Some(sha), id.created_at());
    repo.replace(&next, first.version(), &[])
        .await
        .expect("replace");
    id
}

/// Listing and duplicate lookup scoped to an owner return that owner's records only (owners whose
/// names are prefixes of each other included), a query without an owner returns everyone's, and one
/// owner's cursor is refused for another.
pub async fn owners_see_only_their_own(repo: &impl ImageRepository) {
    let sha = Sha256Digest::of(b"shared bytes");
    let (a, ab, b) = (owner("a"), owner("ab"), owner("b#a"));
    let mut mine = Vec::new();
    let mut all = Vec::new();
    for i in 0..9i64 {
        let who = [&a, &ab, &b][usize::try_from(i % 3).expect("small")];
        let id = put_owned(repo, id_at(i * 10, 16), who, sha).await;
        if *who == a {
            mine.push(id);
        }
        all.push(id);
    }
    mine.reverse();
    all.reverse();
    let owned = ListQuery::new([ImageStatus::Processed], 2).for_owner(a.clone());
    assert_eq!(collect_all(repo, &owned).await, mine, "owner a's listing");
    assert_eq!(
        collect_all(repo, &owned.clone().with_sha256(Some(sha))).await,
        mine,
        "owner a's listing by SHA-256"
    );
    assert_eq!(
        collect_all(repo, &ListQuery::new([ImageStatus::Processed], 4)).await,
        all,
        "the unscoped listing"
    );
    let found = repo
        .find_processed_by_sha256(&ab, &sha, 10)
        .await
        .expect("find");
    assert_eq!(found.len(), 3, "owner ab's duplicates");
    assert!(
        found.iter().all(|r| *r.owner() == ab),
        "another owner's record offered as a duplicate"
    );
    assert!(
        repo.find_processed_by_sha256(&owner("c"), &sha, 10)
            .await
            .expect("find")
            .is_empty(),
        "an owner without images sees duplicates"
    );
    let cursor = repo
        .list(&owned)
        .await
        .expect("list")
        .next_cursor
        .expect("more pages");
    let stolen = ListQuery::new([ImageStatus::Processed], 2)
        .for_owner(b.clone())
        .after(Some(cursor));
    assert!(
        matches!(repo.list(&stolen).await, Err(RepoError::InvalidCursor(_))),
        "another owner's cursor accepted"
    );
}

/// A relaxed create (an upload ticket) is a create that may reach the disk a moment later: visible at
/// once to reads and listings, refusing a taken id, one winner among racing creators, mixed freely
/// with durable writes, and updated by a durable replace like any record.
pub async fn relaxed_creates_are_creates(repo: &impl ImageRepository) {
    let r = record(id_at(0, 16));
    repo.create_relaxed(&r).await.expect("create_relaxed");
    assert_eq!(repo.get(&r.image_id()).await.expect("get"), Some(r.clone()));
    match repo.create_relaxed(&r).await {
        Err(RepoError::AlreadyExists { id }) => assert_eq!(id, r.image_id()),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    match repo.create(&r).await {
        Err(RepoError::AlreadyExists { id }) => assert_eq!(id, r.image_id()),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    // Many at once, relaxed and durable mixed, with racing creators of one id.
    let raced = id_at(0, 17);
    let results = join_all((0..64u32).map(|i| {
        let (id, bucket) = if i % 3 == 0 {
            (raced, format!("racer-{i}"))
        } else {
            (id_at(1, 100 + u64::from(i)), "b".to_owned())
        };
        let r = with_parts(record(id), |p| p.bucket = bucket);
        async move {
            let result = if i % 2 == 0 {
                repo.create_relaxed(&r).await
            } else {
                repo.create(&r).await
            };
            (result, r)
        }
    }))
    .await;
    let mut raced_winners = 0;
    for (result, r) in &results {
        if r.image_id() == raced {
            raced_winners += usize::from(result.is_ok());
        } else {
            result.as_ref().expect("distinct ids are created");
            assert_eq!(
                repo.get(&r.image_id()).await.expect("get").as_ref(),
                Some(r)
            );
        }
    }
    assert_eq!(
        raced_winners, 1,
        "one winner among racing relaxed and durable creates"
    );

    let page = repo
        .list(&ListQuery::new(ImageStatus::ALL.to_vec(), 100))
        .await
        .expect("list");
    assert_eq!(
        page.records.len(),
        1 + 1 + 42,
        "every created record is listed"
    );

    let next = r.claim(r.created_at(), LEASE).expect("claim");
    repo.replace(&next, r.version(), &[])
        .await
        .expect("replace");
    assert_eq!(repo.get(&r.image_id()).await.expect("get"), Some(next));
}
