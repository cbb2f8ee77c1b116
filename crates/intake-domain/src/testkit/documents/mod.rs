//! Labelled documents rendered here (DejaVu Sans), for the field extractor's tests and the bench:
//! receipts in two layouts and invoices in two, in five locales (US, Malaysia, Germany, the United
//! Kingdom, France: their currencies, number and date conventions and labels), cheques with their
//! amount in figures and in words (some with the two planted apart), each also as a noisy scan
//! (turned, speckled, blurred) and as a small skewed photo. Every document carries the normalised values a reader should find.

mod locales;
mod templates;

pub use locales::{LOCALES, Locale};

use crate::model::{DateOrder, DocumentKind, FieldType};

use super::layouts::LayoutPage;

/// A rendered document and what it says.
#[derive(Clone, Debug)]
pub struct LabelledDocument {
    /// The page.
    pub page: LayoutPage,
    /// The document's kind.
    pub kind: DocumentKind,
    /// The day/month order of the locale it was printed in (the deployment's setting).
    pub date_order: DateOrder,
    /// The fields a reader should find, normalised as the domain normalises them.
    pub truth: Vec<(FieldType, String)>,
    /// Whether the cheque's amount in words was planted apart from its figures.
    pub planted_mismatch: bool,
    /// Whether the page was made noisy (a scan or a photo of it).
    pub noisy: bool,
    /// What a perfect engine reads of the clean page ([`crate::testkit::layout::perfect_reading`]):
    /// what a scripted engine answers for it. The noisy and photo variants keep the clean page's.
    pub reading: Vec<crate::model::OcrLine>,
}

impl LabelledDocument {
    /// The truth of `field_type`, if the document has one.
    pub fn expected(&self, field_type: FieldType) -> Option<&str> {
        self.truth
            .iter()
            .find(|(t, _)| *t == field_type)
            .map(|(_, v)| v.as_str())
    }

    /// The same document as a noisy scan: turned by a degree or two, speckled, blurred.
    #[must_use]
    pub fn noisy(&self, seed: u64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let degrees = if seed.is_multiple_of(2) { 1.5 } else { -2.0 };
        let turned = self.page.turned(degrees);
        let pixels = noise(&turned.pixels, turned.width, turned.height, seed);
        Self {
            page: LayoutPage {
                name: format!("{}, noisy", self.page.name),
                pixels,
                ..turned
            },
            noisy: true,
            ..self.clone()
        }
    }
}

impl LabelledDocument {
    /// The same document as a small, skewed phone photo: three fifths of its size, turned 3.5°,
    /// with the scan's noise.
    #[must_use]
    pub fn photo(&self, seed: u64) -> Self {
        let (pixels, width, height) = shrink(&self.page.pixels, self.page.width, self.page.height);
        let small = LayoutPage {
            name: format!("{}, photo", self.page.name),
            width,
            height,
            pixels,
            ..self.page.clone()
        };
        let turned = small.turned(if seed.is_multiple_of(2) { 3.5 } else { -3.5 });
        Self {
            page: LayoutPage {
                pixels: noise(&turned.pixels, width, height, seed),
                name: small.name,
                ..turned
            },
            noisy: true,
            ..self.clone()
        }
    }
}

/// The page at three fifths of its size, each pixel the mean of the ones it covers.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn shrink(pixels: &[u8], width: u32, height: u32) -> (Vec<u8>, u32, u32) {
    let (w, h) = ((width * 3 / 5).max(1), (height * 3 / 5).max(1));
    let mut out = vec![0xFF; w as usize * h as usize];
    for y in 0..h {
        for x in 0..w {
            let (x0, x1) = (x * 5 / 3, ((x + 1) * 5 / 3).max(x * 5 / 3 + 1).min(width));
            let (y0, y1) = (y * 5 / 3, ((y + 1) * 5 / 3).max(y * 5 / 3 + 1).min(height));
            let (mut sum, mut n) = (0_u32, 0_u32);
            for yy in y0..y1 {
                for xx in x0..x1 {
                    sum += u32::from(
                        pixels
                            .get(yy as usize * width as usize + xx as usize)
                            .copied()
                            .unwrap_or(0xFF),
                    );
                    n += 1;
                }
            }
            if let Some(p) = out.get_mut(y as usize * w as usize + x as usize) {
                *p = (sum / n.max(1)) as u8;
            }
        }
    }
    (out, w, h)
}

/// A deterministic generator (SplitMix64): the same documents on every run.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Sensor noise (±24 levels), speckles (one pixel in 400 darkened) and a 3 × 3 blur, as a cheap
/// scan or a phone photo of a page.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
fn noise(pixels: &[u8], width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let noisy: Vec<u8> = pixels
        .iter()
        .map(|&p| {
            let jitter = rng.below(49) as i32 - 24;
            let speck = if rng.below(400) == 0 { -160 } else { 0 };
            (i32::from(p) + jitter + speck).clamp(0, 255) as u8
        })
        .collect();
    let (w, h) = (width as usize, height as usize);
    let at = |x: usize, y: usize| i32::from(noisy.get(y * w + x).copied().unwrap_or(255));
    let mut out = noisy.clone();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let sum: i32 = (y - 1..=y + 1)
                .flat_map(|yy| (x - 1..=x + 1).map(move |xx| (xx, yy)))
                .map(|(xx, yy)| at(xx, yy))
                .sum();
            if let Some(p) = out.get_mut(y * w + x) {
                *p = (sum / 9) as u8;
            }
        }
    }
    out
}

/// Every labelled document: receipts and invoices (two layouts each) in every locale, cheques in the
/// English-speaking ones (each twice, and once more with the words planted apart from the figures),
/// then all of them again as noisy scans and again as small skewed photos. `None` when the font
/// cannot be parsed.
pub fn all(font: &[u8]) -> Option<Vec<LabelledDocument>> {
    let clean = clean(font)?;
    let noisy: Vec<LabelledDocument> = clean
        .iter()
        .zip(1_u64..)
        .flat_map(|(d, seed)| [d.noisy(seed), d.photo(seed)])
        .collect();
    Some(clean.into_iter().chain(noisy).collect())
}

/// The clean documents of [`all`].
pub fn clean(font: &[u8]) -> Option<Vec<LabelledDocument>> {
    let mut out = Vec::new();
    for (i, locale) in LOCALES.iter().enumerate() {
        let seed = 100 * (i as u64 + 1);
        out.push(templates::receipt_centred(locale, seed, font)?);
        out.push(templates::receipt_columns(locale, seed + 1, font)?);
        out.push(templates::invoice_table(locale, seed + 2, font)?);
        out.push(templates::invoice_stacked(locale, seed + 3, font)?);
        if let Some(word) = locale.currency_word {
            out.push(templates::cheque(locale, word, seed + 4, false, font)?);
            out.push(templates::cheque(locale, word, seed + 5, false, font)?);
            out.push(templates::cheque(locale, word, seed + 6, true, font)?);
        }
    }
    Some(out)
}

/// `n` (below a million) in English words, as a cheque writes it: `one thousand two hundred fifty`.
#[allow(clippy::cast_possible_truncation)]
pub fn number_words(n: u64) -> String {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let below_thousand = |n: u64| -> Vec<String> {
        let mut words = Vec::new();
        let (hundreds, rest) = (n / 100, n % 100);
        if hundreds > 0 {
            words.push(format!("{} hundred", SMALL[hundreds as usize]));
        }
        if rest >= 20 {
            let (t, u) = (rest / 10, rest % 10);
            words.push(if u == 0 {
                TENS[t as usize].to_owned()
            } else {
                format!("{}-{}", TENS[t as usize], SMALL[u as usize])
            });
        } else if rest > 0 {
            words.push(SMALL[rest as usize].to_owned());
        }
        words
    };
    if n == 0 {
        return "zero".to_owned();
    }
    let mut words = Vec::new();
    if n >= 1000 {
        words.extend(below_thousand(n / 1000 % 1000));
        words.push("thousand".to_owned());
    }
    words.extend(below_thousand(n % 1000));
    words.join(" ")
}
