//! Section 10: document fields (issue 28). The rule engine (`intake-fields`) over PP-OCR tiny's
//! arranged lines, on
//! - the labelled documents rendered here (`testkit::documents`: receipts and invoices in two
//!   layouts each and five locales, cheques with amounts in figures and words, every page again as
//!   a noisy scan): exact-match accuracy per field type after normalisation, the document type, and
//!   whether every planted words-vs-figures mismatch is flagged (and no agreeing cheque is);
//! - the development set's forms (FUNSD: its annotations link questions to answers): `KEY_VALUE`
//!   precision, recall and F1;
//! - the extractor's time per page as a ratio to OCR's (the same pages, the same run).

use std::path::Path;
use std::time::{Duration, Instant};

use intake_domain::model::{
    DocumentFields, DocumentKind, FieldOptions, FieldType, FieldWarning, OcrResult,
};
use intake_domain::testkit::documents::{self, LabelledDocument};
use intake_domain::testkit::images::DEJAVU_SANS_PATHS;
use intake_fields::RuleExtractor;
use intake_ocr_onnx::{ModelTier, PpOcr, PpOcrOptions, default_models_dir};

use crate::Plan;
use crate::fields_score::{Counts, Tally, funsd_pairs, matched, same_value};
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail};

/// The field types scored, their names in the report, and their targets.
const SCORED: [(FieldType, &str, Option<f64>); 10] = [
    (FieldType::Total, "total", Some(0.95)),
    (FieldType::InvoiceReceiptDate, "date", Some(0.95)),
    (FieldType::VendorName, "vendor", Some(0.85)),
    (FieldType::Amount, "cheque amount", None),
    (FieldType::CheckNumber, "cheque number", None),
    (FieldType::CheckDate, "cheque date", None),
    (FieldType::Subtotal, "subtotal", None),
    (FieldType::Tax, "tax", None),
    (FieldType::InvoiceReceiptId, "receipt/invoice number", None),
    (FieldType::Payee, "payee", None),
];

/// OCR and extraction times, summed over pages.
#[derive(Default)]
struct Times {
    ocr: Duration,
    extract: Duration,
    pages: usize,
}

/// One page read by OCR (arranged as the processor stores it) and then by the rules, timed.
fn read(
    engine: &PpOcr,
    png: &[u8],
    options: FieldOptions,
    times: &mut Times,
) -> Result<(OcrResult, DocumentFields), BenchError> {
    let start = Instant::now();
    let ocr = engine
        .read_blocking(png)
        .map_err(fail("OCR"))?
        .in_reading_order(true);
    let read = Instant::now();
    let fields = RuleExtractor::new(options).read(&ocr);
    times.extract += read.elapsed();
    times.ocr += read - start;
    times.pages += 1;
    Ok((ocr, fields))
}

/// Runs the section on the runtime's thread (OCR blocks: the runtime is told so).
pub(crate) fn run(plan: &Plan) -> Result<Section, BenchError> {
    let mut section = Section::new("10. Document fields (issue 28): rule engine over PP-OCR tiny");
    println!("{}", section.title);
    let Some(font) = DEJAVU_SANS_PATHS.iter().find_map(|p| std::fs::read(p).ok()) else {
        section.note("skipped: no DejaVu Sans (fonts-dejavu-core)");
        return Ok(section);
    };
    if !default_models_dir()
        .join("ppocr-v6-tiny/rec.onnx")
        .is_file()
    {
        section.note("skipped: no PP-OCR models (scripts/ocr-models.sh)");
        return Ok(section);
    }
    let engine = PpOcr::load(
        &PpOcrOptions::default()
            .with_tier(ModelTier::Tiny)
            .with_workers(1),
    )
    .map_err(fail("load PP-OCR"))?;
    let mut docs = documents::all(&font).ok_or_else(|| BenchError::Failed("font".into()))?;
    if plan.quick {
        docs.retain(|d| !d.noisy);
    }
    let mut times = Times::default();
    let rendered = tokio::task::block_in_place(|| rendered(&engine, &docs, &mut times))?;
    rendered.report(&mut section, &docs);
    let dev = crate::ocr::dev_set();
    if dev.join("pairs.tsv").is_file() {
        let pages = crate::ocr::pages(&dev, plan.quick)?;
        tokio::task::block_in_place(|| forms(&engine, &dev, &pages, &mut times, &mut section))?;
    } else {
        section.note(format!(
            "key-value F1 skipped: no development set at {} (set INTAKE_OCR_DEV)",
            dev.display()
        ));
    }
    let ratio = times.extract.as_secs_f64() / times.ocr.as_secs_f64().max(1e-9);
    section.figure(Figure {
        name: "extractor time per page vs OCR's (PP-OCR tiny, one worker)".into(),
        ours: format!(
            "{:.3} ms/page",
            times.extract.as_secs_f64() * 1000.0 / times.pages.max(1) as f64
        ),
        reference_name: "OCR".into(),
        reference: format!(
            "{:.0} ms/page",
            times.ocr.as_secs_f64() * 1000.0 / times.pages.max(1) as f64
        ),
        ratio,
        target: "≤ 0.05×".into(),
        met: Some(ratio <= 0.05),
    });
    Ok(section)
}

/// What the rendered set measured.
struct Rendered {
    per_type: Vec<(FieldType, Tally, Tally)>,
    kinds: Tally,
    planted: Tally,
    false_alarms: usize,
    agreeing: usize,
    misses: Vec<String>,
}

fn rendered(
    engine: &PpOcr,
    docs: &[LabelledDocument],
    times: &mut Times,
) -> Result<Rendered, BenchError> {
    let mut out = Rendered {
        per_type: SCORED
            .iter()
            .map(|(t, _, _)| (*t, Tally::default(), Tally::default()))
            .collect(),
        kinds: Tally::default(),
        planted: Tally::default(),
        false_alarms: 0,
        agreeing: 0,
        misses: Vec::new(),
    };
    for doc in docs {
        let options = FieldOptions::with_date_order(doc.date_order);
        let (_, found) = read(engine, &doc.page.png(), options, times)?;
        out.kinds.add(found.document_type.kind == doc.kind);
        for (field_type, clean, noisy) in &mut out.per_type {
            let Some(expected) = doc.expected(*field_type) else {
                continue;
            };
            let got = found.first(*field_type).and_then(|f| f.normalized.clone());
            let hit = got
                .as_deref()
                .is_some_and(|g| same_value(*field_type, g, expected));
            if doc.noisy { noisy } else { clean }.add(hit);
            if !hit {
                out.misses.push(format!(
                    "{} {}: {:?} for {expected:?}",
                    doc.page.name,
                    field_type.name(),
                    got.unwrap_or_default()
                ));
            }
        }
        if doc.kind == DocumentKind::Cheque {
            let flagged = found.fields.iter().any(|f| {
                f.warnings
                    .iter()
                    .any(|w| matches!(w, FieldWarning::WordsDisagree { .. }))
            });
            if doc.planted_mismatch {
                out.planted.add(flagged);
            } else {
                out.agreeing += 1;
                out.false_alarms += usize::from(flagged);
            }
            if flagged != doc.planted_mismatch {
                let words = found.first(FieldType::AmountInWords);
                out.misses.push(format!(
                    "{} words {}: read {:?} as {:?}",
                    doc.page.name,
                    if flagged {
                        "flagged, none planted"
                    } else {
                        "not flagged"
                    },
                    words.map(|f| f.value.as_str()).unwrap_or_default(),
                    words
                        .and_then(|f| f.normalized.as_deref())
                        .unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

impl Rendered {
    fn report(&self, section: &mut Section, docs: &[LabelledDocument]) {
        let clean = docs.iter().filter(|d| !d.noisy).count();
        section.note(format!(
            "rendered set: {} pages ({clean} clean; {} degraded: each as a noisy scan (turned \
             1.5–2°, ±24 levels of noise, speckles, a 3 × 3 blur) and as a small photo (3/5 of \
             the size, turned 3.5°, the same noise)); receipts and invoices in 2 layouts each × 5 locales \
             (en-US, en-MY, de-DE, en-GB, fr-FR), cheques in the 3 English ones; each page read \
             with its locale's day/month order, as its deployment would be configured",
            docs.len(),
            docs.len() - clean
        ));
        for ((_, name, target), (_, clean, noisy)) in SCORED.iter().zip(&self.per_type) {
            let all = clean.plus(noisy);
            section.figure(Figure {
                name: format!("{name}: exact match after normalisation, rendered set"),
                ours: format!("{:.3} ({}/{})", all.rate(), all.hits, all.total),
                reference_name: "clean / degraded".into(),
                reference: format!("{:.3} / {:.3}", clean.rate(), noisy.rate()),
                ratio: all.rate(),
                target: target.map_or_else(|| "—".to_owned(), |t| format!("≥ {t}")),
                met: target.map(|t| all.rate() >= t),
            });
        }
        section.figure(Figure {
            name: "document type correct, rendered set".into(),
            ours: format!(
                "{:.3} ({}/{})",
                self.kinds.rate(),
                self.kinds.hits,
                self.kinds.total
            ),
            reference_name: "—".into(),
            reference: "—".into(),
            ratio: self.kinds.rate(),
            target: "—".into(),
            met: None,
        });
        section.figure(Figure {
            name: "planted words-vs-figures mismatches flagged".into(),
            ours: format!("{}/{}", self.planted.hits, self.planted.total),
            reference_name: "false alarms on agreeing cheques".into(),
            reference: format!("{}/{}", self.false_alarms, self.agreeing),
            ratio: self.planted.rate(),
            target: "every one".into(),
            met: Some(self.planted.hits == self.planted.total && self.planted.total > 0),
        });
        if !self.misses.is_empty() {
            section.note(format!("misses: {}", self.misses.join("; ")));
        }
    }
}

/// The forms: `KEY_VALUE` pairs against FUNSD's linked question → answer pairs.
fn forms(
    engine: &PpOcr,
    dev: &Path,
    pages: &[std::path::PathBuf],
    times: &mut Times,
    section: &mut Section,
) -> Result<(), BenchError> {
    let (mut loose, mut strict) = (Counts::default(), Counts::default());
    let mut scored = 0;
    for page in pages {
        let stem = crate::ocr::stem(page);
        let name = stem.strip_prefix("funsd_").unwrap_or(&stem);
        let annotation = dev
            .join("source/funsd_annotations")
            .join(format!("{name}.json"));
        let Ok(json) = std::fs::read_to_string(&annotation) else {
            continue;
        };
        let truth = funsd_pairs(&json)?;
        let png = std::fs::read(page).map_err(fail("read page"))?;
        let (_, found) = read(engine, &png, FieldOptions::default(), times)?;
        let pairs: Vec<(String, String)> = found
            .fields
            .iter()
            .filter(|f| f.field_type == FieldType::KeyValue)
            .map(|f| (f.label.clone().unwrap_or_default(), f.value.clone()))
            .collect();
        loose.add(matched(&pairs, &truth, 0.8), pairs.len(), truth.len());
        strict.add(matched(&pairs, &truth, 1.0), pairs.len(), truth.len());
        scored += 1;
    }
    section.note(format!(
        "key-value pairs: {scored} FUNSD forms of the development set, {} linked question → answer \
         pairs; a pair found matches one of the truth when its label and its value are each within \
         20% edit distance of the truth's (case, punctuation and spacing folded), one to one; the \
         strict figure needs both equal after folding",
        loose.truth
    ));
    for (name, counts) in [("≥ 0.8 similar", &loose), ("exact", &strict)] {
        section.figure(Figure {
            name: format!("KEY_VALUE F1 on the FUNSD forms, {name}"),
            ours: format!(
                "{:.3} (P {:.3}, R {:.3})",
                counts.f1(),
                counts.precision(),
                counts.recall()
            ),
            reference_name: "found / truth".into(),
            reference: format!("{} / {}", counts.found, counts.truth),
            ratio: counts.f1(),
            target: "—".into(),
            met: None,
        });
    }
    Ok(())
}
