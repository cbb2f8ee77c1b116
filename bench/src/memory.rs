//! Figure 2: Peak resident memory of processing one large object (OCR stubbed out), at 64 MiB, 256 MiB and
//! 1 GiB: each in a fresh child process that opens the data directory, processes the object and reports
//! its peak RSS (`VmHWM`). The reference is the same child's resident set before processing.

use std::path::Path;
use std::process::ExitCode;

use intake_domain::model::ObjectKey;

use crate::Plan;
use crate::report::{Figure, Section};
use crate::support::{
    BenchError, fail, file_intake, peak_rss_kib, process, rss_kib, stage, write_png_shaped,
};

pub(crate) async fn run(plan: &Plan) -> Result<Section, BenchError> {
    let sizes: &[u64] = if plan.quick {
        &[16 << 20, 64 << 20]
    } else {
        &[64 << 20, 256 << 20, 1 << 30]
    };
    let mut section = Section::new("2. Peak memory while processing one object (scripted OCR)");
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
    Ok(section)
}

/// The child: processes `key` in `dir` and prints "RSS-before PEAK" in KiB.
pub(crate) fn child(args: &[String]) -> ExitCode {
    let (Some(dir), Some(key)) = (args.first(), args.get(1)) else {
        eprintln!("usage: intake-bench rss-child DIR KEY");
        return ExitCode::from(2);
    };
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return ExitCode::from(1);
    };
    let result = runtime.block_on(async {
        let key = ObjectKey::parse(key).map_err(fail("key"))?;
        let (intake, _store) = file_intake(Path::new(dir)).await?;
        let before = rss_kib().unwrap_or(0);
        process(&intake, &key).await?;
        Ok::<_, BenchError>((before, peak_rss_kib().unwrap_or(0)))
    });
    match result {
        Ok((before, peak)) => {
            println!("{before} {peak}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}
