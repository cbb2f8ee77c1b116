//! The record's stored document: every schema version's fixtures read back as the records they were
//! written from, and a document written today is the same document.
//!
//! Fixture sets, each a directory under `tests/fixtures/`:
//! - `record-v2`: what schema 2 first wrote (before pages; lines without their page);
//! - `record-current`: what this code writes. A change to it must read the older sets; after an
//!   additive change (a new optional field) write the set again with
//!   `INTAKE_BLESS=1 cargo test -p intake-domain --test stored_document`, and review the diff.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::path::{Path, PathBuf};

use intake_domain::model::{
    DocumentError, ImageRecord, OcrLine, RECORD_SCHEMA_VERSION, RecordParts,
};
use intake_domain::testkit::fixtures::stored_records;

fn fixtures(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{set}"))
}

/// What a record was before pages existed: no page summaries (its lines were all on page 1), and
/// no fingerprints, near-duplicates or fields (later still).
fn before_pages(record: ImageRecord) -> ImageRecord {
    let mut parts = record.into_parts();
    parts.pages = None;
    parts.fingerprints.clear();
    parts.near_duplicates = None;
    parts.document_type = None;
    parts.fields.clear();
    parts.line_items.clear();
    parts.fields_extractor = None;
    ImageRecord::from_parts(parts).unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The record a fixture holds: its document, and its lines from beside it (as both repositories
/// keep lines apart from the document).
fn read_fixture(dir: &Path, name: &str) -> ImageRecord {
    let document = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    let mut parts = RecordParts::from_document(&document).unwrap_or_else(|e| panic!("{name}: {e}"));
    let lines = dir.join(format!("{name}.lines.json"));
    if lines.exists() {
        parts.ocr_lines = Some(
            serde_json::from_str::<Vec<OcrLine>>(&std::fs::read_to_string(lines).unwrap()).unwrap(),
        );
    }
    ImageRecord::from_parts(parts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn version_two_documents_read_as_the_records_they_were_written_from() {
    let dir = fixtures("record-v2");
    let mut read = 0;
    // The records schema 2 first wrote (documents of pages came later).
    for (name, record) in stored_records() {
        if dir.join(format!("{name}.json")).exists() {
            assert_eq!(read_fixture(&dir, name), before_pages(record), "{name}");
            read += 1;
        }
    }
    assert_eq!(read, 7);
}

#[test]
fn current_documents_read_as_the_records_they_were_written_from() {
    let dir = fixtures("record-current");
    for (name, record) in stored_records() {
        assert_eq!(read_fixture(&dir, name), record, "{name}");
    }
}

#[test]
fn todays_documents_are_the_current_version_s_documents() {
    assert_eq!(
        RECORD_SCHEMA_VERSION, 2,
        "a new version needs its own fixtures"
    );
    let dir = fixtures("record-current");
    let bless = std::env::var_os("INTAKE_BLESS").is_some();
    for (name, record) in stored_records() {
        let mut parts = record.into_parts();
        let lines = parts.ocr_lines.take();
        let written: serde_json::Value =
            serde_json::from_str(&parts.to_document().unwrap()).unwrap();
        let lines_file = dir.join(format!("{name}.lines.json"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap() + "\n";
            std::fs::write(dir.join(format!("{name}.json")), pretty(&written)).unwrap();
            if let Some(lines) = &lines {
                std::fs::write(&lines_file, pretty(&serde_json::to_value(lines).unwrap())).unwrap();
            }
        }
        assert_eq!(written, json(&dir.join(format!("{name}.json"))), "{name}");
        assert!(
            written.get("ocrLines").is_none(),
            "{name}: lines taken out are not written"
        );
        assert_eq!(lines.is_some(), lines_file.exists(), "{name}");
        if let Some(lines) = lines {
            assert_eq!(
                serde_json::to_value(lines).unwrap(),
                json(&lines_file),
                "{name}"
            );
        }
    }
}

#[test]
fn every_fixture_is_a_record_of_the_kit() {
    let names: Vec<_> = stored_records().into_iter().map(|(name, _)| name).collect();
    let sets = ["record-v2", "record-current"];
    for entry in sets
        .iter()
        .flat_map(|set| std::fs::read_dir(fixtures(set)).unwrap())
    {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let name = file.trim_end_matches(".json").trim_end_matches(".lines");
        assert!(
            names.contains(&name),
            "{file} has no record in testkit::fixtures"
        );
    }
}

#[test]
fn unknown_fields_are_ignored_and_later_versions_refused() {
    let (_, record) = stored_records().remove(0);
    let document = record.into_parts().to_document().unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&document).unwrap();
    value["someFutureField"] = serde_json::json!({"x": 1});
    assert!(RecordParts::from_document(&value.to_string()).is_ok());

    value["schemaVersion"] = serde_json::json!(RECORD_SCHEMA_VERSION + 1);
    assert!(matches!(
        RecordParts::from_document(&value.to_string()),
        Err(DocumentError::Version { found, known }) if found == RECORD_SCHEMA_VERSION + 1 && known == RECORD_SCHEMA_VERSION
    ));
    // A later version whose fields no longer parse says it is a later version, not damage.
    value["status"] = serde_json::json!(42);
    assert!(matches!(
        RecordParts::from_document(&value.to_string()),
        Err(DocumentError::Version { .. })
    ));
}

#[test]
fn damaged_documents_and_missing_required_fields_are_refused() {
    let (_, record) = stored_records().remove(0);
    let mut value: serde_json::Value =
        serde_json::from_str(&record.into_parts().to_document().unwrap()).unwrap();
    assert!(matches!(
        RecordParts::from_document("{not json"),
        Err(DocumentError::Json(_))
    ));
    // Schema 1 had no owner: the SQLite migration to schema 2 gives those rows one; a document
    // without it is not read as anybody's.
    value.as_object_mut().unwrap().remove("owner");
    value["schemaVersion"] = serde_json::json!(1);
    assert!(matches!(
        RecordParts::from_document(&value.to_string()),
        Err(DocumentError::Json(_))
    ));
}
