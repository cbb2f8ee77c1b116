//! One page through the whole pipeline, as the reference runs it: optional page orientation, scale
//! into bounds, pad very flat images, detect, crop and straighten each line, optional 180° line
//! classification, recognise in batches of similar width, drop empty and unsure lines, and map every
//! box back onto the page as the caller gave it.

use std::borrow::Cow;
use std::time::Instant;

use crate::det::{self, DetParams};
use crate::geometry::{Crop, Point, crop_quad};
use crate::raster::Raster;
use crate::rec::{self, Charset, Decoded};
use crate::runtime::{Net, RuntimeError};

/// Why a page was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// A model failed to run.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The image's time limit passed (checked before each model run, so a page overruns it by at
    /// most one run).
    #[error("the time limit for the image passed")]
    OutOfTime,
}

/// The instant by which an image must be read (`None`: no limit).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(pub Option<Instant>);

impl Deadline {
    /// `Err(OutOfTime)` once the deadline has passed.
    pub(crate) fn check(self) -> Result<(), PageError> {
        if self.0.is_some_and(|end| Instant::now() >= end) {
            Err(PageError::OutOfTime)
        } else {
            Ok(())
        }
    }
}

/// Pipeline settings (the reference's defaults).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Params {
    /// Detection settings.
    pub det: DetParams,
    /// Lines whose mean character probability is below this are dropped.
    pub text_score: f32,
    /// Images are scaled down so that their longer side is at most this.
    pub max_side_len: usize,
    /// ... and up so that their shorter side is at least this.
    pub min_side_len: usize,
    /// Lines per recognition batch. The reference batches six lines padded to the widest (and to at
    /// least 320 px); on a CPU running one page per thread batching saves nothing, while the padding
    /// costs time and accuracy (dev set: batch 6 → 1 took 0.60 → 0.43 s/page and word F1 0.717 →
    /// 0.724), so each line is read alone at its own width.
    pub rec_batch: usize,
    /// A line is turned half a turn when the classifier says 180° with more than this probability.
    pub cls_thresh: f32,
    /// The page is turned when the page classifier is at least this sure.
    pub page_thresh: f32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            det: DetParams::default(),
            text_score: 0.5,
            max_side_len: 2000,
            min_side_len: 30,
            rec_batch: 1,
            cls_thresh: 0.9,
            page_thresh: 0.6,
        }
    }
}

/// The models one pipeline runs; each worker thread owns one.
#[derive(Debug)]
pub(crate) struct Models {
    /// Text detection.
    pub det: Net,
    /// Text recognition.
    pub rec: Net,
    /// The recognition model's characters.
    pub charset: Charset,
    /// The 0°/180° line classifier, when enabled.
    pub cls: Option<Net>,
    /// The 0°/90°/180°/270° page classifier, when enabled.
    pub page: Option<Net>,
}

/// An axis-aligned box on the page, in pixels.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct PixelBox {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Right edge.
    pub right: f64,
    /// Bottom edge.
    pub bottom: f64,
}

impl PixelBox {
    fn around(points: &[Point]) -> Self {
        points.iter().fold(
            Self {
                left: f64::MAX,
                top: f64::MAX,
                right: f64::MIN,
                bottom: f64::MIN,
            },
            |b, p| Self {
                left: b.left.min(p.x),
                top: b.top.min(p.y),
                right: b.right.max(p.x),
                bottom: b.bottom.max(p.y),
            },
        )
    }
}

/// A word read on the page.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct WordOut {
    /// Its text.
    pub text: String,
    /// Mean character probability, `0..=1`.
    pub score: f32,
    /// Where it is on the page.
    pub bbox: PixelBox,
}

/// A line read on the page.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct LineOut {
    /// Its text.
    pub text: String,
    /// Mean character probability, `0..=1`.
    pub score: f32,
    /// Where it is on the page.
    pub bbox: PixelBox,
    /// Its words.
    pub words: Vec<WordOut>,
}

/// A page's lines, in reading order.
#[derive(Clone, PartialEq, Debug, Default)]
pub(crate) struct PageOut {
    /// The lines.
    pub lines: Vec<LineOut>,
    /// Quarter turns (clockwise) the page was read at: 0 when upright.
    pub quarter_turns: u8,
}

/// How a point of the image the detector saw maps back onto the page as given.
#[derive(Clone, Copy, Debug)]
struct Mapping {
    pad_top: f64,
    ratio_w: f64,
    ratio_h: f64,
    /// Size of the upright page (before scaling).
    upright_w: f64,
    upright_h: f64,
    /// Clockwise quarter turns that made the page upright.
    turns: u8,
}

impl Mapping {
    fn to_page(self, p: Point) -> Point {
        let x = (p.x * self.ratio_w).clamp(0.0, self.upright_w);
        let y = ((p.y - self.pad_top) * self.ratio_h).clamp(0.0, self.upright_h);
        // Undo the turn: the upright page was the given page turned `turns` quarter turns clockwise.
        let (w, h) = (self.upright_w, self.upright_h);
        match self.turns % 4 {
            1 => Point::new(y, w - x),
            2 => Point::new(w - x, h - y),
            3 => Point::new(h - y, x),
            _ => Point::new(x, y),
        }
    }
}

/// Reads one page.
///
/// # Errors
/// When a model fails to run, or the deadline passes.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn read_page(
    models: &mut Models,
    page: &Raster,
    params: &Params,
    deadline: Deadline,
) -> Result<PageOut, PageError> {
    deadline.check()?;
    let turns = match models.page.as_mut() {
        Some(net) => page_turns(net, page, params.page_thresh)?,
        None => 0,
    };
    // Pages are borrowed until a step really changes them: an upright page within bounds is never copied.
    let upright = match turns {
        1 => Cow::Owned(page.rotate_cw()),
        2 => Cow::Owned(page.rotate_180()),
        3 => Cow::Owned(page.rotate_ccw()),
        _ => Cow::Borrowed(page),
    };
    let (img, ratio_w, ratio_h) = within_bounds(&upright, params.min_side_len, params.max_side_len);
    let (img, pad_top) = pad_flat(img);
    let mapping = Mapping {
        pad_top: pad_top as f64,
        ratio_w,
        ratio_h,
        upright_w: upright.width() as f64,
        upright_h: upright.height() as f64,
        turns,
    };

    let Some((input, shape)) = det::prepare(&img, &params.det) else {
        return Ok(PageOut::default());
    };
    deadline.check()?;
    let (out_shape, map) = models.det.run(&shape, input)?;
    let (map_h, map_w) = match out_shape.as_slice() {
        [_, _, h, w] => (*h, *w),
        _ => return Ok(PageOut::default()),
    };
    let boxes = det::boxes_from_map(&map, map_w, map_h, img.width(), img.height(), &params.det);
    let crops: Vec<(det::TextBox, Crop)> = boxes
        .into_iter()
        .filter_map(|b| crop_quad(&img, &b.quad).map(|c| (b, c)))
        .collect();

    let images: Vec<&Raster> = crops.iter().map(|(_, c)| &c.image).collect();
    let mut decoded = recognise(
        &mut models.rec,
        &models.charset,
        &images,
        params.rec_batch,
        deadline,
    )?;

    let flipped = reread_upside_down(models, &images, &mut decoded, params, deadline)?;

    let mut lines = Vec::new();
    for (((text_box, crop), (line, steps_on_text)), flip) in crops.iter().zip(decoded).zip(flipped)
    {
        if line.text.trim().is_empty() || line.score < params.text_score {
            continue;
        }
        let line = rec::respace(&line);
        let bbox = PixelBox::around(&text_box.quad.map(|p| mapping.to_page(p)));
        let words = rec::word_spans(&line, steps_on_text)
            .into_iter()
            .map(|w| {
                let (start, end) = if flip {
                    (1.0 - w.end, 1.0 - w.start)
                } else {
                    (w.start, w.end)
                };
                WordOut {
                    bbox: PixelBox::around(
                        &word_corners(crop, start, end).map(|p| mapping.to_page(p)),
                    ),
                    text: w.text,
                    score: w.score,
                }
            })
            .collect();
        lines.push(LineOut {
            text: line.text.trim().to_owned(),
            score: line.score,
            bbox,
            words,
        });
    }
    Ok(PageOut {
        lines,
        quarter_turns: turns,
    })
}

/// The 0°/180° classifier alone turns too many upright lines (on scanned forms it is sure of a wrong
/// answer often enough to cost words), so a line it calls upside down is read both ways and the reading
/// the recogniser is surer of is kept. Answers, per line, whether it was turned (all false when the
/// classifier is off).
fn reread_upside_down(
    models: &mut Models,
    images: &[&Raster],
    decoded: &mut [(Decoded, f64)],
    params: &Params,
    deadline: Deadline,
) -> Result<Vec<bool>, PageError> {
    let mut flipped = vec![false; images.len()];
    let Some(cls) = models.cls.as_mut() else {
        return Ok(flipped);
    };
    deadline.check()?;
    let suspects: Vec<usize> = classify_lines(cls, images, params)?
        .iter()
        .enumerate()
        .filter_map(|(i, upside_down)| upside_down.then_some(i))
        .collect();
    let turned: Vec<Raster> = suspects
        .iter()
        .filter_map(|&i| images.get(i).map(|img| img.rotate_180()))
        .collect();
    let turned_refs: Vec<&Raster> = turned.iter().collect();
    let again = recognise(
        &mut models.rec,
        &models.charset,
        &turned_refs,
        params.rec_batch,
        deadline,
    )?;
    for (&i, reading) in suspects.iter().zip(again) {
        if let (Some(slot), Some(flag)) = (decoded.get_mut(i), flipped.get_mut(i))
            && reading.0.score > slot.0.score
        {
            *slot = reading;
            *flag = true;
        }
    }
    Ok(flipped)
}

/// The corners, in the detected image, of the part `[start, end)` of a crop's text direction.
#[allow(clippy::cast_precision_loss)]
fn word_corners(crop: &Crop, start: f64, end: f64) -> [Point; 4] {
    // The crop before any quarter turn is `w × h`; a turned crop's text runs down its height.
    let (w, h) = if crop.turned {
        (crop.image.height() as f64, crop.image.width() as f64)
    } else {
        (crop.image.width() as f64, crop.image.height() as f64)
    };
    let corners = if crop.turned {
        [
            Point::new(0.0, start * h),
            Point::new(w, start * h),
            Point::new(w, end * h),
            Point::new(0.0, end * h),
        ]
    } else {
        [
            Point::new(start * w, 0.0),
            Point::new(end * w, 0.0),
            Point::new(end * w, h),
            Point::new(start * w, h),
        ]
    };
    corners.map(|p| crop.to_source.apply(p))
}

/// Scales the image so its longer side is at most `max_side` and its shorter at least `min_side`
/// (each side rounded to a multiple of 32, as the reference does); answers the image and the factors
/// that take its coordinates back to the input's.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn within_bounds(img: &Raster, min_side: usize, max_side: usize) -> (Cow<'_, Raster>, f64, f64) {
    let scaled = |img: &Raster, ratio: f64| -> Option<Raster> {
        let round32 = |v: usize| {
            ((((v as f64 * ratio) as usize) as f64 / 32.0).round_ties_even() as usize) * 32
        };
        let (w, h) = (round32(img.width()), round32(img.height()));
        (w > 0 && h > 0).then(|| img.resize_bilinear(w, h))
    };
    let mut out = Cow::Borrowed(img);
    let longer = img.width().max(img.height());
    if longer > max_side
        && let Some(r) = scaled(img, max_side as f64 / longer as f64)
    {
        out = Cow::Owned(r);
    }
    let shorter = out.width().min(out.height());
    if shorter < min_side {
        // Up to the shorter-side minimum, but never past the longer-side maximum (a 1 × 3000 strip
        // would otherwise become 30 × 90000).
        let longer = out.width().max(out.height());
        let ratio =
            (min_side as f64 / shorter.max(1) as f64).min(max_side as f64 / longer.max(1) as f64);
        if let Some(r) = scaled(&out, ratio) {
            out = Cow::Owned(r);
        }
    }
    // Measured against the input, not the last step (the reference keeps the last step's only), so
    // boxes land where the text is after two scalings too.
    let (ratio_w, ratio_h) = (
        img.width() as f64 / out.width() as f64,
        img.height() as f64 / out.height() as f64,
    );
    (out, ratio_w, ratio_h)
}

/// Pads a very flat image (height ≤ 30 or wider than 8 × its height) with black above and below, as
/// the reference does, so the detector sees a text line with room around it; answers the padding on top.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn pad_flat(img: Cow<'_, Raster>) -> (Cow<'_, Raster>, usize) {
    const MIN_HEIGHT: usize = 30;
    const RATIO: f64 = 8.0;
    let (w, h) = (img.width(), img.height());
    if h <= MIN_HEIGHT || w as f64 / h as f64 > RATIO {
        let new_h = (((w as f64 / RATIO) as usize).max(MIN_HEIGHT)) * 2;
        let pad = new_h.abs_diff(h) / 2;
        (Cow::Owned(img.pad_vertical(pad, pad)), pad)
    } else {
        (img, 0)
    }
}

/// Indices sorted by width/height ratio (batches of similar widths waste less padding).
#[allow(clippy::cast_precision_loss)]
fn by_ratio(images: &[&Raster]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..images.len()).collect();
    let ratio = |i: usize| {
        images
            .get(i)
            .map_or(0.0, |m| m.width() as f64 / m.height().max(1) as f64)
    };
    order.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)));
    order
}

/// Recognises each image; answers each line with the number of the model's time steps its text spans.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn recognise(
    net: &mut Net,
    charset: &Charset,
    images: &[&Raster],
    batch: usize,
    deadline: Deadline,
) -> Result<Vec<(Decoded, f64)>, PageError> {
    let mut out = vec![(Decoded::default(), 1.0); images.len()];
    let order = by_ratio(images);
    for chunk in order.chunks(batch.max(1)) {
        deadline.check()?;
        let members: Vec<&Raster> = chunk
            .iter()
            .filter_map(|&i| images.get(i).copied())
            .collect();
        let max_ratio = members
            .iter()
            .map(|m| m.width() as f64 / m.height().max(1) as f64)
            .fold(rec::MIN_RATIO, f64::max);
        let width = (rec::HEIGHT as f64 * max_ratio) as usize;
        let (input, shape) = rec::batch_input(&members, width);
        let (out_shape, probs) = net.run(&shape, input)?;
        let (steps, classes) = match out_shape.as_slice() {
            [_, t, c] => (*t, *c),
            _ => {
                return Err(RuntimeError::from_message(
                    "recognition output is not n × steps × classes",
                )
                .into());
            }
        };
        if classes != charset.classes() {
            return Err(RuntimeError::from_message(
                "recognition classes do not match the dictionary",
            )
            .into());
        }
        for (k, &i) in chunk.iter().enumerate() {
            let Some(p) = probs.get(k * steps * classes..(k + 1) * steps * classes) else {
                continue;
            };
            let decoded = rec::ctc_decode(p, steps, charset);
            let used = members
                .get(k)
                .map_or(width, |m| rec::scaled_width(m, width));
            let steps_on_text = steps as f64 * used as f64 / width.max(1) as f64;
            if let Some(slot) = out.get_mut(i) {
                *slot = (decoded, steps_on_text);
            }
        }
    }
    Ok(out)
}

/// For each line: whether the 0°/180° classifier says it is upside down.
fn classify_lines(
    net: &mut Net,
    images: &[&Raster],
    params: &Params,
) -> Result<Vec<bool>, RuntimeError> {
    const W: usize = 192;
    let mut out = vec![false; images.len()];
    let order = by_ratio(images);
    for chunk in order.chunks(params.rec_batch.max(1)) {
        let members: Vec<&Raster> = chunk
            .iter()
            .filter_map(|&i| images.get(i).copied())
            .collect();
        let (input, shape) = rec::batch_input(&members, W);
        let (out_shape, probs) = net.run(&shape, input)?;
        if out_shape.get(1) != Some(&2) {
            return Err(RuntimeError::from_message(
                "line classifier output is not n × 2",
            ));
        }
        for (k, &i) in chunk.iter().enumerate() {
            let (p0, p180) = (
                probs.get(2 * k).copied().unwrap_or(1.0),
                probs.get(2 * k + 1).copied().unwrap_or(0.0),
            );
            if p180 > p0
                && p180 > params.cls_thresh
                && let Some(slot) = out.get_mut(i)
            {
                *slot = true;
            }
        }
    }
    Ok(out)
}

/// How many clockwise quarter turns make the page upright, by the page classifier, or 0 when it is
/// not sure enough. Its labels 0, 90, 180, 270 are how far the content is turned clockwise: label 90 is
/// undone by a quarter turn counter-clockwise, i.e. three clockwise.
fn page_turns(net: &mut Net, page: &Raster, thresh: f32) -> Result<u8, RuntimeError> {
    let input = crate::orientation::prepare(page);
    let (_, logits) = net.run(&[1, 3, 224, 224], input)?;
    let probs = crate::orientation::softmax(&logits);
    let (best, p) = rec::argmax(&probs);
    if p < thresh {
        return Ok(0);
    }
    Ok(u8::try_from((4 - best % 4) % 4).unwrap_or(0))
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

    #[test]
    fn a_deadline_holds_until_its_instant() {
        use std::time::Duration;
        assert!(Deadline(None).check().is_ok());
        assert!(
            Deadline(Some(Instant::now() + Duration::from_secs(60)))
                .check()
                .is_ok()
        );
        assert!(matches!(
            Deadline(Some(Instant::now())).check(),
            Err(PageError::OutOfTime)
        ));
    }

    #[test]
    fn big_pages_are_scaled_into_bounds_in_multiples_of_32() {
        let img = Raster::filled(4000, 3000, [255; 3]);
        let (out, rw, rh) = within_bounds(&img, 30, 2000);
        // 2000 / 32 = 62.5 rounds to even: 1984.
        assert_eq!((out.width(), out.height()), (1984, 1504));
        assert!((rw - 4000.0 / 1984.0).abs() < 1e-9 && (rh - 3000.0 / 1504.0).abs() < 1e-9);
        let small = Raster::filled(500, 700, [255; 3]);
        let (same, rw, _) = within_bounds(&small, 30, 2000);
        assert_eq!((same.width(), same.height(), rw), (500, 700, 1.0));
    }

    #[test]
    fn tiny_strips_are_scaled_up() {
        let img = Raster::filled(200, 10, [255; 3]);
        let (out, _, rh) = within_bounds(&img, 30, 2000);
        assert!(out.height() >= 30, "{}", out.height());
        assert!((rh - 10.0 / out.height() as f64).abs() < 1e-9);
        // A one-pixel strip is not blown up past the longer-side maximum.
        let tall = Raster::filled(1, 3000, [255; 3]);
        let (strip, _, _) = within_bounds(&tall, 30, 2000);
        assert!(strip.height() <= 3000, "{}", strip.height());
    }

    #[test]
    fn flat_images_are_padded_top_and_bottom() {
        let (out, pad) = pad_flat(Cow::Owned(Raster::filled(800, 40, [255; 3])));
        // new height = max(800 / 8, 30) · 2 = 200; pad = (200 − 40) / 2 = 80.
        assert_eq!((pad, out.height()), (80, 200));
        let (same, pad) = pad_flat(Cow::Owned(Raster::filled(300, 200, [255; 3])));
        assert_eq!((pad, same.height()), (0, 200));
    }

    #[test]
    fn mapping_undoes_scale_padding_and_turns() {
        let m = Mapping {
            pad_top: 10.0,
            ratio_w: 2.0,
            ratio_h: 2.0,
            upright_w: 100.0,
            upright_h: 50.0,
            turns: 0,
        };
        assert_eq!(m.to_page(Point::new(5.0, 15.0)), Point::new(10.0, 10.0));
        // The page was turned one quarter clockwise to be upright: upright (x, y) was given (y, w − x).
        let turned = Mapping { turns: 1, ..m };
        assert_eq!(
            turned.to_page(Point::new(5.0, 15.0)),
            Point::new(10.0, 90.0)
        );
        let half = Mapping { turns: 2, ..m };
        assert_eq!(half.to_page(Point::new(5.0, 15.0)), Point::new(90.0, 40.0));
    }
}
