//! Text detection (DB, "differentiable binarization"): the image is scaled so its shorter side is at
//! least the model's limit, in multiples of 32; the model answers a probability map of "text here";
//! the map is thresholded and dilated, each connected region becomes its minimum-area rectangle, is
//! scored by the mean probability inside it, grown by the unclip distance, mapped back to the image
//! and put in reading order. Every constant is the reference pipeline's.

use crate::geometry::{Point, Quad, min_area_rect};
use crate::raster::Raster;

/// Detection settings (the reference's defaults).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct DetParams {
    /// The shorter side is scaled up to at least this many pixels.
    pub limit_side_len: usize,
    /// A map value above this is text.
    pub thresh: f32,
    /// A region whose mean probability is below this is dropped.
    pub box_thresh: f32,
    /// Regions considered at most.
    pub max_candidates: usize,
    /// How much a region grows: area × ratio / perimeter on each side.
    pub unclip_ratio: f64,
}

impl Default for DetParams {
    fn default() -> Self {
        Self {
            limit_side_len: 736,
            thresh: 0.3,
            box_thresh: 0.5,
            max_candidates: 1000,
            unclip_ratio: 1.6,
        }
    }
}

/// A text region found in the image.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct TextBox {
    /// Corners in the detected image's pixels: top-left, top-right, bottom-right, bottom-left.
    pub quad: Quad,
    /// Mean text probability inside the region.
    pub score: f32,
}

/// The most pixels the detection model is given: the reference scales the shorter side up to the
/// limit whatever the other side becomes, which for a long thin strip is gigapixels; past this budget
/// the scale is reduced instead (a 300 × 2000 receipt column still gets its full 736 × 4906).
pub(crate) const MAX_PIXELS: f64 = 6_000_000.0;

/// The size the detection model sees for an image of `width × height`: the shorter side scaled up to
/// the limit (never down) within [`MAX_PIXELS`], each side then rounded to a multiple of 32. `None`
/// when a side rounds to 0.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub(crate) fn input_size(
    width: usize,
    height: usize,
    limit_side_len: usize,
) -> Option<(usize, usize)> {
    let shorter = width.min(height);
    let mut ratio = if shorter < limit_side_len {
        limit_side_len as f64 / shorter as f64
    } else {
        1.0
    };
    let pixels = width as f64 * height as f64 * ratio * ratio;
    if pixels > MAX_PIXELS {
        ratio *= (MAX_PIXELS / pixels).sqrt();
    }
    let round32 = |v: usize| {
        let scaled = (v as f64 * ratio) as usize;
        ((scaled as f64 / 32.0).round_ties_even() as usize) * 32
    };
    let (w, h) = (round32(width), round32(height));
    (w > 0 && h > 0).then_some((w, h))
}

/// The network input for `img`: `1 × 3 × h × w`, BGR, `(v/255 − 0.5) / 0.5`.
pub(crate) fn prepare(img: &Raster, params: &DetParams) -> Option<(Vec<f32>, [usize; 4])> {
    let (w, h) = input_size(img.width(), img.height(), params.limit_side_len)?;
    let resized = img.resize_bilinear(w, h);
    let mut input = vec![0.0_f32; 3 * w * h];
    resized.write_planar_bgr(&mut input, w * h, w, [0.5; 3], [0.5; 3]);
    Some((input, [1, 3, h, w]))
}

/// The text regions in a probability map of `map_w × map_h`, in the coordinates of the detected image
/// (`dest_w × dest_h`), in reading order.
pub(crate) fn boxes_from_map(
    map: &[f32],
    map_w: usize,
    map_h: usize,
    dest_w: usize,
    dest_h: usize,
    params: &DetParams,
) -> Vec<TextBox> {
    if map.len() < map_w * map_h || map_w == 0 || map_h == 0 {
        return Vec::new();
    }
    let mask = dilate(&threshold(map, params.thresh), map_w, map_h);
    let mut boxes = Vec::new();
    for region in regions(&mask, map_w, map_h)
        .into_iter()
        .take(params.max_candidates)
    {
        if let Some(b) = region_box(map, map_w, map_h, &region, dest_w, dest_h, params) {
            boxes.push(b);
        }
    }
    sort_reading_order(&mut boxes);
    boxes
}

fn threshold(map: &[f32], thresh: f32) -> Vec<bool> {
    map.iter().map(|&v| v > thresh).collect()
}

/// OpenCV's `dilate` with a 2×2 kernel of ones (anchor at the kernel's centre, (1, 1)): a pixel is set
/// when it or its left, upper or upper-left neighbour is.
fn dilate(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let at = |x: usize, y: usize| mask.get(y * w + x).copied().unwrap_or(false);
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut v = at(x, y);
            if x > 0 {
                v |= at(x - 1, y);
            }
            if y > 0 {
                v |= at(x, y - 1) || (x > 0 && at(x - 1, y - 1));
            }
            if let Some(o) = out.get_mut(y * w + x) {
                *o = v;
            }
        }
    }
    out
}

/// The outline points of each 8-connected region of the mask, as OpenCV's contours would give them
/// for the purpose they serve here (their convex hull): the leftmost and rightmost pixel of each row.
fn regions(mask: &[bool], w: usize, h: usize) -> Vec<Vec<Point>> {
    let mut label = vec![u32::MAX; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask.get(start).copied().unwrap_or(false) || label.get(start) != Some(&u32::MAX) {
            continue;
        }
        let id = u32::try_from(out.len()).unwrap_or(u32::MAX - 1);
        // Row extents of this region: row -> (min x, max x).
        let mut rows: std::collections::BTreeMap<usize, (usize, usize)> =
            std::collections::BTreeMap::new();
        stack.push(start);
        if let Some(l) = label.get_mut(start) {
            *l = id;
        }
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            let e = rows.entry(y).or_insert((x, x));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            for dy in [-1_isize, 0, 1] {
                for dx in [-1_isize, 0, 1] {
                    let (nx, ny) = (x.cast_signed() + dx, y.cast_signed() + dy);
                    if nx < 0 || ny < 0 || nx >= w.cast_signed() || ny >= h.cast_signed() {
                        continue;
                    }
                    let j = ny.cast_unsigned() * w + nx.cast_unsigned();
                    if mask.get(j).copied().unwrap_or(false) && label.get(j) == Some(&u32::MAX) {
                        if let Some(l) = label.get_mut(j) {
                            *l = id;
                        }
                        stack.push(j);
                    }
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let points = rows
            .iter()
            .flat_map(|(&y, &(x0, x1))| {
                [
                    Point::new(x0 as f64, y as f64),
                    Point::new(x1 as f64, y as f64),
                ]
            })
            .collect();
        out.push(points);
    }
    out
}

/// A rectangle's corners ordered as the reference's `get_mini_boxes` orders them: sorted by x, the
/// left pair split into top-left and bottom-left by y, the right pair into top-right and bottom-right.
fn mini_box(corners: [Point; 4]) -> Quad {
    let mut p = corners;
    p.sort_by(|a, b| a.x.total_cmp(&b.x));
    let (tl, bl) = if p[1].y > p[0].y {
        (p[0], p[1])
    } else {
        (p[1], p[0])
    };
    let (tr, br) = if p[3].y > p[2].y {
        (p[2], p[3])
    } else {
        (p[3], p[2])
    };
    [tl, tr, br, bl]
}

fn shoelace(q: &Quad) -> (f64, f64) {
    let mut area = 0.0;
    let mut perimeter = 0.0;
    for (a, b) in q.iter().zip(q.iter().cycle().skip(1)) {
        area += a.x * b.y - b.x * a.y;
        perimeter += a.distance(*b);
    }
    (area.abs() / 2.0, perimeter)
}

/// The mean of the map inside the quadrilateral (the reference's `box_score_fast`: the polygon filled
/// over its bounding box, corners truncated to whole pixels).
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn box_score(map: &[f32], w: usize, h: usize, quad: &Quad) -> f32 {
    let clampi = |v: f64, hi: usize| (v as isize).clamp(0, hi.cast_signed() - 1).cast_unsigned();
    let xmin = clampi(quad.iter().map(|p| p.x).fold(f64::MAX, f64::min).floor(), w);
    let xmax = clampi(quad.iter().map(|p| p.x).fold(f64::MIN, f64::max).ceil(), w);
    let ymin = clampi(quad.iter().map(|p| p.y).fold(f64::MAX, f64::min).floor(), h);
    let ymax = clampi(quad.iter().map(|p| p.y).fold(f64::MIN, f64::max).ceil(), h);
    // Integer corners, as fillPoly receives them.
    let poly: Vec<(f64, f64)> = quad.iter().map(|p| (p.x.trunc(), p.y.trunc())).collect();
    let mut sum = 0.0_f64;
    let mut count = 0_usize;
    for y in ymin..=ymax {
        let yf = y as f64;
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for (&a, &b) in poly.iter().zip(poly.iter().cycle().skip(1)) {
            let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
            if yf < y0 || yf > y1 {
                continue;
            }
            if (b.1 - a.1).abs() < f64::EPSILON {
                lo = lo.min(a.0.min(b.0));
                hi = hi.max(a.0.max(b.0));
            } else {
                let x = a.0 + (yf - a.1) * (b.0 - a.0) / (b.1 - a.1);
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        if lo > hi {
            continue;
        }
        let x0 = (lo.round() as isize)
            .max(xmin.cast_signed())
            .cast_unsigned();
        let x1 = (hi.round() as isize).min(xmax.cast_signed());
        if x1 < x0.cast_signed() {
            continue;
        }
        for x in x0..=x1.cast_unsigned() {
            sum += f64::from(map.get(y * w + x).copied().unwrap_or(0.0));
            count += 1;
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64) as f32
    }
}

/// Grows a rectangle by `distance` on every side (the offset of a rectangle with round joins has this
/// rectangle as its minimum-area box).
fn grow(q: &Quad, distance: f64) -> Quad {
    let [p0, p1, _, p3] = *q;
    let (w, h) = (p0.distance(p1), p0.distance(p3));
    let unit = |a: Point, b: Point, len: f64| {
        if len > 0.0 {
            ((b.x - a.x) / len, (b.y - a.y) / len)
        } else {
            (0.0, 0.0)
        }
    };
    let (ux, uy) = unit(p0, p1, w);
    let (mut vx, mut vy) = unit(p0, p3, h);
    if h == 0.0 {
        (vx, vy) = (-uy, ux);
    }
    let (ux, uy) = if w == 0.0 { (vy, -vx) } else { (ux, uy) };
    let at = |p: Point, su: f64, sv: f64| {
        Point::new(
            p.x + su * distance * ux + sv * distance * vx,
            p.y + su * distance * uy + sv * distance * vy,
        )
    };
    [
        at(q[0], -1.0, -1.0),
        at(q[1], 1.0, -1.0),
        at(q[2], 1.0, 1.0),
        at(q[3], -1.0, 1.0),
    ]
}

const MIN_SIZE: f64 = 3.0;

#[allow(clippy::cast_precision_loss)]
fn region_box(
    map: &[f32],
    w: usize,
    h: usize,
    region: &[Point],
    dest_w: usize,
    dest_h: usize,
    params: &DetParams,
) -> Option<TextBox> {
    let rect = min_area_rect(region)?;
    if rect.short_side() < MIN_SIZE {
        return None;
    }
    let quad = mini_box(rect.corners);
    let score = box_score(map, w, h, &quad);
    if params.box_thresh > score {
        return None;
    }
    let (area, perimeter) = shoelace(&quad);
    if perimeter <= 0.0 {
        return None;
    }
    let grown = grow(&quad, area * params.unclip_ratio / perimeter);
    let rect = min_area_rect(&grown)?;
    if rect.short_side() < MIN_SIZE + 2.0 {
        return None;
    }
    let scale = |p: Point| {
        Point::new(
            (p.x / w as f64 * dest_w as f64)
                .round_ties_even()
                .clamp(0.0, dest_w as f64),
            (p.y / h as f64 * dest_h as f64)
                .round_ties_even()
                .clamp(0.0, dest_h as f64),
        )
    };
    let quad = mini_box(rect.corners).map(scale);
    // The reference then orders the corners clockwise from the top-left, clips them into the image
    // and drops boxes 3 pixels or less across.
    let quad = order_clockwise(quad).map(|p| {
        Point::new(
            p.x.clamp(0.0, dest_w.saturating_sub(1) as f64).trunc(),
            p.y.clamp(0.0, dest_h.saturating_sub(1) as f64).trunc(),
        )
    });
    let width = quad[0].distance(quad[1]).trunc();
    let height = quad[0].distance(quad[3]).trunc();
    (width > 3.0 && height > 3.0).then_some(TextBox { quad, score })
}

/// Corners ordered top-left, top-right, bottom-right, bottom-left: the two leftmost by x are split
/// by y into top-left and bottom-left, the two rightmost into top-right and bottom-right.
pub(crate) fn order_clockwise(q: Quad) -> Quad {
    let mut p = q;
    p.sort_by(|a, b| a.x.total_cmp(&b.x));
    let (mut left, mut right) = ([p[0], p[1]], [p[2], p[3]]);
    left.sort_by(|a, b| a.y.total_cmp(&b.y));
    right.sort_by(|a, b| a.y.total_cmp(&b.y));
    [left[0], right[0], right[1], left[1]]
}

/// Reading order as the reference sorts: by the top-left corner's y; boxes whose tops are within 10
/// pixels of the previous one's share a line and are ordered by x.
pub(crate) fn sort_reading_order(boxes: &mut [TextBox]) {
    const SAME_LINE: f64 = 10.0;
    boxes.sort_by(|a, b| a.quad[0].y.total_cmp(&b.quad[0].y));
    let mut line = 0_usize;
    let mut keyed: Vec<(usize, TextBox)> = Vec::with_capacity(boxes.len());
    let mut previous: Option<f64> = None;
    for b in boxes.iter() {
        if previous.is_some_and(|prev| b.quad[0].y - prev >= SAME_LINE) {
            line += 1;
        }
        previous = Some(b.quad[0].y);
        keyed.push((line, *b));
    }
    keyed.sort_by(|(la, a), (lb, b)| la.cmp(lb).then(a.quad[0].x.total_cmp(&b.quad[0].x)));
    for (slot, (_, b)) in boxes.iter_mut().zip(keyed) {
        *slot = b;
    }
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
    fn input_size_scales_up_the_shorter_side_and_rounds_to_32() {
        // A 754 × 1000 scan is not scaled (shorter side ≥ 736), only rounded.
        assert_eq!(input_size(754, 1000, 736), Some((768, 992)));
        // A small image is scaled so its shorter side reaches 736.
        assert_eq!(input_size(100, 50, 736), Some((1472, 736)));
        // A strip's upscale stays within the pixel budget.
        let (w, h) = input_size(10, 3000, 736).unwrap();
        assert!((w * h) as f64 <= MAX_PIXELS * 1.05, "{w} x {h}");
        // Large images are never scaled down here; halves round to even (62.5 · 32 → 1984), as
        // Python's round does.
        assert_eq!(input_size(3000, 2000, 736), Some((3008, 1984)));
    }

    #[test]
    fn dilation_spreads_right_and_down() {
        let mut mask = vec![false; 9];
        mask[4] = true; // centre of 3 × 3
        let d = dilate(&mask, 3, 3);
        let set: Vec<usize> = d
            .iter()
            .enumerate()
            .filter(|(_, v)| **v)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(set, vec![4, 5, 7, 8]);
    }

    #[test]
    fn regions_are_eight_connected() {
        // Two diagonal pixels touch; a third pixel apart is its own region.
        let w = 5;
        let mut mask = vec![false; 25];
        mask[0] = true;
        mask[6] = true;
        mask[4] = true;
        let r = regions(&mask, w, 5);
        assert_eq!(r.len(), 2);
    }

    fn map_with_block(w: usize, h: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> Vec<f32> {
        let mut map = vec![0.0_f32; w * h];
        for y in y0..y1 {
            for x in x0..x1 {
                map[y * w + x] = 0.9;
            }
        }
        map
    }

    #[test]
    fn a_block_of_text_becomes_one_unclipped_box() {
        // A 40 × 8 block of high probability in a 100 × 50 map.
        let map = map_with_block(100, 50, 30, 20, 70, 28);
        let boxes = boxes_from_map(&map, 100, 50, 100, 50, &DetParams::default());
        assert_eq!(boxes.len(), 1);
        let b = boxes[0];
        // The dilated region reaches one pixel past the block on the right and bottom, so its mean
        // is below the block's 0.9, but well above box_thresh.
        assert!(b.score > 0.7 && b.score < 0.9, "score {}", b.score);
        // The dilated region spans x 30..=70, y 20..=28 (41 × 9 pixel centres → a 40 × 8 rectangle);
        // unclip distance = area·1.6/perimeter = 320·1.6/96 ≈ 5.33 on each side.
        let [tl, tr, br, bl] = b.quad;
        assert!(
            (tl.x - 25.0).abs() <= 1.0 && (tl.y - 15.0).abs() <= 1.0,
            "{tl:?}"
        );
        assert!(
            (br.x - 75.0).abs() <= 1.0 && (br.y - 33.0).abs() <= 1.0,
            "{br:?}"
        );
        assert_eq!(tr.y, tl.y);
        assert_eq!(bl.x, tl.x);
    }

    #[test]
    fn boxes_scale_to_the_detected_image() {
        let map = map_with_block(100, 50, 30, 20, 70, 28);
        let boxes = boxes_from_map(&map, 100, 50, 200, 100, &DetParams::default());
        assert_eq!(boxes.len(), 1);
        assert!((boxes[0].quad[0].x - 50.0).abs() <= 2.0);
    }

    #[test]
    fn faint_and_tiny_regions_are_dropped() {
        let mut map = map_with_block(100, 50, 30, 20, 70, 28);
        // Faint: above the threshold but with a mean below box_thresh.
        for y in 35..45 {
            for x in 10..60 {
                map[y * 100 + x] = 0.35;
            }
        }
        // Tiny: 2 × 2.
        map[2 * 100 + 2] = 0.9;
        map[2 * 100 + 3] = 0.9;
        let boxes = boxes_from_map(&map, 100, 50, 100, 50, &DetParams::default());
        assert_eq!(boxes.len(), 1);
    }

    #[test]
    fn empty_maps_give_no_boxes() {
        assert!(boxes_from_map(&[0.0; 100], 10, 10, 10, 10, &DetParams::default()).is_empty());
        assert!(boxes_from_map(&[], 0, 0, 10, 10, &DetParams::default()).is_empty());
    }

    #[test]
    fn reading_order_groups_lines_then_sorts_by_x() {
        let b = |x: f64, y: f64| TextBox {
            quad: [
                Point::new(x, y),
                Point::new(x + 5., y),
                Point::new(x + 5., y + 5.),
                Point::new(x, y + 5.),
            ],
            score: 1.0,
        };
        let mut boxes = vec![b(50., 103.), b(10., 100.), b(10., 130.), b(80., 98.)];
        sort_reading_order(&mut boxes);
        let xs: Vec<(f64, f64)> = boxes.iter().map(|b| (b.quad[0].x, b.quad[0].y)).collect();
        assert_eq!(xs, vec![(10., 100.), (50., 103.), (80., 98.), (10., 130.)]);
    }

    #[test]
    fn clockwise_order_of_a_shuffled_quad() {
        let q = [
            Point::new(10., 0.),
            Point::new(0., 5.),
            Point::new(0., 0.),
            Point::new(10., 5.),
        ];
        let o = order_clockwise(q);
        assert_eq!(
            o,
            [
                Point::new(0., 0.),
                Point::new(10., 0.),
                Point::new(10., 5.),
                Point::new(0., 5.)
            ]
        );
    }
}
