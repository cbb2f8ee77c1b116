//! Figures, printed as they are measured and written to `bench/RESULTS.md`.

use std::fmt::Write as _;
use std::path::Path;

/// One measured figure against its reference.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    /// What was measured.
    pub(crate) name: String,
    /// Intake's value, with its unit.
    pub(crate) ours: String,
    /// The reference's value, with its unit.
    pub(crate) reference: String,
    /// What the reference is.
    pub(crate) reference_name: String,
    /// Ours relative to the reference, oriented so that higher is better for Intake when `higher_better`.
    pub(crate) ratio: f64,
    /// The target, as text (`≥ 0.95×`).
    pub(crate) target: String,
    /// Whether the target is met; `None` for a figure shown for context, without a target.
    pub(crate) met: Option<bool>,
}

/// A group of figures from one benchmark, with notes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    pub(crate) title: String,
    pub(crate) figures: Vec<Figure>,
    pub(crate) notes: Vec<String>,
}

impl Section {
    pub(crate) fn new(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            ..Self::default()
        }
    }

    /// Adds a figure and prints it at once.
    pub(crate) fn figure(&mut self, figure: Figure) {
        println!(
            "  {:<58} {:>8.3}×  ours {} | {} {}  target {} {}",
            figure.name,
            figure.ratio,
            figure.ours,
            figure.reference_name,
            figure.reference,
            figure.target,
            match figure.met {
                Some(true) => "MET",
                Some(false) => "MISSED",
                None => "",
            }
        );
        self.figures.push(figure);
    }

    /// Adds a note and prints it.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        println!("  note: {note}");
        self.notes.push(note);
    }
}

/// All sections of a run.
#[derive(Debug)]
pub(crate) struct Report {
    quick: bool,
    sections: Vec<Section>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or_else(|| "?".into(), |kib| format!("{} GiB", kib / 1024 / 1024));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let sha_ni = std::fs::read_to_string("/proc/cpuinfo")
        .is_ok_and(|info| info.split_whitespace().any(|flag| flag == "sha_ni"));
    format!(
        "{cpu}, {cores} cores, {memory} RAM, Linux {kernel}, SHA extensions: {}",
        if sha_ni { "yes" } else { "no" }
    )
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Report {
    pub(crate) fn new(quick: bool) -> Self {
        println!("Intake benchmarks: {}", machine());
        Self {
            quick,
            sections: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// Writes the Markdown report.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = String::new();
        let _ = writeln!(text, "# Benchmark results\n");
        let _ = writeln!(
            text,
            "Written by `make bench` (`cargo run --release -p intake-bench`). Every figure is a ratio to a \
             reference measured in the same run on the same machine; absolute values are shown for context only.\n"
        );
        let _ = writeln!(text, "- Machine: {}", machine());
        let _ = writeln!(text, "- Date: {}", today());
        let _ = writeln!(
            text,
            "- Mode: {}\n",
            if self.quick {
                "quick (smaller inputs; a smoke run, not the figures of record)"
            } else {
                "full"
            }
        );
        for section in &self.sections {
            let _ = writeln!(text, "## {}\n", section.title);
            let _ = writeln!(
                text,
                "| figure | ratio | Intake | reference | target | |\n|---|---|---|---|---|---|"
            );
            for f in &section.figures {
                let _ = writeln!(
                    text,
                    "| {} | **{:.3}×** | {} | {}: {} | {} | {} |",
                    f.name,
                    f.ratio,
                    f.ours,
                    f.reference_name,
                    f.reference,
                    f.target,
                    match f.met {
                        Some(true) => "met",
                        Some(false) => "**missed**",
                        None => "",
                    }
                );
            }
            for note in &section.notes {
                let _ = writeln!(text, "\n{note}");
            }
            let _ = writeln!(text);
        }
        // The hand-written history (before/after figures of fixes) is kept across runs.
        if let Ok(previous) = std::fs::read_to_string(path)
            && let Some(at) = previous.find("\n## History")
        {
            text.push_str(previous.get(at + 1..).unwrap_or_default());
        }
        std::fs::write(path, text)
    }
}
