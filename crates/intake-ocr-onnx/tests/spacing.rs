//! Word spacing and word boxes of the PP-OCR engine on real models (installed by
//! scripts/ocr-models.sh): lines rendered here with DejaVu Sans, with known words and spaces, come
//! back as the words rendered, each boxed where its ink is.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{png_input, setup};

use image::GrayImage;
use intake_domain::model::{OcrLine, OcrWord};
use intake_domain::ports::OcrEngine;
use intake_domain::testkit::images::render_pixels;
use intake_domain::testkit::ocr::assert_result_invariants;

/// The horizontal extents, in pixels, of the runs of ink in the rendered line `row` (as
/// `render_pixels` lays lines out: baselines 60 px apart from 70), split where at least `gap` blank
/// columns separate them: the rendered words when `gap` is wider than any gap inside a word.
fn ink_runs(img: &GrayImage, row: u32, gap: u32) -> Vec<(u32, u32)> {
    let (top, bottom) = (70 + 60 * row - 45, 70 + 60 * row + 12);
    let inked = |x: u32| (top..bottom.min(img.height())).any(|y| img.get_pixel(x, y).0[0] < 128);
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for x in (0..img.width()).filter(|&x| inked(x)) {
        match runs.last_mut() {
            Some(run) if x - run.1 <= gap => run.1 = x + 1,
            _ => runs.push((x, x + 1)),
        }
    }
    runs
}

/// A word's left and right edges in pixels of a page `width` wide.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn edges(word: &OcrWord, width: u32) -> (f32, f32) {
    let b = word.bounding_box();
    #[allow(clippy::cast_precision_loss)]
    let w = width as f32;
    (b.left() * w, (b.left() + b.width()) * w)
}

#[tokio::test]
async fn rendered_words_come_back_split_as_rendered_and_boxed_on_their_ink() {
    let Some((engine, font)) = setup() else {
        return;
    };
    let lines = [
        "Tampoi 81200 Johor Bahru",
        "Visit www.example.com for details",
        "Invoice no. 4721 dated 12.03.2024",
    ];
    let (pixels, (w, h)) = render_pixels(&lines, font).expect("font renders");
    let img = GrayImage::from_raw(w, h, pixels).expect("pixel buffer");
    let result = engine.detect(&png_input(&img)).await.expect("OCR succeeds");
    assert_result_invariants(&result);
    let read: Vec<&OcrLine> = result.lines().iter().collect();
    assert_eq!(read.len(), lines.len(), "{:?}", result.text());
    for (row, (line, rendered)) in (0_u32..).zip(read.iter().zip(lines)) {
        let words: Vec<&str> = line.words().iter().map(OcrWord::text).collect();
        let expected: Vec<&str> = rendered.split(' ').collect();
        assert_eq!(words, expected, "line {row}: {:?}", line.text());
        assert_eq!(line.text(), rendered);
        // A space in DejaVu Sans at 40 px is 13 px; letters within a word are at most 6 apart.
        let ink = ink_runs(&img, row, 9);
        assert_eq!(ink.len(), expected.len(), "line {row}: ink runs {ink:?}");
        for (word, &(left, right)) in line.words().iter().zip(&ink) {
            let (l, r) = edges(word, w);
            #[allow(clippy::cast_precision_loss)]
            let (left, right) = (left as f32, right as f32);
            let overlap = (r.min(right) - l.max(left)).max(0.0);
            let union = r.max(right) - l.min(left);
            assert!(
                overlap / union > 0.75,
                "line {row}, {:?}: box {l:.0}..{r:.0}, ink {left}..{right}",
                word.text()
            );
        }
    }
}

/// `words` rendered one by one and set on one line `gap` pixels apart (a tighter or looser space
/// than the font's 13 px), 40 px from the left edge.
fn set_with_gaps(words: &[&str], gap: u32, font: &[u8]) -> GrayImage {
    let rendered: Vec<(GrayImage, (u32, u32))> = words
        .iter()
        .map(|word| {
            let (pixels, (w, h)) = render_pixels(&[word], font).expect("font renders");
            let img = GrayImage::from_raw(w, h, pixels).expect("pixel buffer");
            let ink = ink_runs(&img, 0, u32::MAX / 2);
            let first = *ink.first().expect("the word has ink");
            (img, first)
        })
        .collect();
    let width = 80 + rendered.iter().map(|(_, (l, r))| r - l + gap).sum::<u32>();
    let height = rendered.first().expect("a word").0.height();
    let mut line = GrayImage::from_pixel(width, height, image::Luma([255]));
    let mut x = 40;
    for (img, (left, right)) in &rendered {
        for dx in 0..right - left {
            for y in 0..height {
                line.put_pixel(x + dx, y, *img.get_pixel(left + dx, y));
            }
        }
        x += right - left + gap;
    }
    line
}

#[tokio::test]
async fn a_tight_space_the_model_leaves_out_is_found_from_its_time_steps() {
    let Some((engine, font)) = setup() else {
        return;
    };
    // Words set closer than the font's 13 px space: read with the model's own spaces only, both
    // lines come back as one word (`Tampoi81200Johor`, `TotalAmount:31.00`); the space the model
    // still gave some probability between the words' letters splits off the last word.
    for (words, gap, last) in [
        (&["Tampoi", "81200", "Johor"][..], 7, "Johor"),
        (&["Total", "Amount:", "31.00"][..], 8, "31.00"),
    ] {
        let img = set_with_gaps(words, gap, font);
        let result = engine.detect(&png_input(&img)).await.expect("OCR succeeds");
        assert_result_invariants(&result);
        let line = result.lines().first().expect("a line");
        let read: Vec<&str> = line.words().iter().map(OcrWord::text).collect();
        assert_eq!(
            read.last(),
            Some(&last),
            "{words:?} {gap} px apart: {read:?}"
        );
        assert!(read.len() >= 2, "{read:?}");
        // The last word is boxed on its own ink, right of the others.
        let (l, _) = edges(line.words().last().expect("a word"), img.width());
        let runs = ink_runs(&img, 0, gap - 1);
        let start = runs.last().expect("ink").0;
        #[allow(clippy::cast_precision_loss)]
        let start = start as f32;
        assert!(
            (l - start).abs() < 15.0,
            "{last} boxed from {l:.0}, ink from {start}"
        );
    }
}
