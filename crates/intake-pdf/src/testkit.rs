//! PDFs written for tests (feature `testkit`): born-digital pages of text in a standard font,
//! scanned pages (one JPEG each), and documents with many pages, each built object by object with
//! a correct cross-reference table, so that every reader opens them.

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
}

impl TestPage {
    /// A text page of `lines`.
    pub fn text(lines: &[&str]) -> Self {
        Self::Text(lines.iter().map(|l| (*l).to_owned()).collect())
    }
}

const A4: (u32, u32) = (595, 842);

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
        let page_id = objects.len() + 1;
        let content_id = page_id + 1;
        kids.push(format!("{page_id} 0 R"));
        let (content, image) = match page {
            TestPage::Text(lines) => {
                let mut content = String::from("BT /F1 12 Tf 16 TL 56 790 Td\n");
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
                format!("q {} 0 0 {} 0 0 cm /Im1 Do Q\n", A4.0, A4.1).into_bytes(),
                Some((bytes, *width, *height)),
            ),
            TestPage::Blank => (Vec::new(), None),
        };
        let resources = if image.is_some() {
            format!("<< /XObject << /Im1 {} 0 R >> >>", content_id + 1)
        } else {
            "<< /Font << /F1 3 0 R >> >>".to_owned()
        };
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources {resources} /Contents {content_id} 0 R >>",
                A4.0, A4.1
            )
            .into_bytes(),
        );
        objects.push(stream(
            &format!("<< /Length {} >>", content.len()),
            &content,
        ));
        if let Some((bytes, width, height)) = image {
            objects.push(stream(
                &format!(
                    "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>",
                    bytes.len()
                ),
                bytes,
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
