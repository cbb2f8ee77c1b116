//! Text recognition (SVTR with a CTC head): each straightened line is scaled to the model's height
//! (48), lines of similar width are batched and padded to the widest, and the model's per-time-step
//! character probabilities are decoded greedily: the best class at each step, repeats merged, blanks
//! dropped. Each kept character remembers its time step, which places words on the line.

use crate::raster::Raster;

/// The model's input height.
pub(crate) const HEIGHT: usize = 48;
/// The narrowest input, as a width/height ratio: a square. (The reference pads every batch to at
/// least 320 px; reading each line at its own width is faster and reads better, see
/// `Params::rec_batch`.)
pub(crate) const MIN_RATIO: f64 = 1.0;

/// The character set of a recognition model: class 0 is the CTC blank, classes 1..=n the dictionary's
/// lines in order, class n + 1 a space.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Charset {
    chars: Vec<String>,
}

impl Charset {
    /// From a dictionary file's text, one character per line.
    pub(crate) fn from_dictionary(text: &str) -> Self {
        let mut chars = vec![String::new()];
        chars.extend(text.lines().map(|l| l.trim_end_matches('\r').to_owned()));
        chars.push(" ".to_owned());
        Self { chars }
    }

    /// Number of classes, blank and space included.
    pub(crate) fn classes(&self) -> usize {
        self.chars.len()
    }

    fn get(&self, class: usize) -> &str {
        self.chars.get(class).map_or("", String::as_str)
    }
}

/// Where one character of a decoded line was read: the run of time steps the model's best class was
/// that character, its probability at the first of them, and how likely a space was just before it.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Step {
    /// The first time step of the run.
    pub first: usize,
    /// The last time step of the run.
    pub last: usize,
    /// The character's probability at `first`.
    pub p: f32,
    /// The highest probability of a space at the blank steps between the previous character and
    /// this one (0 when none).
    pub space_before: f32,
}

/// One decoded line: its text, the mean probability of its characters, and for each character (as
/// a Unicode scalar of `text`) the time steps it was read at.
#[derive(Clone, PartialEq, Debug, Default)]
pub(crate) struct Decoded {
    /// The text.
    pub text: String,
    /// Mean probability of the kept characters (0 when none).
    pub score: f32,
    /// Per character of `text`: where it was read.
    pub steps: Vec<Step>,
    /// Time steps of the model's output.
    pub time_steps: usize,
}

/// The first index of the largest value and the value (`(0, f32::MIN)` for none).
pub(crate) fn argmax(values: &[f32]) -> (usize, f32) {
    values.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |acc, (i, v)| if v > acc.1 { (i, v) } else { acc },
    )
}

/// Greedy CTC decoding of one line's `time_steps × classes` probabilities.
pub(crate) fn ctc_decode(probs: &[f32], time_steps: usize, charset: &Charset) -> Decoded {
    let classes = charset.classes();
    let space = classes.saturating_sub(1);
    let mut out = Decoded {
        time_steps,
        ..Decoded::default()
    };
    let mut previous = usize::MAX;
    let mut sum = 0.0_f64;
    let mut kept = 0_usize;
    // The most a space was likely at the blank steps since the last character.
    let mut space_since = 0.0_f32;
    for t in 0..time_steps {
        let Some(row) = probs.get(t * classes..(t + 1) * classes) else {
            break;
        };
        let (best, p) = argmax(row);
        if best == 0 {
            space_since = space_since.max(row.get(space).copied().unwrap_or(0.0));
        } else if best == previous {
            // The same character still: its run goes on (a class stands for `n` scalars).
            let n = charset.get(best).chars().count();
            let len = out.steps.len();
            for step in out.steps.iter_mut().skip(len.saturating_sub(n)) {
                step.last = t;
            }
        } else {
            let s = charset.get(best);
            for _ in s.chars() {
                out.steps.push(Step {
                    first: t,
                    last: t,
                    p,
                    space_before: space_since,
                });
            }
            out.text.push_str(s);
            sum += f64::from(p);
            kept += 1;
            space_since = 0.0;
        }
        previous = best;
    }
    // The mean over kept classes (a class may stand for several scalars).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    if kept > 0 {
        out.score = (sum / kept as f64) as f32;
    }
    out
}

/// A space the model did not pick at any step, but gave at least this probability at a blank step
/// between two characters, is a space. Measured on the development set, on the same recognised lines
/// (word F1 / CER; before: tiny 0.7235 / 0.5302, small 0.7869 / 0.5059): tiny 0.7316 / 0.5313 at
/// 0.1, 0.7327 / 0.5308 at 0.15, 0.7323 / 0.5305 at 0.2, 0.7289 / 0.5301 at 0.4; small 0.7936 /
/// 0.5058 at 0.15; at 0.02 it splits words (tiny 0.7164).
const SPACE_PROB: f32 = 0.15;

/// Spaces from the time steps: the model often leaves the space between two words out
/// (`Tampoi81200`), yet still gives a space some probability at the blank steps between the two
/// words' letters. Two characters the model read without a space between them get one when that
/// probability reached [`SPACE_PROB`]; the model's own spaces stay.
///
/// Measured and not kept (bench/RESULTS.md, section 7 notes): a space wherever two characters lie
/// far apart for the line's character pitch (the median distance, in time steps, between
/// neighbouring characters): at 1.4–2.2 pitches word F1 fell (tiny 0.41–0.72), since the steps are
/// coarse (about two a character) and wide letters and punctuation look like gaps; from 3 pitches on
/// it changed F1 by under 0.001 and raised CER, also on top of this rule. Dropping a model space
/// between characters less than 0.8–1.2 pitches apart never raised F1 either.
pub(crate) fn respace(line: &Decoded) -> Decoded {
    let mut out = Decoded {
        text: String::with_capacity(line.text.len() + 8),
        score: line.score,
        steps: Vec::with_capacity(line.steps.len() + 8),
        time_steps: line.time_steps,
    };
    let mut previous: Option<(char, Step)> = None;
    for (c, &step) in line.text.chars().zip(&line.steps) {
        if let Some((before, before_step)) = previous
            && !before.is_whitespace()
            && !c.is_whitespace()
            && step.space_before >= SPACE_PROB
        {
            out.text.push(' ');
            // A space sits between its neighbours, as sure as the less sure of them.
            out.steps.push(Step {
                first: before_step.last,
                last: step.first,
                p: before_step.p.min(step.p),
                space_before: 0.0,
            });
        }
        out.text.push(c);
        out.steps.push(step);
        previous = Some((c, step));
    }
    out
}

/// A word of a decoded line: its text, mean character probability, and its horizontal extent as a
/// fraction `[start, end)` of the line's text width.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct WordSpan {
    /// The word.
    pub text: String,
    /// Mean probability of its characters.
    pub score: f32,
    /// Left edge, as a fraction of the crop's width.
    pub start: f64,
    /// Right edge, as a fraction of the crop's width.
    pub end: f64,
}

/// Splits a decoded line into its whitespace-separated words and places each on the line: the crop
/// fills `steps_on_text` time steps of the model's output (the rest is padding), so a character read
/// at step `t` covers `[t, t + 1) / steps_on_text` of the crop's width.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn word_spans(line: &Decoded, steps_on_text: f64) -> Vec<WordSpan> {
    let mut words = Vec::new();
    let mut current: Option<(String, f64, usize, usize, usize)> = None; // text, sum, count, first, last
    let steps_on_text = steps_on_text.max(1.0);
    let mut finish = |w: Option<(String, f64, usize, usize, usize)>| {
        if let Some((text, sum, n, first, last)) = w {
            words.push(WordSpan {
                text,
                #[allow(clippy::cast_possible_truncation)]
                score: (sum / n as f64) as f32,
                start: (first as f64 / steps_on_text).clamp(0.0, 1.0),
                end: ((last + 1) as f64 / steps_on_text).clamp(0.0, 1.0),
            });
        }
    };
    for (c, step) in line.text.chars().zip(&line.steps) {
        if c.is_whitespace() {
            finish(current.take());
            continue;
        }
        match current.as_mut() {
            Some((text, sum, n, _, last)) => {
                text.push(c);
                *sum += f64::from(step.p);
                *n += 1;
                *last = step.last;
            }
            None => {
                current = Some((c.to_string(), f64::from(step.p), 1, step.first, step.last));
            }
        }
    }
    finish(current);
    words
}

/// The width a line is scaled to at the model's height: `ceil(48 · w/h)`, at most `max_width`.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub(crate) fn scaled_width(img: &Raster, max_width: usize) -> usize {
    let ratio = img.width() as f64 / img.height().max(1) as f64;
    ((HEIGHT as f64 * ratio).ceil() as usize).clamp(1, max_width.max(1))
}

/// A batch of line images as one `n × 3 × 48 × width` input: each scaled to height 48 keeping its
/// ratio (at most `width`), normalised `(v/255 − 0.5) / 0.5` in BGR, and padded with zeros on the right.
pub(crate) fn batch_input(images: &[&Raster], width: usize) -> (Vec<f32>, [usize; 4]) {
    let plane = HEIGHT * width;
    let mut input = vec![0.0_f32; images.len() * 3 * plane];
    for (slot, img) in input.chunks_exact_mut(3 * plane).zip(images) {
        let w = scaled_width(img, width);
        let resized = img.resize_bilinear(w, HEIGHT);
        resized.write_planar_bgr(slot, plane, width, [0.5; 3], [0.5; 3]);
    }
    (input, [images.len(), 3, HEIGHT, width])
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
mod tests {
    use super::*;

    fn charset() -> Charset {
        Charset::from_dictionary("a\nb\nc\n")
    }

    /// One-hot rows with probability `p` for the given classes.
    fn probs(classes: &[usize], p: f32) -> Vec<f32> {
        let n = charset().classes();
        let mut out = vec![0.0; classes.len() * n];
        for (t, &c) in classes.iter().enumerate() {
            for k in 0..n {
                out[t * n + k] = if k == c {
                    p
                } else {
                    (1.0 - p) / (n - 1) as f32
                };
            }
        }
        out
    }

    #[test]
    fn charset_has_blank_dictionary_and_space() {
        let c = charset();
        assert_eq!(c.classes(), 5);
        assert_eq!(c.get(0), "");
        assert_eq!(c.get(1), "a");
        assert_eq!(c.get(4), " ");
    }

    #[test]
    fn repeats_merge_and_blanks_separate() {
        // a a _ a b b _ _ c  ->  "aabc"
        let d = ctc_decode(&probs(&[1, 1, 0, 1, 2, 2, 0, 0, 3], 0.9), 9, &charset());
        assert_eq!(d.text, "aabc");
        assert_eq!(
            d.steps
                .iter()
                .map(|s| (s.first, s.last))
                .collect::<Vec<_>>(),
            vec![(0, 1), (3, 3), (4, 5), (8, 8)]
        );
        assert!((d.score - 0.9).abs() < 1e-6);
    }

    #[test]
    fn all_blank_is_empty_with_score_zero() {
        let d = ctc_decode(&probs(&[0, 0, 0], 0.99), 3, &charset());
        assert_eq!(d.text, "");
        assert_eq!(d.score, 0.0);
    }

    #[test]
    fn words_split_on_spaces_with_their_extent() {
        // "ab c" at steps 2, 4, (space at 6), 9 of 20 steps on text.
        let d = ctc_decode(
            &probs(&[0, 0, 1, 0, 2, 0, 4, 0, 0, 3, 0, 0], 0.8),
            12,
            &charset(),
        );
        assert_eq!(d.text, "ab c");
        let words = word_spans(&d, 20.0);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "ab");
        assert!((words[0].start - 0.10).abs() < 1e-9 && (words[0].end - 0.25).abs() < 1e-9);
        assert_eq!(words[1].text, "c");
        assert!((words[1].start - 0.45).abs() < 1e-9 && (words[1].end - 0.50).abs() < 1e-9);
        assert!((words[1].score - 0.8).abs() < 1e-6);
    }

    /// A line of `chars` (classes), each read for two steps with `gaps[i]` blank steps before it.
    fn spaced(chars: &[usize], gaps: &[usize]) -> (Vec<f32>, usize) {
        let mut classes = Vec::new();
        for (&c, &gap) in chars.iter().zip(gaps) {
            classes.extend(std::iter::repeat_n(0, gap));
            classes.extend([c, c]);
        }
        classes.extend([0, 0]);
        (probs(&classes, 0.9), classes.len())
    }

    #[test]
    fn a_likely_space_at_a_blank_step_makes_a_space() {
        // "abcabc" at the line's pitch, but at the blank step before the fourth character the model
        // gave a space 0.3 (and the blank 0.6).
        let (mut p, t) = spaced(&[1, 2, 3, 1, 2, 3], &[1, 1, 1, 1, 1, 1]);
        let n = charset().classes();
        let blank_step = 9;
        p[blank_step * n..(blank_step + 1) * n].copy_from_slice(&[0.6, 0.05, 0.025, 0.025, 0.3]);
        let d = ctc_decode(&p, t, &charset());
        assert_eq!(d.text, "abcabc");
        assert!((d.steps[3].space_before - 0.3).abs() < 1e-6);
        assert!(d.steps[2].space_before < SPACE_PROB);
        let d = respace(&d);
        assert_eq!(d.text, "abc abc");
        // The space lies between its neighbours' steps, and so do the two words' boxes.
        assert_eq!((d.steps[3].first, d.steps[3].last), (8, 10));
        let words = word_spans(&d, t as f64);
        assert_eq!(words.len(), 2);
        assert!(words[0].end <= words[1].start, "{words:?}");
        // Below the threshold it stays one word.
        p[blank_step * n + 4] = SPACE_PROB / 2.0;
        assert_eq!(respace(&ctc_decode(&p, t, &charset())).text, "abcabc");
    }

    #[test]
    fn the_model_s_own_spaces_stay_and_unlikely_ones_are_not_added() {
        // "ab cab" as the model read it, its blanks giving a space 0.025: unchanged.
        let d = ctc_decode(
            &probs(&[0, 1, 1, 0, 2, 2, 0, 4, 0, 3, 3, 0, 1, 1, 0, 2, 2, 0], 0.9),
            18,
            &charset(),
        );
        assert_eq!(d.text, "ab cab");
        assert_eq!(respace(&d), d);
        // However far apart: a gap alone is no space.
        let (p, t) = spaced(&[1, 2, 3, 1, 2, 3], &[1, 1, 1, 12, 1, 1]);
        assert_eq!(respace(&ctc_decode(&p, t, &charset())).text, "abcabc");
    }

    #[test]
    fn batch_is_padded_with_zeros() {
        let img = Raster::filled(96, 48, [255, 255, 255]);
        let (input, shape) = batch_input(&[&img], 320);
        assert_eq!(shape, [1, 3, 48, 320]);
        // White maps to 1.0 where the line is, padding stays 0.
        assert!((input[0] - 1.0).abs() < 1e-6);
        assert!((input[95] - 1.0).abs() < 1e-6);
        assert_eq!(input[96], 0.0);
    }

    #[test]
    fn scaled_width_keeps_the_ratio_up_to_the_limit() {
        assert_eq!(scaled_width(&Raster::filled(100, 24, [0; 3]), 1000), 200);
        assert_eq!(scaled_width(&Raster::filled(100, 24, [0; 3]), 150), 150);
    }
}
