//! Tables and fields for people; JSON for scripts.

use crate::views::{ImageView, SnippetPart};

/// A text field of an answer, or `-`.
pub(crate) fn field(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

/// The first line of `text`, at most `width` characters.
pub(crate) fn snippet(text: &str, width: usize) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(width).collect();
    if line.chars().count() > width {
        out.push('…');
    }
    out
}

/// A search hit's snippet (`[{text, matched}]`) on one line, the matched words in bold on a terminal
/// and in `[brackets]` otherwise; line breaks become spaces.
pub(crate) fn marked_snippet(parts: Option<&[SnippetPart]>, bold: bool) -> String {
    let (open, close) = if bold {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    parts
        .unwrap_or_default()
        .iter()
        .map(|part| {
            let text = part
                .text
                .as_deref()
                .unwrap_or_default()
                .replace(['\n', '\r'], " ");
            if part.matched == Some(true) {
                format!("{open}{text}{close}")
            } else {
                text
            }
        })
        .collect()
}

/// The mean confidence as `87.5%`, or `-`.
pub(crate) fn confidence(image: &ImageView) -> String {
    image
        .ocr_avg_confidence_pct
        .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}%"))
}

/// Prints rows as left-aligned columns under `header`.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(width - cell.chars().count() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints a value as pretty JSON, its objects' keys in the order the API's answers were always
/// printed in (sorted, unless serde_json keeps insertion order in this build).
pub(crate) fn json(value: &impl serde::Serialize) {
    match serde_json::to_value(value).and_then(|value| serde_json::to_string_pretty(&value)) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("intake: cannot print JSON: {error}"),
    }
}
