//! Near-duplicate presentment through the local server with its real engine (PP-OCR) and SQLite
//! index: a re-scanned receipt (another file: padded, lighter, less contrast) is flagged with its
//! original on the record and by `GET /images/{id}/similar`; the shop's next receipt (same
//! template, other amounts, date and number) is not.

use super::{prerequisites, rescanned_png as page, spawn_app};

const RECEIPT: [&str; 8] = [
    "ACME MARKET",
    "12 HARBOUR ROAD",
    "MILK 2.50",
    "BREAD 3.20",
    "COFFEE 12.90",
    "TOTAL 18.60",
    "2026-11-25 14:02",
    "RECEIPT 004417",
];

fn flagged(record: &serde_json::Value) -> Vec<String> {
    record["nearDuplicates"]
        .as_array()
        .unwrap_or_else(|| panic!("near-duplicates were looked for: {record:#}"))
        .iter()
        .map(|d| d["imageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rescanned_receipt_is_flagged_with_its_original_and_the_next_receipt_is_not() {
    let Some(font) = prerequisites() else { return };
    let app = spawn_app().await;
    let next: Vec<String> = RECEIPT
        .iter()
        .map(|l| {
            l.replace("18.60", "21.40")
                .replace("12.90", "15.70")
                .replace("2026-11-25", "2026-12-02")
                .replace("004417", "004502")
        })
        .collect();
    let next: Vec<&str> = next.iter().map(String::as_str).collect();

    let original = app
        .upload("receipt.png", &page(&font, &RECEIPT, 0, 0))
        .await;
    let first = app.wait_terminal(&original).await;
    assert_eq!(flagged(&first), Vec::<String>::new(), "{first:#}");

    let rescan = app
        .upload("rescan.png", &page(&font, &RECEIPT, 24, 40))
        .await;
    let again = app.wait_terminal(&rescan).await;
    assert_eq!(again["status"], "PROCESSED");
    assert_eq!(flagged(&again), vec![original.clone()], "{again:#}");
    let found = &again["nearDuplicates"][0];
    assert!(found["similarity"].as_f64().unwrap() > 0.8, "{found}");
    assert!(
        found["matchedTokens"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("18.60")),
        "{found}"
    );

    let other = app.upload("next.png", &page(&font, &next, 0, 0)).await;
    let third = app.wait_terminal(&other).await;
    assert_eq!(
        flagged(&third),
        Vec::<String>::new(),
        "the same template with other values: {third:#}"
    );

    let (status, similar) = app.get_json(&format!("/images/{original}/similar")).await;
    assert_eq!(status, 200, "{similar}");
    let listed: Vec<&str> = similar["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["imageId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![rescan.as_str()], "{similar:#}");
    app.stop().await;
}

/// The OCR result of `text`, one line per line, as an engine of before fingerprints read it.
fn read(text: &str) -> intake_domain::model::OcrResult {
    use intake_domain::model::{BoundingBox, OcrLine, OcrResult, OcrWord};
    let bbox = BoundingBox::new(0.1, 0.1, 0.6, 0.05).unwrap();
    let lines = text
        .lines()
        .map(|line| {
            OcrLine::from_words(
                line.split_whitespace()
                    .map(|w| OcrWord::new(w, 95.0, bbox).unwrap())
                    .collect(),
            )
            .unwrap()
        })
        .collect();
    OcrResult::new("tesseract", lines, false).unwrap()
}

#[tokio::test]
async fn records_stored_before_the_index_are_put_in_it_at_start() {
    use intake_domain::model::{ImageStatus, Owner, Sha256Digest};
    use intake_domain::ports::ImageRepository as _;
    use intake_domain::testkit::{advanced_with, epoch, id_at, record_of, with_parts};

    let Some(_font) = prerequisites() else { return };
    let dir = tempfile::tempdir().unwrap();
    let owner = Owner::parse("archive").unwrap();
    let receipt = RECEIPT.join("\n");
    let ids = [id_at(0, 1), id_at(1, 2), id_at(2, 3)];
    let texts = [
        receipt.clone(),
        receipt.replace("HARBOUR", "HARB0UR"),
        "INVOICE 7781\nNORTHWIND TRADERS\nCONSULTING 1140.00\nDUE 2026-12-01".to_owned(),
    ];
    {
        let database = intake_local::SqliteDatabase::open(dir.path().join("intake.db")).unwrap();
        let repository = database.repository();
        for (n, (id, text)) in ids.iter().zip(&texts).enumerate() {
            let first = record_of(*id, owner.clone());
            repository.create(&first).await.unwrap();
            let done = advanced_with(
                &first,
                ImageStatus::Processed,
                Some(Sha256Digest::of(&[u8::try_from(n).unwrap()])),
                &read(text),
                epoch(),
            );
            // As records were stored before fingerprints existed.
            let old = with_parts(done, |parts| {
                parts.fingerprints.clear();
                parts.near_duplicates = None;
            });
            repository
                .replace(&old, first.version(), &[])
                .await
                .unwrap();
        }
        database.settle().await;
    }
    let app = super::spawn_app_at(dir, |d| {
        super::options(d, intake_domain::IntakeConfig::default())
    })
    .await;
    let intake = app.server.intake();
    let owner = &owner;
    let similar = |id| async move {
        intake
            .similar_images(owner, id)
            .await
            .unwrap()
            .iter()
            .map(|found| (found.image_id, found.basis.name()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        similar(ids[0]).await,
        vec![(ids[1], "text")],
        "the re-read receipt, by its text"
    );
    assert_eq!(similar(ids[2]).await, vec![]);
    // Again: the same index.
    assert_eq!(intake.index_stored_records().await.unwrap(), 3);
    assert_eq!(similar(ids[1]).await, vec![(ids[0], "text")]);
    app.stop().await;
}
