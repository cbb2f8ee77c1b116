//! Documents rendered here (receipts, invoices and cheques in several locales, clean and as noisy
//! scans) read by PP-OCR, then by the rule engine: the fields come back as printed. Skipped
//! without the OCR models and the font outside CI, as the engine's own tests are.

use intake_domain::model::{DocumentKind, FieldOptions, FieldType, FieldWarning, OcrResult};
use intake_domain::ports::OcrEngine as _;
use intake_domain::testkit::documents::{self, LabelledDocument};
use intake_domain::testkit::fields::assert_well_formed;
use intake_fields::RuleExtractor;
use intake_ocr_onnx::{PpOcr, PpOcrOptions, default_models_dir};

fn font() -> Option<Vec<u8>> {
    let installed = default_models_dir()
        .join("ppocr-v6-tiny/rec.onnx")
        .is_file();
    let font = intake_domain::testkit::images::DEJAVU_SANS_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok());
    match font {
        Some(font) if installed => Some(font),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI must install the OCR models and fonts"
            );
            eprintln!("SKIPPED: needs scripts/ocr-models.sh and fonts-dejavu-core");
            None
        }
    }
}

#[test]
fn rendered_documents_give_their_fields_back_through_ocr() {
    let Some(font) = font() else { return };
    let engine = PpOcr::load(&PpOcrOptions::default().with_workers(2)).expect("models load");
    let read = |engine: &PpOcr, doc: &LabelledDocument| -> OcrResult {
        let result = engine
            .read_blocking(&doc.page.png())
            .expect("OCR reads the page");
        result.in_reading_order(engine.capabilities().reports_fragments)
    };
    let clean = documents::clean(&font).expect("font parses");
    let pick = |name: &str| {
        clean
            .iter()
            .find(|d| d.page.name.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let chosen = [
        pick("receipt centred en-MY").clone(),
        pick("receipt columns en-US").clone(),
        pick("invoice table de-DE").clone(),
        pick("invoice stacked en-GB").clone(),
        pick("cheque en-US").clone(),
        pick("receipt centred fr-FR").noisy(7),
    ];
    for doc in &chosen {
        let ocr = read(&engine, doc);
        let found = RuleExtractor::new(FieldOptions::with_date_order(doc.date_order)).read(&ocr);
        assert_well_formed(&ocr, &found);
        assert_eq!(
            found.document_type.kind, doc.kind,
            "{}: {found:#?}",
            doc.page.name
        );
        let checked: &[FieldType] = if doc.kind == DocumentKind::Cheque {
            &[
                FieldType::Amount,
                FieldType::CheckNumber,
                FieldType::CheckDate,
                FieldType::RoutingNumber,
            ]
        } else {
            &[FieldType::Total, FieldType::InvoiceReceiptDate]
        };
        for t in checked {
            let got = found.first(*t).and_then(|f| f.normalized.as_deref());
            assert_eq!(
                got,
                doc.expected(*t),
                "{} {t:?}: {}",
                doc.page.name,
                ocr.text()
            );
        }
    }
    let planted = clean
        .iter()
        .find(|d| d.planted_mismatch)
        .expect("a planted cheque");
    let ocr = read(&engine, planted);
    let found = RuleExtractor::new(FieldOptions::with_date_order(planted.date_order)).read(&ocr);
    assert!(
        found.first(FieldType::Amount).is_some_and(|f| f
            .warnings
            .iter()
            .any(|w| matches!(w, FieldWarning::WordsDisagree { .. }))),
        "{}: {found:#?}",
        ocr.text()
    );
}
