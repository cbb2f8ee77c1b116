//! The domain model: validated newtypes, the OCR result and the image record.
//!
//! Every newtype validates on construction, so a value of the type is always well formed; adapters parse
//! what they read back through the same constructors.

mod content_type;
mod cursor;
mod digest;
mod file_name;
mod ids;
mod key;
mod ocr;
mod record;
mod time;

pub use content_type::{ContentType, ContentTypeError};
pub use cursor::{Cursor, CursorError, MAX_CURSOR_LEN};
pub use digest::{DigestError, Sha256Digest};
pub use file_name::{FileName, FileNameError, MAX_FILE_NAME_BYTES};
pub use ids::{ImageId, ImageIdError};
pub use key::{ObjectKey, ObjectKeyError, UPLOAD_PREFIX};
pub use ocr::{BoundingBox, OcrLine, OcrResult, OcrResultError, OcrWord};
pub use record::{
    FailureCode, ImageRecord, ImageStatus, ImageStatusError, NewUpload, OcrStatus,
    RECORD_SCHEMA_VERSION, RejectionCode,
};
pub use time::{Timestamp, TimestampError};
