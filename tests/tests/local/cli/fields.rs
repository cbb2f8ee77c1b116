//! `intake show` and `intake fields` against a live local server reading fields with its rule
//! extractor: a rendered receipt and a cheque whose amount in words was planted apart from its
//! figures. The table and the CSV (read back with a CSV reader) carry the document types, the
//! normalised total with its box, and the cheque's warning; the filters narrow the listing; a
//! filter the API refuses and a kind there is none of exit as documented.

use intake_domain::model::{DocumentKind, FieldType};
use intake_domain::testkit::documents;

use super::super::{prerequisites, spawn_app};
use super::{intake, stderr, stdout};

/// The CSV's rows as maps of column name to cell.
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            assert_eq!(record.len(), header.len(), "{record:?}");
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn show_and_fields_print_and_export_what_was_read() {
    let Some(font) = prerequisites() else { return };
    let docs = documents::clean(&font).expect("the font parses");
    let receipt = docs
        .iter()
        .find(|d| d.page.name.starts_with("receipt centred en-MY"))
        .expect("a receipt");
    let cheque = docs
        .iter()
        .find(|d| d.kind == DocumentKind::Cheque && d.planted_mismatch)
        .expect("a cheque with its words planted apart");
    let total = receipt.expected(FieldType::Total).expect("a total");

    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("receipt.png"), receipt.page.png()).unwrap();
    std::fs::write(work.path().join("cheque.png"), cheque.page.png()).unwrap();
    let out = intake(
        &app,
        &["upload", "receipt.png", "cheque.png", "--json"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uploaded: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let id_of = |name: &str| {
        uploaded
            .iter()
            .find(|i| i["fileName"] == name)
            .and_then(|i| i["imageId"].as_str())
            .unwrap()
            .to_owned()
    };
    let (receipt_id, cheque_id) = (id_of("receipt.png"), id_of("cheque.png"));

    // `show`: the document type among the facts, then the fields.
    let out = intake(&app, &["show", &receipt_id], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("Document") && l.contains("receipt (")),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("TOTAL") && l.contains(&format!("{total} MYR"))),
        "{shown}"
    );

    // The CSV: a row per field of both images, the total's normalised value and box.
    let out = intake(
        &app,
        &["fields", "--csv", "--limit", "1", "--all"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = csv_rows(&stdout(&out));
    let ids: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["image_id"].as_str()).collect();
    assert_eq!(
        ids,
        [receipt_id.as_str(), cheque_id.as_str()].into(),
        "both images, across pages"
    );
    let total_row = rows
        .iter()
        .find(|r| r["image_id"] == receipt_id && r["type"] == "TOTAL" && r["line_item"].is_empty())
        .expect("the receipt's total");
    assert_eq!(total_row["normalized"], total);
    assert_eq!(total_row["currency"], "MYR");
    assert_eq!(total_row["file_name"], "receipt.png");
    assert_eq!(total_row["document_type"], "receipt");
    assert_eq!(total_row["page"], "1");
    for side in ["box_left", "box_top", "box_width", "box_height"] {
        let v: f64 = total_row[side].parse().unwrap();
        assert!((0.0..=1.0).contains(&v), "{side} {v}");
    }
    let warned: Vec<_> = rows
        .iter()
        .filter(|r| r["image_id"] == cheque_id && !r["warnings"].is_empty())
        .collect();
    assert!(
        warned
            .iter()
            .any(|r| r["type"] == "AMOUNT" && r["warnings"].contains("DISAGREE")),
        "the planted mismatch is on the CSV: {warned:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r["document_type"] == "receipt" || r["image_id"] == cheque_id)
    );

    // Filters: the kind, a field's normalised value (any spelling of it).
    let out = intake(
        &app,
        &["fields", "--csv", "--document-type", "cheque"],
        work.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = csv_rows(&stdout(&out));
    assert!(!rows.is_empty() && rows.iter().all(|r| r["image_id"] == cheque_id));
    let filter = format!("TOTAL:RM {total}");
    let out = intake(&app, &["fields", "--csv", "--field", &filter], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = csv_rows(&stdout(&out));
    assert!(!rows.is_empty() && rows.iter().all(|r| r["image_id"] == receipt_id));

    // The table, and --json as the API answered.
    let out = intake(&app, &["fields"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("IMAGE"), "{}", stdout(&out));
    assert!(stdout(&out).contains("AMOUNT"), "{}", stdout(&out));
    let out = intake(&app, &["fields", "--json"], work.path()).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        listed["images"].as_array().map(Vec::len),
        Some(2),
        "{listed:#}"
    );

    // Refusals: a value its type cannot read (the API's 400), a kind there is none of (clap's).
    let out = intake(&app, &["fields", "--field", "TOTAL:abc"], work.path()).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let out = intake(&app, &["fields", "--document-type", "letter"], work.path()).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    app.stop().await;
}
