//! The rule on synthetic pages: fragments placed as a detector reports them (boxes around each
//! word and each fragment, on a page of known size, turned by any angle about its centre).

#![allow(clippy::indexing_slicing)]

use super::*;
use crate::model::{BoundingBox, OcrPage, OcrWord, PageNumber};

/// A square page, so that quarter turns keep it on the page.
const W: f64 = 1400.0;
const H: f64 = 1400.0;
const SIZE: Option<(u32, u32)> = Some((1400, 1400));
/// Body text height in pixels.
const T: f64 = 20.0;

/// A page being laid out: its fragments, turned by `angle` radians about the page centre.
struct Page {
    angle: f64,
    lines: Vec<OcrLine>,
}

impl Page {
    fn new(angle: f64) -> Self {
        Self {
            angle,
            lines: Vec::new(),
        }
    }

    /// The box (relative) around the rectangle `x0..x1 × y0..y1` once turned.
    fn turned(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> BoundingBox {
        let (sin, cos) = self.angle.sin_cos();
        let (cx, cy) = (W / 2.0, H / 2.0);
        let corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| {
            let (dx, dy) = (x - cx, y - cy);
            (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
        });
        let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
        let max_x = corners
            .iter()
            .map(|c| c.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let max_y = corners
            .iter()
            .map(|c| c.1)
            .fold(f64::NEG_INFINITY, f64::max);
        #[allow(clippy::cast_possible_truncation)]
        BoundingBox::new(
            (min_x / W) as f32,
            (min_y / H) as f32,
            ((max_x - min_x) / W) as f32,
            ((max_y - min_y) / H) as f32,
        )
        .unwrap()
    }

    /// A fragment of text `height` tall starting at `left`, `top` (before turning): characters
    /// half a height wide, words a third of a height apart.
    fn at(&mut self, text: &str, left: f64, top: f64, height: f64, confidence: f32) -> &mut Self {
        let mut x = left;
        let mut words = Vec::new();
        for word in text.split(' ') {
            #[allow(clippy::cast_precision_loss)]
            let len = word.chars().count() as f64 * height / 2.0;
            words.push(
                OcrWord::new(word, confidence, self.turned(x, top, x + len, top + height)).unwrap(),
            );
            x += len + height / 3.0;
        }
        let right = x - height / 3.0;
        self.lines.push(
            OcrLine::new(
                text,
                confidence,
                self.turned(left, top, right, top + height),
                words,
            )
            .unwrap(),
        );
        self
    }

    /// Body text starting at `left`.
    fn text(&mut self, text: &str, left: f64, top: f64) -> &mut Self {
        self.at(text, left, top, T, 90.0)
    }

    /// Body text ending at `right` (right-aligned).
    fn right(&mut self, text: &str, right: f64, top: f64) -> &mut Self {
        #[allow(clippy::cast_precision_loss)]
        let chars = text.chars().count() as f64;
        let words = text.split(' ').count();
        #[allow(clippy::cast_precision_loss)]
        let len = chars * T / 2.0 - (words - 1) as f64 * (T / 2.0 - T / 3.0);
        self.at(text, right - len, top, T, 90.0)
    }

    /// The texts of the page's visual lines, in reading order.
    fn read(&self) -> Vec<String> {
        arrange_page(&self.lines, SIZE)
            .iter()
            .map(|l| l.text().to_owned())
            .collect()
    }

    /// The same, with the fragments handed over in reverse (the rule must not lean on their order).
    fn read_reversed(&self) -> Vec<String> {
        let reversed: Vec<OcrLine> = self.lines.iter().rev().cloned().collect();
        arrange_page(&reversed, SIZE)
            .iter()
            .map(|l| l.text().to_owned())
            .collect()
    }
}

fn receipt(angle: f64) -> Page {
    let mut page = Page::new(angle);
    page.text("CORNER CAFE", 380.0, 100.0);
    for (i, (label, amount)) in [
        ("Flat white", "4.50"),
        ("Croissant", "3.20"),
        ("Soup of the day", "7.80"),
        ("Sparkling water", "15.50"),
        ("Total Amount:", "31.00"),
    ]
    .into_iter()
    .enumerate()
    {
        #[allow(clippy::cast_precision_loss)]
        let top = 200.0 + i as f64 * 36.0;
        page.text(label, 150.0, top).right(amount, 850.0, top);
    }
    page.text("Thank you", 400.0, 450.0);
    page
}

const RECEIPT: [&str; 7] = [
    "CORNER CAFE",
    "Flat white 4.50",
    "Croissant 3.20",
    "Soup of the day 7.80",
    "Sparkling water 15.50",
    "Total Amount: 31.00",
    "Thank you",
];

#[test]
fn a_receipt_reads_each_label_with_its_amount() {
    let page = receipt(0.0);
    assert_eq!(page.read(), RECEIPT);
    assert_eq!(page.read_reversed(), RECEIPT);
}

/// Running text in `columns` columns between a header and a footer across the page; the columns
/// have different numbers of lines. Returns the page and the expected reading.
fn columns(columns: usize, angle: f64) -> (Page, Vec<String>) {
    let mut page = Page::new(angle);
    let mut expected = vec!["QUARTERLY REPORT OF THE BOARD TO ALL MEMBERS AND FRIENDS".to_owned()];
    page.text(&expected[0], 60.0, 80.0);
    #[allow(clippy::cast_precision_loss)]
    let width = (1000.0 - 120.0 - 40.0 * (columns - 1) as f64) / columns as f64;
    for c in 0..columns {
        for row in 0..(9 - c) {
            let filler = ["et", "in", "ad", "vel", "sed", "non", "est", "ut"];
            let words: Vec<String> = std::iter::once(format!("c{c}r{row}"))
                .chain((0..40).map(|w| filler[(w + row) % filler.len()].to_owned()))
                .scan(0.0, |len, w| {
                    #[allow(clippy::cast_precision_loss)]
                    let next = *len + (w.len() as f64 + 0.67) * T / 2.0;
                    *len = next;
                    (next < width).then_some(w)
                })
                .collect();
            let text = words.join(" ");
            #[allow(clippy::cast_precision_loss)]
            let (left, top) = (60.0 + c as f64 * (width + 40.0), 160.0 + row as f64 * 28.0);
            page.text(&text, left, top);
            expected.push(text);
        }
    }
    let footer = "Page 1 of 4 printed for the members of the board only".to_owned();
    page.text(&footer, 200.0, 520.0);
    expected.push(footer);
    (page, expected)
}

#[test]
fn columns_read_one_after_the_other_between_header_and_footer() {
    for n in [2, 3] {
        let (page, expected) = columns(n, 0.0);
        assert_eq!(page.read(), expected, "{n} columns");
        assert_eq!(page.read_reversed(), expected, "{n} columns, reversed");
    }
}

#[test]
fn a_table_reads_row_by_row() {
    let mut page = Page::new(0.0);
    let mut expected = Vec::new();
    for (i, row) in [
        ["Item", "Qty", "Price"],
        ["Bolts M8", "200", "12.00"],
        ["Washers", "150", "4.50"],
        ["Hinges", "12", "30.00"],
    ]
    .into_iter()
    .enumerate()
    {
        #[allow(clippy::cast_precision_loss)]
        let top = 100.0 + i as f64 * 30.0;
        page.text(row[0], 100.0, top)
            .text(row[1], 450.0, top)
            .right(row[2], 850.0, top);
        expected.push(row.join(" "));
    }
    assert_eq!(page.read(), expected);
}

#[test]
fn skewed_and_turned_pages_read_as_upright_ones() {
    for degrees in [-5.0_f64, -2.0, 3.0, 6.0, 90.0, 180.0, 270.0] {
        let angle = degrees.to_radians();
        assert_eq!(receipt(angle).read(), RECEIPT, "receipt at {degrees}°");
        let (page, expected) = columns(2, angle);
        assert_eq!(page.read(), expected, "two columns at {degrees}°");
    }
}

#[test]
fn fragments_join_with_spaces_words_in_order_and_a_word_weighted_confidence() {
    let mut page = Page::new(0.0);
    page.at("sit amet", 300.0, 100.0, T, 60.0)
        .at("Lorem ipsum dolor", 100.0, 101.0, T, 90.0);
    let lines = arrange_page(&page.lines, SIZE);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line.text(), "Lorem ipsum dolor sit amet");
    let words: Vec<&str> = line.words().iter().map(OcrWord::text).collect();
    assert_eq!(words, ["Lorem", "ipsum", "dolor", "sit", "amet"]);
    assert!(
        (line.confidence() - 78.0).abs() < 1e-3,
        "{}",
        line.confidence()
    );
    let b = line.bounding_box();
    let right = (300.0 + 7.0 * T / 2.0 + T / 3.0) / W;
    assert!((f64::from(b.left()) - 100.0 / W).abs() < 1e-4, "{b:?}");
    assert!(
        (f64::from(b.left() + b.width()) - right).abs() < 1e-4,
        "{b:?}"
    );
}

#[test]
fn lines_one_above_the_other_and_a_heading_beside_small_text_stay_apart() {
    let mut page = Page::new(0.0);
    page.text("second line", 100.0, 126.0)
        .text("first line", 100.0, 100.0)
        .at("BIG", 400.0, 95.0, 3.0 * T, 90.0);
    assert_eq!(page.read(), ["BIG", "first line", "second line"]);
}

#[test]
fn a_result_arranges_text_layer_pages_and_ocr_pages_only_from_fragment_engines() {
    let (page, expected) = columns(2, 0.0);
    let two = PageNumber::new(2).unwrap();
    let lines: Vec<OcrLine> = page
        .lines
        .iter()
        .cloned()
        .chain(page.lines.iter().cloned().map(|l| l.on_page(two)))
        .collect();
    let result = OcrResult::new("e", lines, false).unwrap().with_pages(vec![
        OcrPage::new(PageNumber::MIN, 1400, 1400, PageSource::Ocr),
        OcrPage::new(two, 1400, 1400, PageSource::TextLayer),
    ]);
    let texts = |r: &OcrResult, page: u32| -> Vec<String> {
        r.lines()
            .iter()
            .filter(|l| l.page().get() == page)
            .map(|l| l.text().to_owned())
            .collect()
    };
    let kept = result.clone().in_reading_order(false);
    assert_eq!(texts(&kept, 1), texts(&result, 1));
    assert_eq!(texts(&kept, 2), expected);
    let arranged = result.in_reading_order(true);
    assert_eq!(texts(&arranged, 1), expected);
    assert!(arranged.text().contains("\n\u{c}QUARTERLY"));
}

#[test]
fn nothing_or_one_fragment_is_left_as_it_is() {
    assert!(arrange_page(&[], SIZE).is_empty());
    let page = receipt(0.0);
    assert_eq!(arrange_page(&page.lines[..1], None), page.lines[..1]);
}

#[test]
fn a_page_of_a_thousand_fragments_is_arranged_and_a_hostile_one_left_alone() {
    let mut page = Page::new(0.0);
    for row in 0..100 {
        for col in 0..10 {
            page.at(
                &format!("r{row}c{col}"),
                40.0 + f64::from(col) * 130.0,
                20.0 + f64::from(row) * 13.5,
                10.0,
                90.0,
            );
        }
    }
    let lines = arrange_page(&page.lines, SIZE);
    assert_eq!(lines.len(), 100, "one line a row");
    assert!(
        lines[99].text().starts_with("r99c0 r99c1"),
        "{}",
        lines[99].text()
    );
    let many: Vec<OcrLine> = (0..=MAX_ARRANGED_LINES)
        .map(|i| page.lines[i % 1000].clone())
        .collect();
    assert_eq!(arrange_page(&many, SIZE), many);
}

#[test]
fn a_table_of_names_and_companies_reads_row_by_row_not_as_columns() {
    // Cells of two to four words with gaps narrow beside them, as a fax cover's recipient list.
    let mut page = Page::new(0.0);
    let mut expected = Vec::new();
    for (i, row) in [
        [
            "Mr. Meyer G. Koplow",
            "Wachtell, Lipton, Rosen",
            "(212) 403-1000",
        ],
        [
            "Mr. Arthur F. Golden",
            "Davis, Polk & Wardwell",
            "(212) 450-4000",
        ],
        [
            "Mr. Martin Barrington",
            "Philip Morris Inc.",
            "(917) 663-5399",
        ],
        [
            "Mr. Ronald Milstein",
            "Lorillard Tobacco Co.",
            "(336) 335-7707",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        #[allow(clippy::cast_precision_loss)]
        let top = 100.0 + i as f64 * 30.0;
        page.text(row[0], 60.0, top)
            .text(row[1], 290.0, top)
            .text(row[2], 560.0, top);
        expected.push(row.join(" "));
    }
    assert_eq!(page.read(), expected);
}
