//! The order of a page's visual lines: top to bottom, except where column gutters divide the page
//! into a band of columns, which reads column by column, each top to bottom. A line that crosses a
//! gutter (a header or footer across the page) bounds the band.

use super::frame::Placed;
use super::lines::{BAND_REACH, Gutter};

/// A visual line's extent in the text frame.
#[derive(Clone, Copy, Debug)]
struct Extent {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    height: f64,
}

impl Extent {
    #[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
    fn of(line: &[usize], placed: &[Placed]) -> Self {
        let mut e = Self {
            left: f64::INFINITY,
            right: f64::NEG_INFINITY,
            top: f64::INFINITY,
            bottom: f64::NEG_INFINITY,
            height: 0.0,
        };
        for p in line.iter().map(|&i| &placed[i]) {
            e.left = e.left.min(p.left());
            e.right = e.right.max(p.right());
            e.top = e.top.min(p.top());
            e.bottom = e.bottom.max(p.bottom());
            e.height = e.height.max(p.height);
        }
        e
    }
    fn cy(&self) -> f64 {
        f64::midpoint(self.top, self.bottom)
    }
    fn cx(&self) -> f64 {
        f64::midpoint(self.left, self.right)
    }
}

/// Columns side by side over a stretch of the page: their gutters, left to right.
#[derive(Clone, Debug)]
struct Band {
    gutters: Vec<Gutter>,
    y0: f64,
    y1: f64,
}

impl Band {
    fn crossed_by(&self, e: &Extent) -> bool {
        self.gutters.iter().any(|g| g.crossed_by(e.left, e.right))
    }
    fn column_of(&self, e: &Extent) -> usize {
        self.gutters.iter().filter(|g| g.mid() < e.cx()).count()
    }
}

/// Gutters whose stretches overlap make one band (three columns have two gutters).
fn bands(mut gutters: Vec<Gutter>) -> Vec<Band> {
    gutters.sort_by(|a, b| a.y0.total_cmp(&b.y0));
    let mut bands: Vec<Band> = Vec::new();
    for g in gutters {
        match bands.last_mut() {
            Some(band) if g.y0 <= band.y1 => {
                band.y1 = band.y1.max(g.y1);
                band.gutters.push(g);
            }
            _ => bands.push(Band {
                gutters: vec![g],
                y0: g.y0,
                y1: g.y1,
            }),
        }
    }
    for band in &mut bands {
        band.gutters.sort_by(|a, b| a.mid().total_cmp(&b.mid()));
    }
    bands
}

/// The lines in reading order.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
pub(super) fn reading_order(
    lines: Vec<Vec<usize>>,
    placed: &[Placed],
    gutters: Vec<Gutter>,
) -> Vec<Vec<usize>> {
    let extents: Vec<Extent> = lines.iter().map(|l| Extent::of(l, placed)).collect();
    let bands = bands(gutters);
    let mut owner: Vec<Option<usize>> = vec![None; lines.len()];
    let mut by_top: Vec<usize> = (0..lines.len()).collect();
    by_top.sort_by(|&a, &b| extents[a].top.total_cmp(&extents[b].top));
    for (b, band) in bands.iter().enumerate() {
        let (mut top, mut bottom) = (f64::INFINITY, f64::NEG_INFINITY);
        for &i in &by_top {
            let e = &extents[i];
            if owner[i].is_none() && e.cy() >= band.y0 && e.cy() <= band.y1 && !band.crossed_by(e) {
                owner[i] = Some(b);
                top = top.min(e.top);
                bottom = bottom.max(e.bottom);
            }
        }
        // The band goes on below and above while lines follow closely without crossing it.
        for &i in by_top.iter().filter(|&&i| extents[i].cy() > band.y1) {
            let e = &extents[i];
            if owner[i].is_some() || band.crossed_by(e) || e.top - bottom > BAND_REACH * e.height {
                break;
            }
            owner[i] = Some(b);
            bottom = bottom.max(e.bottom);
        }
        for &i in by_top.iter().rev().filter(|&&i| extents[i].cy() < band.y0) {
            let e = &extents[i];
            if owner[i].is_some() || band.crossed_by(e) || top - e.bottom > BAND_REACH * e.height {
                break;
            }
            owner[i] = Some(b);
            top = top.min(e.top);
        }
    }
    // Items in order of their tops: a free line, or a whole band.
    let mut items: Vec<(f64, Vec<usize>)> = Vec::new();
    for (b, band) in bands.iter().enumerate() {
        let mut members: Vec<usize> = (0..lines.len()).filter(|&i| owner[i] == Some(b)).collect();
        let Some(top) = members
            .iter()
            .map(|&i| extents[i].top)
            .min_by(f64::total_cmp)
        else {
            continue;
        };
        members.sort_by(|&x, &y| {
            band.column_of(&extents[x])
                .cmp(&band.column_of(&extents[y]))
                .then(extents[x].top.total_cmp(&extents[y].top))
        });
        items.push((top, members));
    }
    items.extend(
        (0..lines.len())
            .filter(|&i| owner[i].is_none())
            .map(|i| (extents[i].top, vec![i])),
    );
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut lines: Vec<Option<Vec<usize>>> = lines.into_iter().map(Some).collect();
    items
        .into_iter()
        .flat_map(|(_, members)| members)
        .filter_map(|i| lines[i].take())
        .collect()
}
