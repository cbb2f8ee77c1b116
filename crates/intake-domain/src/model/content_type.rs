use std::fmt;
use std::str::FromStr;

/// An image format Intake knows how to handle.
///
/// PNG and JPEG are accepted by every OCR engine; the other formats are accepted only when the configured
/// engine declares them in its capabilities (TIFF and PDF for Textract, more for Tesseract).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[non_exhaustive]
pub enum ContentType {
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `image/tiff`
    Tiff,
    /// `application/pdf`
    Pdf,
    /// `image/webp`
    Webp,
    /// `image/gif`
    Gif,
    /// `image/bmp`
    Bmp,
    /// `image/heic`: HEIF pictures as phones take them (HEVC-coded), declared as `image/heic` or
    /// `image/heif` alike (see [`ContentType::parse`]).
    Heic,
}

/// Why a text is not a supported [`ContentType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentTypeError {
    /// The media type is not one Intake handles.
    #[error("unsupported content type {0:?}")]
    Unsupported(String),
}

impl ContentType {
    /// Every format Intake knows.
    pub const ALL: [Self; 8] = [
        Self::Png,
        Self::Jpeg,
        Self::Tiff,
        Self::Pdf,
        Self::Webp,
        Self::Gif,
        Self::Bmp,
        Self::Heic,
    ];

    /// The formats every OCR engine must accept.
    pub const UNIVERSAL: [Self; 2] = [Self::Png, Self::Jpeg];

    /// File extensions (lower case, without the dot) and the format each names: the one table a
    /// client guesses a file's type from when its bytes (or the browser) do not say, used by the CLI
    /// and served to the web app.
    pub const EXTENSIONS: [(&'static str, Self); 11] = [
        ("png", Self::Png),
        ("jpg", Self::Jpeg),
        ("jpeg", Self::Jpeg),
        ("tif", Self::Tiff),
        ("tiff", Self::Tiff),
        ("webp", Self::Webp),
        ("gif", Self::Gif),
        ("bmp", Self::Bmp),
        ("pdf", Self::Pdf),
        ("heic", Self::Heic),
        ("heif", Self::Heic),
    ];

    /// The format a file extension (without the dot, in any case) names, from [`Self::EXTENSIONS`].
    pub fn from_extension(extension: &str) -> Option<Self> {
        Self::EXTENSIONS
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(extension))
            .map(|&(_, content_type)| content_type)
    }

    /// Parses a media type, ignoring case, surrounding space and parameters (`image/PNG; q=1`), and
    /// accepting common aliases (`image/jpg`, `image/pjpeg`, `image/x-ms-bmp`).
    ///
    /// `image/heif` (and the `-sequence` forms) name [`ContentType::Heic`] too: clients send either
    /// for the same file (Safari and iOS say `image/heic` for an iPhone photo, some Android
    /// galleries and file pickers `image/heif` for theirs, and a `.heif` file is often HEVC-coded as
    /// well), the bytes tell them apart no better than the name does (an iPhone's file carries the
    /// generic `mif1` brand beside `heic`), and one decoder reads both. A separate `Heif` type would
    /// turn the same photo into a `TYPE_MISMATCH` depending on the client, and tell the API's
    /// callers nothing they could act on.
    ///
    /// # Errors
    /// [`ContentTypeError::Unsupported`] for any other media type.
    pub fn parse(text: &str) -> Result<Self, ContentTypeError> {
        let essence = text
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/png" => Ok(Self::Png),
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Ok(Self::Jpeg),
            "image/tiff" | "image/tif" => Ok(Self::Tiff),
            "application/pdf" => Ok(Self::Pdf),
            "image/webp" => Ok(Self::Webp),
            "image/gif" => Ok(Self::Gif),
            "image/bmp" | "image/x-ms-bmp" | "image/x-bmp" => Ok(Self::Bmp),
            "image/heic" | "image/heif" | "image/heic-sequence" | "image/heif-sequence" => {
                Ok(Self::Heic)
            }
            _ => Err(ContentTypeError::Unsupported(
                text.chars().take(100).collect(),
            )),
        }
    }

    /// The canonical media type.
    pub const fn as_mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Pdf => "application/pdf",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Bmp => "image/bmp",
            Self::Heic => "image/heic",
        }
    }

    /// A conventional file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Tiff => "tiff",
            Self::Pdf => "pdf",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Bmp => "bmp",
            Self::Heic => "heic",
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_mime())
    }
}

impl FromStr for ContentType {
    type Err = ContentTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::text_serde!(ContentType, ContentType::parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_forms_aliases_and_parameters() {
        for ct in ContentType::ALL {
            assert_eq!(ContentType::parse(ct.as_mime()).unwrap(), ct);
        }
        assert_eq!(
            ContentType::parse(" Image/JPG ; charset=x").unwrap(),
            ContentType::Jpeg
        );
        assert_eq!(
            ContentType::parse("image/x-ms-bmp").unwrap(),
            ContentType::Bmp
        );
        for heif in ["image/heif", "IMAGE/HEIC", "image/heif-sequence"] {
            assert_eq!(
                ContentType::parse(heif).unwrap(),
                ContentType::Heic,
                "{heif}"
            );
        }
        assert_eq!(ContentType::Heic.as_mime(), "image/heic");
    }

    #[test]
    fn every_format_is_named_by_its_extension() {
        for ct in ContentType::ALL {
            assert_eq!(ContentType::from_extension(ct.extension()), Some(ct));
        }
        assert_eq!(ContentType::from_extension("TIF"), Some(ContentType::Tiff));
        assert_eq!(ContentType::from_extension("HEIC"), Some(ContentType::Heic));
        assert_eq!(ContentType::from_extension("heif"), Some(ContentType::Heic));
        assert_eq!(ContentType::from_extension("txt"), None);
        assert_eq!(ContentType::from_extension(""), None);
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "image/",
            "text/html",
            "image/svg+xml",
            "image/avif",
            "application/octet-stream",
        ] {
            assert!(ContentType::parse(bad).is_err(), "{bad}");
        }
    }
}
