use std::fmt;

use super::{
    ExportFormat, FileName, FileNameError, ImageId, ImageIdError, PageNumber, PictureSize,
};

/// The prefix of every key an upload URL is issued for.
pub const UPLOAD_PREFIX: &str = "uploads/";
/// The prefix of the previews Intake makes of processed images (`previews/{imageId}.jpg`).
pub const PREVIEW_PREFIX: &str = "previews/";
/// The prefix of the exports Intake stores when they are too large to answer inline
/// (`exports/{imageId}/{format}`).
pub const EXPORT_PREFIX: &str = "exports/";

/// The storage key of an uploaded image, `uploads/{imageId}/{file name}`, of the preview Intake made
/// of it, `previews/{imageId}.jpg`, or of an export of what was read on it,
/// `exports/{imageId}/{format}`.
///
/// The key carries the image id, so an object-created event leads back to its record; keys of any
/// other shape were not issued by Intake and are refused.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    key: String,
    id: ImageId,
}

/// Why a key is not an Intake upload key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectKeyError {
    /// The key is neither `uploads/{id}/{name}`, `previews/{id}.jpg` nor `exports/{id}/{format}`.
    #[error(
        "key is not of the form uploads/{{imageId}}/{{fileName}}, previews/{{imageId}}.jpg, previews/{{imageId}}/page-{{page}}.jpg or exports/{{imageId}}/{{format}}"
    )]
    Shape,
    /// The id segment is not an image id.
    #[error("key has an invalid image id: {0}")]
    Id(#[from] ImageIdError),
    /// The file-name segment is not a sanitized file name.
    #[error("key has an invalid file name: {0}")]
    FileName(#[from] FileNameError),
}

impl ObjectKey {
    /// The key of the preview of image `id`.
    pub fn for_preview(id: ImageId) -> Self {
        Self {
            key: format!("{PREVIEW_PREFIX}{id}.jpg"),
            id,
        }
    }

    /// The key of the picture of page `page` of image `id` in `size` (what the web app shows of a
    /// page of a document), beside its preview: `previews/{id}/page-N.jpg`, and
    /// `previews/{id}/page-N-thumb.jpg` for a thumbnail.
    pub fn for_page_picture(id: ImageId, page: PageNumber, size: PictureSize) -> Self {
        let suffix = match size {
            PictureSize::Page => String::new(),
            other => format!("-{}", other.name()),
        };
        Self {
            key: format!("{PREVIEW_PREFIX}{id}/page-{page}{suffix}.jpg"),
            id,
        }
    }

    /// Whether this is a page picture's key ([`ObjectKey::for_page_picture`]).
    pub fn is_page_picture(&self) -> bool {
        self.key.starts_with(PREVIEW_PREFIX) && self.key.contains("/page-")
    }

    /// Whether this is a preview's or a page picture's key (not an upload's).
    pub fn is_preview(&self) -> bool {
        self.key.starts_with(PREVIEW_PREFIX)
    }

    /// The key of the stored export of image `id` in `format`: one per image and format, so that
    /// a purge knows every key an image's exports can have.
    pub fn for_export(id: ImageId, format: ExportFormat) -> Self {
        Self {
            key: format!("{EXPORT_PREFIX}{}", format.key_segment(id)),
            id,
        }
    }

    /// Whether this is an export's key.
    pub fn is_export(&self) -> bool {
        self.key.starts_with(EXPORT_PREFIX)
    }

    /// Whether this is an upload's key (the only objects that are processed).
    pub fn is_upload(&self) -> bool {
        self.key.starts_with(UPLOAD_PREFIX)
    }

    /// The key for a new upload.
    pub fn for_upload(id: ImageId, file_name: &FileName) -> Self {
        Self {
            key: format!("{UPLOAD_PREFIX}{id}/{}", file_name.as_str()),
            id,
        }
    }

    /// Parses a (decoded) key, accepting only the exact forms Intake issues (an upload's, a
    /// preview's or an export's; see [`ObjectKey::is_preview`] and [`ObjectKey::is_export`]).
    ///
    /// # Errors
    /// [`ObjectKeyError`] when the key has another shape, a bad id or an unsafe file name.
    pub fn parse(text: &str) -> Result<Self, ObjectKeyError> {
        Self::parse_with(text, FileName::parse)
    }

    /// Accepts a key read back from storage: a preview's, or the `uploads/{id}/{name}` shape with a
    /// name that [`FileName::from_stored`] accepts, so records stay readable if the sanitizing rules
    /// change.
    ///
    /// # Errors
    /// [`ObjectKeyError`] when the key does not have that shape.
    pub fn from_stored(text: &str) -> Result<Self, ObjectKeyError> {
        Self::parse_with(text, FileName::from_stored)
    }

    fn parse_with(
        text: &str,
        file_name: fn(&str) -> Result<FileName, FileNameError>,
    ) -> Result<Self, ObjectKeyError> {
        if let Some(rest) = text.strip_prefix(PREVIEW_PREFIX) {
            let rest = rest.strip_suffix(".jpg").ok_or(ObjectKeyError::Shape)?;
            let (id_text, page) = match rest.split_once("/page-") {
                Some((id_text, page)) => {
                    let (page, size) = match page.split_once('-') {
                        Some((page, size)) => (
                            page,
                            PictureSize::parse(size)
                                .filter(|s| *s != PictureSize::Page)
                                .ok_or(ObjectKeyError::Shape)?,
                        ),
                        None => (page, PictureSize::Page),
                    };
                    let number = page
                        .parse::<PageNumber>()
                        .map_err(|_| ObjectKeyError::Shape)?;
                    if number.to_string() != page {
                        return Err(ObjectKeyError::Shape);
                    }
                    (id_text, Some((number, size)))
                }
                None => (rest, None),
            };
            let id = ImageId::parse(id_text)?;
            if id.to_string() != id_text {
                return Err(ObjectKeyError::Shape);
            }
            return Ok(page.map_or_else(
                || Self::for_preview(id),
                |(page, size)| Self::for_page_picture(id, page, size),
            ));
        }
        if let Some(rest) = text.strip_prefix(EXPORT_PREFIX) {
            let (id_text, name) = rest.split_once('/').ok_or(ObjectKeyError::Shape)?;
            let id = ImageId::parse(id_text)?;
            let format = ExportFormat::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or(ObjectKeyError::Shape)?;
            if id.to_string() != id_text {
                return Err(ObjectKeyError::Shape);
            }
            return Ok(Self::for_export(id, format));
        }
        let rest = text
            .strip_prefix(UPLOAD_PREFIX)
            .ok_or(ObjectKeyError::Shape)?;
        let (id_text, name) = rest.split_once('/').ok_or(ObjectKeyError::Shape)?;
        let id = ImageId::parse(id_text)?;
        if id.to_string() != id_text {
            return Err(ObjectKeyError::Shape);
        }
        Ok(Self::for_upload(id, &file_name(name)?))
    }

    /// The image id in the key.
    pub fn image_id(&self) -> ImageId {
        self.id
    }

    /// The file-name segment.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or_default()
    }

    /// The whole key.
    pub fn as_str(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectKey({:?})", self.key)
    }
}

crate::text_serde!(ObjectKey, ObjectKey::from_stored);

impl std::str::FromStr for ObjectKey {
    type Err = ObjectKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    #[test]
    fn issued_keys_parse_back() {
        let id = ImageId::generate(Timestamp::now_utc());
        let key = ObjectKey::for_upload(id, &FileName::sanitize("Happy Face+#1.png").unwrap());
        assert_eq!(key.as_str(), format!("uploads/{id}/Happy Face+#1.png"));
        let parsed = ObjectKey::parse(key.as_str()).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(parsed.image_id(), id);
        assert_eq!(parsed.file_name(), "Happy Face+#1.png");
    }

    #[test]
    fn preview_keys_parse_back_and_say_so() {
        let id = ImageId::generate(Timestamp::now_utc());
        let key = ObjectKey::for_preview(id);
        assert_eq!(key.as_str(), format!("previews/{id}.jpg"));
        assert_eq!(ObjectKey::parse(key.as_str()).unwrap(), key);
        assert!(key.is_preview());
        assert_eq!(key.image_id(), id);
        assert!(!ObjectKey::for_upload(id, &FileName::sanitize("a.png").unwrap()).is_preview());
        let page = ObjectKey::for_page_picture(id, PageNumber::new(12).unwrap(), PictureSize::Page);
        assert_eq!(page.as_str(), format!("previews/{id}/page-12.jpg"));
        assert_eq!(ObjectKey::parse(page.as_str()).unwrap(), page);
        let thumb =
            ObjectKey::for_page_picture(id, PageNumber::new(3).unwrap(), PictureSize::Thumbnail);
        assert_eq!(thumb.as_str(), format!("previews/{id}/page-3-thumb.jpg"));
        assert_eq!(ObjectKey::parse(thumb.as_str()).unwrap(), thumb);
        assert!(thumb.is_page_picture());
        assert!(page.is_preview() && page.is_page_picture() && !page.is_upload());
        assert!(!key.is_page_picture());
        for bad in [
            format!("previews/{id}/page-0.jpg"),
            format!("previews/{id}/page-012.jpg"),
            format!("previews/{id}/page-+1.jpg"),
            format!("previews/{id}/page-x.jpg"),
            format!("previews/{id}/page-1.png"),
            format!("previews/{id}/1.jpg"),
            format!("previews/{id}/page-1-page.jpg"),
            format!("previews/{id}/page-1-big.jpg"),
            format!("previews/{id}/page-1-thumb-thumb.jpg"),
        ] {
            assert!(ObjectKey::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn export_keys_parse_back_and_say_so() {
        let id = ImageId::generate(Timestamp::now_utc());
        for format in ExportFormat::ALL {
            let key = ObjectKey::for_export(id, format);
            assert_eq!(key.as_str(), format!("exports/{id}/{}", format.name()));
            assert_eq!(ObjectKey::parse(key.as_str()).unwrap(), key);
            assert!(key.is_export() && !key.is_preview() && !key.is_upload());
            assert_eq!(key.image_id(), id);
        }
        for bad in [
            format!("exports/{id}"),
            format!("exports/{id}/"),
            format!("exports/{id}/docx"),
            format!("exports/{id}/HOCR"),
            format!("exports/{id}/hocr/x"),
            format!("exports/{}/hocr", id.to_string().to_uppercase()),
        ] {
            assert!(ObjectKey::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn foreign_keys_are_refused() {
        let id = ImageId::generate(Timestamp::now_utc());
        for bad in [
            String::new(),
            "other/x.png".to_owned(),
            format!("uploads/{id}"),
            format!("uploads/{id}/"),
            format!("uploads/{id}/a/b.png"),
            format!("uploads/{id}/../x.png"),
            format!("uploads/{}/x.png", id.to_string().to_uppercase()),
            "uploads/67e55044-10b1-426f-9247-bb680e5fe0c8/x.png".to_owned(),
            "results/x/ocr.json".to_owned(),
            format!("previews/{id}.png"),
            format!("previews/{id}"),
            format!("previews/{id}/x.jpg"),
            format!("previews/{}.jpg", id.to_string().to_uppercase()),
        ] {
            assert!(ObjectKey::parse(&bad).is_err(), "{bad}");
        }
    }
}
