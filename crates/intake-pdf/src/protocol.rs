//! What the reader and its worker process say to each other. The reader writes one request line
//! (JSON) and then the document's bytes to the worker's standard input; the worker answers with
//! frames on its standard output, each a big-endian `u32` length and a JSON [`Frame`], a picture's
//! frame followed by the picture's bytes.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use intake_domain::model::{OcrLine, TextLayerRule};
use serde::{Deserialize, Serialize};

/// The largest frame header a worker may send: a page's lines with their words (a dense page has
/// a few thousand words at about a hundred bytes each).
pub(crate) const MAX_FRAME: u32 = 64 << 20;

/// What the worker is asked to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Op {
    /// Open the document and count its pages.
    Probe,
    /// Read every page.
    Read,
    /// Lay the given words over their pages as invisible text, and send the document back.
    AddTextLayer,
    /// Draw one page, in colour, for people to see.
    Picture,
}

/// The words of one page for [`Op::AddTextLayer`] (boxes relative to the page as shown).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageWords {
    pub(crate) number: u32,
    pub(crate) lines: Vec<OcrLine>,
}

/// The thresholds of [`TextLayerRule`], as the worker receives them.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule {
    pub(crate) min_chars: u32,
    pub(crate) max_unreadable_share: f32,
    pub(crate) picture_page_coverage: f32,
    pub(crate) min_share_on_pictures: f32,
}

impl From<TextLayerRule> for Rule {
    fn from(rule: TextLayerRule) -> Self {
        Self {
            min_chars: rule.min_chars,
            max_unreadable_share: rule.max_unreadable_share,
            picture_page_coverage: rule.picture_page_coverage,
            min_share_on_pictures: rule.min_share_on_pictures,
        }
    }
}

impl From<Rule> for TextLayerRule {
    fn from(rule: Rule) -> Self {
        let mut out = TextLayerRule::default();
        out.min_chars = rule.min_chars;
        out.max_unreadable_share = rule.max_unreadable_share;
        out.picture_page_coverage = rule.picture_page_coverage;
        out.min_share_on_pictures = rule.min_share_on_pictures;
        out
    }
}

/// The request line.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request {
    /// Where libpdfium is.
    pub(crate) library: PathBuf,
    pub(crate) op: Op,
    /// The most pages the document may have.
    pub(crate) max_pages: u32,
    /// The worker's address-space limit, in bytes.
    pub(crate) memory_limit: u64,
    /// The worker's CPU-time limit, in seconds.
    pub(crate) cpu_seconds: u64,
    pub(crate) dpi: u32,
    pub(crate) max_page_pixels: u64,
    pub(crate) rule: Rule,
    /// The length of the JSON list of [`PageWords`] between the request line and the document
    /// ([`Op::AddTextLayer`]).
    #[serde(default)]
    pub(crate) words_len: u64,
    /// The page to draw ([`Op::Picture`]), from 1.
    #[serde(default)]
    pub(crate) page: u32,
    /// The longest side of its picture, in pixels.
    #[serde(default)]
    pub(crate) side: u32,
}

/// Why the worker could not go on, as the reader maps it to the port's errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Problem {
    Encrypted,
    Corrupt,
    TooManyPages,
    BeyondLimits,
    /// The library could not be loaded, or the request was not understood.
    Unavailable,
}

/// One message of the worker.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum Frame {
    /// The document opened: its pages.
    #[serde(rename_all = "camelCase")]
    Info { page_count: u32 },
    /// A page read from its text layer.
    #[serde(rename_all = "camelCase")]
    Text {
        number: u32,
        width_px: u32,
        height_px: u32,
        lines: Vec<OcrLine>,
    },
    /// A page to read from its pixels; `len` bytes of the picture follow.
    #[serde(rename_all = "camelCase")]
    Picture {
        number: u32,
        width_px: u32,
        height_px: u32,
        /// `png` or `jpeg`.
        format: String,
        len: u64,
    },
    /// The worker stopped.
    #[serde(rename_all = "camelCase")]
    Stopped {
        problem: Problem,
        reason: String,
        #[serde(default)]
        count: u32,
    },
    /// The document with its text layer; `len` bytes of it follow.
    #[serde(rename_all = "camelCase")]
    Document { len: u64 },
    /// Every page was sent.
    End,
}

/// Writes a frame (and, for a picture, its bytes).
pub(crate) fn write_frame(out: &mut impl Write, frame: &Frame, body: &[u8]) -> io::Result<()> {
    let json = serde_json::to_vec(frame).map_err(io::Error::other)?;
    let len = u32::try_from(json.len()).map_err(io::Error::other)?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(&json)?;
    out.write_all(body)?;
    out.flush()
}

/// What the worker is given: the request, the words to lay over pages, the document.
pub(crate) type Given = (Request, Vec<PageWords>, Vec<u8>);

/// Reads the request line, the words after it if any, and the document.
pub(crate) fn read_request(input: &mut impl Read, max_bytes: u64) -> io::Result<Given> {
    let mut line = Vec::new();
    let mut byte = [0_u8; 1];
    loop {
        if input.read(&mut byte)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no request"));
        }
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
        if line.len() > 1 << 16 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request too long",
            ));
        }
    }
    let request: Request = serde_json::from_slice(&line).map_err(io::Error::other)?;
    let mut words = Vec::new();
    input.take(request.words_len).read_to_end(&mut words)?;
    let words = if words.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&words).map_err(io::Error::other)?
    };
    let mut document = Vec::new();
    input.take(max_bytes).read_to_end(&mut document)?;
    Ok((request, words, document))
}
