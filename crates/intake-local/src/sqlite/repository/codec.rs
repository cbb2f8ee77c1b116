//! The stored form of a record in SQLite: the record's stored document (the domain's
//! [`RecordParts`] JSON) in the `record` column, and its OCR lines apart in the `ocr_lines` column so
//! that listings and text views never parse them.
//!
//! The document's field names are a storage schema (migrations and the search index's triggers read
//! `$.fileName` and `$.ocrText`); the domain versions it, and documents of every version read.

use intake_domain::model::{ImageRecord, OcrLine, RecordParts};
use intake_domain::ports::RepoError;

use super::other;

/// A record as its row stores it: the `record` column's JSON and the `ocr_lines` column's, if any.
///
/// # Errors
/// [`RepoError::Failed`] when the record cannot be written as JSON.
pub(super) fn encode(record: ImageRecord) -> Result<(String, Option<String>), RepoError> {
    let mut parts = record.into_parts();
    let lines = parts
        .ocr_lines
        .take()
        .map(|lines| serde_json::to_string(&lines))
        .transpose()
        .map_err(other)?;
    Ok((parts.to_document().map_err(other)?, lines))
}

/// The record a row stores, with its lines when they were read.
///
/// # Errors
/// [`RepoError::Failed`] when the JSON is damaged, of a later schema, or its state inconsistent.
pub(super) fn decode(json: &str, lines: Option<&str>) -> Result<ImageRecord, RepoError> {
    let mut parts = RecordParts::from_document(json).map_err(other)?;
    // Lines live in their column only; the document never carries them inline.
    parts.ocr_lines = lines
        .map(serde_json::from_str::<Vec<OcrLine>>)
        .transpose()
        .map_err(other)?;
    ImageRecord::from_parts(parts).map_err(other)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use intake_domain::model::ImageStatus;
    use intake_domain::testkit::{advanced, epoch, id_at, record};

    use super::*;

    #[test]
    fn rows_use_the_schema_names_and_round_trip_with_their_lines() {
        let processed = advanced(&record(id_at(0, 1)), ImageStatus::Processed, None, epoch());
        let (json, lines) = encode(processed.clone()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for field in [
            "imageId",
            "owner",
            "version",
            "bucket",
            "objectKey",
            "fileName",
            "ocrStatus",
            "status",
            "createdAt",
            "declaredContentType",
            "schemaVersion",
        ] {
            assert!(value.get(field).is_some(), "{field} missing in {json}");
        }
        assert!(
            value.get("ocrLines").is_none(),
            "lines are in their own column"
        );
        assert_eq!(decode(&json, lines.as_deref()).unwrap(), processed);
        assert_eq!(
            decode(&json, None).unwrap(),
            processed.without_ocr_lines(),
            "a row read without its lines"
        );
    }

    #[test]
    fn fields_from_a_newer_writer_are_tolerated_and_inconsistent_rows_refused() {
        let (json, _) = encode(record(id_at(0, 2))).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["someFutureField"] = serde_json::json!({"x": 1});
        assert!(decode(&value.to_string(), None).is_ok());
        value["status"] = serde_json::json!("PROCESSED");
        assert!(matches!(
            decode(&value.to_string(), None),
            Err(RepoError::Failed(_))
        ));
    }
}
