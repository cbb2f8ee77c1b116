//! Which extractor reads which kind of document, and what a failing one leaves: the processor's
//! field reading over fake extractors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::tests::{awaiting, caps, now};
use super::*;
use crate::model::{
    BoundingBox, ContentType, DateOrder, DocumentFields, DocumentKind, DocumentType, FIRST_PAGE,
    Field, FieldOptions, FieldType, ImageRecord, Measurements, OcrResult,
};
use crate::ports::{
    Failure, FieldError, FieldExtractor, FieldInput, MockImageRepository, MockObjectStore,
    MockOcrEngine, MockUrlSigner,
};

/// An extractor that answers one reading (or a failure) and counts its calls.
#[derive(Debug)]
struct Fake {
    name: &'static str,
    answer: Result<(DocumentKind, &'static str), fn() -> FieldError>,
    calls: AtomicUsize,
}

impl Fake {
    fn reading(name: &'static str, kind: DocumentKind, date: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            answer: Ok((kind, date)),
            calls: AtomicUsize::new(0),
        })
    }

    fn failing(name: &'static str, error: fn() -> FieldError) -> Arc<Self> {
        Arc::new(Self {
            name,
            answer: Err(error),
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl FieldExtractor for Fake {
    fn name(&self) -> &str {
        self.name
    }

    async fn extract(&self, _: FieldInput<'_>) -> Result<DocumentFields, FieldError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let (kind, date) = self.answer.map_err(|error| error())?;
        let b = BoundingBox::new(0.1, 0.1, 0.2, 0.05).unwrap();
        // Not settled: the processor settles every reading with the deployment's options.
        Ok(DocumentFields::new(
            DocumentType::new(kind, 0.9),
            vec![Field::new(
                FieldType::InvoiceReceiptDate,
                date,
                0.9,
                FIRST_PAGE,
                b,
            )],
            Vec::new(),
        ))
    }
}

fn composed(general: Arc<Fake>, expense: Option<Arc<Fake>>, order: DateOrder) -> Intake {
    let mut ocr = MockOcrEngine::new();
    ocr.expect_capabilities()
        .return_const(caps("e", vec![ContentType::Png]));
    let mut builder = Intake::builder()
        .store(MockObjectStore::new())
        .repository(MockImageRepository::new())
        .signer(MockUrlSigner::new())
        .ocr(ocr)
        .shared_field_extractor(general)
        .config(IntakeConfig::default().with_field_options(FieldOptions::with_date_order(order)));
    if let Some(expense) = expense {
        builder = builder.expense_field_extractor(expense);
    }
    builder.build().unwrap()
}

/// A processed record and what its engine read.
fn processed() -> (ImageRecord, OcrResult) {
    let ocr = OcrResult::new("e", Vec::new(), false).unwrap();
    let claimed = awaiting()
        .claim(now(), std::time::Duration::from_secs(60))
        .unwrap();
    let done = claimed
        .complete(now(), &Measurements::default(), &ocr)
        .unwrap();
    (done, ocr)
}

async fn read_with(intake: &Intake) -> ImageRecord {
    let (mut done, ocr) = processed();
    intake.read_fields(&mut done, &ocr, None).await.unwrap();
    done
}

#[tokio::test]
async fn expenses_are_read_again_by_the_expense_reader_and_other_kinds_are_not() {
    let general = Fake::reading("rules", DocumentKind::Receipt, "01/02/2026");
    let expense = Fake::reading("expense", DocumentKind::Invoice, "03/04/2026");
    let intake = composed(
        general.clone(),
        Some(expense.clone()),
        DateOrder::MonthFirst,
    );
    let done = read_with(&intake).await;
    assert_eq!(done.fields_extractor(), Some("expense"));
    assert_eq!(
        done.document_type().map(|t| t.kind),
        Some(DocumentKind::Invoice)
    );
    assert_eq!(
        done.fields()[0].normalized.as_deref(),
        Some("2026-03-04"),
        "settled with the deployment's month-first order"
    );
    assert_eq!((general.calls(), expense.calls()), (1, 1));
    assert_eq!(intake.documents_read()[1], (DocumentKind::Invoice, 1));

    for kind in [
        DocumentKind::Cheque,
        DocumentKind::Form,
        DocumentKind::Other,
    ] {
        let general = Fake::reading("rules", kind, "01/02/2026");
        let expense = Fake::reading("expense", DocumentKind::Receipt, "01/02/2026");
        let intake = composed(general, Some(expense.clone()), DateOrder::DayFirst);
        let done = read_with(&intake).await;
        assert_eq!(done.fields_extractor(), Some("rules"), "{kind:?}");
        assert_eq!(done.document_type().map(|t| t.kind), Some(kind));
        assert_eq!(done.fields()[0].normalized.as_deref(), Some("2026-02-01"));
        assert_eq!(expense.calls(), 0, "{kind:?} is no expense");
    }
}

#[tokio::test]
async fn a_failing_expense_reader_leaves_the_general_reading_and_a_failing_general_one_none() {
    let cannot = || FieldError::Unsupported {
        reason: "three pages".into(),
    };
    let down = || FieldError::Failed(Failure::unavailable("down"));
    for (error, counted) in [(cannot as fn() -> FieldError, 0), (down, 1)] {
        let general = Fake::reading("rules", DocumentKind::Receipt, "01/02/2026");
        let intake = composed(
            general,
            Some(Fake::failing("expense", error)),
            DateOrder::DayFirst,
        );
        let done = read_with(&intake).await;
        assert_eq!(done.fields_extractor(), Some("rules"));
        assert_eq!(
            done.document_type().map(|t| t.kind),
            Some(DocumentKind::Receipt)
        );
        assert_eq!(intake.field_extractor_failures(), counted);
    }
    let intake = composed(Fake::failing("rules", down), None, DateOrder::DayFirst);
    let done = read_with(&intake).await;
    assert_eq!(
        (done.document_type(), done.fields_extractor()),
        (None, None)
    );
    assert!(done.fields().is_empty());
    assert_eq!(intake.field_extractor_failures(), 1);
    assert!(intake.documents_read().iter().all(|(_, n)| *n == 0));
}
