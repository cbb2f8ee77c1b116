//! Reads images with the PP-OCR engine and writes each one's text beside the others:
//! `cargo run --release -p intake-ocr-onnx --example read -- [--tier tiny|balanced|small] [--no-page-orientation]
//! [--no-line-orientation] --out DIR IMAGE...`. Prints seconds per page and peak memory at the end.

use std::path::PathBuf;
use std::time::Instant;

use intake_ocr_onnx::{ModelTier, PpOcr, PpOcrOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut options = PpOcrOptions::default().with_workers(1);
    let mut out = PathBuf::from(".");
    let mut images = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tier" => {
                options = options.with_tier(args.next().unwrap_or_default().parse::<ModelTier>()?);
            }
            "--out" => out = PathBuf::from(args.next().unwrap_or_default()),
            "--threads" => {
                options = options.with_threads_per_worker(args.next().unwrap_or_default().parse()?);
            }
            "--no-page-orientation" => options = options.with_page_orientation(false),
            "--no-line-orientation" => options = options.with_line_orientation(false),
            _ => images.push(PathBuf::from(arg)),
        }
    }
    std::fs::create_dir_all(&out)?;
    let engine = PpOcr::load(&options)?;
    if let Some(first) = images.first() {
        engine.read_blocking(&std::fs::read(first)?)?;
    }
    let started = Instant::now();
    for image in &images {
        let result = engine.read_blocking(&std::fs::read(image)?)?;
        let stem = image
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        std::fs::write(out.join(format!("{stem}.txt")), result.text())?;
    }
    let secs = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_page = secs / images.len().max(1) as f64;
    println!(
        "pages={} seconds_total={secs:.3} seconds_per_page={per_page:.3}",
        images.len()
    );
    Ok(())
}
