//! The SQLite side table of field keys and the document-kind column: records stored before they
//! existed are back-filled by their migration from the stored documents, and found by the filters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use intake_domain::model::{
    BoundingBox, DocumentFields, DocumentKind, DocumentType, FIRST_PAGE, Field, FieldFilter,
    FieldOptions, FieldType, ImageStatus,
};
use intake_domain::ports::{ImageRepository, ListQuery};
use intake_domain::testkit::{advanced, default_owner, id_at, record};
use intake_local::SqliteRepository;

#[tokio::test]
async fn records_stored_before_the_side_table_are_back_filled_by_its_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intake.db");
    let first = record(id_at(0, 1));
    let mut done = advanced(
        &first,
        ImageStatus::Processed,
        None,
        id_at(0, 1).created_at(),
    );
    let b = BoundingBox::new(0.6, 0.5, 0.2, 0.04).unwrap();
    done.note_fields(
        "rules",
        DocumentFields::new(
            DocumentType::new(DocumentKind::Receipt, 0.9),
            vec![Field::new(FieldType::Total, "RM 31.00", 0.9, FIRST_PAGE, b)],
            Vec::new(),
        )
        .settled(FieldOptions::default()),
    )
    .unwrap();
    {
        let repo = SqliteRepository::open(&path).unwrap();
        repo.create(&first).await.unwrap();
        repo.replace(&done, first.version(), &[]).await.unwrap();
    }
    // The file as the schema before fields left it (version 12): the document holds the fields,
    // nothing else, and the fingerprint index has its first layout (migration 14 replaces it).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX images_by_owner_kind;
             DROP TABLE image_fields;
             ALTER TABLE images DROP COLUMN document_kind;
             DROP TABLE fingerprint_keys;
             DROP TABLE fingerprint_key_pages;
             CREATE TABLE fingerprint_bands (
                 owner TEXT NOT NULL, kind TEXT NOT NULL, band INTEGER NOT NULL,
                 value INTEGER NOT NULL, image_id BLOB NOT NULL, page INTEGER NOT NULL,
                 PRIMARY KEY (owner, kind, band, value, image_id, page)
             ) WITHOUT ROWID;
             CREATE INDEX fingerprint_bands_by_image ON fingerprint_bands (image_id, owner);
             PRAGMA user_version = 12;",
        )
        .unwrap();
    }
    let repo = SqliteRepository::open(&path).unwrap();
    let total = FieldFilter::parse("TOTAL:31", FieldOptions::default()).unwrap();
    let query = ListQuery::new([], 10)
        .for_owner(default_owner())
        .with_fields([total])
        .with_document_kind(Some(DocumentKind::Receipt));
    let found = repo.list(&query).await.unwrap();
    assert_eq!(found.records, vec![done.without_ocr_lines()]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT field FROM image_fields")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(keys, vec!["TOTAL=31.00"]);
}
