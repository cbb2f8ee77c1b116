//! A TIFF's first image directory (IFD), read as the file streams by, and its pages, read from the
//! whole file. The header says where the first directory is, and that may be anywhere: libtiff, and
//! so most scanners and editors, writes each page's pixel data first and its directory after it.

use std::io::Cursor;

/// Tag of a page's width in pixels.
const IMAGE_WIDTH: u16 = 256;
/// Tag of a page's height in pixels (its number of rows).
const IMAGE_LENGTH: u16 = 257;

/// Whether the bytes start as a classic TIFF does: byte order `II` or `MM`, then 42 in that order.
pub(super) fn is_tiff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"II\x2A\x00") || bytes.starts_with(b"MM\x00\x2A")
}

/// Reads a classic TIFF's first directory while the file streams by, chunk by chunk: the header's
/// eight bytes name the directory's offset, the bytes up to it are passed over, and its entries are
/// read twelve bytes at a time until the width and height are found. Nothing else is kept, so the
/// memory it needs is the same wherever the directory is. A file that ends before the directory
/// (its offset past the end), or whose directory has no width or height, has no dimensions.
#[derive(Clone, Copy, Debug)]
pub(super) struct FirstDirectory {
    /// Where in the file the next chunk starts.
    position: u64,
    state: State,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// The byte order, the magic number and the directory's offset.
    Header(Gather<8>),
    /// The number of entries of the directory.
    Count(Order, Gather<2>),
    /// The next entry, how many are left after it, and what was found so far.
    Entries {
        order: Order,
        entry: Gather<12>,
        left: u16,
        width: Option<u32>,
        height: Option<u32>,
    },
    /// The directory was read, or the file is not a TIFF or is damaged.
    Done(Option<(u32, u32)>),
}

#[derive(Clone, Copy, Debug)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, bytes: [u8; 2]) -> u16 {
        match self {
            Self::Little => u16::from_le_bytes(bytes),
            Self::Big => u16::from_be_bytes(bytes),
        }
    }

    fn u32(self, bytes: [u8; 4]) -> u32 {
        match self {
            Self::Little => u32::from_le_bytes(bytes),
            Self::Big => u32::from_be_bytes(bytes),
        }
    }
}

/// `N` bytes at offset `at` of a file, gathered from the chunks that hold them.
#[derive(Clone, Copy, Debug)]
struct Gather<const N: usize> {
    at: u64,
    bytes: [u8; N],
    filled: usize,
}

impl<const N: usize> Gather<N> {
    fn at(at: u64) -> Self {
        Self {
            at,
            bytes: [0; N],
            filled: 0,
        }
    }

    /// Takes what `chunk`, found at offset `start` of the file, holds of the bytes; all of them once
    /// they are complete. Chunks come in order and the bytes are never before the chunk they are
    /// first asked of, so none is missed.
    fn take(&mut self, start: u64, chunk: &[u8]) -> Option<[u8; N]> {
        let next = self.at.saturating_add(self.filled as u64);
        let from = usize::try_from(next.checked_sub(start)?).ok()?;
        let available = chunk.get(from..)?;
        let count = (N - self.filled).min(available.len());
        self.bytes
            .get_mut(self.filled..self.filled + count)?
            .copy_from_slice(available.get(..count)?);
        self.filled += count;
        (self.filled == N).then_some(self.bytes)
    }
}

impl Default for FirstDirectory {
    fn default() -> Self {
        Self {
            position: 0,
            state: State::Header(Gather::at(0)),
        }
    }
}

impl FirstDirectory {
    /// Reads on through the next bytes of the file.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let start = self.position;
        self.position = start.saturating_add(chunk.len() as u64);
        loop {
            let next = match &mut self.state {
                State::Done(_) => return,
                State::Header(gather) => match gather.take(start, chunk) {
                    Some(header) => header_read(header),
                    None => return,
                },
                State::Count(order, gather) => match gather.take(start, chunk) {
                    Some(count) => {
                        let order = *order;
                        match order.u16(count) {
                            0 => State::Done(None),
                            left => State::Entries {
                                order,
                                entry: Gather::at(gather.at.saturating_add(2)),
                                left,
                                width: None,
                                height: None,
                            },
                        }
                    }
                    None => return,
                },
                State::Entries {
                    order,
                    entry,
                    left,
                    width,
                    height,
                } => {
                    let Some(bytes) = entry.take(start, chunk) else {
                        return;
                    };
                    let (order, at, left) = (*order, entry.at, left.saturating_sub(1));
                    let (mut width, mut height) = (*width, *height);
                    match entry_value(order, bytes) {
                        (IMAGE_WIDTH, value) => width = width.or(value),
                        (IMAGE_LENGTH, value) => height = height.or(value),
                        _ => {}
                    }
                    match (width, height) {
                        (Some(width), Some(height)) => State::Done(Some((width, height))),
                        _ if left == 0 => State::Done(None),
                        _ => State::Entries {
                            order,
                            entry: Gather::at(at.saturating_add(12)),
                            left,
                            width,
                            height,
                        },
                    }
                }
            };
            self.state = next;
        }
    }

    /// The first page's width and height, once its directory was read.
    pub(super) fn dimensions(&self) -> Option<(u32, u32)> {
        match self.state {
            State::Done(dimensions) => dimensions,
            _ => None,
        }
    }
}

/// What the header says: where the first directory is, in which byte order. A directory that would
/// overlap the header is damage.
fn header_read(header: [u8; 8]) -> State {
    let [b0, b1, m0, m1, o0, o1, o2, o3] = header;
    let order = match [b0, b1] {
        [b'I', b'I'] => Order::Little,
        [b'M', b'M'] => Order::Big,
        _ => return State::Done(None),
    };
    match order.u32([o0, o1, o2, o3]) {
        offset if order.u16([m0, m1]) == 42 && offset >= 8 => {
            State::Count(order, Gather::at(u64::from(offset)))
        }
        _ => State::Done(None),
    }
}

/// An entry's tag, and its value when it is one whole number (BYTE, SHORT or LONG, count 1) held in
/// the entry itself.
fn entry_value(order: Order, entry: [u8; 12]) -> (u16, Option<u32>) {
    let [t0, t1, k0, k1, c0, c1, c2, c3, v0, v1, v2, v3] = entry;
    let tag = order.u16([t0, t1]);
    let value = match (order.u16([k0, k1]), order.u32([c0, c1, c2, c3])) {
        (1, 1) => Some(u32::from(v0)),
        (3, 1) => Some(u32::from(order.u16([v0, v1]))),
        (4, 1) => Some(order.u32([v0, v1, v2, v3])),
        _ => None,
    };
    (tag, value)
}

/// The pages of a multi-page image, read from its headers alone (no pixel is decoded).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Pages {
    /// How many pages, counted up to one past the limit given.
    pub count: u32,
    /// Width × height of every page counted, together.
    pub pixels: u64,
    /// The longest side of any page counted.
    pub longest_side: u32,
}

/// Why a TIFF's pages cannot be counted: its directory chain is damaged (a directory past the end of
/// the file or cut short, a page without its size or its data's place, a chain that loops).
#[derive(Debug, thiserror::Error)]
#[error("the TIFF's directory chain cannot be read")]
pub struct PagesError {
    #[source]
    source: tiff::TiffError,
}

fn unreadable(source: tiff::TiffError) -> PagesError {
    PagesError { source }
}

/// Counts the pages of a TIFF (the whole file) and their pixels from its directory chain, wherever
/// its directories are, stopping one page past `max_pages` so that a file claiming millions of
/// pages costs no more than that.
///
/// # Errors
/// [`PagesError`] when the directory chain cannot be read (a damaged or looping TIFF).
pub fn tiff_pages(bytes: &[u8], max_pages: u32) -> Result<Pages, PagesError> {
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut pages = Pages {
        count: 0,
        pixels: 0,
        longest_side: 0,
    };
    loop {
        let (width, height) = decoder.dimensions().map_err(unreadable)?;
        pages.count = pages.count.saturating_add(1);
        pages.pixels = pages
            .pixels
            .saturating_add(u64::from(width) * u64::from(height));
        pages.longest_side = pages.longest_side.max(width).max(height);
        if pages.count > max_pages || !decoder.more_images() {
            return Ok(pages);
        }
        decoder.next_image().map_err(unreadable)?;
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)] // the test files are far below 4 GiB
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Where a TIFF's directories are.
    #[derive(Clone, Copy)]
    enum Layout {
        /// As libtiff writes them: each page's pixels, then its directory.
        PixelsFirst,
        /// Every directory right after the header, then the pixels.
        DirectoriesFirst,
    }

    const ENTRIES: usize = 9;
    const DIRECTORY: usize = 2 + ENTRIES * 12 + 4;

    /// An uncompressed 8-bit grey TIFF in byte order `order` with one page per size, its pixels the
    /// bytes `C` and `R` in turn (so that the first pixels, right after the header, are what `infer`
    /// takes for a CR2 raw file). Returns the file and where each directory is.
    fn tiff(order: Order, pages: &[(u32, u32)], layout: Layout) -> (Vec<u8>, Vec<usize>) {
        let u16b = |v: u16| match order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        let u32b = |v: u32| match order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        let sizes: Vec<usize> = pages.iter().map(|&(w, h)| (w * h) as usize).collect();
        let mut places = Vec::new(); // (pixels at, directory at)
        let mut at = 8;
        for size in &sizes {
            match layout {
                Layout::PixelsFirst => {
                    let directory = (at + size + 1) & !1;
                    places.push((at, directory));
                    at = directory + DIRECTORY;
                }
                Layout::DirectoriesFirst => {
                    places.push((0, at));
                    at += DIRECTORY;
                }
            }
        }
        if let Layout::DirectoriesFirst = layout {
            for (place, size) in places.iter_mut().zip(&sizes) {
                place.0 = at;
                at += size;
            }
        }
        let mut out = vec![0; at];
        out[..2].copy_from_slice(match order {
            Order::Little => b"II",
            Order::Big => b"MM",
        });
        out[2..4].copy_from_slice(&u16b(42));
        out[4..8].copy_from_slice(&u32b(places[0].1 as u32));
        for (i, (&(w, h), &(pixels, directory))) in pages.iter().zip(&places).enumerate() {
            for (j, byte) in out[pixels..pixels + sizes[i]].iter_mut().enumerate() {
                *byte = if j % 2 == 0 { b'C' } else { b'R' };
            }
            // (tag, type: 3 SHORT or 4 LONG, value), in ascending tag order.
            let entries: [(u16, u16, u32); ENTRIES] = [
                (256, 3, w),
                (257, 4, h),
                (258, 3, 8),
                (259, 3, 1),
                (262, 3, 1),
                (273, 4, pixels as u32),
                (277, 3, 1),
                (278, 4, h),
                (279, 4, sizes[i] as u32),
            ];
            let mut d = u16b(ENTRIES as u16).to_vec();
            for (tag, kind, value) in entries {
                d.extend_from_slice(&u16b(tag));
                d.extend_from_slice(&u16b(kind));
                d.extend_from_slice(&u32b(1));
                if kind == 3 {
                    d.extend_from_slice(&u16b(value as u16));
                    d.extend_from_slice(&[0, 0]);
                } else {
                    d.extend_from_slice(&u32b(value));
                }
            }
            let next = places.get(i + 1).map_or(0, |p| p.1 as u32);
            d.extend_from_slice(&u32b(next));
            out[directory..directory + DIRECTORY].copy_from_slice(&d);
        }
        (out, places.iter().map(|p| p.1).collect())
    }

    fn first_page(bytes: &[u8], chunk: usize) -> Option<(u32, u32)> {
        let mut reader = FirstDirectory::default();
        for piece in bytes.chunks(chunk) {
            reader.feed(piece);
        }
        reader.dimensions()
    }

    #[test]
    fn finds_the_first_directory_after_the_pixels_in_either_byte_order() {
        for order in [Order::Little, Order::Big] {
            let (bytes, directories) = tiff(order, &[(700, 500), (30, 20)], Layout::PixelsFirst);
            assert!(directories[0] > 256 * 1024, "at {}", directories[0]);
            for chunk in [1, 7, 4096, 65_536, bytes.len()] {
                assert_eq!(
                    first_page(&bytes, chunk),
                    Some((700, 500)),
                    "chunks of {chunk}"
                );
            }
            let at = directories[0];
            for split in at - 4..at + DIRECTORY {
                let mut reader = FirstDirectory::default();
                reader.feed(&bytes[..split]);
                reader.feed(&bytes[split..]);
                assert_eq!(reader.dimensions(), Some((700, 500)), "split at {split}");
            }
            let (bytes, _) = tiff(order, &[(90, 40), (30, 20)], Layout::DirectoriesFirst);
            assert_eq!(first_page(&bytes, 7), Some((90, 40)));
            assert!(is_tiff(&bytes));
        }
    }

    #[test]
    fn damaged_directories_or_other_files_have_no_dimensions() {
        let (bytes, directories) = tiff(Order::Little, &[(300, 200)], Layout::PixelsFirst);
        let at = directories[0];
        let none = |bytes: &[u8]| {
            [1, 7, 4096]
                .into_iter()
                .all(|chunk| first_page(bytes, chunk).is_none())
        };
        let with = |offset: usize, replacement: &[u8]| {
            let mut damaged = bytes.clone();
            damaged[offset..offset + replacement.len()].copy_from_slice(replacement);
            damaged
        };
        assert!(none(&bytes[..at]), "cut before its directory");
        assert!(none(&bytes[..at + 2 + 12]), "cut inside its directory");
        assert!(
            none(&with(4, &(bytes.len() as u32).to_le_bytes())),
            "directory past the end"
        );
        assert!(
            none(&with(4, &u32::MAX.to_le_bytes())),
            "directory far past the end"
        );
        assert!(
            none(&with(4, &4u32.to_le_bytes())),
            "directory inside the header"
        );
        assert!(none(&with(at, &[0, 0])), "no entries");
        assert!(
            none(&with(at + 2, &[0x11, 0x01])),
            "no width: its tag renamed"
        );
        assert!(
            none(&with(at + 2 + 4, &[2, 0, 0, 0])),
            "a width of two values"
        );
        assert!(none(&with(2, &[43, 0])), "BigTIFF");
        assert!(none(&[]));
        assert!(none(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!is_tiff(b"II+\0"));
    }

    #[test]
    fn pages_are_counted_wherever_their_directories_are() {
        for layout in [Layout::PixelsFirst, Layout::DirectoriesFirst] {
            for order in [Order::Little, Order::Big] {
                let (bytes, _) = tiff(order, &[(700, 500), (30, 20), (40, 800)], layout);
                let pages = tiff_pages(&bytes, 100).unwrap();
                assert_eq!(
                    pages,
                    Pages {
                        count: 3,
                        pixels: 350_000 + 600 + 32_000,
                        longest_side: 800,
                    }
                );
                assert_eq!(
                    tiff_pages(&bytes, 1).unwrap().count,
                    2,
                    "one past the limit"
                );
            }
        }
    }

    #[test]
    fn a_chain_that_loops_or_leads_past_the_end_cannot_be_counted() {
        let (bytes, directories) = tiff(Order::Little, &[(30, 20), (30, 20)], Layout::PixelsFirst);
        let link = directories[1] + DIRECTORY - 4;
        let mut looping = bytes.clone();
        looping[link..link + 4].copy_from_slice(&(directories[0] as u32).to_le_bytes());
        let error = tiff_pages(&looping, 100).unwrap_err();
        assert!(
            crate::error_chain(&error).starts_with("the TIFF's directory chain cannot be read: "),
            "{}",
            crate::error_chain(&error)
        );
        let mut past_the_end = bytes;
        past_the_end[link..link + 4].copy_from_slice(&0x7FFF_FFF0_u32.to_le_bytes());
        assert!(tiff_pages(&past_the_end, 100).is_err());
        // Its first page is still whole: the dimensions are read, the pages are not.
        assert_eq!(first_page(&past_the_end, 7), Some((30, 20)));
    }

    proptest! {
        #[test]
        fn any_split_into_chunks_finds_the_same_first_page(
            cuts in proptest::collection::vec(0usize..70_000, 0..40),
            (width, height) in (1u32..300, 1u32..200),
            big in any::<bool>(),
        ) {
            let order = if big { Order::Big } else { Order::Little };
            let (bytes, _) = tiff(order, &[(width, height), (5, 5)], Layout::PixelsFirst);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut reader = FirstDirectory::default();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                reader.feed(&bytes[from..cut]);
                from = cut;
            }
            prop_assert_eq!(reader.dimensions(), Some((width, height)));
        }
    }
}
