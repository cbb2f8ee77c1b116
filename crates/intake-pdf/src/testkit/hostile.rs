//! Hostile PDFs written for tests: decompression bombs, reference loops, deep nesting, damaged
//! cross-reference tables, encryption (by the `qpdf` command), scripts and unreadable text layers.
//! Each is built here, object by object, in milliseconds; the bombs are small files (a hand-written
//! Deflate stream of 2 bits per 258 bytes) that inflate to gigabytes.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::process::Command;

use super::{TestPage, assemble, pdf, stream};

/// The catalog, a page tree of one page (object 3), and the page's `Parent`.
const CATALOG: &str = "<< /Type /Catalog /Pages 2 0 R >>";
const ONE_PAGE: &str = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
const HELVETICA: &str =
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
/// A line of text in Helvetica (font `/F1`), for the pages that should show something.
const HELLO: &str = "BT /F1 24 Tf 72 700 Td (Remittance advice 2041, total 31.00 EUR) Tj ET";

fn bytes(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// A Letter page (object 3) with `resources` and content object 4.
fn page(resources: &str) -> Vec<u8> {
    bytes(&format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} /Contents 4 0 R >>"
    ))
}

fn plain_stream(data: &[u8]) -> Vec<u8> {
    stream(&format!("<< /Length {} >>", data.len()), data)
}

/// A zlib stream that inflates to `len` zero bytes (`len` ≥ 1), in about `len / 1032` bytes.
///
/// One dynamic-Huffman block whose code gives the literal 0 and the end of the block two bits
/// each, and a match of 258 bytes at distance 1 one bit (and its distance one bit): the first byte
/// is a literal and every further 258 bytes cost two zero bits.
pub fn zlib_zeros(len: u64) -> Vec<u8> {
    let len = len.max(1);
    let mut bits = Bits::default();
    bits.out.extend([0x78, 0x01]);
    bits.value(1, 1); // BFINAL
    bits.value(2, 2); // BTYPE: dynamic Huffman
    bits.value(29, 5); // HLIT: 286 literal/length codes
    bits.value(0, 5); // HDIST: one distance code
    bits.value(14, 4); // HCLEN: 18 code-length codes
    // The code-length code, in its order (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2,
    // 14, 1): 18 (a run of zeros) one bit, 1 and 2 two bits each.
    for length in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        bits.value(length, 3);
    }
    // The code lengths: literal 0 two bits, 1..=255 none, end of block two bits, 257..=284 none,
    // 285 (length 258) one bit; distance code 0 one bit. Codes: 18 → 0, 1 → 10, 2 → 11.
    bits.code(0b11, 2);
    bits.code(0, 1);
    bits.value(127, 7); // 138 zeros
    bits.code(0, 1);
    bits.value(106, 7); // 117 zeros
    bits.code(0b11, 2);
    bits.code(0, 1);
    bits.value(17, 7); // 28 zeros
    bits.code(0b10, 2);
    bits.code(0b10, 2);
    // The data. Codes: 285 → 0, literal 0 → 10, end of block → 11; distance 0 → 0.
    bits.code(0b10, 2);
    let rest = len - 1;
    bits.zeros(rest / 258 * 2);
    for _ in 0..rest % 258 {
        bits.code(0b10, 2);
    }
    bits.code(0b11, 2);
    // Adler-32 of `len` zeros: a stays 1, b adds 1 per byte.
    let adler = ((len % 65_521) << 16) | 1;
    bits.out
        .extend(u32::try_from(adler).unwrap_or(u32::MAX).to_be_bytes());
    bits.out
}

/// Bits written from the least significant of each byte, as Deflate packs them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    /// Bits used in the last byte (0: it is full, or there is none).
    used: u32,
}

impl Bits {
    fn bit(&mut self, one: bool) {
        if self.used == 0 {
            self.out.push(0);
        }
        if one && let Some(last) = self.out.last_mut() {
            *last |= 1 << self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// `count` bits of `value`, least significant first (header fields and extra bits).
    fn value(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.bit(value >> i & 1 == 1);
        }
    }

    /// A Huffman code of `count` bits, most significant first.
    fn code(&mut self, code: u32, count: u32) {
        for i in (0..count).rev() {
            self.bit(code >> i & 1 == 1);
        }
    }

    fn zeros(&mut self, mut count: u64) {
        while count > 0 && self.used != 0 {
            self.bit(false);
            count -= 1;
        }
        let whole = usize::try_from(count / 8).unwrap_or(usize::MAX);
        self.out.resize(self.out.len() + whole, 0);
        for _ in 0..count % 8 {
            self.bit(false);
        }
    }
}

/// A page whose content stream is a Flate bomb: `inflated` bytes of NUL (white space), from a
/// file of about `inflated / 1032` bytes.
pub fn content_bomb(inflated: u64) -> Vec<u8> {
    let data = zlib_zeros(inflated);
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        page("<< >>"),
        stream(
            &format!("<< /Filter /FlateDecode /Length {} >>", data.len()),
            &data,
        ),
    ])
}

/// A page covered by a `side` × `side` grey image whose Flate data inflates to `side²` bytes.
pub fn image_bomb(side: u32) -> Vec<u8> {
    let data = zlib_zeros(u64::from(side) * u64::from(side));
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        page("<< /XObject << /Im1 5 0 R >> >>"),
        plain_stream(b"q 612 0 0 792 0 0 cm /Im1 Do Q"),
        stream(
            &format!(
                "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>",
                data.len()
            ),
            &data,
        ),
    ])
}

/// A page tree whose root lists itself among its kids (with a page of text after it).
pub fn looping_page_tree() -> Vec<u8> {
    assemble(&[
        bytes(CATALOG),
        bytes("<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"),
        page("<< /Font << /F1 5 0 R >> >>"),
        plain_stream(HELLO.as_bytes()),
        bytes(HELVETICA),
    ])
}

/// A page that draws a Form XObject that draws itself (scaled by half, so each level is smaller),
/// and a line of text.
pub fn self_drawing_form() -> Vec<u8> {
    let form = b"0.5 0 0 0.5 10 10 cm /X1 Do 0 0 10 10 re f";
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        page("<< /Font << /F1 6 0 R >> /XObject << /X1 5 0 R >> >>"),
        plain_stream(format!("{HELLO}\n/X1 Do").as_bytes()),
        stream(
            &format!(
                "<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X1 5 0 R >> >> /Length {} >>",
                form.len()
            ),
            form,
        ),
        bytes(HELVETICA),
    ])
}

/// A page of text whose dictionary holds an array nested `depth` deep.
pub fn deep_array(depth: usize) -> Vec<u8> {
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        bytes(&format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Deep {deep} /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        )),
        plain_stream(HELLO.as_bytes()),
        bytes(HELVETICA),
    ])
}

/// A page of text drawn inside `depth` nested graphics states (`q … Q`).
pub fn nested_states(depth: usize) -> Vec<u8> {
    let content = format!("{}{HELLO}{}", "q ".repeat(depth), " Q".repeat(depth));
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        page("<< /Font << /F1 5 0 R >> >>"),
        plain_stream(content.as_bytes()),
        bytes(HELVETICA),
    ])
}

/// One page of text under a page tree `depth` levels deep (each node has one node as its kid).
pub fn deep_page_tree(depth: usize) -> Vec<u8> {
    // Objects: 1 catalog, 2..=depth+1 the nodes, then the page, its content and its font.
    let (page_id, content_id, font_id) = (depth + 2, depth + 3, depth + 4);
    let mut objects = vec![bytes(CATALOG)];
    for node in 2..=depth + 1 {
        let parent = if node == 2 {
            String::new()
        } else {
            format!("/Parent {} 0 R ", node - 1)
        };
        let kid = if node == depth + 1 { page_id } else { node + 1 };
        objects.push(bytes(&format!(
            "<< /Type /Pages {parent}/Kids [{kid} 0 R] /Count 1 >>"
        )));
    }
    objects.push(bytes(&format!(
        "<< /Type /Page /Parent {} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>",
        depth + 1
    )));
    objects.push(plain_stream(HELLO.as_bytes()));
    objects.push(bytes(HELVETICA));
    assemble(&objects)
}

/// A page of `side` × `side` points (14 400 is the largest without `UserUnit`), drawn with paths
/// only (a frame and bars, no text layer), so that it is read from its rendering.
pub fn huge_page(side: u32) -> Vec<u8> {
    let mut content = format!(
        "0 g 100 100 {} {} re S\n",
        side.saturating_sub(200),
        side.saturating_sub(200)
    );
    for bar in 0..20_u32 {
        let _ = writeln!(content, "{} 400 {} {} re f", 400 + bar * 600, 200, side / 2);
    }
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        bytes(&format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] /Resources << >> /Contents 4 0 R >>"
        )),
        plain_stream(content.as_bytes()),
    ])
}

/// A document whose catalog, page tree and page are in an object stream that claims `claimed`
/// objects (it holds three), behind a cross-reference stream.
pub fn claiming_object_stream(claimed: u32) -> Vec<u8> {
    let members = [
        CATALOG.to_owned(),
        ONE_PAGE.to_owned(),
        String::from_utf8_lossy(&page("<< /Font << /F1 6 0 R >> >>")).into_owned(),
    ];
    let mut header = String::new();
    let mut body = String::new();
    for (i, member) in members.iter().enumerate() {
        let _ = write!(header, "{} {} ", i + 1, body.len());
        body.push_str(member);
        body.push('\n');
    }
    let packed = format!("{header}\n{body}");
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, id: usize, body: &[u8]| {
        offsets.push((id, out.len()));
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, 4, &plain_stream(HELLO.as_bytes()));
    object(
        &mut out,
        5,
        &stream(
            &format!(
                "<< /Type /ObjStm /N {claimed} /First {} /Length {} >>",
                header.len() + 1,
                packed.len()
            ),
            packed.as_bytes(),
        ),
    );
    object(&mut out, 6, HELVETICA.as_bytes());
    let xref_at = out.len();
    // Entries of 1 + 4 + 2 bytes: type, offset or object stream, generation or index.
    let mut table = vec![0, 0, 0, 0, 0, 0xFF, 0xFF];
    for index in 0..3_u16 {
        table.push(2);
        table.extend(5_u32.to_be_bytes());
        table.extend(index.to_be_bytes());
    }
    for (_, offset) in &offsets {
        table.push(1);
        table.extend(u32::try_from(*offset).unwrap_or(u32::MAX).to_be_bytes());
        table.extend([0, 0]);
    }
    table.push(1);
    table.extend(u32::try_from(xref_at).unwrap_or(u32::MAX).to_be_bytes());
    table.extend([0, 0]);
    let xref = stream(
        &format!(
            "<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length {} >>",
            table.len()
        ),
        &table,
    );
    out.extend_from_slice(b"7 0 obj\n");
    out.extend_from_slice(&xref);
    out.extend_from_slice(format!("\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}

/// A page of text whose cross-reference table has every offset wrong and whose `startxref`
/// points past the end (a reader can rebuild it by scanning the objects).
pub fn broken_xref() -> Vec<u8> {
    let good = one_text_page();
    let text = String::from_utf8_lossy(&good).into_owned();
    let Some(table) = text.find("xref\n") else {
        return good;
    };
    let mut out = good.get(..table).unwrap_or_default().to_vec();
    let tail = text.get(table..).unwrap_or_default();
    for line in tail.lines() {
        if let Some(offset) = line.strip_suffix(" 00000 n ") {
            let offset: usize = offset.parse().unwrap_or(0);
            let wrong = if offset % 2 == 1 {
                offset + 7
            } else {
                offset.saturating_sub(5)
            };
            out.extend_from_slice(format!("{wrong:010} 00000 n \n").as_bytes());
        } else if line.chars().all(|c| c.is_ascii_digit()) && !line.is_empty() && line != "0" {
            out.extend_from_slice(b"999999\n");
        } else {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// A page of text without its cross-reference table and trailer (cut before `xref`).
pub fn missing_xref() -> Vec<u8> {
    let good = one_text_page();
    let end = good
        .windows(5)
        .position(|w| w == b"xref\n")
        .unwrap_or(good.len());
    good.get(..end).unwrap_or_default().to_vec()
}

/// The first half of a document of three pages of text.
pub fn truncated() -> Vec<u8> {
    let lines = ["Quarterly statement", "Balance 1 204.00 EUR", "Thank you"];
    let whole = pdf(&[
        TestPage::text(&lines),
        TestPage::text(&lines),
        TestPage::text(&lines),
    ]);
    whole.get(..whole.len() / 2).unwrap_or_default().to_vec()
}

/// A page of text whose document runs JavaScript when opened and holds a named script.
pub fn with_javascript() -> Vec<u8> {
    assemble(&[
        bytes(
            "<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /Names << /JavaScript << /Names [(boot) 6 0 R] >> >> >>",
        ),
        bytes(ONE_PAGE),
        bytes(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R /AA << /O 6 0 R >> >>",
        ),
        plain_stream(HELLO.as_bytes()),
        bytes(HELVETICA),
        bytes(
            "<< /S /JavaScript /JS (while \\(true\\) { app.alert\\('hello'\\); } this.submitForm\\('http://127.0.0.1:9/'\\);) >>",
        ),
    ])
}

/// A page of text drawn in Helvetica whose text layer (its `ToUnicode` map) gives only
/// private-use characters: readable on the page, unreadable in the layer.
pub fn private_use_text_layer() -> Vec<u8> {
    let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Private def /CMapType 2 def\n\
        1 begincodespacerange <00> <FF> endcodespacerange\n\
        1 beginbfrange <20> <7E> <E020> endbfrange\n\
        endcmap CMapName currentdict /CMap defineresource pop end end";
    let content = "BT /F1 28 Tf 36 TL 72 700 Td (INVOICE 2041) Tj T* (Total due 31.00 EUR) Tj T* \
        (Payment within thirty days) Tj ET";
    assemble(&[
        bytes(CATALOG),
        bytes(ONE_PAGE),
        page("<< /Font << /F1 5 0 R >> >>"),
        plain_stream(content.as_bytes()),
        bytes(
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 6 0 R >>",
        ),
        plain_stream(cmap.as_bytes()),
    ])
}

/// A page of text (the document the damaged ones are made from).
pub fn one_text_page() -> Vec<u8> {
    pdf(&[TestPage::text(&[
        "Remittance advice 2041",
        "Total 31.00 EUR",
    ])])
}

/// `doc` rewritten by `qpdf args… -- in out` (`--encrypt user owner 256`, …).
///
/// # Errors
/// When qpdf is not installed (`ErrorKind::NotFound`) or fails.
pub fn qpdf(args: &[&str], doc: &[u8]) -> io::Result<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!(
        "intake-qpdf-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    let result = run_qpdf(args, doc, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_qpdf(args: &[&str], doc: &[u8], dir: &Path) -> io::Result<Vec<u8>> {
    let (input, output) = (dir.join("in.pdf"), dir.join("out.pdf"));
    std::fs::write(&input, doc)?;
    let status = Command::new("qpdf")
        .args(args)
        .arg("--")
        .arg(&input)
        .arg(&output)
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!("qpdf {args:?}: {status}")));
    }
    std::fs::read(output)
}

/// [`one_text_page`] encrypted with RC4 (128 bits) and a user password.
///
/// # Errors
/// As [`qpdf`].
pub fn rc4_user_password() -> io::Result<Vec<u8>> {
    qpdf(
        &[
            "--allow-weak-crypto",
            "--encrypt",
            "user-secret",
            "owner-secret",
            "128",
            "--use-aes=n",
        ],
        &one_text_page(),
    )
}

/// [`one_text_page`] encrypted with AES-256 and a user password.
///
/// # Errors
/// As [`qpdf`].
pub fn aes256_user_password() -> io::Result<Vec<u8>> {
    qpdf(
        &["--encrypt", "user-secret", "owner-secret", "256"],
        &one_text_page(),
    )
}

/// [`one_text_page`] encrypted with AES-256 and only an owner password (it opens without one;
/// copying is forbidden).
///
/// # Errors
/// As [`qpdf`].
pub fn aes256_owner_password_only() -> io::Result<Vec<u8>> {
    qpdf(
        &["--encrypt", "", "owner-secret", "256", "--extract=n"],
        &one_text_page(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bomb_inflates_to_exactly_its_zeros() {
        for len in [1, 2, 258, 259, 1000, 100_003] {
            let inflated = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib_zeros(len))
                .unwrap_or_else(|e| panic!("{len}: {e:?}"));
            assert_eq!(inflated.len() as u64, len);
            assert!(inflated.iter().all(|&b| b == 0));
        }
        let big = zlib_zeros(4 << 30);
        assert!(big.len() < 4_200_000, "{}", big.len());
    }
}
