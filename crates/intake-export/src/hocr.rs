//! hOCR 1.2 (<https://kba.github.io/hocr-spec/1.2/>): an XHTML document with one `ocr_page` per
//! page, its lines in one `ocr_carea` and `ocr_par` (Intake reads no blocks or paragraphs), and each
//! line's `ocrx_word`s with their `bbox` in the page's pixels and their `x_wconf`.
//!
//! The document is well-formed XML (XHTML in its XML syntax, which needs no doctype: none is
//! written, so no parser is asked to read a DTD), as the hOCR tools and OCRmyPDF read it; its text
//! is escaped by the XML writer.

use std::io;

use intake_domain::model::ImageRecord;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::layout::{self, PageLayout, PixelBox, percent, xml_text};

/// The hOCR document of `record`.
pub(crate) fn render(record: &ImageRecord) -> io::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let image = image_name(record.file_name().as_str());
    let system = match record.ocr_engine() {
        Some(engine) => format!("Intake ({})", xml_text(engine)),
        None => "Intake".to_owned(),
    };
    writer
        .create_element("html")
        .with_attributes([
            ("xmlns", "http://www.w3.org/1999/xhtml"),
            ("xml:lang", "en"),
            ("lang", "en"),
        ])
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                w.create_element("title")
                    .write_text_content(BytesText::new(&image))?;
                w.create_element("meta")
                    .with_attributes([
                        ("http-equiv", "Content-Type"),
                        ("content", "application/xhtml+xml; charset=utf-8"),
                    ])
                    .write_empty()?;
                w.create_element("meta")
                    .with_attributes([("name", "ocr-system"), ("content", system.as_str())])
                    .write_empty()?;
                w.create_element("meta")
                    .with_attributes([
                        ("name", "ocr-capabilities"),
                        (
                            "content",
                            "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf",
                        ),
                    ])
                    .write_empty()?;
                Ok(())
            })?;
            w.create_element("body").write_inner_content(|w| {
                for page in layout::pages(record) {
                    write_page(w, &page, &image)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(writer.into_inner())
}

/// The image's name as an hOCR `image` property value: without the quotes and semicolons that
/// delimit properties.
fn image_name(name: &str) -> String {
    xml_text(name).replace(['"', ';'], "_")
}

/// `bbox x0 y0 x1 y1`, or nothing when the page's size is unknown.
fn bbox(b: Option<PixelBox>) -> Option<String> {
    b.map(|b| format!("bbox {} {} {} {}", b.x0, b.y0, b.x1, b.y1))
}

/// A `title` of properties: those present, joined by `; `.
fn title(properties: impl IntoIterator<Item = Option<String>>) -> String {
    properties
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_page(w: &mut Writer<Vec<u8>>, page: &PageLayout<'_>, image: &str) -> io::Result<()> {
    let n = page.number.get();
    let size = page.size;
    let page_box = size.map(|(width, height)| PixelBox {
        x0: 0,
        y0: 0,
        x1: width,
        y1: height,
    });
    let page_title = title([
        Some(format!("image \"{image}\"")),
        bbox(page_box),
        Some(format!("ppageno {}", n - 1)),
    ]);
    let page_id = format!("page_{n}");
    let element = w.create_element("div").with_attributes([
        ("class", "ocr_page"),
        ("id", page_id.as_str()),
        ("title", page_title.as_str()),
    ]);
    if page.lines.is_empty() {
        element.write_inner_content(|_| Ok(()))?;
        return Ok(());
    }
    let area = size.and_then(|size| {
        page.lines
            .iter()
            .map(|l| layout::line_box(l, size))
            .reduce(PixelBox::union)
    });
    let area_title = title([bbox(area)]);
    element.write_inner_content(|w| {
        let (carea, par) = (format!("block_{n}_1"), format!("par_{n}_1"));
        w.create_element("div")
            .with_attributes([
                ("class", "ocr_carea"),
                ("id", carea.as_str()),
                ("title", area_title.as_str()),
            ])
            .write_inner_content(|w| {
                w.create_element("p")
                    .with_attributes([
                        ("class", "ocr_par"),
                        ("id", par.as_str()),
                        ("title", area_title.as_str()),
                    ])
                    .write_inner_content(|w| write_lines(w, page))?;
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

fn write_lines(w: &mut Writer<Vec<u8>>, page: &PageLayout<'_>) -> io::Result<()> {
    let n = page.number.get();
    let mut word_number = 0;
    for (i, line) in page.lines.iter().enumerate() {
        let line_id = format!("line_{n}_{}", i + 1);
        let line_title = title([page
            .size
            .map(|s| layout::line_box(line, s))
            .and_then(|b| bbox(Some(b)))]);
        w.create_element("span")
            .with_attributes([
                ("class", "ocr_line"),
                ("id", line_id.as_str()),
                ("title", line_title.as_str()),
            ])
            .write_inner_content(|w| {
                for word in layout::words(line) {
                    word_number += 1;
                    let word_id = format!("word_{n}_{word_number}");
                    let word_title = title([
                        bbox(page.size.map(|s| PixelBox::of(word.bounding_box, s))),
                        Some(format!("x_wconf {}", percent(word.confidence))),
                    ]);
                    w.create_element("span")
                        .with_attributes([
                            ("class", "ocrx_word"),
                            ("id", word_id.as_str()),
                            ("title", word_title.as_str()),
                        ])
                        .write_text_content(BytesText::new(&xml_text(word.text)))?;
                }
                Ok(())
            })?;
    }
    Ok(())
}
