//! A HEIF file's (an iPhone's HEIC photo's) brands and the size of its primary image, read as the
//! file streams by.
//!
//! A HEIF file is a sequence of ISO-BMFF boxes: `ftyp` first (its brands say what the file is), then
//! `meta` (the items and their properties, a few kilobytes) and `mdat` (the coded pixels), in any
//! order after `ftyp`. The primary image is the item `meta/pitm` names; its size is its `ispe`
//! property, found through `meta/iprp`: `ipco` lists the properties, `ipma` associates items with
//! them by index. A transformation associated with it changes the size it is shown at: `irot`
//! turns it by quarter turns (90° and 270° swap width and height); `imir` mirrors it (the size
//! stays). The `clap` crop is not applied: the size is the one the image is coded at before it, as
//! libheif's `ispe` size is.
//!
//! Top-level boxes before `meta` are passed over by their sizes and never kept; `meta` itself is
//! kept (at most [`META_LIMIT`] bytes) and read once whole.

/// The most bytes of a `meta` box kept to find the primary image's size: far more than a phone's
/// photo needs (an iPhone's grid of 48 tiles, with its depth and gain maps, takes a few tens of
/// kilobytes). A larger `meta` leaves the image without dimensions.
pub(super) const META_LIMIT: u64 = 256 * 1024;

/// Brands of HEVC-coded HEIF, which libheif's `heif_check_filetype` reads as `image/heic`:
/// images (`heic`, `heix` for 10-bit and range extensions, `heim` multi-view, `heis` scalable) and
/// sequences (`hevc`, `hevx`, `hevm`, `hevs`).
const HEVC_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
];
/// The structural brands of any HEIF image (`mif1`) or sequence (`msf1`), whatever its codec.
const GENERIC_BRANDS: [&[u8; 4]; 2] = [b"mif1", b"msf1"];
/// Brands naming another codec than HEVC: AV1 (AVIF), VVC, EVC, JPEG 2000 and JPEG in HEIF. A
/// generic HEIF file with one of them is not taken for a HEIC.
const OTHER_CODEC_BRANDS: [&[u8; 4]; 10] = [
    b"avif", b"avis", b"avio", b"vvic", b"vvis", b"evbi", b"evbs", b"j2ki", b"j2is", b"jpeg",
];

/// Whether the bytes start with an `ftyp` box whose brands (major or compatible) make the file a
/// HEIC: an HEVC brand, or a generic HEIF brand without a brand of another codec (AVIF files carry
/// `mif1` too).
pub(super) fn is_heic(head: &[u8]) -> bool {
    let (Some(size), Some(b"ftyp")) = (be_u32(head, 0), head.get(4..8)) else {
        return false;
    };
    let end = usize::try_from(size).unwrap_or(usize::MAX).min(head.len());
    let (Some(major), Some(compatible)) = (head.get(8..12), head.get(16..end.max(16))) else {
        return false;
    };
    let brands = || std::iter::once(major).chain(compatible.chunks_exact(4));
    let named =
        |list: &[&[u8; 4]]| brands().any(|brand| list.iter().any(|b| b.as_slice() == brand));
    named(&HEVC_BRANDS) || (named(&GENERIC_BRANDS) && !named(&OTHER_CODEC_BRANDS))
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Walks a HEIF file's top-level boxes, chunk by chunk, to its `meta` box, keeps that box and reads
/// the primary image's displayed size from it. Any box header may be split across chunks. The first
/// box must be `ftyp`; a box whose size is smaller than its header, a `meta` larger than
/// [`META_LIMIT`], or a box that runs to the end of the file before `meta` ends the walk without
/// dimensions.
#[derive(Clone, Debug, Default)]
pub(super) struct PrimaryImage {
    state: State,
}

#[derive(Clone, Debug)]
enum State {
    /// A top-level box's header: its first bytes (8, or 16 with a 64-bit size) as they arrive, and
    /// whether it is the file's first box.
    Header {
        bytes: [u8; 16],
        seen: usize,
        first: bool,
    },
    /// Inside a box that is passed over: how many of its bytes are left (never 0).
    Skip(u64),
    /// Inside `meta`: its content so far, and how many bytes of it are left (`None`: it runs to
    /// the end of the file).
    Meta { content: Vec<u8>, left: Option<u64> },
    /// The walk is over: with the primary image's size, or without it.
    Done(Option<(u32, u32)>),
}

impl Default for State {
    fn default() -> Self {
        Self::Header {
            bytes: [0; 16],
            seen: 0,
            first: true,
        }
    }
}

impl PrimaryImage {
    /// Walks on through the next bytes of the file.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match &mut self.state {
                State::Done(_) => return,
                State::Skip(left) => {
                    let skipped = u64::try_from(rest.len()).unwrap_or(u64::MAX).min(*left);
                    rest = rest
                        .get(usize::try_from(skipped).unwrap_or(rest.len())..)
                        .unwrap_or_default();
                    *left -= skipped;
                    if *left == 0 {
                        self.state = State::default_after_first();
                    }
                }
                State::Meta { content, left } => {
                    let wanted = left.map_or(rest.len(), |left| {
                        usize::try_from(left).unwrap_or(usize::MAX).min(rest.len())
                    });
                    let (taken, tail) = rest.split_at(wanted);
                    content.extend_from_slice(taken);
                    rest = tail;
                    if u64::try_from(content.len()).unwrap_or(u64::MAX) > META_LIMIT {
                        self.state = State::Done(None);
                    } else if let Some(left) = left {
                        *left -= u64::try_from(wanted).unwrap_or(*left);
                        if *left == 0 {
                            self.state = State::Done(primary_size(content));
                        }
                    }
                }
                State::Header { bytes, seen, first } => {
                    let Some((&byte, tail)) = rest.split_first() else {
                        return;
                    };
                    rest = tail;
                    if let Some(slot) = bytes.get_mut(*seen) {
                        *slot = byte;
                    }
                    *seen += 1;
                    if let Some(next) = after_header(bytes, *seen, *first) {
                        self.state = next;
                    }
                }
            }
        }
    }

    /// The primary image's width and height as displayed, once `meta` was read (or, for a `meta`
    /// that runs to the end of the file, from what came of it).
    pub(super) fn dimensions(&self) -> Option<(u32, u32)> {
        match &self.state {
            State::Done(dimensions) => *dimensions,
            State::Meta {
                content,
                left: None,
            } => primary_size(content),
            _ => None,
        }
    }
}

impl State {
    fn default_after_first() -> Self {
        Self::Header {
            bytes: [0; 16],
            seen: 0,
            first: false,
        }
    }
}

/// The state after a header's `seen`-th byte, or `None` while more of the header is needed.
fn after_header(bytes: &[u8; 16], seen: usize, first: bool) -> Option<State> {
    if seen < 8 {
        return None;
    }
    let size = be_u32(bytes, 0)?;
    let kind = bytes.get(4..8)?;
    if first && kind != b"ftyp" {
        return Some(State::Done(None));
    }
    let (size, header) = match size {
        1 if seen < 16 => return None,
        1 => (Some(be_u64(bytes, 8)?), 16),
        0 => (None, 8),
        size => (Some(u64::from(size)), 8),
    };
    let content = match size {
        Some(size) if size < header => return Some(State::Done(None)),
        Some(size) => Some(size - header),
        None => None,
    };
    Some(match (kind, content) {
        (b"meta", Some(left)) if left > META_LIMIT => State::Done(None),
        (b"meta", Some(0)) => State::Done(None),
        (b"meta", left) => State::Meta {
            content: Vec::new(),
            left,
        },
        // A box running to the end of the file: no `meta` can follow.
        (_, None) => State::Done(None),
        (_, Some(0)) => State::default_after_first(),
        (_, Some(left)) => State::Skip(left),
    })
}

/// The child boxes of a box's content: each one's type and content. A child whose size is smaller
/// than its header or runs past its parent ends the list.
fn children(mut content: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let size = be_u32(content, 0)?;
        let kind = content.get(4..8)?;
        let (size, header) = match size {
            0 => (content.len(), 8),
            1 => (usize::try_from(be_u64(content, 8)?).ok()?, 16),
            size => (usize::try_from(size).ok()?, 8),
        };
        let body = content.get(header..size)?;
        content = content.get(size..).unwrap_or_default();
        Some((kind, body))
    })
}

/// The primary image's displayed size, from the content of the `meta` box (a full box: version and
/// flags, then its children).
fn primary_size(meta: &[u8]) -> Option<(u32, u32)> {
    let boxes = meta.get(4..)?;
    let find = |wanted: &[u8]| {
        children(boxes)
            .find(|(kind, _)| *kind == wanted)
            .map(|(_, c)| c)
    };
    // `hdlr`: full box, pre-defined 0, then the handler: a picture's is `pict`.
    if find(b"hdlr")?.get(8..12)? != b"pict" {
        return None;
    }
    let pitm = find(b"pitm")?;
    let primary = match pitm.first()? {
        0 => u32::from(be_u16(pitm, 4)?),
        _ => be_u32(pitm, 4)?,
    };
    let iprp = find(b"iprp")?;
    let properties: Vec<(&[u8], &[u8])> = children(iprp)
        .find(|(kind, _)| *kind == b"ipco")
        .map(|(_, ipco)| children(ipco).collect())?;
    let mut size: Option<(u32, u32)> = None;
    let mut turned = false;
    for index in children(iprp)
        .filter(|(kind, _)| *kind == b"ipma")
        .flat_map(|(_, ipma)| associations(ipma, primary))
    {
        match index.checked_sub(1).and_then(|i| properties.get(i)) {
            Some((b"ispe", ispe)) if size.is_none() => {
                size = Some((be_u32(ispe, 4)?, be_u32(ispe, 8)?));
            }
            // The angle, anticlockwise in quarter turns, is the byte's two low bits.
            Some((b"irot", irot)) => turned ^= irot.first()? & 1 == 1,
            _ => {}
        }
    }
    let (width, height) = size.filter(|&(w, h)| w > 0 && h > 0)?;
    Some(if turned {
        (height, width)
    } else {
        (width, height)
    })
}

/// The property indices (from 1; 0 is no property) an `ipma` box associates with `item`, in order.
/// Entries cut short end the list.
fn associations(ipma: &[u8], item: u32) -> Vec<usize> {
    let (Some(&version), Some(&flags)) = (ipma.first(), ipma.get(3)) else {
        return Vec::new();
    };
    let wide_ids = version >= 1;
    let wide_indices = flags & 1 == 1;
    let mut at = 8;
    let mut found = Vec::new();
    let Some(entries) = be_u32(ipma, 4) else {
        return found;
    };
    for _ in 0..entries {
        let id = if wide_ids {
            be_u32(ipma, at)
        } else {
            be_u16(ipma, at).map(u32::from)
        };
        at += if wide_ids { 4 } else { 2 };
        let (Some(id), Some(&count)) = (id, ipma.get(at)) else {
            return found;
        };
        at += 1;
        for _ in 0..count {
            let index = if wide_indices {
                be_u16(ipma, at).map(|v| usize::from(v & 0x7FFF))
            } else {
                ipma.get(at).map(|&v| usize::from(v & 0x7F))
            };
            at += if wide_indices { 2 } else { 1 };
            let Some(index) = index else {
                return found;
            };
            if id == item {
                found.push(index);
            }
        }
    }
    found
}

#[cfg(test)]
#[path = "heif_tests.rs"]
mod tests;
