//! The three formats of a multi-page record with awkward text, read back with an XML parser of
//! its own (`roxmltree`, not the writer's): hOCR's classes, boxes and confidences; ALTO checked
//! against the rules of the ALTO 4.2 schema (no package on PyPI, Debian or npm ships the schema
//! itself to validate against offline: see `check_alto`); plain text byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines
)]

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::time::Duration;

use intake_domain::model::{
    BoundingBox, ContentType, ExportFormat, ImageRecord, Measurements, OcrLine, OcrPage, OcrResult,
    OcrWord, PageSource,
};
use intake_domain::ports::ExportRenderer as _;
use intake_domain::services::DEFAULT_EXPORT_INLINE_BYTES;
use intake_domain::testkit::{LEASE, epoch, id_at, record};
use intake_export::Renderer;
use roxmltree::{Document, Node};

const ALTO: &str = "http://www.loc.gov/standards/alto/ns-v4#";
const XHTML: &str = "http://www.w3.org/1999/xhtml";

fn page(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn bounding(left: f32, top: f32, width: f32, height: f32) -> BoundingBox {
    BoundingBox::new(left, top, width, height).unwrap()
}

fn word(text: &str, confidence: f32, left: f32, top: f32) -> OcrWord {
    OcrWord::new(text, confidence, bounding(left, top, 0.2, 0.05)).unwrap()
}

/// Three pages of different sizes: page 1 (1700 × 2200) with markup-like text, quotes and
/// non-ASCII; page 2 read with nothing on it; page 3 (2200 × 1700, landscape) with right-to-left
/// text, a control character an engine let through, and a line without words.
fn processed(name: &str) -> ImageRecord {
    let lines = vec![
        OcrLine::from_words(vec![
            word("<b>Total</b>", 97.5, 0.1, 0.1),
            word("&amp;", 88.0, 0.35, 0.1),
            word("\"quoted\" 'é'", 64.25, 0.6, 0.1),
        ])
        .unwrap()
        .on_page(page(1)),
        OcrLine::from_words(vec![word("Straße", 91.0, 0.1, 0.3)])
            .unwrap()
            .on_page(page(1)),
        OcrLine::from_words(vec![
            word("שלום", 90.0, 0.6, 0.2),
            word("مرحبا\u{7}", 80.0, 0.3, 0.2),
        ])
        .unwrap()
        .on_page(page(3)),
        OcrLine::new("no words here", 55.0, bounding(0.1, 0.8, 0.5, 0.1), vec![])
            .unwrap()
            .on_page(page(3)),
    ];
    let result = OcrResult::new("pp-ocr", lines, false)
        .unwrap()
        .with_pages(vec![
            OcrPage::new(page(1), 1700, 2200, PageSource::Ocr),
            OcrPage::new(page(2), 1700, 2200, PageSource::Ocr),
            OcrPage::new(page(3), 2200, 1700, PageSource::Ocr),
        ]);
    let measured = Measurements {
        size_bytes: Some(1234),
        content_type: Some(ContentType::Tiff),
        dimensions: Some((1700, 2200)),
        page_count: Some(3),
        ..Measurements::default()
    };
    let at = epoch().saturating_add(Duration::from_secs(5));
    let mut parts = record(id_at(0, 1)).into_parts();
    parts.file_name = intake_domain::model::FileName::sanitize(name).unwrap();
    parts.object_key =
        intake_domain::model::ObjectKey::for_upload(parts.image_id, &parts.file_name);
    ImageRecord::from_parts(parts)
        .unwrap()
        .claim(at, LEASE)
        .and_then(|r| r.complete(at, &measured, &result))
        .unwrap()
}

fn render(record: &ImageRecord, format: ExportFormat) -> String {
    String::from_utf8(Renderer.render(record, format, None).unwrap()).unwrap()
}

fn attribute<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("{} has no {name}", node.tag_name().name()))
}

/// The numbers of an hOCR `bbox` property in a `title`.
fn hocr_bbox(title: &str) -> Option<[u32; 4]> {
    let spec = title
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("bbox "))?;
    let numbers: Vec<u32> = spec.split(' ').map(|n| n.parse().unwrap()).collect();
    Some(numbers.try_into().unwrap())
}

fn hocr_property<'a>(title: &'a str, name: &str) -> Option<&'a str> {
    title
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(name)?.strip_prefix(' '))
}

fn by_class<'a, 'input>(doc: &'a Document<'input>, class: &str) -> Vec<Node<'a, 'input>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(class))
        .collect()
}

#[test]
fn hocr_has_a_page_per_page_with_lines_and_words_in_page_pixels() {
    let record = processed("scan & '1' \u{5d0}.tiff");
    let text = render(&record, ExportFormat::Hocr);
    let doc = Document::parse(&text).expect("hOCR is well-formed XML");
    let root = doc.root_element();
    assert_eq!(
        (root.tag_name().name(), root.tag_name().namespace()),
        ("html", Some(XHTML))
    );
    let meta = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((XHTML, "meta")) && n.attribute("name") == Some(name))
            .map(|n| attribute(n, "content").to_owned())
    };
    assert_eq!(meta("ocr-system").as_deref(), Some("Intake (pp-ocr)"));
    let capabilities = meta("ocr-capabilities").unwrap();
    for class in ["ocr_page", "ocr_line", "ocrx_word", "ocrp_wconf"] {
        assert!(capabilities.split(' ').any(|c| c == class), "{class}");
    }

    let pages = by_class(&doc, "ocr_page");
    let sizes: Vec<[u32; 4]> = pages
        .iter()
        .map(|p| hocr_bbox(attribute(*p, "title")).unwrap())
        .collect();
    assert_eq!(
        sizes,
        [[0, 0, 1700, 2200], [0, 0, 1700, 2200], [0, 0, 2200, 1700]]
    );
    for (i, p) in pages.iter().enumerate() {
        let title = attribute(*p, "title");
        assert_eq!(
            hocr_property(title, "ppageno"),
            Some(i.to_string().as_str())
        );
        assert_eq!(
            hocr_property(title, "image"),
            Some("\"scan & '1' \u{5d0}.tiff\"")
        );
    }

    // Every word in reading order, on its page, inside its line and its page.
    let mut seen = Vec::new();
    for (p, size) in pages.iter().zip(&sizes) {
        for line in p
            .descendants()
            .filter(|n| n.attribute("class") == Some("ocr_line"))
        {
            let line_box = hocr_bbox(attribute(line, "title")).unwrap();
            for w in line
                .children()
                .filter(|n| n.attribute("class") == Some("ocrx_word"))
            {
                let title = attribute(w, "title");
                let b = hocr_bbox(title).unwrap();
                assert!(b[0] <= b[2] && b[1] <= b[3] && b[2] <= size[2] && b[3] <= size[3]);
                assert!(
                    line_box[0] <= b[0]
                        && line_box[1] <= b[1]
                        && b[2] <= line_box[2]
                        && b[3] <= line_box[3]
                );
                let conf: u32 = hocr_property(title, "x_wconf").unwrap().parse().unwrap();
                assert!(conf <= 100);
                seen.push((w.text().unwrap_or_default().to_owned(), b, conf));
            }
        }
    }
    let texts: Vec<&str> = seen.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "<b>Total</b>",
            "&amp;",
            "\"quoted\" 'é'",
            "Straße",
            "שלום",
            "مرحبا",
            "no words here"
        ]
    );
    // Relative boxes in each page's own pixels: (0.1, 0.1, 0.2, 0.05) on 1700 × 2200, and
    // (0.6, 0.2, 0.2, 0.05) on the landscape 2200 × 1700 page.
    assert_eq!(seen[0].1, [170, 220, 510, 330]);
    assert_eq!(seen[4].1, [1320, 340, 1760, 425]);
    assert_eq!(seen[0].2, 98);
    assert_eq!(seen[2].2, 64);
    // The line without words is one word with the line's box and confidence.
    assert_eq!((seen[6].1, seen[6].2), ([220, 1360, 1320, 1530], 55));
    // Page 2 was read and had nothing on it.
    assert_eq!(pages[1].children().filter(Node::is_element).count(), 0);
}

/// Checks `doc` against the ALTO 4.2 schema's rules for what the renderer writes: the root and its
/// namespace, `Description` (a `MeasurementUnit` of `pixel` first, then `sourceImageInformation`
/// and `Processing`, in the schema's order) before `Layout`; `Page`s with the required `ID` and
/// `PHYSICAL_IMG_NR`; a `PrintSpace` holding `TextBlock`s (each with its required `ID`) of
/// `TextLine`s, each a sequence of one or more `String`s with an optional `SP` after each;
/// `String`s with their required `CONTENT` and a `WC` within 0..=1; every number a float, every
/// position within its page, every ID unique and an XML name. Returns the pages' strings.
fn check_alto(doc: &Document<'_>) -> Vec<Vec<String>> {
    let elements = |n: Node<'_, '_>| -> Vec<String> {
        n.children()
            .filter(Node::is_element)
            .map(|c| {
                assert_eq!(c.tag_name().namespace(), Some(ALTO), "{:?}", c.tag_name());
                c.tag_name().name().to_owned()
            })
            .collect()
    };
    let float = |n: Node<'_, '_>, name: &str| -> Option<f64> {
        n.attribute(name).map(|v| {
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a float"))
        })
    };
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(ALTO));
    assert_eq!(root.tag_name().name(), "alto");
    assert_eq!(elements(root), ["Description", "Layout"]);
    let mut ids = HashSet::new();
    let mut id = |n: Node<'_, '_>, required: bool| match n.attribute("ID") {
        Some(v) => {
            let mut chars = v.chars();
            assert!(
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            );
            assert!(
                chars.all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)),
                "{v}"
            );
            assert!(ids.insert(v.to_owned()), "ID {v} twice");
        }
        None => assert!(!required, "{} without its ID", n.tag_name().name()),
    };
    let description = root.first_element_child().unwrap();
    let parts = elements(description);
    assert_eq!(
        parts,
        ["MeasurementUnit", "sourceImageInformation", "Processing"]
    );
    assert_eq!(
        description.first_element_child().unwrap().text(),
        Some("pixel")
    );
    for processing in description
        .children()
        .filter(|n| n.has_tag_name((ALTO, "Processing")))
    {
        id(processing, true);
        let order = [
            "processingCategory",
            "processingDateTime",
            "processingAgency",
            "processingStepDescription",
            "processingStepSettings",
            "processingSoftware",
        ];
        let positions: Vec<usize> = elements(processing)
            .iter()
            .map(|e| order.iter().position(|o| o == e).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{positions:?}");
    }

    let layout = root.last_element_child().unwrap();
    let mut pages = Vec::new();
    for (i, p) in layout.children().filter(Node::is_element).enumerate() {
        assert_eq!(p.tag_name().name(), "Page");
        id(p, true);
        let number = f64::from(u32::try_from(i + 1).unwrap());
        assert_eq!(float(p, "PHYSICAL_IMG_NR"), Some(number));
        let (width, height) = (float(p, "WIDTH").unwrap(), float(p, "HEIGHT").unwrap());
        let within = |n: Node<'_, '_>| {
            let (x, y) = (float(n, "HPOS").unwrap(), float(n, "VPOS").unwrap());
            let w = float(n, "WIDTH").unwrap();
            assert!(x >= 0.0 && y >= 0.0 && w >= 0.0 && x + w <= width, "{n:?}");
            if let Some(h) = float(n, "HEIGHT") {
                assert!(h >= 0.0 && y + h <= height, "{n:?}");
            }
        };
        assert_eq!(elements(p), ["PrintSpace"]);
        let space = p.first_element_child().unwrap();
        within(space);
        let mut strings = Vec::new();
        for block in space.children().filter(Node::is_element) {
            assert_eq!(block.tag_name().name(), "TextBlock");
            id(block, true);
            within(block);
            for line in block.children().filter(Node::is_element) {
                assert_eq!(line.tag_name().name(), "TextLine");
                id(line, false);
                within(line);
                let names = elements(line);
                // (String SP?)+
                assert_eq!(names.first().map(String::as_str), Some("String"));
                for pair in names.windows(2) {
                    assert!(pair != ["SP", "SP"], "{names:?}");
                }
                for n in line.children().filter(Node::is_element) {
                    match n.tag_name().name() {
                        "String" => {
                            id(n, false);
                            within(n);
                            let wc = float(n, "WC").unwrap();
                            assert!((0.0..=1.0).contains(&wc));
                            strings.push(attribute(n, "CONTENT").to_owned());
                        }
                        "SP" => {
                            if n.attribute("HPOS").is_some() {
                                within(n);
                            }
                        }
                        other => panic!("{other} in a TextLine"),
                    }
                }
            }
        }
        pages.push(strings);
    }
    pages
}

#[test]
fn alto_follows_the_schema_with_a_page_per_page() {
    let record = processed("scan.tiff");
    let text = render(&record, ExportFormat::Alto);
    let doc = Document::parse(&text).expect("ALTO is well-formed XML");
    let strings = check_alto(&doc);
    assert_eq!(
        strings,
        [
            vec!["<b>Total</b>", "&amp;", "\"quoted\" 'é'", "Straße"],
            vec![],
            vec!["שלום", "مرحبا", "no words here"],
        ]
    );
    let pages: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ALTO, "Page")))
        .map(|p| (attribute(p, "WIDTH"), attribute(p, "HEIGHT")))
        .collect();
    assert_eq!(
        pages,
        [("1700", "2200"), ("1700", "2200"), ("2200", "1700")]
    );
    let first = doc
        .descendants()
        .find(|n| n.has_tag_name((ALTO, "String")))
        .unwrap();
    let position: Vec<&str> = ["HPOS", "VPOS", "WIDTH", "HEIGHT", "WC"]
        .iter()
        .map(|a| attribute(first, a))
        .collect();
    assert_eq!(position, ["170", "220", "340", "110", "0.975"]);
    let file_name = doc
        .descendants()
        .find(|n| n.has_tag_name((ALTO, "fileName")))
        .and_then(|n| n.text());
    assert_eq!(file_name, Some("scan.tiff"));
}

#[test]
fn text_ends_lines_with_newlines_and_pages_with_form_feeds() {
    let record = processed("scan.tiff");
    assert_eq!(
        render(&record, ExportFormat::Txt),
        "<b>Total</b> &amp; \"quoted\" 'é'\nStraße\n\u{c}\u{c}שלום مرحبا\u{7}\nno words here\n\u{c}"
    );
}

#[test]
fn a_single_image_without_page_summaries_is_sized_by_the_image() {
    let mut parts = processed("a.png").into_parts();
    parts.pages = None;
    parts.width_px = Some(640);
    parts.height_px = Some(480);
    if let Some(lines) = parts.ocr_lines.as_mut() {
        lines.retain(|l| l.page().get() == 1);
    }
    let record = ImageRecord::from_parts(parts).unwrap();
    let text = render(&record, ExportFormat::Alto);
    let doc = Document::parse(&text).unwrap();
    assert_eq!(check_alto(&doc).len(), 1);
    let hocr = render(&record, ExportFormat::Hocr);
    let doc = Document::parse(&hocr).unwrap();
    let pages = by_class(&doc, "ocr_page");
    assert_eq!(pages.len(), 1);
    assert_eq!(
        hocr_bbox(attribute(pages[0], "title")),
        Some([0, 0, 640, 480])
    );
}

/// A dense document near the inline limit: as JSON-escaped text in a Lambda response (how
/// `lambda_http` sends `application/xml` and `+xml` bodies) it still fits the 6 MB response,
/// which is what the default inline limit is sized for.
#[test]
fn the_default_inline_limit_fits_a_lambda_response_once_escaped() {
    let mut lines = Vec::new();
    for i in 0..2_000u16 {
        let top = f32::from(i % 1000) / 1000.0;
        let words = (0..8u8)
            .map(|j| word("Kontoauszug\"", 90.0, f32::from(j) / 10.0, top))
            .collect();
        lines.push(OcrLine::from_words(words).unwrap());
    }
    let result = OcrResult::new("pp-ocr", lines, false).unwrap();
    let measured = Measurements {
        dimensions: Some((2480, 3508)),
        ..Measurements::default()
    };
    let at = epoch();
    let record = record(id_at(0, 2))
        .claim(at, LEASE)
        .and_then(|r| r.complete(at, &measured, &result))
        .unwrap();
    for format in [ExportFormat::Hocr, ExportFormat::Alto, ExportFormat::Txt] {
        let body = render(&record, format);
        let escaped = serde_json::to_string(&body).unwrap();
        #[allow(clippy::cast_precision_loss)]
        let ratio = escaped.len() as f64 / body.len() as f64;
        #[allow(clippy::cast_precision_loss)]
        let at_the_limit = ratio * DEFAULT_EXPORT_INLINE_BYTES as f64;
        assert!(
            at_the_limit + 16_384.0 < 6_291_456.0,
            "{format}: {ratio:.3} × the limit is {at_the_limit} bytes"
        );
    }
}
