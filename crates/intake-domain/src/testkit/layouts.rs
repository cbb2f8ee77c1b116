//! Pages whose reading order is known: a receipt with right-aligned amounts, running text in two
//! and three columns between a header and a footer, a table, and photo-like pages turned a few
//! degrees. Written and rendered here (DejaVu Sans, see [`super::images::DEJAVU_SANS_PATHS`]), so
//! tests and the bench need no data set.

use bytes::Bytes;

use super::images::png_gray;
use super::layout::{TextRun, render_runs, rotate, text_width};

/// A rendered page and its text in reading order, one visual line a string.
#[derive(Clone, Debug)]
pub struct LayoutPage {
    /// What the page is (`receipt`, `two columns`, ...).
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Grayscale pixels, row by row.
    pub pixels: Vec<u8>,
    /// The lines as a person reads them.
    pub reading: Vec<String>,
}

impl LayoutPage {
    /// The page as a PNG.
    pub fn png(&self) -> Bytes {
        png_gray(self.width, self.height, &self.pixels)
    }

    /// The page turned `degrees` clockwise, as a photo taken askew.
    #[must_use]
    pub fn turned(&self, degrees: f32) -> Self {
        Self {
            name: format!("{}, turned {degrees}°", self.name),
            pixels: rotate(&self.pixels, self.width, self.height, degrees),
            ..self.clone()
        }
    }

    /// The reading as one text: the lines joined by newlines.
    pub fn text(&self) -> String {
        self.reading.join("\n")
    }
}

/// Body text size in pixels.
const SIZE: f32 = 26.0;
/// Line pitch of body text.
const PITCH: f32 = 38.0;

fn page(
    name: &str,
    width: u32,
    height: u32,
    runs: &[TextRun],
    reading: Vec<String>,
    font: &[u8],
) -> Option<LayoutPage> {
    Some(LayoutPage {
        name: name.to_owned(),
        width,
        height,
        pixels: render_runs(width, height, runs, font)?,
        reading,
    })
}

/// A receipt: a centred header, items with their amounts right-aligned, the total, a footer.
pub fn receipt(font: &[u8]) -> Option<LayoutPage> {
    let items = [
        ("Flat white", "4.50"),
        ("Almond croissant", "3.20"),
        ("Soup of the day", "7.80"),
        ("Sparkling water", "2.50"),
        ("Lunch set B", "13.00"),
        ("Total Amount:", "31.00"),
        ("Paid by card", "31.00"),
    ];
    let (width, right) = (640, 600.0);
    let mut runs = vec![
        TextRun::left("CORNER CAFE", 220.0, 70.0, 30.0),
        TextRun::left("12 Market Street", 200.0, 110.0, SIZE),
    ];
    let mut reading = vec!["CORNER CAFE".to_owned(), "12 Market Street".to_owned()];
    let mut baseline = 190.0;
    for (label, amount) in items {
        runs.push(TextRun::left(label, 40.0, baseline, SIZE));
        runs.push(TextRun::right(amount, right, baseline, SIZE));
        reading.push(format!("{label} {amount}"));
        baseline += PITCH;
    }
    runs.push(TextRun::left(
        "Thank you for visiting",
        170.0,
        baseline + 50.0,
        SIZE,
    ));
    reading.push("Thank you for visiting".to_owned());
    page("receipt", width, 620, &runs, reading, font)
}

/// The paragraphs the column pages are set from.
const PARAGRAPHS: [&str; 3] = [
    "The harbour board met on Tuesday to review the spring dredging plan. Members agreed that the \
     eastern channel must be cleared before the ferry timetable changes in May, and asked the \
     engineer for a revised estimate covering both the channel and the old grain quay.",
    "Visitor numbers rose again this quarter. The museum opened two new rooms on the history of \
     the salt trade, and school groups booked every weekday morning until the summer break. The \
     cafe will stay open later on Fridays from next month.",
    "Volunteers are wanted for the beach clean on the first Sunday of each month. Gloves, bags and \
     tea are provided. Please meet at the lifeboat station at nine and bring sturdy shoes.",
];

/// `text` broken into lines at most `width` pixels wide at `size`, at most `max` of them.
fn wrap(text: &str, width: f32, size: f32, max: usize, font: &[u8]) -> Option<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, size, font)? > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines.truncate(max);
    Some(lines)
}

/// Running text in `columns` columns (2 or 3) between a header and a footer across the page.
#[allow(clippy::cast_precision_loss)]
pub fn columns(columns: usize, font: &[u8]) -> Option<LayoutPage> {
    let (width, height) = (1240_u32, 760_u32);
    let (margin, gutter) = (60.0_f32, 50.0_f32);
    let n = columns.clamp(1, PARAGRAPHS.len());
    let column = (width as f32 - 2.0 * margin - gutter * (n - 1) as f32) / n as f32;
    let header = "HARBOUR TOWN NEWSLETTER: NEWS FROM THE BOARD, THE MUSEUM AND THE BEACH";
    let footer = "Printed by the Harbour Town Society for its members, page 1 of 2";
    let mut runs = vec![TextRun::left(header, margin, 70.0, SIZE)];
    let mut reading = vec![header.to_owned()];
    for (c, paragraph) in PARAGRAPHS.iter().take(n).enumerate() {
        let x = margin + c as f32 * (column + gutter);
        for (row, line) in wrap(paragraph, column, SIZE, 12, font)?
            .into_iter()
            .enumerate()
        {
            runs.push(TextRun::left(
                line.clone(),
                x,
                150.0 + row as f32 * PITCH,
                SIZE,
            ));
            reading.push(line);
        }
    }
    runs.push(TextRun::left(footer, 200.0, height as f32 - 50.0, SIZE));
    reading.push(footer.to_owned());
    page(&format!("{n} columns"), width, height, &runs, reading, font)
}

/// A table: a header row and rows of a description, a quantity, a unit price and an amount, the
/// numbers right-aligned.
#[allow(clippy::cast_precision_loss)]
pub fn table(font: &[u8]) -> Option<LayoutPage> {
    let rows = [
        ["Description", "Qty", "Unit price", "Amount"],
        ["Hex bolts M8 x 40", "200", "0.06", "12.00"],
        ["Flat washers M8", "200", "0.02", "4.00"],
        ["Door hinges, brass", "12", "2.50", "30.00"],
        ["Wood screws 4 x 30", "500", "0.01", "5.00"],
        ["Delivery", "1", "8.50", "8.50"],
    ];
    let mut runs = Vec::new();
    let mut reading = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let baseline = 80.0 + i as f32 * 46.0;
        runs.push(TextRun::left(row[0], 60.0, baseline, SIZE));
        for (cell, right) in row.iter().skip(1).zip([620.0, 860.0, 1060.0]) {
            runs.push(TextRun::right(*cell, right, baseline, SIZE));
        }
        reading.push(row.join(" "));
    }
    page("table", 1120, 400, &runs, reading, font)
}

/// Every layout: a receipt, two and three columns, a table, and a receipt and two columns turned
/// a few degrees as photos are. `None` when the font cannot be parsed.
pub fn all(font: &[u8]) -> Option<Vec<LayoutPage>> {
    let receipt = receipt(font)?;
    let two = columns(2, font)?;
    Some(vec![
        receipt.turned(4.0),
        two.turned(-3.0),
        receipt,
        two,
        columns(3, font)?,
        table(font)?,
    ])
}
