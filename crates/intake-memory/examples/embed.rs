//! Embedding Intake in a Rust service with the in-memory adapters: request an upload URL, upload through
//! it, deliver the object-created notification, and read the record back.
//!
//! Run with `cargo run -p intake-memory --features testkit --example embed` (the feature provides the
//! PNG generator used to make an image).

use std::error::Error;

use intake_domain::model::{ContentType, Owner, Sha256Digest};
use intake_domain::services::{ListRequest, ObjectCreated, ProcessOutcome, UploadRequest};
use intake_domain::{Intake, IntakeConfig};
use intake_memory::{
    MemoryGateway, MemoryObjectStore, MemoryRepository, MemoryUrlSigner, Scripted, ScriptedOcr,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. Compose the services from any set of ports; here, all in memory.
    let store = MemoryObjectStore::new("cheques");
    let signer = MemoryUrlSigner::new("http://memory.invalid", "cheques", b"example signing key");
    let ocr = ScriptedOcr::default();
    let intake = Intake::builder()
        .store(store.clone())
        .signer(signer.clone())
        .repository(MemoryRepository::default())
        .ocr(ocr.clone())
        .config(IntakeConfig::default().with_max_upload_bytes(5 * 1024 * 1024))
        .build()?;

    // The scripted engine answers what we tell it for these bytes (it does not pretend to read).
    let image = intake_domain::testkit::images::png(640, 200, 7);
    let sha = Sha256Digest::of(&image);
    ocr.respond_to(
        sha,
        Scripted::Text(ScriptedOcr::text(
            "scripted",
            &["PAY TO THE ORDER OF", "JANE DOE"],
            97.0,
        )?),
    );

    // 2. A client asks for an upload URL, declaring size and checksum so the store enforces both. Every
    //    call acts for an owner: your service passes the authenticated user (here, a fixed one).
    let owner = Owner::parse("teller-42")?;
    let ticket = intake
        .request_upload(
            &owner,
            UploadRequest::named("cheque-front.png", ContentType::Png)?
                .with_size(image.len() as u64)
                .with_sha256(sha),
        )
        .await?;
    println!(
        "upload ticket: PUT {} ({} headers), image {}, expires {}",
        ticket.upload_url,
        ticket.required_headers.len(),
        ticket.image_id,
        ticket.expires_at
    );

    // 3. The client PUTs the bytes through the presigned URL (the gateway plays the storage endpoint).
    MemoryGateway::new(signer, store.clone()).perform(&ticket.request(), Some(image))?;

    // 4. The platform delivers the object-created notification; the processor hashes, checks and OCRs.
    let outcome = intake
        .process_object_created(&ObjectCreated::new("cheques", ticket.object_key.clone()))
        .await?;
    let ProcessOutcome::Processed(record) = outcome else {
        return Err(format!("unexpected outcome: {outcome:?}").into());
    };
    println!(
        "processed: status={} sha256={:?} text={:?}",
        record.status(),
        record.sha256(),
        record.ocr_text()
    );

    // 5. Read back: a listing (metadata only) and the full record with a download URL.
    let page = intake.list_images(&owner, &ListRequest::default()).await?;
    println!("listed {} image(s)", page.images.len());
    let details = intake
        .get_image(
            &owner,
            ticket.image_id,
            intake_domain::ports::OcrDetail::Lines,
        )
        .await?;
    println!("download URL: {}", details.download_url.unwrap_or_default());
    Ok(())
}
