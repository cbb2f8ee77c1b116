//! PDFs written for tests (feature `testkit`): born-digital pages of text in a standard font,
//! scanned pages (one JPEG each, or grey pixels compressed with Flate as a PNG scan is embedded),
//! pages of any size, and documents with many pages, each built object by object with a correct
//! cross-reference table, so that every reader opens them.

use std::fmt::Write as _;

pub mod hostile;

/// A page of a test document.
#[derive(Clone, Debug)]
pub enum TestPage {
    /// Lines of text in Helvetica 12 pt on an A4 page, from its top left, 16 pt apart.
    Text(Vec<String>),
    /// A scanned page: one JPEG of `width` × `height` pixels drawn over the whole A4 page.
    Jpeg {
        /// The JPEG's bytes.
        bytes: Vec<u8>,
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// An empty A4 page.
    Blank,
    /// A scanned page whose picture needs rendering: grey pixels (one byte each, row by row),
    /// compressed with Flate (as a PNG scan is embedded), drawn over the whole A4 page.
    Grey {
        /// The pixels, `width` × `height` bytes.
        pixels: Vec<u8>,
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// `page` on a page of `width` × `height` points instead of A4: text from its top left,
    /// pictures over the whole page.
    Sized {
        /// The page's width in points.
        width: f32,
        /// Its height in points.
        height: f32,
        /// What is on it.
        page: Box<TestPage>,
    },
}

impl TestPage {
    /// A text page of `lines`.
    pub fn text(lines: &[&str]) -> Self {
        Self::Text(lines.iter().map(|l| (*l).to_owned()).collect())
    }

    /// This page on a page of `width` × `height` points.
    #[must_use]
    pub fn sized(self, width: f32, height: f32) -> Self {
        Self::Sized {
            width,
            height,
            page: Box::new(self),
        }
    }

    /// The page's size in points and what is on it.
    fn layout(&self) -> ((f32, f32), &Self) {
        match self {
            Self::Sized {
                width,
                height,
                page,
            } => ((*width, *height), page.layout().1),
            page => (A4, page),
        }
    }
}

/// An A4 page, in points.
pub const A4: (f32, f32) = (595.0, 842.0);

/// An A3 page, in points.
pub const A3: (f32, f32) = (842.0, 1191.0);

/// An A2 page, in points.
pub const A2: (f32, f32) = (1191.0, 1684.0);

/// A picture's stream: its bytes, its size and its filter.
struct Picture<'a> {
    bytes: std::borrow::Cow<'a, [u8]>,
    width: u32,
    height: u32,
    filter: &'static str,
}

/// A PDF of `pages`, in order.
#[allow(clippy::missing_panics_doc)]
pub fn pdf(pages: &[TestPage]) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3 font, then per page: the page, its content, and its
    // image when it has one.
    let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        .to_vec();
    // The catalog and the page tree are written once the pages are known.
    let mut objects: Vec<Vec<u8>> = vec![Vec::new(), Vec::new(), font];
    let mut kids = Vec::new();
    for page in pages {
        let ((page_width, page_height), page) = page.layout();
        let page_id = objects.len() + 1;
        let content_id = page_id + 1;
        kids.push(format!("{page_id} 0 R"));
        let (content, image) = match page {
            TestPage::Text(lines) => {
                let mut content = format!("BT /F1 12 Tf 16 TL 56 {} Td\n", page_height - 52.0);
                for line in lines {
                    let _ = writeln!(content, "({}) Tj T*", escape(line));
                }
                content.push_str("ET\n");
                (content.into_bytes(), None)
            }
            TestPage::Jpeg {
                bytes,
                width,
                height,
            } => (
                Vec::new(),
                Some(Picture {
                    bytes: bytes.into(),
                    width: *width,
                    height: *height,
                    filter: "DCTDecode",
                }),
            ),
            TestPage::Grey {
                pixels,
                width,
                height,
            } => (
                Vec::new(),
                Some(Picture {
                    bytes: miniz_oxide::deflate::compress_to_vec_zlib(pixels, 6).into(),
                    width: *width,
                    height: *height,
                    filter: "FlateDecode",
                }),
            ),
            TestPage::Blank | TestPage::Sized { .. } => (Vec::new(), None),
        };
        let content = if image.is_some() {
            format!("q {page_width} 0 0 {page_height} 0 0 cm /Im1 Do Q\n").into_bytes()
        } else {
            content
        };
        let resources = if image.is_some() {
            format!("<< /XObject << /Im1 {} 0 R >> >>", content_id + 1)
        } else {
            "<< /Font << /F1 3 0 R >> >>".to_owned()
        };
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_width} {page_height}] /Resources {resources} /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        objects.push(stream(
            &format!("<< /Length {} >>", content.len()),
            &content,
        ));
        if let Some(picture) = image {
            objects.push(stream(
                &format!(
                    "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /{} /Length {} >>",
                    picture.width,
                    picture.height,
                    picture.filter,
                    picture.bytes.len()
                ),
                &picture.bytes,
            ));
        }
    }
    let tree = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    )
    .into_bytes();
    objects.splice(0..2, [b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(), tree]);
    assemble(&objects)
}

/// A PDF of `count` pages with one line each (`Page N`).
pub fn pages(count: usize) -> Vec<u8> {
    let pages: Vec<TestPage> = (1..=count)
        .map(|n| TestPage::Text(vec![format!("Page {n}")]))
        .collect();
    pdf(&pages)
}

fn stream(dictionary: &str, data: &[u8]) -> Vec<u8> {
    let mut out = dictionary.as_bytes().to_vec();
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

fn assemble(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}
