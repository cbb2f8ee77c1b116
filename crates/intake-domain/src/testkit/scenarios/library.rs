//! An owner's images: duplicates linked, deleted images hidden, search, listing pages, and owners isolated from each other.

#[allow(
    clippy::wildcard_imports,
    reason = "the suite's harness, helpers and imports, one module apart"
)]
use super::*;

/// A second upload of the same bytes names the first in `duplicateOf`, at request time (declared
/// SHA-256) and after processing, and reuses its OCR result.
pub async fn duplicates_are_linked_and_reuse_ocr(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 12);
    let (first_id, first_key) = upload(h, png_request("first.png", &bytes), bytes.clone()).await;
    let first = processed(h, &first_key).await;
    assert_eq!(first.duplicate_of(), None);
    let ticket = h
        .intake()
        .request_upload(&default_owner(), png_request("second.png", &bytes))
        .await
        .expect("request");
    assert_eq!(
        ticket.duplicate_of,
        Some(first_id),
        "the upload response does not name the original"
    );
    h.send(&ticket.request(), Some(bytes)).await.expect("PUT");
    let second = processed(h, &ticket.object_key).await;
    assert_eq!(second.duplicate_of(), Some(first_id));
    assert_eq!(second.ocr_text(), first.ocr_text());
    assert_eq!(second.ocr_engine(), first.ocr_engine());
    let expected_calls = if h.intake().config().reuse_duplicate_ocr {
        1
    } else {
        2
    };
    assert_eq!(h.ocr_calls(), expected_calls);
    let same = h
        .intake()
        .list_images(
            &default_owner(),
            &ListRequest::default().with_sha256(Sha256Digest::of(&png(
                min_side(h),
                min_side(h),
                12,
            ))),
        )
        .await
        .expect("list by sha");
    assert_eq!(
        same.images.iter().map(|r| r.image_id()).collect::<Vec<_>>(),
        vec![ticket.image_id, first_id]
    );
}

/// A deleted image is gone from details and listings, deleting again succeeds, notifications skip it,
/// and an unknown id is `NOT_FOUND`.
pub async fn deleted_images_disappear(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 13);
    let (id, key) = upload(h, png_request("gone.png", &bytes), bytes).await;
    processed(h, &key).await;
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("second delete");
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), id, OcrDetail::Lines)
            .await
            .expect_err("deleted image visible")
            .code(),
        "NOT_FOUND"
    );
    assert!(
        h.intake()
            .list_images(&default_owner(), &ListRequest::default())
            .await
            .expect("list")
            .images
            .is_empty()
    );
    assert!(matches!(
        h.notify(&key).await.expect("notify"),
        ProcessOutcome::Skipped {
            reason: SkipReason::Deleted,
            ..
        }
    ));

    let unknown = crate::testkit::id_at(0, 999);
    assert_eq!(
        h.intake()
            .delete_image(&default_owner(), unknown)
            .await
            .expect_err("unknown")
            .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        h.intake()
            .get_image(&default_owner(), unknown, OcrDetail::Lines)
            .await
            .expect_err("unknown")
            .code(),
        "NOT_FOUND"
    );
}

/// A word of a processed image's file name or OCR text finds it, with a snippet; a deleted image is
/// found no more; another owner finds nothing. Without search, `SEARCH_UNAVAILABLE`.
pub async fn search_finds_words_or_says_it_is_unavailable(h: &impl Harness) {
    let bytes = png(min_side(h), min_side(h), 17);
    let (id, key) = upload(h, png_request("Quarterly-ACME-receipt.png", &bytes), bytes).await;
    let record = processed(h, &key).await;
    let search = |q: &str| {
        ListRequest::default().with_search(crate::model::SearchText::parse(q).expect("search text"))
    };
    let found = h
        .intake()
        .list_images(&default_owner(), &search("acme"))
        .await;
    if !h.searches() {
        assert_eq!(
            found.expect_err("no search here").code(),
            "SEARCH_UNAVAILABLE"
        );
        return;
    }
    let page = found.expect("search");
    assert_eq!(
        page.images.iter().map(|i| i.image_id()).collect::<Vec<_>>(),
        vec![id]
    );
    let snippet = &page.images[0].search.as_ref().expect("a match").snippet;
    assert!(
        snippet.iter().any(|p| p.matched && p.text == "ACME"),
        "{snippet:?}"
    );
    assert!(
        page.images[0].ocr_text().is_none(),
        "hits carry no OCR text"
    );
    let word = record.ocr_text().and_then(|t| {
        t.split_whitespace()
            .find(|w| w.chars().any(char::is_alphanumeric))
    });
    if let Some(word) = word {
        let page = h
            .intake()
            .list_images(&default_owner(), &search(word))
            .await
            .expect("search the text");
        assert!(page.images.iter().any(|i| i.image_id() == id), "{word}");
    }
    assert!(
        h.intake()
            .list_images(&owner("someone-else"), &search("acme"))
            .await
            .expect("search")
            .images
            .is_empty()
    );
    assert_eq!(
        IntakeError::from(
            crate::model::SearchText::parse(" ;; ").expect_err("a search without words")
        )
        .code(),
        "INVALID_SEARCH"
    );
    h.intake()
        .delete_image(&default_owner(), id)
        .await
        .expect("delete");
    assert!(
        h.intake()
            .list_images(&default_owner(), &search("acme"))
            .await
            .expect("search")
            .images
            .is_empty()
    );
}

/// Five images listed two at a time come back newest first, each once; a bad cursor is `INVALID_CURSOR`.
pub async fn listing_pages_newest_first(h: &impl Harness) {
    let mut ids = Vec::new();
    for seed in 20..25 {
        let bytes = png(min_side(h), min_side(h), seed);
        let (id, key) = upload(h, png_request("p.png", &bytes), bytes).await;
        processed(h, &key).await;
        ids.push(id);
    }
    // one image that never arrives: not listed by default
    h.intake()
        .request_upload(
            &default_owner(),
            UploadRequest::named("never.png", crate::model::ContentType::Png).expect("file name"),
        )
        .await
        .expect("request");
    ids.reverse();
    let mut listed = Vec::new();
    let mut request = ListRequest::default().with_limit(2);
    loop {
        let page = h
            .intake()
            .list_images(&default_owner(), &request)
            .await
            .expect("list");
        assert!(page.images.len() <= 2);
        listed.extend(page.images.iter().map(|r| r.image_id()));
        match page.next_cursor {
            Some(cursor) => {
                request = ListRequest::default()
                    .with_limit(2)
                    .with_cursor(cursor.clone());
            }
            None => break,
        }
    }
    assert_eq!(listed, ids);
    let garbled = match crate::model::Cursor::parse("definitely-not-a-cursor") {
        Err(error) => IntakeError::from(error),
        Ok(cursor) => h
            .intake()
            .list_images(
                &default_owner(),
                &ListRequest::default().with_cursor(cursor),
            )
            .await
            .expect_err("garbled cursor"),
    };
    assert_eq!(garbled.code(), "INVALID_CURSOR");
    let too_many = ListRequest::default().with_limit(1001);
    assert_eq!(
        h.intake()
            .list_images(&default_owner(), &too_many)
            .await
            .expect_err("limit")
            .code(),
        "INVALID_LIMIT"
    );
}

/// Another owner's image is `NOT_FOUND` to read and to delete (and stays intact), never listed, never
/// offered as a duplicate (at request time or after processing), and a cursor does not cross owners.
pub async fn owners_are_isolated(h: &impl Harness) {
    let intake = h.intake();
    let (alice, bob) = (default_owner(), owner("bob"));
    let bytes = png(min_side(h), min_side(h), 40);
    let mut alice_ids = Vec::new();
    for name in ["a1.png", "a2.png"] {
        let (id, key) = upload(h, png_request(name, &bytes), bytes.clone()).await;
        processed(h, &key).await;
        alice_ids.push(id);
    }
    let id = alice_ids[0];
    for result in [
        intake
            .get_image(&bob, id, OcrDetail::Text)
            .await
            .map(|_| ()),
        intake.delete_image(&bob, id).await,
    ] {
        assert_eq!(
            result.expect_err("another owner's image").code(),
            "NOT_FOUND"
        );
    }
    assert_eq!(
        intake
            .get_image(&alice, id, OcrDetail::Text)
            .await
            .expect("still there")
            .record
            .image_id(),
        id,
        "another owner's delete touched the image"
    );
    assert!(
        intake
            .list_images(&bob, &ListRequest::default())
            .await
            .expect("list")
            .images
            .is_empty(),
        "another owner's images listed"
    );
    let ticket = intake
        .request_upload(&bob, png_request("b.png", &bytes))
        .await
        .expect("request");
    assert_eq!(
        ticket.duplicate_of, None,
        "another owner's image offered as the original"
    );
    h.send(&ticket.request(), Some(bytes.clone()))
        .await
        .expect("PUT");
    let calls = h.ocr_calls();
    let record = processed(h, &ticket.object_key).await;
    assert_eq!(*record.owner(), bob);
    assert_eq!(
        record.duplicate_of(),
        None,
        "another owner's image named as the original"
    );
    assert_eq!(h.ocr_calls(), calls + 1, "OCR reused across owners");
    let by_sha = intake
        .list_images(
            &bob,
            &ListRequest::default().with_sha256(Sha256Digest::of(&bytes)),
        )
        .await
        .expect("list by sha");
    assert_eq!(
        by_sha
            .images
            .iter()
            .map(|r| r.image_id())
            .collect::<Vec<_>>(),
        vec![ticket.image_id]
    );
    let page = intake
        .list_images(&alice, &ListRequest::default().with_limit(1))
        .await
        .expect("list");
    let cursor = page.next_cursor.expect("two pages");
    assert_eq!(
        intake
            .list_images(
                &bob,
                &ListRequest::default().with_limit(1).with_cursor(cursor)
            )
            .await
            .expect_err("another owner's cursor")
            .code(),
        "INVALID_CURSOR"
    );
}
