//! Visual lines from fragments: each fragment is linked to its nearest neighbour on the right on
//! the same line; links across a column gutter are cut, every other link joins.

use super::frame::Placed;

/// Two fragments are on one line when they overlap vertically by at least half the smaller one's
/// height: line spacing leaves a fifth to a third of a height between lines, so fragments of
/// neighbouring lines never overlap by half.
const MIN_LINE_OVERLAP: f64 = 0.5;

/// A fragment more than twice as tall as another is not on its line (a heading beside body text).
const MAX_HEIGHT_RATIO: f64 = 2.0;

/// The next fragment on a line may start up to half a text height before the previous one ends:
/// detectors pad their boxes.
const MAX_BACKSTEP: f64 = 0.5;

/// A gap of up to one text height is a space between words of one phrase (a word space is about a
/// third of a height; a detector splits a line only at wider gaps, rarely this small ones).
const PHRASE_GAP: f64 = 1.0;

/// A wider gap of at most 0.4 of the shorter phrase beside it may be a column gutter: running text
/// is set in columns 10 to 40 text heights wide with gutters of 1 to 3, and a ragged line ends up
/// to a word short of its column. A receipt's label and its amount, or a table's cells, are short
/// beside their gaps (several times their length): those rows read as one line.
const GUTTER_RATIO: f64 = 0.4;

/// Running text fills a column's lines with words: beside a column gutter the shorter phrase holds at
/// least four words on average (a line of a three-column page holds five or more). A table's cells
/// hold a name, a company or a number, rarely more than three: its rows read as lines.
const MIN_COLUMN_WORDS: usize = 4;

/// A gutter is a column boundary when at least three rows have one at the same place: two lines
/// with a gap by chance do not make columns.
const GUTTER_MIN_ROWS: usize = 3;

/// A column gutter also cuts lines within one and a half text heights above or below the rows that
/// found it (the short last line of a paragraph beside the next column).
pub(super) const BAND_REACH: f64 = 1.5;

/// A link from a fragment to the next one on its line.
#[derive(Clone, Copy, Debug)]
struct Link {
    from: usize,
    to: usize,
}

/// A vertical strip of white between columns, over a stretch of the page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Gutter {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Gutter {
    /// The middle of the strip.
    pub(super) fn mid(&self) -> f64 {
        f64::midpoint(self.x0, self.x1)
    }
    /// Whether a span from `left` to `right` crosses the strip's middle.
    pub(super) fn crossed_by(&self, left: f64, right: f64) -> bool {
        left < self.mid() && right > self.mid()
    }
    /// Whether `y` is within the strip's stretch of the page, with `reach` to spare.
    pub(super) fn spans(&self, y: f64, reach: f64) -> bool {
        y >= self.y0 - reach && y <= self.y1 + reach
    }
}

/// Whether `b` may follow `a` on a line, and the gap between them.
fn follows(a: &Placed, b: &Placed) -> Option<f64> {
    let small = a.height.min(b.height);
    let overlap = a.bottom().min(b.bottom()) - a.top().max(b.top());
    let gap = b.left() - a.right();
    (b.cx > a.cx
        && a.height.max(b.height) <= MAX_HEIGHT_RATIO * small
        && overlap >= MIN_LINE_OVERLAP * small
        && gap >= -MAX_BACKSTEP * small)
        .then_some(gap)
}

/// Each fragment's nearest follower; a fragment followed by two keeps only the nearer.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
fn links(placed: &[Placed]) -> Vec<Link> {
    let mut incoming: Vec<Option<(usize, f64)>> = vec![None; placed.len()];
    for (from, a) in placed.iter().enumerate() {
        let next = placed
            .iter()
            .enumerate()
            .filter_map(|(to, b)| Some((to, follows(a, b)?)))
            .min_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((to, gap)) = next
            && incoming[to].is_none_or(|(_, g)| gap < g)
        {
            incoming[to] = Some((from, gap));
        }
    }
    incoming
        .iter()
        .enumerate()
        .filter_map(|(to, i)| i.map(|(from, _)| Link { from, to }))
        .collect()
}

/// The gap of a link, and whether it is a word space.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
fn gap(placed: &[Placed], link: Link) -> (f64, bool) {
    let (a, b) = (&placed[link.from], &placed[link.to]);
    let gap = b.left() - a.right();
    (gap, gap <= PHRASE_GAP * a.height.max(b.height))
}

/// Union-find root.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Groups fragments joined by `links`: each group's members left to right.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
fn groups(placed: &[Placed], links: impl Iterator<Item = Link>) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..placed.len()).collect();
    for link in links {
        let (a, b) = (root(&mut parent, link.from), root(&mut parent, link.to));
        parent[b] = a;
    }
    let mut by_root: Vec<Vec<usize>> = vec![Vec::new(); placed.len()];
    for i in 0..placed.len() {
        let r = root(&mut parent, i);
        by_root[r].push(i);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_iter().filter(|g| !g.is_empty()).collect();
    for g in &mut out {
        g.sort_by(|&a, &b| placed[a].cx.total_cmp(&placed[b].cx));
    }
    out
}

/// The visual lines (fragment indices, left to right) and the column gutters found among them.
#[allow(clippy::indexing_slicing)] // indices are positions of fragments or lines, below their slices' lengths by construction
pub(super) fn visual_lines(placed: &[Placed]) -> (Vec<Vec<usize>>, Vec<Gutter>) {
    let links = links(placed);
    // Phrases: fragments joined by word spaces; their lengths judge the wider gaps.
    let phrases = groups(placed, links.iter().copied().filter(|&l| gap(placed, l).1));
    let mut phrase_len = vec![0.0; placed.len()];
    let mut phrase_words = vec![0; placed.len()];
    for phrase in &phrases {
        let left = phrase
            .iter()
            .map(|&i| placed[i].left())
            .fold(f64::INFINITY, f64::min);
        let right = phrase
            .iter()
            .map(|&i| placed[i].right())
            .fold(f64::NEG_INFINITY, f64::max);
        let words = phrase.iter().map(|&i| placed[i].words).sum();
        for &i in phrase {
            phrase_len[i] = right - left;
            phrase_words[i] = words;
        }
    }
    let candidates: Vec<(Gutter, usize)> = links
        .iter()
        .filter_map(|&l| {
            let (g, word) = gap(placed, l);
            let shorter = phrase_len[l.from].min(phrase_len[l.to]);
            (!word && g <= GUTTER_RATIO * shorter).then(|| {
                let (a, b) = (&placed[l.from], &placed[l.to]);
                let gutter = Gutter {
                    x0: a.right(),
                    x1: b.left(),
                    y0: a.top().min(b.top()),
                    y1: a.bottom().max(b.bottom()),
                };
                (gutter, phrase_words[l.from].min(phrase_words[l.to]))
            })
        })
        .collect();
    let gutters = gutters(candidates, placed);
    let kept = links.into_iter().filter(|&l| {
        let (a, b) = (&placed[l.from], &placed[l.to]);
        let reach = BAND_REACH * a.height.max(b.height);
        !gutters
            .iter()
            .any(|g| g.crossed_by(a.cx, b.cx) && g.spans(a.cy, reach))
    });
    (groups(placed, kept), gutters)
}

/// Gutter candidates (each with the words of the shorter phrase beside it) clustered where their
/// white strips overlap, kept where at least [`GUTTER_MIN_ROWS`] agree, the phrases beside them hold
/// [`MIN_COLUMN_WORDS`] on average, and no fragment between them crosses the strip (a full-width
/// line between two column sections ends one gutter and starts another).
fn gutters(mut candidates: Vec<(Gutter, usize)>, placed: &[Placed]) -> Vec<Gutter> {
    candidates.sort_by(|a, b| a.0.y0.total_cmp(&b.0.y0));
    // Each cluster: its strip, its rows, the words beside it.
    let mut clusters: Vec<(Gutter, usize, usize)> = Vec::new();
    for (c, words) in candidates {
        let joined = clusters.iter_mut().rev().find(|(g, _, _)| {
            let (x0, x1) = (g.x0.max(c.x0), g.x1.min(c.x1));
            x1 > x0
                && !placed.iter().any(|p| {
                    p.cy > g.y1
                        && p.cy < c.y0
                        && p.left() < f64::midpoint(x0, x1)
                        && p.right() > f64::midpoint(x0, x1)
                })
        });
        match joined {
            Some((g, rows, beside)) => {
                g.x0 = g.x0.max(c.x0);
                g.x1 = g.x1.min(c.x1);
                g.y0 = g.y0.min(c.y0);
                g.y1 = g.y1.max(c.y1);
                *rows += 1;
                *beside += words;
            }
            None => clusters.push((c, 1, words)),
        }
    }
    clusters
        .into_iter()
        .filter(|&(_, rows, beside)| rows >= GUTTER_MIN_ROWS && beside >= MIN_COLUMN_WORDS * rows)
        .map(|(g, _, _)| g)
        .collect()
}
