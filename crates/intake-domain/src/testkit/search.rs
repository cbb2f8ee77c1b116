//! The `ImageSearch` contract, run on a repository that also searches its records.

use std::future::Future;

use super::{advanced, default_owner, id_at, owner, record_of, with_parts};
use crate::model::{FileName, ImageId, ImageRecord, ImageStatus, Owner, SearchText, Sha256Digest};
use crate::ports::{ImageRepository, ImageSearch, ListQuery, RepoError, SearchQuery};

/// Runs every check, each on a fresh (empty) repository from `make`.
pub async fn run_suite<R, F, Fut>(make: F)
where
    R: ImageRepository + ImageSearch,
    F: Fn() -> Fut,
    Fut: Future<Output = R>,
{
    finds_words_in_text_and_file_names(&make().await).await;
    amounts_prefixes_and_diacritics_match_as_typed(&make().await).await;
    owners_find_only_their_own(&make().await).await;
    deleted_and_reprocessed_records_stay_in_step(&make().await).await;
    filters_and_pages_combine(&make().await).await;
    ranks_the_better_match_first(&make().await).await;
    refuses_cursors_of_other_queries(&make().await).await;
    odd_text_is_searched_not_failed(&make().await).await;
    tickets_are_searched_once_their_bytes_arrive(&make().await).await;
    super::field_filters::searches_by_fields(&make().await).await;
}

/// A record awaiting its upload (a ticket, whose bytes may never come) is not searched, whatever
/// the statuses asked for; once processing takes it, its file name is.
pub async fn tickets_are_searched_once_their_bytes_arrive(
    repo: &(impl ImageRepository + ImageSearch),
) {
    let id = id_at(1, 1);
    let ticket = with_parts(record_of(id, default_owner()), |p| {
        p.file_name = FileName::sanitize("harbour-invoice.png").expect("valid name");
    });
    repo.create(&ticket).await.expect("create");
    assert!(
        ids(repo, &query(&default_owner(), "harbour", 10))
            .await
            .is_empty(),
        "a ticket is not searched"
    );
    let claimed = ticket.claim(id.created_at(), super::LEASE).expect("claim");
    repo.replace(&claimed, ticket.version(), &[])
        .await
        .expect("claim");
    assert_eq!(
        ids(repo, &query(&default_owner(), "harbour", 10)).await,
        vec![id],
        "its file name is searched once processing takes it"
    );
}

/// Stores a `PROCESSED` record of `owner` named `name` whose OCR text is `text`.
pub async fn processed(
    repo: &impl ImageRepository,
    id: ImageId,
    owner: Owner,
    name: &str,
    text: &str,
) -> ImageRecord {
    let first = with_parts(record_of(id, owner), |p| {
        p.file_name = FileName::sanitize(name).expect("valid name");
    });
    repo.create(&first).await.expect("create");
    let reached = advanced(
        &first,
        ImageStatus::Processed,
        Some(Sha256Digest::of(text.as_bytes())),
        id.created_at(),
    );
    let next = with_parts(reached, |p| p.ocr_text = Some(text.to_owned()));
    repo.replace(&next, first.version(), &[])
        .await
        .expect("replace");
    next
}

/// A search of `owner`'s records for `text`, `limit` a page.
fn query(owner: &Owner, text: &str, limit: u32) -> SearchQuery {
    SearchQuery::new(
        SearchText::parse(text).expect("a valid search"),
        ListQuery::new([], limit).for_owner(owner.clone()),
    )
}

/// The ids of the first page of hits.
async fn ids(repo: &impl ImageSearch, query: &SearchQuery) -> Vec<ImageId> {
    repo.search(query)
        .await
        .expect("search")
        .hits
        .iter()
        .map(|h| h.record.image_id())
        .collect()
}

/// Every hit pages through, in order, each once.
async fn all_ids(repo: &impl ImageSearch, base: &SearchQuery) -> Vec<ImageId> {
    let mut query = base.clone();
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = repo.search(&query).await.expect("search");
        assert!(page.hits.len() <= query.filter.limit as usize);
        out.extend(page.hits.iter().map(|h| h.record.image_id()));
        match page.next_cursor {
            Some(cursor) => query.filter = query.filter.clone().after(Some(cursor)),
            None => return out,
        }
    }
    panic!("search did not terminate");
}

/// A word of the OCR text or of the file name finds the record, with all of its OCR text; every term
/// must match; a word found nowhere finds nothing.
pub async fn finds_words_in_text_and_file_names(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    let cheque = processed(
        repo,
        id_at(0, 1),
        me.clone(),
        "cheque-march.png",
        "PAY TO THE ORDER OF\nJANE DOE\nONE THOUSAND DOLLARS",
    )
    .await;
    let receipt = processed(
        repo,
        id_at(1, 1),
        me.clone(),
        "receipt.jpg",
        "ACME MARKET\nTOTAL 12.50",
    )
    .await;
    assert_eq!(
        ids(repo, &query(&me, "jane", 10)).await,
        vec![cheque.image_id()]
    );
    assert_eq!(
        ids(repo, &query(&me, "acme total", 10)).await,
        vec![receipt.image_id()]
    );
    assert_eq!(
        ids(repo, &query(&me, "march", 10)).await,
        vec![cheque.image_id()]
    );
    assert!(ids(repo, &query(&me, "jane acme", 10)).await.is_empty());
    assert!(ids(repo, &query(&me, "invoice", 10)).await.is_empty());
    let hit = repo
        .search(&query(&me, "dollars", 10))
        .await
        .expect("search");
    assert_eq!(
        hit.hits.first().and_then(|h| h.record.ocr_text()),
        cheque.ocr_text(),
        "a hit carries its OCR text"
    );
}

/// Amounts and dates are found as typed, the last word as a prefix, and diacritics are folded either
/// way.
pub async fn amounts_prefixes_and_diacritics_match_as_typed(
    repo: &(impl ImageRepository + ImageSearch),
) {
    let me = default_owner();
    let bill = processed(
        repo,
        id_at(0, 2),
        me.clone(),
        "bill.png",
        "Café Rouge\nInvoice 2026-11-25\nTotal RM9.00\nPaid 4721.08",
    )
    .await;
    let other = processed(
        repo,
        id_at(1, 2),
        me.clone(),
        "other.png",
        "Paid 4721 then 08 later, invoiced RM9",
    )
    .await;
    for (text, want) in [
        ("4721.08", vec![bill.image_id()]),
        ("RM9.00", vec![bill.image_id()]),
        ("2026-11-25", vec![bill.image_id()]),
        ("cafe", vec![bill.image_id()]),
        ("CAFÉ rouge", vec![bill.image_id()]),
    ] {
        assert_eq!(ids(repo, &query(&me, text, 10)).await, want, "{text}");
    }
    let mut prefix = ids(repo, &query(&me, "invoic", 10)).await;
    prefix.sort();
    assert_eq!(prefix, vec![bill.image_id(), other.image_id()], "a prefix");
    assert_eq!(
        ids(repo, &query(&me, "total invoic", 10)).await,
        vec![bill.image_id()],
        "every term must match"
    );
    assert!(
        ids(repo, &query(&me, "invoic total", 10)).await.is_empty(),
        "only the last word is a prefix"
    );
    assert_eq!(ids(repo, &query(&me, "paid 472", 10)).await.len(), 2);
    assert!(ids(repo, &query(&me, "472 paid", 10)).await.is_empty());
}

/// Another owner's records are never hits, however well they match.
pub async fn owners_find_only_their_own(repo: &(impl ImageRepository + ImageSearch)) {
    let alice = owner("alice");
    let bob = owner("bob");
    let hers = processed(
        repo,
        id_at(0, 3),
        alice.clone(),
        "a.png",
        "secret payee Zed",
    )
    .await;
    processed(
        repo,
        id_at(1, 3),
        bob.clone(),
        "b.png",
        "secret payee Zed Zed Zed",
    )
    .await;
    assert_eq!(
        ids(repo, &query(&alice, "zed", 10)).await,
        vec![hers.image_id()]
    );
    let mut everyone = SearchQuery::new(
        SearchText::parse("zed").expect("valid"),
        ListQuery::new([], 10),
    );
    everyone.filter.owner = None;
    assert_eq!(repo.search(&everyone).await.expect("search").hits.len(), 2);
    assert!(
        ids(repo, &query(&owner("carol"), "zed", 10))
            .await
            .is_empty()
    );
}

/// A deleted record is never a hit; a record whose OCR text is replaced is found by its new words
/// only.
pub async fn deleted_and_reprocessed_records_stay_in_step(
    repo: &(impl ImageRepository + ImageSearch),
) {
    let me = default_owner();
    let kept = processed(
        repo,
        id_at(0, 4),
        me.clone(),
        "kept.png",
        "quarterly report",
    )
    .await;
    let gone = processed(
        repo,
        id_at(1, 4),
        me.clone(),
        "gone.png",
        "quarterly summary",
    )
    .await;
    let deleted = gone.mark_deleted(gone.updated_at()).expect("delete");
    repo.replace(&deleted, gone.version(), &[])
        .await
        .expect("delete");
    assert_eq!(
        ids(repo, &query(&me, "quarterly", 10)).await,
        vec![kept.image_id()]
    );
    assert!(ids(repo, &query(&me, "summary", 10)).await.is_empty());

    let again = with_parts(kept.next(kept.updated_at()), |p| {
        p.ocr_text = Some("annual statement".into());
    });
    repo.replace(&again, kept.version(), &[])
        .await
        .expect("reprocess");
    assert!(ids(repo, &query(&me, "quarterly", 10)).await.is_empty());
    assert_eq!(
        ids(repo, &query(&me, "annual", 10)).await,
        vec![kept.image_id()]
    );
}

/// Status and SHA-256 filters narrow a search; pages of any size cover every hit once.
pub async fn filters_and_pages_combine(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    let mut made = Vec::new();
    for n in 0..7 {
        let text = format!("form number {n} signed");
        made.push(processed(repo, id_at(n, 5), me.clone(), "form.png", &text).await);
    }
    let waiting = with_parts(record_of(id_at(20, 5), me.clone()), |p| {
        p.file_name = FileName::sanitize("form-waiting.png").expect("valid name");
    });
    repo.create(&waiting).await.expect("create");
    // Being processed: searched by its file name (a ticket is not searched before its bytes come).
    let running = waiting
        .claim(id_at(20, 5).created_at(), super::LEASE)
        .expect("claim");
    repo.replace(&running, waiting.version(), &[])
        .await
        .expect("claim");
    let base = query(&me, "form", 3);
    let mut found = all_ids(repo, &base).await;
    assert_eq!(
        found.len(),
        8,
        "every hit once, the one being processed by its file name"
    );
    found.sort();
    found.dedup();
    assert_eq!(found.len(), 8);

    let processed_only = SearchQuery::new(
        SearchText::parse("form").expect("valid"),
        ListQuery::new([ImageStatus::Processed], 2).for_owner(me.clone()),
    );
    assert_eq!(all_ids(repo, &processed_only).await.len(), 7);
    let one = &made[3];
    let by_sha = SearchQuery::new(
        SearchText::parse("signed").expect("valid"),
        ListQuery::new([], 10)
            .for_owner(me.clone())
            .with_sha256(one.sha256()),
    );
    assert_eq!(ids(repo, &by_sha).await, vec![one.image_id()]);
}

/// A record where the word is more frequent, or its text shorter, ranks above one where it is
/// diluted; the file name counts too.
pub async fn ranks_the_better_match_first(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    let filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod";
    let diluted = processed(
        repo,
        id_at(0, 6),
        me.clone(),
        "a.png",
        &format!("{filler} {filler} {filler} payee {filler} {filler}"),
    )
    .await;
    let strong = processed(
        repo,
        id_at(1, 6),
        me.clone(),
        "b.png",
        "payee payee payee\nsigned",
    )
    .await;
    let middle = processed(
        repo,
        id_at(2, 6),
        me.clone(),
        "c.png",
        &format!("payee {filler}"),
    )
    .await;
    let ranked = ids(repo, &query(&me, "payee", 10)).await;
    assert_eq!(
        ranked,
        vec![strong.image_id(), middle.image_id(), diluted.image_id()],
        "frequency and length decide the order"
    );
    let page = repo.search(&query(&me, "payee", 10)).await.expect("search");
    let scores: Vec<f64> = page.hits.iter().map(|h| h.score).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "scores fall: {scores:?}"
    );
}

/// A cursor of another search, of a listing, or of another owner is refused.
pub async fn refuses_cursors_of_other_queries(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    for n in 0..3 {
        processed(repo, id_at(n, 7), me.clone(), "x.png", "alpha beta").await;
    }
    let first = repo.search(&query(&me, "alpha", 1)).await.expect("search");
    let cursor = first.next_cursor.expect("more pages");
    let mut other_text = query(&me, "beta", 1);
    other_text.filter = other_text.filter.after(Some(cursor.clone()));
    assert!(matches!(
        repo.search(&other_text).await,
        Err(RepoError::InvalidCursor(_))
    ));
    let mut other_owner = query(&owner("mallory"), "alpha", 1);
    other_owner.filter = other_owner.filter.after(Some(cursor));
    assert!(matches!(
        repo.search(&other_owner).await,
        Err(RepoError::InvalidCursor(_))
    ));
    let listing = repo
        .list(&ListQuery::new([], 1).for_owner(me.clone()))
        .await
        .expect("list");
    let mut with_list_cursor = query(&me, "alpha", 1);
    with_list_cursor.filter = with_list_cursor.filter.after(listing.next_cursor);
    assert!(matches!(
        repo.search(&with_list_cursor).await,
        Err(RepoError::InvalidCursor(_))
    ));
}

/// Whatever a search text holds once it has a word (ligatures, fractions, other scripts' digits,
/// combining marks, zero-width characters, quotes and query syntax of any engine), the search answers;
/// compatibility forms (ligatures, full-width letters, mathematical digits) and other scripts' words
/// are found either way, by the domain's word rule.
pub async fn odd_text_is_searched_not_failed(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    let odd = processed(
        repo,
        id_at(0, 8),
        me.clone(),
        "odd.png",
        "ﬁnance ½ ٣٤ 𝟘 Ǆemal naïve x\u{200b}y \"quoted\" NEAR(a b) col:umn *star* AND OR NOT ＴＯＴＡＬ नमस्ते",
    )
    .await;
    for text in [
        "ﬁnance",
        "finance",
        "½",
        "٣٤",
        "𝟘",
        "ǅemal",
        "nai\u{0308}ve",
        "x\u{200b}y",
        "\"quoted\"",
        "NEAR(a",
        "col:umn",
        "*star*",
        "AND",
        "OR NOT",
        "a\u{0301}",
        "'",
        "^x",
        "-",
        "{x}",
        "x\"y",
    ] {
        let Ok(search) = SearchText::parse(text) else {
            continue;
        };
        let query = SearchQuery::new(search, ListQuery::new([], 10).for_owner(me.clone()));
        let found = repo.search(&query).await;
        assert!(found.is_ok(), "{text:?}: {found:?}");
    }
    for text in [
        "naïve",
        "naive",
        "quoted",
        "NEAR a",
        "col:umn",
        "star",
        "finance",
        "ﬁnance",
        "total",
        "ＴＯＴＡＬ",
        "नमस्ते",
        "٣٤",
        "𝟘",
        "0",
    ] {
        let found = ids(repo, &query(&me, text, 10)).await;
        assert_eq!(found, vec![odd.image_id()], "{text:?}");
    }
}
