//! The field filters of listings and searches (`field=TYPE:value`, `documentType`), as every
//! repository must answer them: only the records with every field asked for and the kind asked for,
//! of their owner, live, across pages; fields re-read replace the old ones; reprocessing drops them.

use super::{advanced, default_owner, epoch, id_at, owner, record_of, with_parts};
use crate::model::{
    BoundingBox, DocumentFields, DocumentKind, DocumentType, FIRST_PAGE, Field, FieldFilter,
    FieldOptions, FieldType, ImageId, ImageRecord, ImageStatus, Owner, SearchText,
};
use crate::ports::{ImageRepository, ImageSearch, ListQuery, SearchQuery};

/// What an extractor read: a document of `kind` with a total and a date, settled.
fn read(kind: DocumentKind, total: &str, date: &str) -> DocumentFields {
    let b = BoundingBox::new(0.6, 0.5, 0.2, 0.04).expect("box");
    DocumentFields::new(
        DocumentType::new(kind, 0.9),
        vec![
            Field::new(FieldType::Total, total, 0.9, FIRST_PAGE, b),
            Field::new(FieldType::InvoiceReceiptDate, date, 0.9, FIRST_PAGE, b),
        ],
        Vec::new(),
    )
    .settled(FieldOptions::default())
}

/// Stores a processed record of `owner` whose OCR text is `text` and whose fields are `fields`.
async fn stored(
    repo: &impl ImageRepository,
    id: ImageId,
    owner: &Owner,
    text: &str,
    fields: Option<DocumentFields>,
) -> ImageRecord {
    let first = record_of(id, owner.clone());
    repo.create(&first).await.expect("create");
    let mut next = with_parts(
        advanced(&first, ImageStatus::Processed, None, id.created_at()),
        |p| p.ocr_text = Some(text.to_owned()),
    );
    if let Some(fields) = fields {
        next.note_fields("rules", fields).expect("processed");
    }
    repo.replace(&next, first.version(), &[])
        .await
        .expect("replace");
    next
}

fn filter(text: &str) -> FieldFilter {
    FieldFilter::parse(text, FieldOptions::default()).expect("a valid filter")
}

/// Every id a listing pages through.
async fn listed(repo: &impl ImageRepository, base: ListQuery) -> Vec<ImageId> {
    let mut query = base;
    let mut out = Vec::new();
    for _ in 0..100 {
        let page = repo.list(&query).await.expect("list");
        out.extend(page.records.iter().map(ImageRecord::image_id));
        match page.next_cursor {
            Some(cursor) => query = query.after(Some(cursor)),
            None => return out,
        }
    }
    panic!("listing did not terminate");
}

/// The owner's records the filter cases list: a receipt of 31.00 on 25/11, an invoice of 31.00 on
/// 26/11, a receipt of 12.40, one whose fields were not read; and another owner's receipt of 31.00.
async fn seeded(repo: &impl ImageRepository) -> [ImageRecord; 4] {
    let me = default_owner();
    let a = stored(
        repo,
        id_at(0, 801),
        &me,
        "a",
        Some(read(DocumentKind::Receipt, "RM 31.00", "25/11/2026")),
    )
    .await;
    let b = stored(
        repo,
        id_at(0, 802),
        &me,
        "b",
        Some(read(DocumentKind::Invoice, "31.00", "26/11/2026")),
    )
    .await;
    let c = stored(
        repo,
        id_at(0, 803),
        &me,
        "c",
        Some(read(DocumentKind::Receipt, "12.40", "25/11/2026")),
    )
    .await;
    let unread = stored(repo, id_at(0, 804), &me, "d", None).await;
    stored(
        repo,
        id_at(0, 805),
        &owner("someone-else"),
        "e",
        Some(read(DocumentKind::Receipt, "31.00", "25/11/2026")),
    )
    .await;
    [a, b, c, unread]
}

fn mine() -> ListQuery {
    ListQuery::new([], 1).for_owner(default_owner())
}

/// Listings filtered by fields (ANDed) and document kind find exactly the owner's live records that
/// have them, newest first across pages.
pub async fn lists_by_fields_and_document_kind(repo: &impl ImageRepository) {
    let [a, b, c, unread] = seeded(repo).await;
    let total = filter("TOTAL:31");
    assert_eq!(
        listed(repo, mine().with_fields([total.clone()])).await,
        vec![b.image_id(), a.image_id()],
        "by a field, across pages of one"
    );
    assert_eq!(
        listed(
            repo,
            mine().with_fields([total.clone(), filter("INVOICE_RECEIPT_DATE:2026-11-25")])
        )
        .await,
        vec![a.image_id()],
        "every field must match"
    );
    assert_eq!(
        listed(repo, mine().with_document_kind(Some(DocumentKind::Receipt))).await,
        vec![c.image_id(), a.image_id()],
        "by kind; a record not read is no receipt"
    );
    assert_eq!(
        listed(
            repo,
            mine()
                .with_document_kind(Some(DocumentKind::Invoice))
                .with_fields([total])
        )
        .await,
        vec![b.image_id()]
    );
    for other in ["TOTAL:31.01", "SUBTOTAL:31"] {
        assert!(
            listed(repo, mine().with_fields([filter(other)]))
                .await
                .is_empty(),
            "{other}: the type and the value are the match"
        );
    }
    assert_eq!(
        listed(repo, mine()).await.len(),
        4,
        "no filter, every record"
    );
    assert_eq!(
        repo.get(&unread.image_id()).await.expect("get"),
        Some(unread)
    );
}

/// Fields read again replace the old ones in the filters; reprocessing drops them; a deleted record
/// is found no more.
pub async fn filters_follow_rereads_reprocessing_and_deletion(repo: &impl ImageRepository) {
    let [a, b, c, _] = seeded(repo).await;
    let total = filter("TOTAL:31");
    let mut reread = a.next(epoch());
    reread
        .note_fields("rules", read(DocumentKind::Receipt, "32.00", "25/11/2026"))
        .expect("processed");
    repo.replace(&reread, a.version(), &[])
        .await
        .expect("replace");
    assert_eq!(
        listed(repo, mine().with_fields([total.clone()])).await,
        vec![b.image_id()]
    );
    assert_eq!(
        listed(repo, mine().with_fields([filter("TOTAL:32")])).await,
        vec![a.image_id()]
    );
    let again = b.reprocess(epoch(), None).expect("reprocess");
    repo.replace(&again, b.version(), &[])
        .await
        .expect("replace");
    assert!(listed(repo, mine().with_fields([total])).await.is_empty());
    let deleted = c.mark_deleted(epoch()).expect("delete");
    repo.replace(&deleted, c.version(), &[])
        .await
        .expect("replace");
    assert_eq!(
        listed(repo, mine().with_document_kind(Some(DocumentKind::Receipt))).await,
        vec![a.image_id()]
    );
}

/// A search combined with field filters finds only the matching records that have the fields.
pub async fn searches_by_fields(repo: &(impl ImageRepository + ImageSearch)) {
    let me = default_owner();
    let a = stored(
        repo,
        id_at(0, 811),
        &me,
        "corner cafe",
        Some(read(DocumentKind::Receipt, "31.00", "25/11/2026")),
    )
    .await;
    stored(
        repo,
        id_at(0, 812),
        &me,
        "corner cafe",
        Some(read(DocumentKind::Receipt, "12.40", "25/11/2026")),
    )
    .await;
    stored(
        repo,
        id_at(0, 813),
        &me,
        "harbour deli",
        Some(read(DocumentKind::Receipt, "31.00", "25/11/2026")),
    )
    .await;
    let search = |fields: Vec<FieldFilter>, kind: Option<DocumentKind>| {
        SearchQuery::new(
            SearchText::parse("cafe").expect("a valid search"),
            ListQuery::new([], 10)
                .for_owner(me.clone())
                .with_fields(fields)
                .with_document_kind(kind),
        )
    };
    let ids = |query: SearchQuery| async move {
        repo.search(&query)
            .await
            .expect("search")
            .hits
            .iter()
            .map(|h| h.record.image_id())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(search(vec![filter("TOTAL:31")], None)).await,
        vec![a.image_id()]
    );
    assert_eq!(
        ids(search(vec![], Some(DocumentKind::Receipt))).await.len(),
        2
    );
    assert!(
        ids(search(
            vec![filter("TOTAL:31")],
            Some(DocumentKind::Invoice)
        ))
        .await
        .is_empty()
    );
}
