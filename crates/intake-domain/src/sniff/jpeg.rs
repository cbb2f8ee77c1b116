//! A JPEG's frame header, found while the file streams by. The segments before it (EXIF with its
//! thumbnail, XMP, ICC profiles, comments: hundreds of kilobytes in photos from phones and editors)
//! are passed over by their lengths and never kept, so finding it costs the same small memory
//! whatever the file.

/// Start of image: the first marker of every JPEG.
const SOI: u8 = 0xD8;
/// End of image.
const EOI: u8 = 0xD9;
/// Start of scan: entropy-coded data follows, which must come after the frame header.
const SOS: u8 = 0xDA;
/// A marker for temporary private use, without a length.
const TEM: u8 = 0x01;

/// Whether a marker code starts a frame: SOF0 to SOF15 but DHT (`C4`), JPG (`C8`) and DAC (`CC`),
/// which share their range.
fn starts_frame(code: u8) -> bool {
    matches!(code, 0xC0..=0xCF) && !matches!(code, 0xC4 | 0xC8 | 0xCC)
}

/// Walks a JPEG's segments, chunk by chunk, up to its frame header (SOF*n*) and reads the width and
/// height there. A marker, a length or the header itself may be split across chunks anywhere. Fill
/// bytes (`FF` repeated before a marker) and markers without a length (`RST`*n*, `TEM`) are allowed
/// where the standard allows them; anything else before the frame header (a scan, the end of the
/// image, a second start of image, bytes that are not a marker, a length too short to be one) means
/// the file is damaged, and the walk ends without dimensions.
#[derive(Clone, Copy, Debug)]
pub(super) struct FrameWalker {
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Expecting the start-of-image marker: how many of its two bytes were seen.
    Start(u8),
    /// Expecting the `FF` that opens the next marker.
    Marker,
    /// After an `FF`: the marker's code, or more `FF` fill bytes.
    Code,
    /// A segment's length (big-endian, counting itself): its first byte once seen. `frame` for the
    /// frame header's segment.
    Length { frame: bool, high: Option<u8> },
    /// Inside a segment: how many of its bytes are still to be passed over (never 0).
    Skip(u16),
    /// Inside the frame header: its first bytes (precision, height, width) as they arrive.
    Frame { bytes: [u8; 5], seen: usize },
    /// The walk is over: with the frame's width and height, or without them (damaged, or not a
    /// JPEG).
    Done(Option<(u32, u32)>),
}

impl Default for FrameWalker {
    fn default() -> Self {
        Self {
            state: State::Start(0),
        }
    }
}

impl FrameWalker {
    /// Walks on through the next bytes of the file.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        loop {
            match self.state {
                State::Done(_) => return,
                State::Skip(left) => {
                    let skipped = usize::from(left).min(rest.len());
                    rest = rest.get(skipped..).unwrap_or_default();
                    let left = left.saturating_sub(u16::try_from(skipped).unwrap_or(left));
                    if left > 0 {
                        // The chunk ended inside the segment.
                        self.state = State::Skip(left);
                        return;
                    }
                    self.state = State::Marker;
                }
                _ => {
                    let Some((&byte, tail)) = rest.split_first() else {
                        return;
                    };
                    self.state = self.state.next(byte);
                    rest = tail;
                }
            }
        }
    }

    /// The frame's width and height, once its header was read.
    pub(super) fn dimensions(&self) -> Option<(u32, u32)> {
        match self.state {
            State::Done(dimensions) => dimensions,
            _ => None,
        }
    }
}

impl State {
    /// The state after one more byte, in every state but [`State::Skip`] and [`State::Done`].
    fn next(self, byte: u8) -> Self {
        match self {
            Self::Start(0) if byte == 0xFF => Self::Start(1),
            Self::Start(1) if byte == SOI => Self::Marker,
            Self::Marker if byte == 0xFF => Self::Code,
            Self::Code => match byte {
                0xFF => Self::Code,
                0xD0..=0xD7 | TEM => Self::Marker,
                // `FF 00` only occurs inside entropy-coded data.
                0x00 | SOI | EOI | SOS => Self::Done(None),
                code => Self::Length {
                    frame: starts_frame(code),
                    high: None,
                },
            },
            Self::Length { frame, high: None } => Self::Length {
                frame,
                high: Some(byte),
            },
            Self::Length {
                frame,
                high: Some(high),
            } => match u16::from_be_bytes([high, byte]) {
                // A frame header holds at least its precision, height, width and component count.
                length if length < 2 || (frame && length < 8) => Self::Done(None),
                2 => Self::Marker,
                _ if frame => Self::Frame {
                    bytes: [0; 5],
                    seen: 0,
                },
                length => Self::Skip(length - 2),
            },
            Self::Frame { mut bytes, seen } => {
                if let Some(slot) = bytes.get_mut(seen) {
                    *slot = byte;
                }
                match bytes {
                    [_, h1, h2, w1, w2] if seen + 1 == bytes.len() => Self::Done(Some((
                        u32::from(u16::from_be_bytes([w1, w2])),
                        u32::from(u16::from_be_bytes([h1, h2])),
                    ))),
                    _ => Self::Frame {
                        bytes,
                        seen: seen + 1,
                    },
                }
            }
            // The wrong byte for a start of image or a marker; or a state `feed` handles itself.
            Self::Start(_) | Self::Marker | Self::Skip(_) | Self::Done(_) => Self::Done(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A segment: marker `code` and its payload, with the length before it.
    fn segment(code: u8, payload: &[u8]) -> Vec<u8> {
        let length = u16::try_from(payload.len() + 2).unwrap();
        let mut out = vec![0xFF, code];
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// Payload bytes that look like markers: a walker that looked for markers inside segments
    /// instead of passing over them would find a frame of 2 × 3 pixels, or a scan, or the end.
    fn decoys(len: usize) -> Vec<u8> {
        let pattern = [
            0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x03, 0x00, 0x02, 0x01, 0xFF, 0xD9, 0xFF, 0xDA,
            0xFF, 0xD8, 0xFF, 0xFF, 0x00,
        ];
        pattern.iter().copied().cycle().take(len).collect()
    }

    /// A JPEG's structure up to its first scan: SOI, `metadata` bytes of APPn and COM segments
    /// (each at most 65,533 bytes, their payloads full of decoy markers), a quantisation table, fill
    /// bytes, a restart marker, the frame header of `width` × `height`, a Huffman table and a scan
    /// header; then a little entropy-coded data and EOI.
    fn jpeg(width: u16, height: u16, metadata: usize) -> (Vec<u8>, usize) {
        let mut out = vec![0xFF, SOI];
        out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut left = metadata;
        for code in [0xE1, 0xE2, 0xED, 0xFE].into_iter().cycle() {
            if left == 0 {
                break;
            }
            let size = left.min(65_533);
            out.extend(segment(code, &decoys(size)));
            left -= size;
        }
        out.extend(segment(0xDB, &[0; 65]));
        out.extend_from_slice(&[0xFF, 0xFF, 0xFF]); // fill bytes before the next marker
        out.extend_from_slice(&[0xD0, 0xFF, TEM]); // markers without a length
        let frame_at = out.len();
        let mut sof = vec![8];
        sof.extend_from_slice(&height.to_be_bytes());
        sof.extend_from_slice(&width.to_be_bytes());
        sof.extend_from_slice(&[1, 1, 0x11, 0]);
        out.extend(segment(0xC2, &sof));
        out.extend(segment(
            0xC4,
            &[0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ));
        out.extend(segment(SOS, &[1, 1, 0, 0, 63, 0]));
        out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, EOI]);
        (out, frame_at)
    }

    fn walk(bytes: &[u8], chunk: usize) -> Option<(u32, u32)> {
        let mut walker = FrameWalker::default();
        for piece in bytes.chunks(chunk) {
            walker.feed(piece);
        }
        walker.dimensions()
    }

    #[test]
    fn finds_the_frame_after_600_kib_of_metadata_whatever_the_chunks() {
        let (bytes, frame_at) = jpeg(2480, 3508, 600 * 1024);
        assert!(frame_at > 600 * 1024, "the frame header is at {frame_at}");
        for chunk in [1, 2, 3, 7, 4096, 65_536, bytes.len()] {
            assert_eq!(walk(&bytes, chunk), Some((2480, 3508)), "chunks of {chunk}");
        }
        // Every split of the markers, lengths and the header around the frame.
        for split in frame_at - 12..frame_at + 12 {
            let mut walker = FrameWalker::default();
            walker.feed(&bytes[..split]);
            walker.feed(&bytes[split..]);
            assert_eq!(walker.dimensions(), Some((2480, 3508)), "split at {split}");
        }
    }

    #[test]
    fn the_walk_stops_at_the_frame() {
        let (mut bytes, frame_at) = jpeg(640, 480, 100);
        let mut walker = FrameWalker::default();
        walker.feed(&bytes[..frame_at + 9]);
        assert_eq!(walker.dimensions(), Some((640, 480)));
        // What follows the frame header is not looked at.
        let end = bytes.len() - 2;
        bytes[end..].copy_from_slice(&[0, 0]);
        walker.feed(&bytes[frame_at + 9..]);
        assert_eq!(walker.dimensions(), Some((640, 480)));
    }

    #[test]
    fn damaged_or_other_files_have_no_frame() {
        let (bytes, frame_at) = jpeg(640, 480, 300 * 1024);
        let no_frame = |bytes: &[u8]| {
            [1, 7, 4096]
                .into_iter()
                .all(|chunk| walk(bytes, chunk).is_none())
        };
        assert!(no_frame(&bytes[..frame_at]), "cut before its frame");
        assert!(no_frame(&bytes[..frame_at + 8]), "cut inside its frame");
        assert!(no_frame(&[]));
        assert!(no_frame(b"\x89PNG\r\n\x1a\n"));
        assert!(no_frame(b"II*\0\x08\0\0\0"));
        let with = |at: usize, replacement: &[u8]| {
            let mut damaged = bytes.clone();
            damaged.splice(at..at, replacement.iter().copied());
            damaged
        };
        assert!(
            no_frame(&with(frame_at, &[0xFF, SOS, 0, 8, 1, 1, 0, 0, 63, 0])),
            "scan first"
        );
        assert!(no_frame(&with(frame_at, &[0xFF, EOI])), "ended first");
        assert!(no_frame(&with(frame_at, &[0xFF, SOI])), "a second start");
        assert!(no_frame(&with(frame_at, &[0x00])), "not a marker");
        assert!(
            no_frame(&with(frame_at, &[0xFF, 0x00])),
            "stuffing outside a scan"
        );
        assert!(
            no_frame(&with(frame_at, &[0xFF, 0xE3, 0, 1])),
            "a length of 1"
        );
        let mut short_frame = bytes.clone();
        short_frame[frame_at + 2..frame_at + 4].copy_from_slice(&[0, 7]);
        assert!(no_frame(&short_frame), "a frame header too short");
        // An empty segment (length 2) is allowed.
        assert_eq!(
            walk(&with(frame_at, &[0xFF, 0xEF, 0, 2]), 1),
            Some((640, 480))
        );
    }

    #[test]
    fn every_frame_kind_but_the_lookalikes_is_a_frame() {
        let frames: Vec<u8> = (0xC0..=0xCF).filter(|&c| starts_frame(c)).collect();
        assert_eq!(
            frames,
            [
                0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF
            ]
        );
        // A Huffman table (C4) whose payload looks like a frame header is passed over.
        let (bytes, frame_at) = jpeg(640, 480, 0);
        let mut lookalike = bytes[..frame_at].to_vec();
        lookalike.extend(segment(0xC4, &[8, 0, 3, 0, 2, 1, 1, 0x11, 0]));
        lookalike.extend_from_slice(&bytes[frame_at..]);
        assert_eq!(walk(&lookalike, 1), Some((640, 480)));
    }

    proptest! {
        #[test]
        fn any_split_into_chunks_finds_the_same_frame(
            cuts in proptest::collection::vec(0usize..140_000, 0..40),
            (width, height) in (1u16.., 1u16..),
        ) {
            let (bytes, _) = jpeg(width, height, 130_000);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut walker = FrameWalker::default();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                walker.feed(&bytes[from..cut]);
                from = cut;
            }
            prop_assert_eq!(walker.dimensions(), Some((u32::from(width), u32::from(height))));
        }
    }
}
