//! Figure 6: Processor throughput with the memory adapters: images/s for 1 MiB images with a scripted OCR
//! engine, with 1 and N concurrent processors, against hashing the same bytes alone (the floor any
//! processor pays): the ratio shows what the domain adds.

use std::time::Instant;

use bytes::Bytes;
use intake_domain::Intake;
use intake_domain::model::ObjectKey;
use intake_domain::services::{ObjectCreated, UploadRequest};
use intake_memory::{MemoryObjectStore, MemoryRepository, MemoryUrlSigner};
use sha2::{Digest as _, Sha256};

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{BenchError, bench_owner, fail, scripted_engine};

async fn setup(count: usize, image: &Bytes) -> Result<(Intake, Vec<ObjectKey>), BenchError> {
    let store = MemoryObjectStore::default();
    let intake = Intake::builder()
        .store(store.clone())
        .signer(MemoryUrlSigner::default())
        .ocr(scripted_engine())
        .repository(MemoryRepository::default())
        .config(intake_domain::IntakeConfig::default().with_reuse_duplicate_ocr(false))
        .build()
        .map_err(fail("compose"))?;
    let mut keys = Vec::new();
    for n in 0..count {
        let request =
            UploadRequest::named(&format!("p{n}.png"), intake_domain::model::ContentType::Png)
                .map_err(fail("file name"))?;
        let ticket = intake
            .request_upload(&bench_owner(), request)
            .await
            .map_err(fail("request upload"))?;
        store.put(&ticket.object_key, image.clone(), "image/png");
        keys.push(ticket.object_key);
    }
    Ok((intake, keys))
}

async fn process_all(
    intake: &Intake,
    keys: Vec<ObjectKey>,
    workers: usize,
) -> Result<f64, BenchError> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(keys));
    let count = queue.lock().map_or(0, |k| k.len());
    let start = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (intake, queue) = (intake.clone(), std::sync::Arc::clone(&queue));
            tokio::spawn(async move {
                loop {
                    let Some(key) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                        return Ok::<_, BenchError>(());
                    };
                    intake
                        .process_object_created(&ObjectCreated::new(intake.bucket(), key.clone()))
                        .await
                        .map_err(fail("process"))?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(fail("worker"))??;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

fn hash_all(image: &Bytes, count: usize, workers: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for w in 0..workers {
            scope.spawn(move || {
                for _ in (w..count).step_by(workers) {
                    let _ = Sha256::digest(image);
                }
            });
        }
    });
    count as f64 / start.elapsed().as_secs_f64()
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let count = if plan.quick { 100 } else { 1000 };
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let mut section =
        Section::new("6. Processor throughput, memory adapters, 1 MiB images, scripted OCR");
    println!("{}", section.title);
    let image = intake_domain::testkit::images::png(1024, 1024, 7);
    for workers in [1, cores] {
        let reference = hash_all(&image, count, workers);
        let (intake, keys) = setup(count, &image).await?;
        let ours = process_all(&intake, keys, workers).await?;
        let ratio = ours / reference;
        section.figure(Figure {
            name: format!("{count} images, {workers} processor(s)"),
            ours: format!("{ours:.0} images/s"),
            reference_name: "SHA-256 alone".into(),
            reference: format!("{reference:.0} images/s"),
            ratio,
            target: "≥ 0.8× (no bottleneck)".into(),
            met: Some(ratio >= 0.8),
        });
    }
    section.note(format!(
        "Images: {} KiB PNG (1024 × 1024 gray, stored). Each processing claims the record, streams the object \
         once (hash, sniff, header, trailer), calls the engine and writes the record twice.",
        image.len() / 1024
    ));
    Ok(section)
}
