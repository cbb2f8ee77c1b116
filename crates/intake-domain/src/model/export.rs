//! The formats what was read on an image can be exported in, and what each one is called.

use std::fmt;

use super::{ContentType, FileName, ImageId};

/// A format an image's OCR result can be exported in (`GET /images/{imageId}/export?format=`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ExportFormat {
    /// hOCR 1.2: an XHTML document with a `ocr_page` per page, and `ocr_line` and `ocrx_word`
    /// elements with their boxes in page pixels and their confidences.
    Hocr,
    /// ALTO v4 XML: a `Page` per page, text blocks, lines and strings with their positions in
    /// pixels and their confidences.
    Alto,
    /// Plain UTF-8 text, each line ended by a newline and each page by a form feed, as
    /// `pdftotext` writes it.
    Txt,
    /// A searchable PDF, as OCRmyPDF writes one: the original pages with an invisible text layer
    /// on the words read. Rendered from the original's bytes ([`ExportFormat::needs_original`]);
    /// an original that already is a PDF is its own export ([`ExportFormat::is_original_format`]).
    Pdf,
}

/// Why a format name is not one of [`ExportFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {given:?}; the formats are: hocr, alto, txt, pdf")]
pub struct ExportFormatError {
    /// What was asked for (at most 100 characters of it).
    pub given: String,
}

impl ExportFormat {
    /// Every format, in the order the API lists them.
    pub const ALL: [Self; 4] = [Self::Hocr, Self::Alto, Self::Txt, Self::Pdf];

    /// Parses a format's name: exactly `hocr`, `alto`, `txt` or `pdf`, as the API documents them.
    ///
    /// # Errors
    /// [`ExportFormatError`] for any other name.
    pub fn parse(name: &str) -> Result<Self, ExportFormatError> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| ExportFormatError {
                given: name.chars().take(100).collect(),
            })
    }

    /// The format's name in the API (`hocr`, `alto`, `txt`, `pdf`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hocr => "hocr",
            Self::Alto => "alto",
            Self::Txt => "txt",
            Self::Pdf => "pdf",
        }
    }

    /// The extension of an exported file, as the tools that write the format name theirs
    /// (Tesseract: `.hocr`, `.xml` for ALTO, `.txt`, `.pdf`).
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Hocr => "hocr",
            Self::Alto => "xml",
            Self::Txt => "txt",
            Self::Pdf => "pdf",
        }
    }

    /// Whether an export in this format is made from the image's original bytes as well as its
    /// record (the PDF embeds the original pages); the others are written from the record alone.
    pub const fn needs_original(self) -> bool {
        matches!(self, Self::Pdf)
    }

    /// Whether an original of `content_type` already is a document in this format, and so is its
    /// own export, returned as uploaded: a PDF upload (a born-digital PDF has its text already).
    pub const fn is_original_format(self, content_type: ContentType) -> bool {
        matches!((self, content_type), (Self::Pdf, ContentType::Pdf))
    }

    /// The media type an export is served and stored with. hOCR is XHTML: it is served as
    /// `application/xhtml+xml`, so that anything opening it parses it as the XML it is (the hOCR
    /// tools and OCRmyPDF read it with XML parsers) and no browser reads it in HTML's forgiving mode.
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Hocr => "application/xhtml+xml; charset=utf-8",
            Self::Alto => "application/xml; charset=utf-8",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Pdf => "application/pdf",
        }
    }

    /// The name an export of an image called `source` is saved under: its stem with the format's
    /// extension (`cheque.png` → `cheque.hocr`), made safe like any file name; `export.EXT` when
    /// nothing of the stem is left.
    pub fn file_name(self, source: &FileName) -> FileName {
        let name = source.as_str();
        let stem = match name.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem,
            _ => name,
        };
        FileName::sanitize(&format!("{stem}.{}", self.extension()))
            .or_else(|_| FileName::sanitize(&format!("export.{}", self.extension())))
            .unwrap_or_else(|_| source.clone())
    }

    /// The storage key segment of an export of image `id` in this format (see
    /// [`super::ObjectKey::for_export`]).
    pub(crate) fn key_segment(self, id: ImageId) -> String {
        format!("{id}/{}", self.name())
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = ExportFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_pdf_needs_the_original_and_a_pdf_is_its_own() {
        for format in ExportFormat::ALL {
            assert_eq!(format.needs_original(), format == ExportFormat::Pdf);
            for content_type in ContentType::ALL {
                assert_eq!(
                    format.is_original_format(content_type),
                    format == ExportFormat::Pdf && content_type == ContentType::Pdf,
                    "{format} {content_type:?}"
                );
            }
        }
        assert_eq!(ExportFormat::Pdf.media_type(), ContentType::Pdf.as_mime());
        // The message lists every format, in order.
        let names: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
        let message = ExportFormat::parse("nope").unwrap_err().to_string();
        assert!(message.ends_with(&names.join(", ")), "{message}");
    }

    #[test]
    fn names_parse_back_and_others_are_refused() {
        for format in ExportFormat::ALL {
            assert_eq!(ExportFormat::parse(format.name()), Ok(format));
            assert!(ExportFormat::parse(&format.name().to_uppercase()).is_err());
        }
        for bad in ["", "PDF", "hocr ", "xml", "a".repeat(500).as_str()] {
            let error = ExportFormat::parse(bad).unwrap_err();
            assert!(error.given.chars().count() <= 100, "{bad}");
        }
    }

    #[test]
    fn exports_are_named_after_their_image() {
        let name = |n: &str, f: ExportFormat| f.file_name(&FileName::sanitize(n).unwrap());
        assert_eq!(
            name("cheque.png", ExportFormat::Hocr).as_str(),
            "cheque.hocr"
        );
        assert_eq!(
            name("scan.2.tiff", ExportFormat::Alto).as_str(),
            "scan.2.xml"
        );
        assert_eq!(name("README", ExportFormat::Txt).as_str(), "README.txt");
        assert_eq!(name("scan.tiff", ExportFormat::Pdf).as_str(), "scan.pdf");
        assert_eq!(name("born.pdf", ExportFormat::Pdf).as_str(), "born.pdf");
        assert_eq!(name("été 𝔘.jpg", ExportFormat::Txt).as_str(), "été 𝔘.txt");
        let long = format!("{}.png", "x".repeat(300));
        let exported = name(&long, ExportFormat::Hocr);
        assert!(exported.as_str().len() <= 255 && exported.extension() == Some("hocr"));
    }
}
