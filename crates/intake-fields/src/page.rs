//! The page as the rules see it: visual lines in reading order, each word with its matching key
//! (lowercase, punctuation around it trimmed) and its box, and spans of words that become fields.

use intake_domain::model::{BoundingBox, Field, FieldType, OcrLine, OcrResult, PageNumber};

/// A word of a line.
#[derive(Clone, Debug)]
pub(crate) struct Word<'a> {
    /// The text as read.
    pub(crate) text: &'a str,
    /// The text lowercased, punctuation around it trimmed (`Total:` is `total`, `No.` is `no`).
    pub(crate) key: String,
    /// Where it is.
    pub(crate) bbox: BoundingBox,
    /// The engine's confidence in `0..=1`.
    pub(crate) confidence: f32,
}

/// A visual line.
#[derive(Clone, Debug)]
pub(crate) struct Line<'a> {
    /// Its words in order (one word of the whole line's text for an engine that reports none).
    pub(crate) words: Vec<Word<'a>>,
    /// Where it is.
    pub(crate) bbox: BoundingBox,
    /// The page it is on.
    pub(crate) page: PageNumber,
}

/// The matching key of a word: lowercase, trimmed of punctuation but `#` and `%`.
pub(crate) fn key_of(text: &str) -> String {
    text.trim_matches(|c: char| !c.is_alphanumeric() && c != '#' && c != '%' && c != '/')
        .to_lowercase()
}

impl<'a> Line<'a> {
    fn of(line: &'a OcrLine) -> Self {
        let words: Vec<Word<'a>> = if line.words().is_empty() {
            // Spread the line's text over its box, one word a whitespace piece, by characters.
            split_line(line)
        } else {
            line.words()
                .iter()
                .map(|w| Word {
                    text: w.text(),
                    key: key_of(w.text()),
                    bbox: *w.bounding_box(),
                    confidence: w.confidence() / 100.0,
                })
                .collect()
        };
        Self {
            words,
            bbox: *line.bounding_box(),
            page: line.page(),
        }
    }

    /// The line's text: its words joined by spaces.
    pub(crate) fn text(&self) -> String {
        self.text_of(0, self.words.len())
    }

    /// The words `start..end` joined by spaces.
    pub(crate) fn text_of(&self, start: usize, end: usize) -> String {
        self.words
            .get(start..end.min(self.words.len()))
            .unwrap_or_default()
            .iter()
            .map(|w| w.text)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The median height of the line's words: its font size, whatever the line's length or skew.
    pub(crate) fn word_height(&self) -> f32 {
        let mut heights: Vec<f32> = self.words.iter().map(|w| w.bbox.height()).collect();
        heights.sort_by(f32::total_cmp);
        heights
            .get(heights.len() / 2)
            .copied()
            .unwrap_or(self.bbox.height())
    }
}

fn split_line(line: &OcrLine) -> Vec<Word<'_>> {
    let text = line.text();
    let total = text.chars().count().max(1);
    let b = line.bounding_box();
    let mut out = Vec::new();
    let mut offset = 0_usize;
    for piece in text.split(' ') {
        let chars = piece.chars().count();
        if chars > 0 {
            #[allow(clippy::cast_precision_loss)]
            let (start, len) = (offset as f32 / total as f32, chars as f32 / total as f32);
            if let Ok(bbox) = BoundingBox::new(
                b.left() + b.width() * start,
                b.top(),
                b.width() * len,
                b.height(),
            ) {
                out.push(Word {
                    text: piece,
                    key: key_of(piece),
                    bbox,
                    confidence: line.confidence() / 100.0,
                });
            }
        }
        offset += chars + 1;
    }
    out
}

/// The lines of `ocr`, in reading order, with their words.
pub(crate) fn lines_of(ocr: &OcrResult) -> Vec<Line<'_>> {
    ocr.lines()
        .iter()
        .map(Line::of)
        .filter(|l| !l.words.is_empty())
        .collect()
}

/// The pieces of `line` between wide gaps (more than one and a half word heights: a label and its
/// amount, two columns joined on one baseline), as word ranges.
pub(crate) fn segments(line: &Line<'_>) -> Vec<(usize, usize)> {
    let gap = 1.5 * line.word_height();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, pair) in line.words.windows(2).enumerate() {
        if let [a, b] = pair
            && b.bbox.left() - (a.bbox.left() + a.bbox.width()) > gap
        {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < line.words.len() {
        out.push((start, line.words.len()));
    }
    out
}

/// A run of words on one line: what a field's value was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// The line, by index.
    pub(crate) line: usize,
    /// The first word.
    pub(crate) start: usize,
    /// Past the last word.
    pub(crate) end: usize,
}

impl Span {
    /// The span's words of `lines`.
    pub(crate) fn words<'l, 'a>(&self, lines: &'l [Line<'a>]) -> &'l [Word<'a>] {
        lines
            .get(self.line)
            .and_then(|l| l.words.get(self.start..self.end))
            .unwrap_or_default()
    }

    /// The span's text.
    pub(crate) fn text(&self, lines: &[Line<'_>]) -> String {
        lines
            .get(self.line)
            .map(|l| l.text_of(self.start, self.end))
            .unwrap_or_default()
    }

    /// A field of `field_type` read from the span, its confidence the words' mean times `weight`
    /// (how much the rule that found it is trusted); `None` for an empty span.
    pub(crate) fn field(
        &self,
        lines: &[Line<'_>],
        field_type: FieldType,
        weight: f32,
    ) -> Option<Field> {
        let words = self.words(lines);
        let first = words.first()?;
        let bbox = words
            .iter()
            .skip(1)
            .fold(first.bbox, |acc, w| acc.union(&w.bbox));
        #[allow(clippy::cast_precision_loss)]
        let confidence = words.iter().map(|w| w.confidence).sum::<f32>() / words.len() as f32;
        let page = lines.get(self.line)?.page;
        Some(Field::new(
            field_type,
            self.text(lines),
            confidence * weight,
            page,
            bbox,
        ))
    }
}

/// Fields that span several lines (an address): the spans' texts joined by newlines, the box their
/// union, the confidence their mean.
pub(crate) fn block_field(
    lines: &[Line<'_>],
    spans: &[Span],
    field_type: FieldType,
    weight: f32,
) -> Option<Field> {
    let mut fields = spans
        .iter()
        .filter_map(|s| s.field(lines, field_type, weight));
    let mut field = fields.next()?;
    let mut count = 1.0_f32;
    let mut confidence = field.confidence;
    for next in fields {
        field.value = format!("{}\n{}", field.value, next.value);
        field.bounding_box = field.bounding_box.union(&next.bounding_box);
        confidence += next.confidence;
        count += 1.0;
    }
    field.confidence = confidence / count;
    Some(field)
}
