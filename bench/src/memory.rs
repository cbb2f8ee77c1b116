//! Figure 2: Peak resident memory of processing one large object (OCR stubbed out), at 64 MiB, 256 MiB and
//! 1 GiB: each in a fresh child process that opens the data directory, processes the object and reports
//! its peak RSS (`VmHWM`). The reference is the same child's resident set before processing.
//!
//! Then Tesseract on the largest page it may be handed, a blank 9000 × 9000 RGB PNG (81 MP, within the
//! 100 MP limit): Intake's engine adapter in a fresh child (its own growth plus its Tesseract process's
//! `VmHWM`, read while that process waits for the next image) against the `tesseract` CLI on the same
//! file (its `VmHWM` sampled every 5 ms until it exits).
//!
//! Then PP-OCR on the largest pages it may be handed: one tiny worker in a fresh child (`ocr-child`)
//! on a blank 9000 × 9000 8-bit grey PNG (81 MP) and a blank 10000 × 10000 16-bit RGB PNG (100 MP, the
//! limit), against the same worker on a blank A4 page scanned at 300 dpi (2480 × 3508, 8.7 MP).

use std::path::Path;
use std::process::ExitCode;

use intake_domain::model::ObjectKey;

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{
    BenchError, fail, file_intake, peak_rss_kib, process, rss_kib, stage, status_field,
    write_png_shaped,
};

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let sizes: &[u64] = if plan.quick {
        &[16 << 20, 64 << 20]
    } else {
        &[64 << 20, 256 << 20, 1 << 30]
    };
    let mut section = Section::new(
        "2. Peak memory while processing one object (scripted OCR), and Tesseract and PP-OCR on huge pages",
    );
    println!("{}", section.title);
    let exe = std::env::current_exe().map_err(fail("own path"))?;
    let mut peaks = Vec::new();
    for &size in sizes {
        let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
        let source = dir.path().join("object.png");
        write_png_shaped(&source, size)?;
        let key = {
            let (intake, store) = file_intake(dir.path()).await?;
            stage(&intake, &store, &source, size).await?
        };
        std::fs::remove_file(&source).map_err(fail("remove source"))?;
        let output = tokio::process::Command::new(&exe)
            .arg("rss-child")
            .arg(dir.path())
            .arg(key.as_str())
            .output()
            .await
            .map_err(fail("run child"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let mut numbers = text
            .split_whitespace()
            .filter_map(|n| n.parse::<u64>().ok());
        let (Some(before), Some(peak)) = (numbers.next(), numbers.next()) else {
            return Err(BenchError::Failed(format!(
                "the child failed: {}{}",
                text,
                String::from_utf8_lossy(&output.stderr)
            )));
        };
        let peak_mib = peak as f64 / 1024.0;
        let ratio = 64.0 / peak_mib;
        section.figure(Figure {
            name: format!("peak RSS processing {} MiB", size >> 20),
            ours: format!("{peak_mib:.1} MiB"),
            reference_name: "budget (RSS before processing)".into(),
            reference: format!("64 MiB ({:.1} MiB)", before as f64 / 1024.0),
            ratio,
            target: "< 64 MiB (ratio > 1)".into(),
            met: Some(peak_mib < 64.0),
        });
        peaks.push(peak_mib);
    }
    if let (Some(first), Some(last)) = (peaks.first(), peaks.last()) {
        section.note(format!(
            "Flat as the object grows: {:.1} MiB at the smallest size, {:.1} MiB at the largest ({:+.1} MiB) \
             while the object grew {}×.",
            first,
            last,
            last - first,
            sizes.last().unwrap_or(&1) / sizes.first().unwrap_or(&1)
        ));
    }
    match tesseract_large_page().await? {
        Some(figure) => section.figure(figure),
        None => section.note("Tesseract's large-page figure: skipped, tesseract is not installed."),
    }
    ppocr_huge_pages(&mut section).await?;
    Ok(section)
}

/// PP-OCR's peak RSS on the huge pages against an ordinary one, one tiny worker each in a fresh child.
async fn ppocr_huge_pages(section: &mut Section) -> Result<(), BenchError> {
    use intake_ocr_onnx::{ModelTier, default_models_dir};
    if !default_models_dir()
        .join("ppocr-v6-tiny/rec.onnx")
        .is_file()
    {
        section.note("PP-OCR's huge-page figures: skipped, the models are not installed.");
        return Ok(());
    }
    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let a4 = dir.path().join("blank-a4-300dpi.png");
    image::GrayImage::from_pixel(2480, 3508, image::Luma([255]))
        .save(&a4)
        .map_err(fail("write the A4 page"))?;
    let grey = dir.path().join("blank-9000-grey.png");
    image::GrayImage::from_pixel(9000, 9000, image::Luma([255]))
        .save(&grey)
        .map_err(fail("write the grey page"))?;
    let rgb16 = dir.path().join("blank-10000-rgb16.png");
    write_blank_rgb16(&rgb16, 10_000, 10_000)?;
    let peak_mib = |page: std::path::PathBuf, name: &'static str| {
        let out = dir.path().join(name);
        async move {
            std::fs::create_dir_all(&out).map_err(fail("output dir"))?;
            let (_, _, peak) = crate::ocr::ocr_child(ModelTier::Tiny, 1, &out, &[page]).await?;
            Ok::<f64, BenchError>(peak / 1024.0)
        }
    };
    let ordinary = peak_mib(a4, "a4").await?;
    for (name, page, key) in [
        ("a blank 9000 × 9000 8-bit grey PNG (81 MP)", grey, "grey"),
        (
            "a blank 10000 × 10000 16-bit RGB PNG (100 MP)",
            rgb16,
            "rgb16",
        ),
    ] {
        let peak = peak_mib(page, key).await?;
        println!("  ppocr tiny on {name}: peak {peak:.0} MiB (A4: {ordinary:.0} MiB)");
        section.figure(Figure {
            name: format!("PP-OCR, one tiny worker: {name}"),
            ours: format!("{peak:.0} MiB"),
            reference_name: "the same worker on a blank A4 page at 300 dpi (8.7 MP)".into(),
            reference: format!("{ordinary:.0} MiB"),
            ratio: peak / ordinary.max(1e-9),
            target: "≤ 1.5× (pages past 16 MP are read averaged down to 16 MP)".into(),
            met: Some(peak <= ordinary * 1.5),
        });
    }
    Ok(())
}

/// A blank (white) `width × height` PNG of 16-bit RGB, written row by row.
fn write_blank_rgb16(path: &Path, width: u32, height: u32) -> Result<(), BenchError> {
    let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail("create page"))?);
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut writer = encoder.write_header().map_err(fail("PNG header"))?;
    let mut stream = writer.stream_writer().map_err(fail("PNG stream"))?;
    let row = vec![0xFF_u8; width as usize * 6];
    for _ in 0..height {
        std::io::Write::write_all(&mut stream, &row).map_err(fail("PNG row"))?;
    }
    stream.finish().map_err(fail("PNG end"))
}

/// Tesseract's memory on a blank 9000 × 9000 RGB page through Intake's adapter against the CLI;
/// `None` without Tesseract.
async fn tesseract_large_page() -> Result<Option<Figure>, BenchError> {
    let installed = tokio::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Ok(None);
    }
    let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
    let page = dir.path().join("blank-9000-rgb.png");
    image::RgbImage::from_pixel(9000, 9000, image::Rgb([255, 255, 255]))
        .save(&page)
        .map_err(fail("write the large page"))?;
    let output = tokio::process::Command::new(std::env::current_exe().map_err(fail("own path"))?)
        .arg("tesseract-child")
        .arg(&page)
        .output()
        .await
        .map_err(fail("run child"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [before, own_peak, engine_peak] = numbers.as_slice() else {
        return Err(BenchError::Failed(format!(
            "the Tesseract child failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    };
    let ours = (own_peak.saturating_sub(*before) + engine_peak) as f64 / 1024.0;
    let cli = cli_peak_kib(&page).await? as f64 / 1024.0;
    Ok(Some(Figure {
        name: "Tesseract on a blank 9000 × 9000 RGB PNG (81 MP): adapter growth + tesseract peak"
            .into(),
        ours: format!(
            "{ours:.0} MiB ({:.0} + {:.0})",
            own_peak.saturating_sub(*before) as f64 / 1024.0,
            *engine_peak as f64 / 1024.0
        ),
        reference_name: "tesseract CLI on the same file".into(),
        reference: format!("{cli:.0} MiB"),
        ratio: ours / cli.max(1e-9),
        target: "≤ 0.5× (pages past 40 MP are read grey at 40 MP)".into(),
        met: Some(ours <= cli * 0.5),
    }))
}

/// The `tesseract` CLI's peak RSS (KiB) reading `page`, sampled every 5 ms until it exits.
async fn cli_peak_kib(page: &Path) -> Result<u64, BenchError> {
    let mut child = tokio::process::Command::new("tesseract")
        .arg(page)
        .args(["-", "tsv"])
        .env("OMP_THREAD_LIMIT", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(fail("run tesseract"))?;
    let status = child
        .id()
        .map(|pid| std::path::PathBuf::from(format!("/proc/{pid}/status")));
    let mut peak = 0;
    loop {
        if let Some(hwm) = status.as_deref().and_then(|s| status_field(s, "VmHWM:")) {
            peak = peak.max(hwm);
        }
        if child
            .try_wait()
            .map_err(fail("wait for tesseract"))?
            .is_some()
        {
            return Ok(peak);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The largest `VmHWM` (KiB) among this process's live children.
fn children_peak_kib() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|pids| {
            pids.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|pid| status_field(&Path::new("/proc").join(pid).join("status"), "VmHWM:"))
        .max()
        .unwrap_or(0)
}

/// Runs a child's measurement on a fresh runtime and prints the numbers it answers, space-separated;
/// exit code 1 with the error on failure.
fn run_child<F>(measure: F) -> ExitCode
where
    F: Future<Output = Result<Vec<u64>, BenchError>>,
{
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return ExitCode::from(1);
    };
    match runtime.block_on(measure) {
        Ok(numbers) => {
            let text: Vec<String> = numbers.iter().map(u64::to_string).collect();
            println!("{}", text.join(" "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}

/// The Tesseract child: reads the page at `args[0]` with Intake's Tesseract adapter on its defaults
/// and prints "RSS-before own-PEAK tesseract-PEAK" in KiB.
pub(crate) fn tesseract_child(args: &[String]) -> ExitCode {
    use intake_domain::model::{ContentType, Sha256Digest};
    use intake_domain::ports::{ImageFacts, OcrEngine as _, OcrInput};
    use intake_local::{TesseractOcr, TesseractOptions};

    let Some(page) = args.first() else {
        eprintln!("usage: intake-bench tesseract-child PAGE");
        return ExitCode::from(2);
    };
    run_child(async {
        let bytes = bytes::Bytes::from(std::fs::read(page).map_err(fail("read page"))?);
        let sniffed = intake_domain::sniff::sniff(&bytes);
        let facts = ImageFacts::new(
            sniffed.content_type.unwrap_or(ContentType::Png),
            bytes.len() as u64,
            sniffed.dimensions,
            Sha256Digest::of(&bytes),
        );
        let engine = TesseractOcr::new(TesseractOptions::default());
        let before = rss_kib().unwrap_or(0);
        engine
            .detect(&OcrInput::Bytes { bytes, facts })
            .await
            .map_err(fail("tesseract"))?;
        Ok(vec![
            before,
            peak_rss_kib().unwrap_or(0),
            children_peak_kib(),
        ])
    })
}

/// The child: processes `key` in `dir` and prints "RSS-before PEAK" in KiB.
pub(crate) fn child(args: &[String]) -> ExitCode {
    let (Some(dir), Some(key)) = (args.first(), args.get(1)) else {
        eprintln!("usage: intake-bench rss-child DIR KEY");
        return ExitCode::from(2);
    };
    run_child(async {
        let key = ObjectKey::parse(key).map_err(fail("key"))?;
        let (intake, _store) = file_intake(Path::new(dir)).await?;
        let before = rss_kib().unwrap_or(0);
        process(&intake, &key).await?;
        Ok(vec![before, peak_rss_kib().unwrap_or(0)])
    })
}
