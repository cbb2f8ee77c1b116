//! The rules an object must pass before OCR, and what an OCR failure means. Pure functions, each
//! tested on its own.

use super::inspect::Inspection;
use crate::error::{IntakeError, error_chain};
use crate::model::{ContentType, FailureCode, ImageRecord, RejectionCode};
use crate::ports::{
    DocumentInfo, DocumentReadError, ImageFacts, OcrCapabilities, OcrError, PortError,
};
use crate::sniff::{PNG_TRAILER, Pages, PagesError};

/// A reason to reject, with a message for humans.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Rejection {
    pub(super) code: RejectionCode,
    pub(super) message: String,
}

fn reject(code: RejectionCode, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// The rules an object must pass before OCR, in order. Pure, so each rule is tested on its own.
pub(super) fn examine(
    record: &ImageRecord,
    inspection: &Inspection,
    accepted: &[ContentType],
    engine: &OcrCapabilities,
    max_bytes: u64,
    max_pixels: u64,
    max_pages: u32,
) -> Result<ImageFacts, Rejection> {
    let size = inspection.size;
    if size == 0 {
        return Err(reject(RejectionCode::Empty, "the object is empty"));
    }
    if inspection.oversize || size > max_bytes {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "the object is {} bytes; the limit is {max_bytes}",
                inspection.stored_size.max(size)
            ),
        ));
    }
    if let Some(declared) = record.declared_size_bytes().filter(|&d| d != size) {
        return Err(reject(
            RejectionCode::SizeMismatch,
            format!("declared {declared} bytes, received {size}"),
        ));
    }
    let sha256 = inspection
        .sha256
        .ok_or_else(|| reject(RejectionCode::TooLarge, "the object was not read whole"))?;
    if let Some(declared) = record.declared_sha256().filter(|&d| d != sha256) {
        return Err(reject(
            RejectionCode::ChecksumMismatch,
            format!("declared sha256 {declared}, received {sha256}"),
        ));
    }
    let Some(actual) = inspection.sniffed.content_type else {
        return Err(reject(
            RejectionCode::UnsupportedType,
            "the bytes are not a recognised image format",
        ));
    };
    if !accepted.contains(&actual) {
        return Err(reject(
            RejectionCode::UnsupportedType,
            format!("{actual} is not accepted by this deployment"),
        ));
    }
    if actual != record.declared_content_type() {
        return Err(reject(
            RejectionCode::TypeMismatch,
            format!(
                "declared {}, but the bytes are {actual}",
                record.declared_content_type()
            ),
        ));
    }
    let dimensions = inspection.sniffed.dimensions;
    if actual != ContentType::Pdf {
        let Some((width, height)) = dimensions else {
            return Err(reject(
                RejectionCode::Corrupt,
                format!("the {actual} header is unreadable or damaged"),
            ));
        };
        if width < engine.min_dimension_px || height < engine.min_dimension_px {
            return Err(reject(
                RejectionCode::TooSmall,
                format!(
                    "{width}×{height} px is below the minimum of {0}×{0} px",
                    engine.min_dimension_px
                ),
            ));
        }
        if engine
            .max_dimension_px
            .is_some_and(|max| width > max || height > max)
        {
            return Err(reject(
                RejectionCode::TooLarge,
                format!("{width}×{height} px exceeds the engine's largest dimension"),
            ));
        }
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(reject(
                RejectionCode::TooLarge,
                format!("{width}×{height} px exceeds {max_pixels} pixels"),
            ));
        }
    }
    check_pages(inspection.pages.as_ref(), engine, max_pixels, max_pages)?;
    check_document(inspection.document.as_ref())?;
    check_trailer(actual, &inspection.tail)?;
    let facts = ImageFacts::new(actual, size, dimensions, sha256);
    if !engine.accepts(&facts) {
        return Err(reject(
            RejectionCode::UnsupportedType,
            format!("the OCR engine {} cannot take this image", engine.engine),
        ));
    }
    Ok(facts)
}

/// A document's reader opened it and counted its pages within the limit.
fn check_document(
    document: Option<&Result<DocumentInfo, DocumentReadError>>,
) -> Result<(), Rejection> {
    let Some(Err(error)) = document else {
        return Ok(());
    };
    let code = match error {
        DocumentReadError::Encrypted => RejectionCode::Encrypted,
        DocumentReadError::TooManyPages { .. } | DocumentReadError::BeyondLimits { .. } => {
            RejectionCode::TooLarge
        }
        _ => RejectionCode::Corrupt,
    };
    Err(reject(code, error.to_string()))
}

/// A multi-page image's pages count together: at most `max_pages` of them, their pixels together
/// within `max_pixels`, and no page beyond the engine's largest side. A directory chain that cannot be
/// read is corrupt.
fn check_pages(
    pages: Option<&Result<Pages, PagesError>>,
    engine: &OcrCapabilities,
    max_pixels: u64,
    max_pages: u32,
) -> Result<(), Rejection> {
    let pages = match pages {
        None => return Ok(()),
        Some(Err(error)) => return Err(reject(RejectionCode::Corrupt, error_chain(error))),
        Some(Ok(pages)) => pages,
    };
    if pages.count > max_pages {
        return Err(reject(
            RejectionCode::TooLarge,
            format!("the image has more than {max_pages} pages"),
        ));
    }
    if pages.pixels > max_pixels {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "its {} pages hold {} pixels together; the limit is {max_pixels}",
                pages.count, pages.pixels
            ),
        ));
    }
    if engine
        .max_dimension_px
        .is_some_and(|max| pages.longest_side > max)
    {
        return Err(reject(
            RejectionCode::TooLarge,
            format!(
                "a page {} px long exceeds the engine's largest dimension",
                pages.longest_side
            ),
        ));
    }
    Ok(())
}

/// Truncated files and files with data after the image (polyglots) are refused: a PNG must end with
/// its `IEND` chunk, a JPEG with its end-of-image marker.
fn check_trailer(actual: ContentType, tail: &[u8]) -> Result<(), Rejection> {
    if actual == ContentType::Jpeg && !ends_with_jpeg_eoi(tail) {
        return Err(reject(
            RejectionCode::Corrupt,
            "the JPEG does not end with its end-of-image marker: truncated or trailing data",
        ));
    }
    if actual == ContentType::Png && tail != PNG_TRAILER {
        return Err(reject(
            RejectionCode::Corrupt,
            "the PNG does not end with its IEND chunk: truncated or trailing data",
        ));
    }
    Ok(())
}

/// Whether the last bytes end a JPEG: the end-of-image marker `FF D9`, optionally followed by zero
/// padding (which some encoders add).
fn ends_with_jpeg_eoi(tail: &[u8]) -> bool {
    let end = tail.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    tail.get(..end).is_some_and(|t| t.ends_with(&[0xFF, 0xD9]))
}

/// What a failed OCR call means: a permanent failure (its code and message), or an error to retry.
/// A timeout is retryable on the first attempt only: on a retry the image, not a passing fault, is
/// the likely cause, and each further try would cost the whole time limit again.
pub(super) fn ocr_failure(
    error: OcrError,
    attempt: u32,
) -> Result<(FailureCode, String), IntakeError> {
    match error {
        OcrError::Timeout if attempt > 1 => Ok((
            FailureCode::OcrTimeout,
            format!("OCR ran out of time on attempt {attempt} as well"),
        )),
        error if error.is_retryable() => Err(error.into()),
        error => Ok((failure_code(&error), error_chain(&error))),
    }
}

/// The message of a record that ran out of attempts.
pub(super) fn exhausted_message(attempts: u32, last_error: Option<&IntakeError>) -> String {
    match last_error {
        Some(error) => format!(
            "gave up after {attempts} attempts; last error: {}",
            error_chain(error)
        ),
        None => format!("gave up after {attempts} attempts"),
    }
}

fn failure_code(error: &OcrError) -> FailureCode {
    match error {
        OcrError::InvalidImage { .. } => FailureCode::OcrInvalidImage,
        OcrError::UnsupportedFormat { .. } => FailureCode::OcrUnsupportedFormat,
        OcrError::TooLarge { .. } => FailureCode::OcrTooLarge,
        _ => FailureCode::OcrError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileName, ImageId, NewUpload, Sha256Digest, Timestamp};
    use crate::sniff::Sniffed;

    fn record(declared: ContentType, size: Option<u64>, sha: Option<Sha256Digest>) -> ImageRecord {
        let now = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
        ImageRecord::awaiting_upload(NewUpload {
            image_id: ImageId::generate(now),
            owner: crate::model::Owner::parse("o").unwrap(),
            bucket: "b".into(),
            file_name: FileName::sanitize("x.png").unwrap(),
            content_type: declared,
            size_bytes: size,
            sha256: sha,
            created_at: now,
            upload_expires_at: now,
        })
    }

    fn inspection(
        size: u64,
        ct: Option<ContentType>,
        dims: Option<(u32, u32)>,
        tail: &[u8],
    ) -> Inspection {
        Inspection {
            size,
            stored_size: size,
            version: None,
            sha256: Some(Sha256Digest::of(b"x")),
            sniffed: Sniffed {
                content_type: ct,
                dimensions: dims,
            },
            tail: tail.to_vec(),
            body: None,
            oversize: false,
            pages: None,
            document: None,
        }
    }

    fn caps() -> OcrCapabilities {
        OcrCapabilities::new(
            "e",
            vec![ContentType::Png, ContentType::Jpeg, ContentType::Pdf],
            1000,
            10,
        )
        .with_max_dimension(5000)
    }

    fn code(r: &ImageRecord, i: &Inspection) -> Option<RejectionCode> {
        let accepted = [ContentType::Png, ContentType::Jpeg, ContentType::Pdf];
        examine(r, i, &accepted, &caps(), 1000, 1_000_000, 100)
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn every_rule_rejects_with_its_code() {
        let png = record(ContentType::Png, None, None);
        let ok = inspection(100, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER);
        assert_eq!(code(&png, &ok), None);
        assert_eq!(
            code(&png, &inspection(0, None, None, &[])),
            Some(RejectionCode::Empty)
        );
        assert_eq!(
            code(
                &png,
                &inspection(1001, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(&record(ContentType::Png, Some(99), None), &ok),
            Some(RejectionCode::SizeMismatch)
        );
        assert_eq!(
            code(
                &record(ContentType::Png, None, Some(Sha256Digest::of(b"y"))),
                &ok
            ),
            Some(RejectionCode::ChecksumMismatch)
        );
        assert_eq!(
            code(
                &record(ContentType::Png, None, Some(Sha256Digest::of(b"x"))),
                &ok
            ),
            None
        );
        assert_eq!(
            code(&png, &inspection(100, None, None, &[])),
            Some(RejectionCode::UnsupportedType)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Gif), Some((100, 100)), &[])
            ),
            Some(RejectionCode::UnsupportedType)
        );
        assert_eq!(
            code(&record(ContentType::Jpeg, None, None), &ok),
            Some(RejectionCode::TypeMismatch)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), None, &PNG_TRAILER)
            ),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), Some((9, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooSmall)
        );
        assert_eq!(
            code(
                &png,
                &inspection(100, Some(ContentType::Png), Some((5001, 100)), &PNG_TRAILER)
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(
                &png,
                &inspection(
                    100,
                    Some(ContentType::Png),
                    Some((1001, 1000)),
                    &PNG_TRAILER
                )
            ),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            code(
                &png,
                &inspection(
                    100,
                    Some(ContentType::Png),
                    Some((100, 100)),
                    b"trailing zip"
                )
            ),
            Some(RejectionCode::Corrupt)
        );
        let pdf = record(ContentType::Pdf, None, None);
        assert_eq!(
            code(
                &pdf,
                &inspection(100, Some(ContentType::Pdf), None, b"%%EOF")
            ),
            None
        );
    }

    #[test]
    fn documents_are_rejected_for_what_their_reader_found() {
        let pdf = record(ContentType::Pdf, None, None);
        let probed = |document| {
            let mut i = inspection(100, Some(ContentType::Pdf), None, b"%%EOF");
            i.document = Some(document);
            code(&pdf, &i)
        };
        assert_eq!(probed(Ok(DocumentInfo::new(3))), None);
        assert_eq!(
            probed(Err(DocumentReadError::Encrypted)),
            Some(RejectionCode::Encrypted)
        );
        assert_eq!(
            probed(Err(DocumentReadError::Corrupt {
                reason: "no xref".into()
            })),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(
            probed(Err(DocumentReadError::TooManyPages {
                count: 5001,
                limit: 100
            })),
            Some(RejectionCode::TooLarge)
        );
        assert_eq!(
            probed(Err(DocumentReadError::BeyondLimits {
                reason: "time".into()
            })),
            Some(RejectionCode::TooLarge)
        );
    }

    #[test]
    fn jpegs_must_end_with_their_end_of_image_marker() {
        let jpeg = record(ContentType::Jpeg, None, None);
        let with_tail =
            |tail: &[u8]| inspection(100, Some(ContentType::Jpeg), Some((100, 100)), tail);
        assert_eq!(code(&jpeg, &with_tail(&[1, 2, 0xFF, 0xD9])), None);
        assert_eq!(code(&jpeg, &with_tail(&[0xFF, 0xD9, 0, 0, 0])), None);
        assert_eq!(
            code(&jpeg, &with_tail(&[0xFF, 0xD9, b'P', b'K'])),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(
            code(&jpeg, &with_tail(&[0x12, 0x34])),
            Some(RejectionCode::Corrupt)
        );
        assert_eq!(code(&jpeg, &with_tail(&[])), Some(RejectionCode::Corrupt));
    }

    #[test]
    fn oversize_reads_are_too_large_even_without_a_hash() {
        let mut i = inspection(1001, Some(ContentType::Png), Some((100, 100)), &PNG_TRAILER);
        i.oversize = true;
        i.sha256 = None;
        i.stored_size = 5000;
        let r = examine(
            &record(ContentType::Png, None, None),
            &i,
            &[ContentType::Png],
            &caps(),
            1000,
            1_000_000,
            100,
        )
        .unwrap_err();
        assert_eq!(r.code, RejectionCode::TooLarge);
        assert!(r.message.contains("5000"), "{}", r.message);
    }
}
