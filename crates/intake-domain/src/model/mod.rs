//! The domain model: validated newtypes, the OCR result and the image record.
//!
//! Every newtype validates on construction, so a value of the type is always well formed; adapters parse
//! what they read back through the same constructors.

mod body_check;
mod content_type;
mod cursor;
mod digest;
mod event;
mod export;
mod fields;
mod file_name;
mod fingerprint;
mod ids;
mod key;
mod layout;
mod ocr;
mod owner;
mod page;
mod printed;
mod record;
mod search;
mod text_layer;
mod time;
mod ttl;

pub use body_check::{BodyCheck, BodyRefusal};
pub use content_type::{ContentType, ContentTypeError};
pub use cursor::{Cursor, CursorError, MAX_CURSOR_LEN};
pub use digest::{DigestError, Sha256Digest};
pub use event::{
    EVENT_SCHEMA_VERSION, EventId, EventIdError, EventKind, EventKindError, EventLinks, ImageEvent,
    InvalidEvent,
};
pub use export::{ExportFormat, ExportFormatError};
pub use fields::{
    DateOrder, DocumentFields, DocumentKind, DocumentType, Field, FieldFilter, FieldFilterError,
    FieldOptions, FieldType, FieldWarning, LineItem, MAX_FIELD_FILTER_CHARS, MAX_FIELD_FILTERS,
    Money, ValueKind, amount_in_words, edit_distance, field_keys, normalize_date, parse_money,
};
pub use file_name::{FileName, FileNameError, MAX_FILE_NAME_BYTES};
pub use fingerprint::{
    BAND_BITS, BANDS, BandKey, Basis, Comparison, DuplicateRule, HashKind, IdToken, ImageHash,
    KeyEntry, KeyRead, MAX_INDEXED_DISTANCE, MAX_NEAR_DUPLICATES, MIN_NUMBER_DIGITS, NearDuplicate,
    PageFingerprint, PageSketch, Probe, SKETCH_SIDE, SketchError, TextFingerprint, TextHash,
    TokenCounts, TokenKind, Verdict, bands_of, identifying_tokens, probe_keys, token_keys,
};
pub use ids::{ImageId, ImageIdError, parse_prefixed_uuid, uuid_v7_at};
pub use key::{EXPORT_PREFIX, ObjectKey, ObjectKeyError, PREVIEW_PREFIX, UPLOAD_PREFIX};
pub use layout::{MAX_ARRANGED_LINES, arrange_page};
pub use ocr::{BoundingBox, OcrLine, OcrResult, OcrResultError, OcrWord};
pub use owner::{MAX_OWNER_BYTES, Owner, OwnerError};
pub use page::{FIRST_PAGE, OcrPage, PageNumber, PageSource, PageSummary, PictureSize};
pub use record::{
    DocumentError, FailureCode, ImageMetadata, ImageRecord, ImageStatus, ImageStatusError,
    InvalidRecord, MAX_HISTORY, Measurements, NewUpload, OcrStatus, PastRun, RECORD_SCHEMA_VERSION,
    RecordParts, RejectionCode, Transition, TransitionError,
};
pub use search::{
    MAX_SEARCH_CHARS, MAX_SEARCH_TERMS, SearchMatch, SearchText, SearchTextError, SnippetPart,
    index_words, normalize as normalize_word,
};
pub use text_layer::{TextLayerFacts, TextLayerRule};
pub use time::{Timestamp, TimestampError};
pub use ttl::{UrlTtl, UrlTtlError};
