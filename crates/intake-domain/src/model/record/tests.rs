use std::time::Duration;

use super::*;

const LEASE: Duration = Duration::from_secs(60);

/// A change to a record's parts.
type Change = fn(&mut RecordParts);

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + ms).unwrap()
}

fn sample() -> ImageRecord {
    let now = at(0);
    ImageRecord::awaiting_upload(NewUpload {
        image_id: ImageId::generate(now),
        owner: crate::model::Owner::parse("o").unwrap(),
        bucket: "bucket".into(),
        file_name: FileName::sanitize("a.png").unwrap(),
        content_type: ContentType::Png,
        size_bytes: Some(10),
        sha256: None,
        created_at: now,
        upload_expires_at: now,
    })
}

fn measured() -> Measurements {
    Measurements {
        size_bytes: Some(10),
        sha256: Some(Sha256Digest::of(b"x")),
        content_type: Some(ContentType::Png),
        dimensions: Some((40, 30)),
        page_count: Some(1),
        duplicate_of: None,
    }
}

fn ocr() -> OcrResult {
    let b = crate::model::BoundingBox::new(0.1, 0.1, 0.5, 0.1).unwrap();
    let line =
        OcrLine::from_words(vec![crate::model::OcrWord::new("TOTAL", 90.0, b).unwrap()]).unwrap();
    OcrResult::new("e", vec![line], false).unwrap()
}

/// Every transition's result passes the same consistency check a stored record must pass.
fn consistent(record: &ImageRecord) {
    assert_eq!(
        ImageRecord::from_parts(record.clone().into_parts()).as_ref(),
        Ok(record),
        "{record:?}"
    );
}

#[test]
fn statuses_parse_from_their_stable_text() {
    for s in ImageStatus::ALL {
        assert_eq!(s.as_str().parse::<ImageStatus>().unwrap(), s);
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert!("DONE".parse::<ImageStatus>().is_err());
    assert!(ImageStatus::Rejected.is_terminal() && !ImageStatus::Processing.is_terminal());
}

#[test]
fn next_bumps_version_and_metadata_only_drops_text_and_lines() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    let done = claimed.complete(at(2), &measured(), &ocr()).unwrap();
    assert_eq!(done.version(), 3);
    assert_eq!(done.updated_at(), at(2));
    let meta = done.metadata_only();
    assert!(meta.ocr_text().is_none() && meta.ocr_lines().is_none());
    assert_eq!(meta.ocr_line_count(), Some(1));
    let text = done.without_ocr_lines();
    assert_eq!(text.ocr_text(), Some("TOTAL"));
    assert!(text.ocr_lines().is_none());
}

#[test]
fn a_claim_takes_a_lease_and_counts_an_attempt() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    consistent(&claimed);
    assert_eq!(claimed.status(), ImageStatus::Processing);
    assert_eq!(claimed.attempts(), 1);
    assert_eq!(
        claimed.lease_expires_at(),
        Some(at(1).saturating_add(LEASE))
    );
    assert!(matches!(
        claimed.claim(at(2), LEASE),
        Err(TransitionError::Claimed { until, .. }) if until == at(1).saturating_add(LEASE)
    ));
    // Once the lease ran out, or was released, another processor may claim.
    let later = at(1)
        .saturating_add(LEASE)
        .saturating_add(Duration::from_millis(1));
    assert_eq!(claimed.claim(later, LEASE).unwrap().attempts(), 2);
    let released = claimed.release(at(3), Some(&measured())).unwrap();
    consistent(&released);
    assert_eq!(released.lease_expires_at(), None);
    assert_eq!(released.sha256(), measured().sha256);
    assert_eq!(released.claim(at(4), LEASE).unwrap().attempts(), 2);
}

#[test]
fn each_ending_keeps_status_codes_and_times_consistent() {
    let claimed = sample().claim(at(1), LEASE).unwrap();

    let done = claimed.complete(at(5), &measured(), &ocr()).unwrap();
    consistent(&done);
    assert_eq!(
        (done.status(), done.ocr_status()),
        (ImageStatus::Processed, OcrStatus::Completed)
    );
    assert_eq!(done.processed_at(), Some(at(5)));
    assert_eq!(done.lease_expires_at(), None);
    assert_eq!(done.width_px(), Some(40));
    assert_eq!(done.ocr_text(), Some("TOTAL"));

    let copy = claimed.complete_as_copy(at(5), &measured(), &done).unwrap();
    consistent(&copy);
    assert_eq!(copy.duplicate_of(), Some(done.image_id()));
    assert_eq!(copy.ocr_lines(), done.ocr_lines());

    let rejected = claimed
        .reject(at(5), &measured(), RejectionCode::Corrupt, "damaged")
        .unwrap();
    consistent(&rejected);
    assert_eq!(
        (rejected.status(), rejected.ocr_status()),
        (ImageStatus::Rejected, OcrStatus::Skipped)
    );
    assert_eq!(rejected.rejection_code(), Some(RejectionCode::Corrupt));
    assert_eq!(rejected.failure_code(), None);

    let failed = claimed
        .fail(at(5), Some(&measured()), FailureCode::OcrError, "engine")
        .unwrap();
    consistent(&failed);
    assert_eq!(
        (failed.status(), failed.ocr_status()),
        (ImageStatus::Failed, OcrStatus::Failed)
    );
    assert_eq!(failed.failure_message(), Some("engine"));
    assert_eq!(failed.processed_at(), Some(at(5)));

    // Retries can run out before a claim: a waiting record fails the same way.
    let exhausted = sample()
        .fail(at(6), None, FailureCode::RetriesExhausted, "gave up")
        .unwrap();
    consistent(&exhausted);
    assert_eq!(
        exhausted.failure_code(),
        Some(FailureCode::RetriesExhausted)
    );
}

#[test]
fn illegal_transitions_are_typed_errors() {
    let waiting = sample();
    let refused = |r: Result<ImageRecord, TransitionError>, t: Transition| match r {
        Err(TransitionError::Status { transition, .. }) => assert_eq!(transition, t),
        other => panic!("expected {t:?} to be refused, got {other:?}"),
    };
    refused(
        waiting.complete(at(1), &measured(), &ocr()),
        Transition::Complete,
    );
    refused(
        waiting.reject(at(1), &measured(), RejectionCode::Empty, "x"),
        Transition::Reject,
    );
    refused(waiting.release(at(1), None), Transition::Release);
    refused(waiting.unclaim(at(1)), Transition::Unclaim);

    let done = waiting
        .claim(at(1), LEASE)
        .unwrap()
        .complete(at(2), &measured(), &ocr())
        .unwrap();
    refused(done.claim(at(3), LEASE), Transition::Claim);
    refused(
        done.fail(at(3), None, FailureCode::OcrError, "x"),
        Transition::Fail,
    );
    // Only a processed original lends its text.
    let other = sample().claim(at(1), LEASE).unwrap();
    refused(
        other.complete_as_copy(at(2), &measured(), &waiting),
        Transition::Complete,
    );
    let mut waiting_copy = waiting.clone();
    assert!(
        waiting_copy
            .attach_preview(ObjectKey::for_preview(waiting.image_id()))
            .is_err()
    );
    assert_eq!(
        waiting_copy, waiting,
        "a refused transition changed the record"
    );

    let deleted = waiting.mark_deleted(at(4)).unwrap();
    consistent(&deleted);
    assert_eq!(deleted.deleted_at(), Some(at(4)));
    assert!(matches!(
        deleted.claim(at(5), LEASE),
        Err(TransitionError::Deleted {
            transition: Transition::Claim,
            ..
        })
    ));
    assert!(matches!(
        deleted.mark_deleted(at(5)),
        Err(TransitionError::Deleted { .. })
    ));
}

#[test]
fn an_unclaim_gives_the_attempt_back() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    let back = claimed.unclaim(at(2)).unwrap();
    consistent(&back);
    assert_eq!(back.status(), ImageStatus::AwaitingUpload);
    assert_eq!(back.attempts(), 0);
    assert_eq!(back.lease_expires_at(), None);
}

#[test]
fn a_received_upload_is_processing_unclaimed_and_a_processor_claims_it() {
    let received = sample().receive(at(1)).unwrap();
    consistent(&received);
    assert_eq!(received.status(), ImageStatus::Processing);
    assert_eq!(
        (received.attempts(), received.lease_expires_at()),
        (0, None)
    );
    assert_eq!(received.version(), 2);
    let claimed = received.claim(at(2), LEASE).unwrap();
    assert_eq!(claimed.attempts(), 1);
    assert!(matches!(
        claimed.receive(at(3)),
        Err(TransitionError::Status {
            transition: Transition::Receive,
            ..
        })
    ));
    let deleted = sample().mark_deleted(at(1)).unwrap();
    assert!(matches!(
        deleted.receive(at(2)),
        Err(TransitionError::Deleted { .. })
    ));
}

#[test]
fn a_result_rebased_over_a_newer_version_keeps_its_deletion() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    let done = claimed.complete(at(3), &measured(), &ocr()).unwrap();
    let deleted = claimed.mark_deleted(at(2)).unwrap();
    let rebased = done.rebased_over(&deleted);
    consistent(&rebased);
    assert_eq!(rebased.version(), deleted.version() + 1);
    assert_eq!(rebased.deleted_at(), Some(at(2)));
    assert_eq!(rebased.status(), ImageStatus::Processed);
}

#[test]
fn inconsistent_parts_are_refused() {
    let good = sample().into_parts();
    let broken: [(&str, Change); 6] = [
        ("version 0", |p| p.version = 0),
        ("processed without completed OCR", |p| {
            p.status = ImageStatus::Processed;
            p.processed_at = Some(p.created_at);
        }),
        ("rejected without a code", |p| {
            p.status = ImageStatus::Rejected;
            p.ocr_status = OcrStatus::Skipped;
            p.processed_at = Some(p.created_at);
        }),
        ("a failure code on a waiting record", |p| {
            p.failure_code = Some(FailureCode::OcrError);
        }),
        ("a lease while waiting", |p| {
            p.lease_expires_at = Some(p.created_at);
        }),
        ("a key of another image", |p| {
            p.object_key = ObjectKey::for_preview(ImageId::generate(p.created_at));
        }),
    ];
    for (what, change) in broken {
        let mut parts = good.clone();
        change(&mut parts);
        assert!(
            ImageRecord::from_parts(parts).is_err(),
            "{what} was accepted"
        );
    }
    assert!(ImageRecord::from_parts(good).is_ok());
}

#[test]
fn a_failure_after_the_hash_was_looked_up_keeps_the_duplicate() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    let original = ImageId::generate(at(0));
    let seen = Measurements {
        duplicate_of: Some(original),
        ..measured()
    };
    let failed = claimed
        .fail(
            at(2),
            Some(&seen),
            FailureCode::OcrInvalidImage,
            "unreadable",
        )
        .unwrap();
    consistent(&failed);
    assert_eq!(failed.duplicate_of(), Some(original));
    let done = claimed.complete(at(2), &seen, &ocr()).unwrap();
    assert_eq!(done.duplicate_of(), Some(original));
}

#[test]
fn a_rebased_result_is_never_older_than_what_it_replaces() {
    let claimed = sample().claim(at(1), LEASE).unwrap();
    let done = claimed.complete(at(3), &measured(), &ocr()).unwrap();
    let deleted_later = claimed.mark_deleted(at(9)).unwrap();
    let rebased = done.rebased_over(&deleted_later);
    assert_eq!(rebased.updated_at(), at(9));
    assert_eq!(rebased.processed_at(), Some(at(3)));
}
