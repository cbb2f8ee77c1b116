//! Plane geometry for text boxes: convex hulls, minimum-area rectangles (rotating calipers),
//! perspective transforms and the perspective-correct crop of a text quadrilateral.

use crate::raster::{Raster, to_u8};

/// A point in pixel coordinates.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub(crate) struct Point {
    /// Horizontal position, growing to the right.
    pub x: f64,
    /// Vertical position, growing downwards.
    pub y: f64,
}

impl Point {
    /// A point.
    pub(crate) const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// Distance to `other`.
    pub(crate) fn distance(self, other: Self) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// A quadrilateral: top-left, top-right, bottom-right, bottom-left (the order the pipeline keeps).
pub(crate) type Quad = [Point; 4];

fn cross(o: Point, a: Point, b: Point) -> f64 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

/// The convex hull of `points` (Andrew's monotone chain), counter-clockwise in a y-up frame, without
/// repeated or collinear points.
pub(crate) fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Point> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2 {
                let (Some(&a), Some(&b)) = (hull.get(hull.len() - 2), hull.last()) else {
                    break;
                };
                if cross(a, b, p) <= 0.0 {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// A rotated rectangle: its four corners and its side lengths.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct RotatedRect {
    /// The corners, in order around the rectangle.
    pub corners: [Point; 4],
    /// Length of the side from corner 0 to corner 1.
    pub width: f64,
    /// Length of the side from corner 1 to corner 2.
    pub height: f64,
}

impl RotatedRect {
    /// The shorter side.
    pub(crate) fn short_side(&self) -> f64 {
        self.width.min(self.height)
    }
}

/// The rectangle of least area containing `points` (OpenCV's `minAreaRect`); `None` for no points.
pub(crate) fn min_area_rect(points: &[Point]) -> Option<RotatedRect> {
    let hull = convex_hull(points);
    match hull.as_slice() {
        [] => None,
        [p] => Some(RotatedRect {
            corners: [*p; 4],
            width: 0.0,
            height: 0.0,
        }),
        [a, b] => Some(RotatedRect {
            corners: [*a, *b, *b, *a],
            width: a.distance(*b),
            height: 0.0,
        }),
        _ => {
            let mut best: Option<(f64, RotatedRect)> = None;
            for (i, &a) in hull.iter().enumerate() {
                let b = hull.get((i + 1) % hull.len()).copied().unwrap_or(a);
                let len = a.distance(b);
                if len == 0.0 {
                    continue;
                }
                let (ux, uy) = ((b.x - a.x) / len, (b.y - a.y) / len);
                let (mut min_u, mut max_u, mut min_v, mut max_v) =
                    (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
                for p in &hull {
                    let (dx, dy) = (p.x - a.x, p.y - a.y);
                    let u = dx * ux + dy * uy;
                    let v = -dx * uy + dy * ux;
                    min_u = min_u.min(u);
                    max_u = max_u.max(u);
                    min_v = min_v.min(v);
                    max_v = max_v.max(v);
                }
                let area = (max_u - min_u) * (max_v - min_v);
                if best.as_ref().is_none_or(|(a, _)| area < *a) {
                    let at =
                        |u: f64, v: f64| Point::new(a.x + u * ux - v * uy, a.y + u * uy + v * ux);
                    best = Some((
                        area,
                        RotatedRect {
                            corners: [
                                at(min_u, min_v),
                                at(max_u, min_v),
                                at(max_u, max_v),
                                at(min_u, max_v),
                            ],
                            width: max_u - min_u,
                            height: max_v - min_v,
                        },
                    ));
                }
            }
            best.map(|(_, rect)| rect)
        }
    }
}

/// A 3×3 projective transform, row-major.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Homography([f64; 9]);

impl Homography {
    /// The transform taking each `from[i]` to `to[i]` (OpenCV's `getPerspectiveTransform`); `None`
    /// when the points are degenerate (three on a line).
    pub(crate) fn from_points(from: &Quad, to: &Quad) -> Option<Self> {
        // Eight unknowns h0..h7 (h8 = 1): for each pair, two rows of the linear system.
        let mut m = [[0.0_f64; 9]; 8];
        for (i, (s, d)) in from.iter().zip(to).enumerate() {
            let r0 = m.get_mut(2 * i)?;
            *r0 = [s.x, s.y, 1.0, 0.0, 0.0, 0.0, -s.x * d.x, -s.y * d.x, d.x];
            let r1 = m.get_mut(2 * i + 1)?;
            *r1 = [0.0, 0.0, 0.0, s.x, s.y, 1.0, -s.x * d.y, -s.y * d.y, d.y];
        }
        let h = solve8(m)?;
        Some(Self([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]))
    }

    /// Where `p` goes.
    pub(crate) fn apply(&self, p: Point) -> Point {
        let h = &self.0;
        let w = h[6] * p.x + h[7] * p.y + h[8];
        let w = if w.abs() < f64::EPSILON {
            f64::EPSILON
        } else {
            w
        };
        Point::new(
            (h[0] * p.x + h[1] * p.y + h[2]) / w,
            (h[3] * p.x + h[4] * p.y + h[5]) / w,
        )
    }
}

/// Gaussian elimination with partial pivoting on an 8×8 system given as its augmented matrix.
#[allow(clippy::indexing_slicing)] // fixed 8×9 matrix, every index below 8 or 9
fn solve8(mut m: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = m[row][col] / m[col][col];
                if f != 0.0 {
                    let pivot_row = m[col];
                    for (v, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = m[i][8] / m[i][i];
    }
    Some(x)
}

/// The crop of a text quadrilateral, straightened, and how its pixels map back into the source.
#[derive(Clone, Debug)]
pub(crate) struct Crop {
    /// The straightened text, `width × height` as OpenCV's crop computes them.
    pub image: Raster,
    /// Takes a point of the (unrotated) crop to the source image.
    pub to_source: Homography,
    /// Whether the crop was turned a quarter turn counter-clockwise because it stood upright (a
    /// vertical line of text).
    pub turned: bool,
}

/// Cuts `quad` out of `img` and straightens it into a rectangle (the reference's
/// `get_rotate_crop_image`): width and height are the longer of each pair of opposite sides, pixels are
/// sampled bicubically with the edge replicated, and a crop at least 1.5 times taller than wide is
/// turned a quarter turn counter-clockwise. `None` for a degenerate quadrilateral.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
pub(crate) fn crop_quad(img: &Raster, quad: &Quad) -> Option<Crop> {
    let [p0, p1, p2, p3] = *quad;
    let w = p0.distance(p1).max(p2.distance(p3)) as usize;
    let h = p0.distance(p3).max(p1.distance(p2)) as usize;
    if w == 0 || h == 0 {
        return None;
    }
    let (wf, hf) = (w as f64, h as f64);
    let rect = [
        Point::new(0.0, 0.0),
        Point::new(wf, 0.0),
        Point::new(wf, hf),
        Point::new(0.0, hf),
    ];
    let to_source = Homography::from_points(&rect, quad)?;
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let src = to_source.apply(Point::new(x as f64, y as f64));
            data.extend_from_slice(&bicubic(img, src.x, src.y));
        }
    }
    let image = Raster::from_rgb(w, h, data)?;
    let turned = hf / wf >= 1.5;
    Some(Crop {
        image: if turned { image.rotate_ccw() } else { image },
        to_source,
        turned,
    })
}

/// OpenCV's cubic kernel (a = −0.75) weights for a fractional offset `t`.
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

#[allow(clippy::cast_possible_truncation)]
fn bicubic(img: &Raster, x: f64, y: f64) -> [u8; 3] {
    let (fx, fy) = (x.floor(), y.floor());
    let (wx, wy) = (cubic_weights(x - fx), cubic_weights(y - fy));
    let (ix, iy) = (fx as isize, fy as isize);
    let mut acc = [0.0_f64; 3];
    for (j, wyj) in (-1..=2).zip(wy) {
        for (i, wxi) in (-1..=2).zip(wx) {
            let px = img.pixel_clamped(ix + i, iy + j);
            let weight = wxi * wyj;
            for (a, v) in acc.iter_mut().zip(px) {
                *a += weight * f64::from(v);
            }
        }
    }
    acc.map(|v| to_u8(v as f32))
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

    fn pts(v: &[(f64, f64)]) -> Vec<Point> {
        v.iter().map(|&(x, y)| Point::new(x, y)).collect()
    }

    #[test]
    fn hull_drops_inner_and_collinear_points() {
        let hull = convex_hull(&pts(&[
            (0., 0.),
            (2., 0.),
            (1., 0.),
            (2., 2.),
            (0., 2.),
            (1., 1.),
        ]));
        assert_eq!(hull.len(), 4);
        assert!(!hull.contains(&Point::new(1.0, 1.0)));
    }

    #[test]
    fn min_area_rect_of_an_axis_aligned_block() {
        let rect =
            min_area_rect(&pts(&[(0., 0.), (9., 0.), (9., 3.), (0., 3.), (4., 1.)])).unwrap();
        let (mut a, mut b) = (rect.width, rect.height);
        if a < b {
            std::mem::swap(&mut a, &mut b);
        }
        assert!((a - 9.0).abs() < 1e-9 && (b - 3.0).abs() < 1e-9);
        assert!((rect.short_side() - 3.0).abs() < 1e-9);
    }

    #[test]
    fn min_area_rect_follows_a_rotated_block() {
        // A 10 × 2 rectangle turned 30 degrees.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let corners: Vec<Point> = [(0., 0.), (10., 0.), (10., 2.), (0., 2.)]
            .iter()
            .map(|&(x, y)| Point::new(x * c - y * s + 50.0, x * s + y * c + 50.0))
            .collect();
        let rect = min_area_rect(&corners).unwrap();
        assert!((rect.width * rect.height - 20.0).abs() < 1e-6);
        assert!((rect.short_side() - 2.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_point_sets() {
        assert!(min_area_rect(&[]).is_none());
        assert_eq!(min_area_rect(&pts(&[(3., 4.)])).unwrap().width, 0.0);
        let line = min_area_rect(&pts(&[(0., 0.), (5., 0.), (2., 0.)])).unwrap();
        assert_eq!((line.width, line.height), (5.0, 0.0));
    }

    #[test]
    fn homography_maps_the_control_points() {
        let from = [
            Point::new(10., 20.),
            Point::new(110., 25.),
            Point::new(105., 60.),
            Point::new(12., 55.),
        ];
        let to = [
            Point::new(0., 0.),
            Point::new(100., 0.),
            Point::new(100., 40.),
            Point::new(0., 40.),
        ];
        let h = Homography::from_points(&from, &to).unwrap();
        for (f, t) in from.iter().zip(&to) {
            let p = h.apply(*f);
            assert!(p.distance(*t) < 1e-9, "{p:?} != {t:?}");
        }
        let collinear = [
            Point::new(0., 0.),
            Point::new(1., 1.),
            Point::new(2., 2.),
            Point::new(3., 3.),
        ];
        assert!(Homography::from_points(&collinear, &to).is_none());
    }

    #[test]
    fn crop_of_an_axis_aligned_box_copies_its_pixels() {
        let mut data = Vec::new();
        for y in 0..20_u8 {
            for x in 0..30_u8 {
                data.extend_from_slice(&[x, y, 0]);
            }
        }
        let img = Raster::from_rgb(30, 20, data).unwrap();
        let quad = [
            Point::new(5., 4.),
            Point::new(25., 4.),
            Point::new(25., 12.),
            Point::new(5., 12.),
        ];
        let crop = crop_quad(&img, &quad).unwrap();
        assert_eq!((crop.image.width(), crop.image.height()), (20, 8));
        assert!(!crop.turned);
        assert_eq!(crop.image.pixel_clamped(0, 0), [5, 4, 0]);
        assert_eq!(crop.image.pixel_clamped(19, 7), [24, 11, 0]);
    }

    #[test]
    fn tall_crops_are_turned() {
        let img = Raster::filled(40, 40, [9, 9, 9]);
        let quad = [
            Point::new(5., 2.),
            Point::new(10., 2.),
            Point::new(10., 32.),
            Point::new(5., 32.),
        ];
        let crop = crop_quad(&img, &quad).unwrap();
        assert!(crop.turned);
        assert_eq!((crop.image.width(), crop.image.height()), (30, 5));
    }
}
