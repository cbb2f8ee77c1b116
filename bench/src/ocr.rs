//! Figure 7: OCR quality and speed on the development set (`../shared/ocr-dev`, or `$INTAKE_OCR_DEV`;
//! skipped with a note when it is absent). Every engine reads the same pages and is scored by the set's
//! own `score.py` (word F1, order-insensitive; CER): the Tesseract CLI, Intake's PP-OCR engine at each
//! tier, and the Python reference pipeline (RapidOCR 3.10 on onnxruntime) on the same model files.
//! Each Rust run is a child process (`intake-bench ocr-child`), so its peak RSS is its own; one core
//! means one page at a time on one thread, all cores one page per core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use intake_domain::ports::OcrEngine as _;
use intake_ocr_onnx::{ModelTier, PpOcr, PpOcrOptions, default_models_dir};

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{BenchError, fail, peak_rss_kib};

/// One engine's run over the pages.
#[derive(Debug, Clone, Copy)]
struct Run {
    seconds: f64,
    pages: usize,
    /// Peak RSS in MiB after the first fifth of the pages and at the end (0 when unknown).
    early_rss_mib: f64,
    peak_rss_mib: f64,
    f1: f64,
    cer: f64,
}

impl Run {
    fn per_page(&self) -> f64 {
        self.seconds / self.pages.max(1) as f64
    }
    fn pages_per_second(&self) -> f64 {
        self.pages as f64 / self.seconds.max(1e-9)
    }
}

pub(crate) fn dev_set() -> PathBuf {
    std::env::var_os("INTAKE_OCR_DEV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ocr-dev"),
        PathBuf::from,
    )
}

pub(crate) fn pages(dev: &Path, quick: bool) -> Result<Vec<PathBuf>, BenchError> {
    let pairs = std::fs::read_to_string(dev.join("pairs.tsv")).map_err(fail("pairs.tsv"))?;
    let all: Vec<PathBuf> = pairs
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .map(|image| dev.join(image))
        .collect();
    Ok(if quick {
        all.into_iter().take(10).collect()
    } else {
        all
    })
}

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let mut section = Section::new("7. OCR quality and speed (development set, score.py)");
    println!("{}", section.title);
    let dev = dev_set();
    if !dev.join("pairs.tsv").is_file() || !dev.join("score.py").is_file() {
        section.note(format!(
            "skipped: no development set at {} (set INTAKE_OCR_DEV)",
            dev.display()
        ));
        return Ok(section);
    }
    let pages = pages(&dev, plan.quick)?;
    let work = tempfile::tempdir().map_err(fail("temp dir"))?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);

    let mut runs = Vec::new();
    let mut add = |name: &str, run: Run| {
        let peak = if run.peak_rss_mib > 0.0 {
            format!("peak {:.0} MiB", run.peak_rss_mib)
        } else {
            "peak not measured".to_owned()
        };
        println!(
            "  {name:<34} F1 {:.4}  CER {:.4}  {:.3} s/page  {:.2} pages/s  {peak}",
            run.f1,
            run.cer,
            run.per_page(),
            run.pages_per_second(),
        );
        runs.push((name.to_owned(), run));
        run
    };
    let tess = add(
        "tesseract, one core",
        tesseract(&dev, &pages, work.path(), 1, "t1").await?,
    );
    let tess_all = add(
        "tesseract, all cores",
        tesseract(&dev, &pages, work.path(), cores, "tn").await?,
    );
    let tiny = add(
        "ppocr tiny, one core",
        rust(&dev, &pages, work.path(), ModelTier::Tiny, 1).await?,
    );
    let tiny_all = add(
        "ppocr tiny, all cores",
        rust(&dev, &pages, work.path(), ModelTier::Tiny, cores).await?,
    );
    let balanced = add(
        "ppocr balanced, one core",
        rust(&dev, &pages, work.path(), ModelTier::Balanced, 1).await?,
    );
    let small = add(
        "ppocr small, one core",
        rust(&dev, &pages, work.path(), ModelTier::Small, 1).await?,
    );
    let reference = match reference_python().await {
        Ok(python) => Some((
            add(
                "python reference tiny",
                python_run(&python, &dev, &pages, work.path(), "tiny").await?,
            ),
            add(
                "python reference small",
                python_run(&python, &dev, &pages, work.path(), "small").await?,
            ),
        )),
        Err(e) => {
            section.note(format!("Python reference not run: {e}"));
            None
        }
    };

    crate::ocr_order::run(&mut section, &dev, &pages, work.path()).await?;
    figures(
        &mut section,
        &Engines {
            tess,
            tess_all,
            tiny,
            tiny_all,
            balanced,
            small,
            reference,
        },
    );
    section.note(format!(
        "{} pages; CER (layout-insensitive) {}. The Rust engine runs its default settings (page \
         classifier on, line classifier off, each line recognised at its own width); the Python \
         reference runs RapidOCR's defaults (batches of six lines padded to at least 320 px) without its \
         line classifier (--no-cls: on these forms it flips upright lines and costs F1). Tesseract: `tesseract IMG stdout \
         -l eng --psm 3`, OMP_THREAD_LIMIT=1.",
        pages.len(),
        runs.iter()
            .map(|(name, r)| format!("{name} {:.4}", r.cer))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(section)
}

/// The runs the figures compare.
struct Engines {
    tess: Run,
    tess_all: Run,
    tiny: Run,
    tiny_all: Run,
    balanced: Run,
    small: Run,
    reference: Option<(Run, Run)>,
}

/// The figures against their targets, and the memory notes.
fn figures(section: &mut Section, runs: &Engines) {
    let Engines {
        tess,
        tess_all,
        tiny,
        tiny_all,
        balanced,
        small,
        reference,
    } = *runs;
    section.figure(Figure {
        name: "word F1, default tier (tiny) vs Tesseract".into(),
        ours: format!("{:.4}", tiny.f1),
        reference_name: "tesseract psm 3".into(),
        reference: format!("{:.4}", tess.f1),
        ratio: tiny.f1 / tess.f1.max(1e-9),
        target: "≥ Tesseract + 0.15".into(),
        met: Some(tiny.f1 >= tess.f1 + 0.15),
    });
    section.figure(per_page_figure(
        "s/page on one core, default tier vs Tesseract",
        tiny,
        "tesseract psm 3",
        tess,
    ));
    section.figure(Figure {
        name: "pages/s on all cores, default tier vs Tesseract".into(),
        ours: format!("{:.2}/s", tiny_all.pages_per_second()),
        reference_name: "tesseract, one process per core".into(),
        reference: format!("{:.2}/s", tess_all.pages_per_second()),
        ratio: tiny_all.pages_per_second() / tess_all.pages_per_second().max(1e-9),
        target: "context".into(),
        met: None,
    });
    section.figure(Figure {
        name: "word F1, balanced tier (tiny detection, small recognition) vs small".into(),
        ours: format!("{:.4}", balanced.f1),
        reference_name: "ppocr small".into(),
        reference: format!("{:.4}", small.f1),
        ratio: balanced.f1 / small.f1.max(1e-9),
        target: "≥ small − 0.01".into(),
        met: Some(balanced.f1 >= small.f1 - 0.01),
    });
    section.figure(per_page_figure(
        "s/page on one core, balanced tier vs Tesseract",
        balanced,
        "tesseract psm 3",
        tess,
    ));
    section.figure(per_page_figure(
        "s/page on one core, balanced tier vs small",
        balanced,
        "ppocr small",
        small,
    ));
    if let Some((ref_tiny, ref_small)) = reference {
        for (tier, ours, theirs) in [("tiny", tiny, ref_tiny), ("small", small, ref_small)] {
            section.figure(Figure {
                name: format!("word F1, {tier}: Rust port vs Python reference"),
                ours: format!("{:.4}", ours.f1),
                reference_name: "RapidOCR 3.10, same models".into(),
                reference: format!("{:.4}", theirs.f1),
                ratio: ours.f1 / theirs.f1.max(1e-9),
                target: "≥ reference − 0.01".into(),
                met: Some(ours.f1 >= theirs.f1 - 0.01),
            });
            section.figure(per_page_figure(
                &format!("s/page on one core, {tier}: Rust vs Python reference"),
                ours,
                "RapidOCR 3.10, same models",
                theirs,
            ));
            section.figure(Figure {
                name: format!("peak RSS, one worker, {tier}: Rust vs Python reference"),
                ours: format!("{:.0} MiB", ours.peak_rss_mib),
                reference_name: "RapidOCR 3.10 process".into(),
                reference: format!("{:.0} MiB", theirs.peak_rss_mib),
                ratio: theirs.peak_rss_mib / ours.peak_rss_mib.max(1e-9),
                target: "context".into(),
                met: None,
            });
        }
    }
    for (tier, run) in [("tiny", tiny), ("balanced", balanced), ("small", small)] {
        section.note(format!(
            "peak RSS of one {tier} worker: {:.0} MiB after the first fifth of the pages, {:.0} MiB after all {} \
             ({:+.0} MiB): flat in the number of pages",
            run.early_rss_mib,
            run.peak_rss_mib,
            run.pages,
            run.peak_rss_mib - run.early_rss_mib
        ));
    }
}

/// Seconds per page, ours against a reference, with the target "no slower".
fn per_page_figure(name: &str, ours: Run, reference_name: &str, theirs: Run) -> Figure {
    Figure {
        name: name.to_owned(),
        ours: format!("{:.3} s", ours.per_page()),
        reference_name: reference_name.to_owned(),
        reference: format!("{:.3} s", theirs.per_page()),
        ratio: theirs.per_page() / ours.per_page().max(1e-9),
        target: "≥ 1.0×".into(),
        met: Some(ours.per_page() <= theirs.per_page()),
    }
}

/// Scores the hypotheses in `out` with the set's `score.py`: (word F1, CER).
async fn score(dev: &Path, out: &Path, pages: &[PathBuf]) -> Result<(f64, f64), BenchError> {
    // score.py reads every pair of the list: a quick run scores its own subset.
    let pairs = out.join("pairs.tsv");
    let all = std::fs::read_to_string(dev.join("pairs.tsv")).map_err(fail("pairs.tsv"))?;
    let subset: Vec<&str> = all
        .lines()
        .filter(|l| {
            pages
                .iter()
                .any(|p| l.split('\t').next().is_some_and(|i| p.ends_with(i)))
        })
        .collect();
    std::fs::write(&pairs, subset.join("\n")).map_err(fail("write pairs"))?;
    let link = out.join("images");
    let truth = out.join("truth");
    for (name, path) in [("images", &link), ("truth", &truth)] {
        if !path.exists() {
            std::os::unix::fs::symlink(dev.join(name), path).map_err(fail("link the set"))?;
        }
    }
    let output = tokio::process::Command::new("python3")
        .arg(dev.join("score.py"))
        .arg(&pairs)
        .arg(out)
        .output()
        .await
        .map_err(fail("score.py"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |key: &str| number_after(&text, key);
    match (field("wordF1="), field("CER=")) {
        (Some(f1), Some(cer)) => Ok((f1, cer)),
        _ => Err(BenchError::Failed(format!(
            "score.py: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ))),
    }
}

fn out_dir(work: &Path, name: &str) -> Result<PathBuf, BenchError> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).map_err(fail("output dir"))?;
    Ok(dir)
}

pub(crate) fn stem(page: &Path) -> String {
    page.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The Tesseract CLI over the pages, `parallel` processes at a time.
async fn tesseract(
    dev: &Path,
    pages: &[PathBuf],
    work: &Path,
    parallel: usize,
    name: &str,
) -> Result<Run, BenchError> {
    let out = out_dir(work, name)?;
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel.max(1) {
        let (next, pages, out) = (next.clone(), pages.to_vec(), out.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(page) = pages.get(next.fetch_add(1, Ordering::Relaxed)) {
                let output = tokio::process::Command::new("tesseract")
                    .arg(page)
                    .args(["stdout", "-l", "eng", "--psm", "3"])
                    .env("OMP_THREAD_LIMIT", "1")
                    .output()
                    .await
                    .map_err(fail("tesseract"))?;
                if !output.status.success() {
                    return Err(BenchError::Failed(format!(
                        "tesseract failed on {}",
                        page.display()
                    )));
                }
                std::fs::write(out.join(format!("{}.txt", stem(page))), &output.stdout)
                    .map_err(fail("write text"))?;
            }
            Ok::<(), BenchError>(())
        }));
    }
    for task in tasks {
        task.await.map_err(fail("tesseract task"))??;
    }
    let seconds = start.elapsed().as_secs_f64();
    let (f1, cer) = score(dev, &out, pages).await?;
    Ok(Run {
        seconds,
        pages: pages.len(),
        early_rss_mib: 0.0,
        peak_rss_mib: 0.0,
        f1,
        cer,
    })
}

/// Runs `intake-bench ocr-child` on `pages`; answers its seconds and its peak RSS (KiB) early and at
/// the end.
pub(crate) async fn ocr_child(
    tier: ModelTier,
    workers: usize,
    out: &Path,
    pages: &[PathBuf],
) -> Result<(f64, f64, f64), BenchError> {
    let output = tokio::process::Command::new(std::env::current_exe().map_err(fail("own path"))?)
        .arg("ocr-child")
        .arg(tier.as_str())
        .arg(workers.to_string())
        .arg(out)
        .args(pages)
        .output()
        .await
        .map_err(fail("ocr child"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<f64> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [seconds, early, peak] = numbers.as_slice() else {
        return Err(BenchError::Failed(format!(
            "the OCR child failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    };
    Ok((*seconds, *early, *peak))
}

/// Intake's engine in a child process (`ocr-child`).
async fn rust(
    dev: &Path,
    pages: &[PathBuf],
    work: &Path,
    tier: ModelTier,
    workers: usize,
) -> Result<Run, BenchError> {
    let out = out_dir(work, &format!("ppocr-{tier}-{workers}"))?;
    let (seconds, early, peak) = ocr_child(tier, workers, &out, pages).await?;
    let (f1, cer) = score(dev, &out, pages).await?;
    Ok(Run {
        seconds,
        pages: pages.len(),
        early_rss_mib: early / 1024.0,
        peak_rss_mib: peak / 1024.0,
        f1,
        cer,
    })
}

/// The reference venv's python (scripts/ocr-reference.sh installs it on first use).
async fn reference_python() -> Result<PathBuf, BenchError> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/ocr-reference.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .map_err(fail("scripts/ocr-reference.sh"))?;
    let python = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || python.is_empty() {
        return Err(BenchError::Failed("scripts/ocr-reference.sh failed".into()));
    }
    Ok(PathBuf::from(python))
}

/// The Python reference on one thread (its own timing: per call, the first page a warm-up).
async fn python_run(
    python: &Path,
    dev: &Path,
    pages: &[PathBuf],
    work: &Path,
    tier: &str,
) -> Result<Run, BenchError> {
    let out = out_dir(work, &format!("reference-{tier}"))?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ocr/reference.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg("--models")
        .arg(default_models_dir())
        .args(["--tier", tier, "--threads", "1", "--no-cls", "--out"])
        .arg(&out)
        .args(pages)
        .output()
        .await
        .map_err(fail("reference.py"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |key: &str| number_after(&text, key);
    let (Some(seconds), Some(peak)) = (field("seconds_total="), field("peak_rss_mb=")) else {
        return Err(BenchError::Failed(format!(
            "reference.py: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    };
    let (f1, cer) = score(dev, &out, pages).await?;
    Ok(Run {
        seconds,
        pages: pages.len(),
        early_rss_mib: 0.0,
        peak_rss_mib: peak,
        f1,
        cer,
    })
}

/// The child: `ocr-child TIER WORKERS OUT PAGE...` reads every page with `WORKERS` pages at a time
/// (each on one thread), writes `OUT/<stem>.txt`, and prints "SECONDS EARLY-PEAK-KIB PEAK-KIB": the
/// time after a warm-up page, the peak RSS after the first fifth of the pages and at the end.
pub(crate) fn child(args: &[String]) -> ExitCode {
    match child_run(args) {
        Ok((seconds, early, peak)) => {
            println!("{seconds:.3} {early} {peak}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ocr-child: {e}");
            ExitCode::from(1)
        }
    }
}

fn child_run(args: &[String]) -> Result<(f64, u64, u64), BenchError> {
    let [tier, workers, out, pages @ ..] = args else {
        return Err(BenchError::Failed(
            "usage: ocr-child TIER WORKERS OUT PAGE...".into(),
        ));
    };
    let tier: ModelTier = tier.parse().map_err(fail("tier"))?;
    let workers: usize = workers.parse().map_err(fail("workers"))?;
    let out = PathBuf::from(out);
    let engine = PpOcr::load(
        &PpOcrOptions::default()
            .with_tier(tier)
            .with_workers(workers),
    )
    .map_err(fail("load the engine"))?;
    let fragments = out.join(crate::ocr_order::FRAGMENTS_DIR);
    std::fs::create_dir_all(&fragments).map_err(fail("fragments dir"))?;
    // The text as Intake stores it (arranged by the layout rule), and the fragments as returned.
    let read = |page: &String| -> Result<(), BenchError> {
        let bytes = std::fs::read(page).map_err(fail("read page"))?;
        let result = engine.read_blocking(&bytes).map_err(fail("OCR"))?;
        let name = format!("{}.txt", stem(Path::new(page)));
        std::fs::write(fragments.join(&name), result.text()).map_err(fail("write text"))?;
        let arranged = result.in_reading_order(engine.capabilities().reports_fragments);
        std::fs::write(out.join(&name), arranged.text()).map_err(fail("write text"))
    };
    if let Some(first) = pages.first() {
        read(first)?;
    }
    let fifth = (pages.len() / 5).max(1);
    let done = AtomicUsize::new(0);
    let early = AtomicUsize::new(0);
    let start = Instant::now();
    on_threads(pages, workers, |page| {
        read(page)?;
        if done.fetch_add(1, Ordering::Relaxed) + 1 == fifth {
            early.store(
                usize::try_from(peak_rss_kib().unwrap_or(0)).unwrap_or(0),
                Ordering::Relaxed,
            );
        }
        Ok(())
    })?;
    let seconds = Duration::as_secs_f64(&start.elapsed());
    Ok((
        seconds,
        early.load(Ordering::Relaxed) as u64,
        peak_rss_kib().unwrap_or(0),
    ))
}

/// The number after `key` (`wordF1=0.72` → 0.72) in a line of `key=value` words.
fn number_after(text: &str, key: &str) -> Option<f64> {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .and_then(|v| v.parse().ok())
}

/// Runs `work` on every item, `threads` threads at a time each taking the next item, as a server's
/// workers take pages; a thread stops at its first error, which is returned.
pub(crate) fn on_threads<T: Sync>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> Result<(), BenchError> + Sync,
) -> Result<(), BenchError> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| -> Result<(), BenchError> {
                    while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                        work(item)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(BenchError::Failed("a worker panicked".into())))
            })
            .collect::<Result<Vec<()>, BenchError>>()
    })
    .map(drop)
}
