//! ALTO v4 (schema 4.2, <http://www.loc.gov/standards/alto/v4/alto-4-2.xsd>): a `Page` per page
//! with its `WIDTH` and `HEIGHT` in pixels (`MeasurementUnit` `pixel`), a `PrintSpace` the size of
//! the page, the page's lines in one `TextBlock` (Intake reads no blocks), and each line's words as
//! `String`s (`CONTENT`, `HPOS`, `VPOS`, `WIDTH`, `HEIGHT`, `WC` from 0 to 1) with an `SP` between
//! two words. A line without words is one `String` (the schema wants one per line at least).

use std::io;

use intake_domain::model::ImageRecord;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::layout::{self, PageLayout, PixelBox, fraction, xml_text};

/// The ALTO namespace of version 4.
const NAMESPACE: &str = "http://www.loc.gov/standards/alto/ns-v4#";
/// Where the schema the document follows is.
const SCHEMA_LOCATION: &str =
    "http://www.loc.gov/standards/alto/ns-v4# http://www.loc.gov/standards/alto/v4/alto-4-2.xsd";

/// The ALTO document of `record`.
pub(crate) fn render(record: &ImageRecord) -> io::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer
        .create_element("alto")
        .with_attributes([
            ("xmlns", NAMESPACE),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", SCHEMA_LOCATION),
            ("SCHEMAVERSION", "4.2"),
        ])
        .write_inner_content(|w| {
            write_description(w, record)?;
            w.create_element("Layout").write_inner_content(|w| {
                for page in layout::pages(record) {
                    write_page(w, &page)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(writer.into_inner())
}

/// `Description`: the unit, the source image's name and the processing that read it.
fn write_description(w: &mut Writer<Vec<u8>>, record: &ImageRecord) -> io::Result<()> {
    w.create_element("Description").write_inner_content(|w| {
        w.create_element("MeasurementUnit")
            .write_text_content(BytesText::new("pixel"))?;
        w.create_element("sourceImageInformation")
            .write_inner_content(|w| {
                w.create_element("fileName")
                    .write_text_content(BytesText::new(&xml_text(record.file_name().as_str())))?;
                Ok(())
            })?;
        w.create_element("Processing")
            .with_attribute(("ID", "OCR_1"))
            .write_inner_content(|w| {
                w.create_element("processingCategory")
                    .write_text_content(BytesText::new("contentGeneration"))?;
                if let Some(at) = record.processed_at() {
                    w.create_element("processingDateTime")
                        .write_text_content(BytesText::new(&at.to_string()))?;
                }
                if let Some(engine) = record.ocr_engine() {
                    w.create_element("processingStepSettings")
                        .write_text_content(BytesText::new(&format!(
                            "engine: {}",
                            xml_text(engine)
                        )))?;
                }
                w.create_element("processingSoftware")
                    .write_inner_content(|w| {
                        w.create_element("softwareName")
                            .write_text_content(BytesText::new("Intake"))?;
                        w.create_element("softwareVersion")
                            .write_text_content(BytesText::new(env!("CARGO_PKG_VERSION")))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

/// Position attributes of a box: `HPOS`, `VPOS`, `WIDTH`, `HEIGHT`.
fn position(b: PixelBox) -> [(&'static str, String); 4] {
    [
        ("HPOS", b.x0.to_string()),
        ("VPOS", b.y0.to_string()),
        ("WIDTH", b.width().to_string()),
        ("HEIGHT", b.height().to_string()),
    ]
}

/// `attributes` with `b`'s position when the page's size is known.
fn placed(
    mut attributes: Vec<(&'static str, String)>,
    b: Option<PixelBox>,
) -> Vec<(&'static str, String)> {
    if let Some(b) = b {
        attributes.extend(position(b));
    }
    attributes
}

fn pairs<'a>(attributes: &'a [(&'static str, String)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    attributes.iter().map(|(k, v)| (*k, v.as_str()))
}

fn write_page(w: &mut Writer<Vec<u8>>, page: &PageLayout<'_>) -> io::Result<()> {
    let n = page.number.get();
    let mut attributes = vec![("ID", format!("P{n}")), ("PHYSICAL_IMG_NR", n.to_string())];
    let page_box = page.size.map(|(width, height)| PixelBox {
        x0: 0,
        y0: 0,
        x1: width,
        y1: height,
    });
    if let Some((width, height)) = page.size {
        attributes.push(("WIDTH", width.to_string()));
        attributes.push(("HEIGHT", height.to_string()));
    }
    let space = placed(Vec::new(), page_box);
    w.create_element("Page")
        .with_attributes(pairs(&attributes))
        .write_inner_content(|w| {
            let print_space = w
                .create_element("PrintSpace")
                .with_attributes(pairs(&space));
            if page.lines.is_empty() {
                print_space.write_empty()?;
                return Ok(());
            }
            print_space.write_inner_content(|w| write_block(w, page))?;
            Ok(())
        })?;
    Ok(())
}

fn write_block(w: &mut Writer<Vec<u8>>, page: &PageLayout<'_>) -> io::Result<()> {
    let n = page.number.get();
    let area = page.size.and_then(|size| {
        page.lines
            .iter()
            .map(|l| layout::line_box(l, size))
            .reduce(PixelBox::union)
    });
    let block = placed(vec![("ID", format!("P{n}_B1"))], area);
    w.create_element("TextBlock")
        .with_attributes(pairs(&block))
        .write_inner_content(|w| {
            for (i, line) in page.lines.iter().enumerate() {
                let line_id = format!("P{n}_L{}", i + 1);
                let line_box = page.size.map(|size| layout::line_box(line, size));
                let attributes = placed(vec![("ID", line_id.clone())], line_box);
                w.create_element("TextLine")
                    .with_attributes(pairs(&attributes))
                    .write_inner_content(|w| write_strings(w, page, line, &line_id))?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_strings(
    w: &mut Writer<Vec<u8>>,
    page: &PageLayout<'_>,
    line: &intake_domain::model::OcrLine,
    line_id: &str,
) -> io::Result<()> {
    let mut previous: Option<PixelBox> = None;
    for (i, word) in layout::words(line).into_iter().enumerate() {
        let word_box = page.size.map(|size| PixelBox::of(word.bounding_box, size));
        if i > 0 {
            // The space between two words: where the first ends and the next begins, when the
            // page's size is known and they do not overlap.
            let gap = previous.zip(word_box).and_then(|(a, b)| {
                (b.x0 > a.x1).then(|| {
                    [
                        ("HPOS", a.x1.to_string()),
                        ("VPOS", a.y0.min(b.y0).to_string()),
                        ("WIDTH", (b.x0 - a.x1).to_string()),
                    ]
                })
            });
            let sp = w.create_element("SP");
            match gap {
                Some(gap) => sp.with_attributes(pairs(&gap)).write_empty()?,
                None => sp.write_empty()?,
            };
        }
        let content = xml_text(word.text);
        let attributes = placed(vec![("ID", format!("{line_id}_W{}", i + 1))], word_box);
        w.create_element("String")
            .with_attributes(pairs(&attributes))
            .with_attributes([
                ("WC", fraction(word.confidence).as_str()),
                ("CONTENT", content.as_ref()),
            ])
            .write_empty()?;
        previous = word_box;
    }
    Ok(())
}
