//! Near-duplicate presentment end to end: a re-photographed document is flagged with its original,
//! a document of the same template with other values is not, and other owners never match.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;
use crate::model::{
    Basis, BoundingBox, FIRST_PAGE, ImageHash, OcrLine, OcrPage, OcrResult, OcrWord, PageSource,
};

/// A receipt as the engine reads it.
const RECEIPT: &str = "ACME MARKET\n12 Harbour Road\nMilk 2.50\nBread 3.20\nCoffee 12.90\n\
    TOTAL 18.60\nCard **** 4821\n2026-11-25 14:02\nReceipt 004417\nThank you";

/// The original's picture hash; its re-photo is a few bits off, the same template's next receipt
/// a few others.
const PICTURE: u64 = 0xF0F0_1234_5678_9ABC;

/// What an engine that saw a page as `picture` and read `text` answers.
fn read(h: &impl Harness, picture: u64, text: &str) -> OcrResult {
    let lines: Vec<OcrLine> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let top = 0.05 + 0.08 * f32::from(u8::try_from(i).unwrap_or(0));
            let bbox = BoundingBox::new(0.1, top, 0.6, 0.05).expect("a box");
            let words = line
                .split_whitespace()
                .map(|w| OcrWord::new(w, 95.0, bbox).expect("a word"))
                .collect();
            OcrLine::from_words(words).expect("a line")
        })
        .collect();
    OcrResult::new(&h.intake().ocr_capabilities().engine, lines, false)
        .expect("a result")
        .with_pages(vec![
            OcrPage::new(FIRST_PAGE, 800, 1200, PageSource::Ocr)
                .with_image_hash(ImageHash(picture)),
        ])
}

/// Uploads `bytes` for `who` and processes them.
async fn processed_for(h: &impl Harness, who: &str, name: &str, bytes: &Bytes) -> ImageRecord {
    let ticket = h
        .intake()
        .request_upload(&owner(who), png_request(name, bytes))
        .await
        .expect("request upload");
    h.send(&ticket.request(), Some(bytes.clone()))
        .await
        .expect("PUT");
    processed(h, &ticket.object_key).await
}

/// The images `record` is flagged with.
fn flagged(record: &ImageRecord) -> Vec<ImageId> {
    record
        .near_duplicates()
        .expect("near-duplicates were looked for")
        .iter()
        .map(|found| found.image_id)
        .collect()
}

/// A re-photographed receipt (another file, its picture a few bits off, one word misread) is
/// flagged with its original, saying why; the same shop's next receipt (same picture, other
/// amounts, date and number) is not; another owner's copy matches nothing of this owner's; the
/// flag comes with an `image.near_duplicate` event, `similar_images` lists the pair both ways, and
/// a deleted image is no longer similar. Skipped where the adapter set has no fingerprint index or
/// its engine cannot be scripted.
pub async fn rephotographed_documents_are_flagged_with_their_original(h: &impl Harness) {
    let side = min_side(h);
    let [original, photo, next, theirs] = [41, 42, 43, 44].map(|seed| png(side, side, seed));
    let next_receipt = RECEIPT
        .replace("18.60", "21.40")
        .replace("12.90", "15.70")
        .replace("2026-11-25", "2026-12-02")
        .replace("004417", "004502");
    let scripted = [
        (&original, read(h, PICTURE, RECEIPT)),
        (
            &photo,
            read(h, PICTURE ^ 0b1011, &RECEIPT.replace("Harbour", "Harb0ur")),
        ),
        (&next, read(h, PICTURE ^ 0b110_0000, &next_receipt)),
        (&theirs, read(h, PICTURE, RECEIPT)),
    ];
    if !h.intake().finds_near_duplicates()
        || !scripted
            .into_iter()
            .all(|(bytes, result)| h.script_ocr(bytes, result))
    {
        return;
    }
    let first = processed_for(h, "alice", "receipt.png", &original).await;
    assert_eq!(flagged(&first), Vec::<ImageId>::new());
    assert!(!first.fingerprints().is_empty());

    let again = processed_for(h, "alice", "receipt-photo.png", &photo).await;
    assert_eq!(flagged(&again), vec![first.image_id()]);
    let found = &again.near_duplicates().expect("looked for")[0];
    assert!(
        matches!(found.basis, Basis::ImageAndText | Basis::Image),
        "{found:?}"
    );
    assert_eq!(found.image_distance, Some(3));
    assert!(found.similarity > 0.9, "{found:?}");
    for token in ["18.60", "2026-11-25", "004417"] {
        assert!(
            found.matched_tokens.iter().any(|t| t == token),
            "{token} not in {:?}",
            found.matched_tokens
        );
    }
    assert_eq!(
        again.status(),
        ImageStatus::Processed,
        "a flag never rejects"
    );

    let other = processed_for(h, "alice", "next-receipt.png", &next).await;
    assert_eq!(
        flagged(&other),
        Vec::<ImageId>::new(),
        "the same template with other values is another document"
    );

    let bobs = processed_for(h, "bob", "receipt.png", &theirs).await;
    assert_eq!(
        flagged(&bobs),
        Vec::<ImageId>::new(),
        "another owner's images never match"
    );

    if let Some(events) = h.committed_events().await {
        let flags: Vec<ImageId> = events
            .iter()
            .filter(|e| e.kind() == EventKind::NearDuplicate)
            .map(ImageEvent::image_id)
            .collect();
        assert_eq!(flags, vec![again.image_id()]);
    }

    similar_images_are_listed_both_ways(h, &first, &again, &bobs).await;
}

/// `similar_images` lists the pair both ways, only to their owner, and forgets a deleted image.
async fn similar_images_are_listed_both_ways(
    h: &impl Harness,
    first: &ImageRecord,
    again: &ImageRecord,
    bobs: &ImageRecord,
) {
    let intake = h.intake();
    let similar = |who: &'static str, id: ImageId| async move {
        intake
            .similar_images(&owner(who), id)
            .await
            .map(|found| found.iter().map(|f| f.image_id).collect::<Vec<_>>())
    };
    assert_eq!(
        similar("alice", first.image_id()).await.expect("similar"),
        vec![again.image_id()],
        "the original lists what came after it"
    );
    assert_eq!(
        similar("alice", again.image_id()).await.expect("similar"),
        vec![first.image_id()]
    );
    assert_eq!(
        similar("bob", bobs.image_id()).await.expect("similar"),
        Vec::<ImageId>::new()
    );
    assert!(matches!(
        similar("bob", first.image_id()).await,
        Err(IntakeError::NotFound { .. })
    ));
    intake
        .delete_image(&owner("alice"), again.image_id())
        .await
        .expect("delete");
    assert_eq!(
        similar("alice", first.image_id()).await.expect("similar"),
        Vec::<ImageId>::new(),
        "a deleted image is no longer similar"
    );
}
