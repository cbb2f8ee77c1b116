//! Every environment variable Intake reads, in one table: its name, where it applies, its default,
//! the values it takes and what it does. Every read goes through a [`Setting`] of this table (the
//! local server's flags name theirs too), a test holds the local server's flags to it, and another
//! holds the README's settings table equal to [`markdown`].

/// Where a variable is read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Applies {
    /// By the local server and by the Lambda functions.
    Both,
    /// By the local server (`intake serve`) only.
    Local,
    /// By the Lambda functions only.
    Aws,
    /// By the `intake` command's API client.
    Client,
}

impl Applies {
    /// The table's text for it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::Local => "local",
            Self::Aws => "AWS",
            Self::Client => "CLI",
        }
    }
}

use std::fmt::Write as _;

/// One environment variable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Setting {
    /// The variable's name.
    pub name: &'static str,
    /// Where it is read.
    pub applies: Applies,
    /// Its default, as a value where there is one (else what happens without it).
    pub default: &'static str,
    /// The values it takes.
    pub values: &'static str,
    /// What it sets.
    pub meaning: &'static str,
}

macro_rules! settings {
    ($($(#[$doc:meta])* $id:ident = ($name:literal, $applies:ident, $default:literal, $values:literal, $meaning:literal);)*) => {
        $(
            $(#[$doc])*
            pub const $id: Setting = Setting {
                name: $name,
                applies: Applies::$applies,
                default: $default,
                values: $values,
                meaning: $meaning,
            };
        )*
        /// The whole table, in the README's order.
        pub const SETTINGS: &[Setting] = &[$($id),*];
    };
}

settings! {
    /// See [`Setting::meaning`].
    UPLOAD_URL_TTL = ("INTAKE_UPLOAD_URL_TTL_SECONDS", Both, "300", "1..604800", "upload URL lifetime, seconds");
    /// See [`Setting::meaning`].
    DOWNLOAD_URL_TTL = ("INTAKE_DOWNLOAD_URL_TTL_SECONDS", Both, "300", "1..604800", "download URL lifetime, seconds");
    /// See [`Setting::meaning`].
    MAX_UPLOAD_BYTES = ("INTAKE_MAX_UPLOAD_BYTES", Both, "15728640", "bytes", "largest upload (the engine's own limit applies if lower)");
    /// See [`Setting::meaning`].
    MAX_PIXELS = ("INTAKE_MAX_PIXELS", Both, "100000000", "pixels", "largest width × height, every page of a TIFF together (decompression bombs)");
    /// See [`Setting::meaning`].
    MAX_PAGES = ("INTAKE_MAX_PAGES", Both, "100", "pages", "most pages of a multi-page image (TIFF), counted from its headers");
    /// See [`Setting::meaning`].
    ALLOWED_TYPES = ("INTAKE_ALLOWED_TYPES", Both, "all the engine takes", "comma-separated media types", "the types uploads may have");
    /// See [`Setting::meaning`].
    PROCESSING_LEASE = ("INTAKE_PROCESSING_LEASE_SECONDS", Both, "900", "seconds", "how long a processor's claim holds; on AWS keep it ≤ the queue's visibility timeout");
    /// See [`Setting::meaning`].
    MAX_ATTEMPTS = ("INTAKE_MAX_ATTEMPTS", Both, "5", "a number", "claims before an image is FAILED with RETRIES_EXHAUSTED");
    /// See [`Setting::meaning`].
    REUSE_DUPLICATE_OCR = ("INTAKE_REUSE_DUPLICATE_OCR", Both, "true", "true, false", "identical bytes reuse the original's OCR result");
    /// See [`Setting::meaning`].
    DELETE_OBJECTS = ("INTAKE_DELETE_OBJECTS", Both, "false", "true, false", "deleting an image deletes its object too");
    /// See [`Setting::meaning`].
    DUPLICATE_RULE = ("INTAKE_DUPLICATE_RULE", Both, "the measured defaults", "name=value pairs, comma-separated: maxImageDistance (≤ 11), minImageTokenAgreement, maxReplacedTokens, maxTextDistance, minTextTokenAgreement, minTextMatchedTokens", "the thresholds that call two pages one document (near-duplicate presentment); unnamed ones keep their defaults");
    /// See [`Setting::meaning`].
    DATE_ORDER = ("INTAKE_DATE_ORDER", Both, "locally month-first where the locale (LC_ALL, LC_TIME, LANG) is a US one, else day-first; day-first on AWS", "day-first, month-first", "how fields read a date that leaves day and month open (03/04/2026), and a date in a field filter");
    /// See [`Setting::meaning`].
    RETENTION_DAYS = ("INTAKE_RETENTION_DAYS", Both, "0", "days (0: never)", "soft-deleted images are purged once deleted this long");
    /// See [`Setting::meaning`].
    OCR_ENGINE = ("INTAKE_OCR_ENGINE", Both, "ppocr locally, auto on AWS", "ppocr, tesseract (local); ppocr, rekognition, textract, auto (AWS)", "the OCR engine; one name means one engine everywhere, each deployment offers its own");
    /// See [`Setting::meaning`].
    OCR_MODEL = ("INTAKE_OCR_MODEL", Both, "tiny", "tiny, balanced, small", "PP-OCR's model tier");
    /// See [`Setting::meaning`].
    MODELS_DIR = ("INTAKE_MODELS_DIR", Both, "~/.local/share/intake/models locally, /opt/intake-models on AWS", "a directory", "where PP-OCR's models and ONNX Runtime are (scripts/ocr-models.sh; the template's layer)");
    /// See [`Setting::meaning`].
    OCR_TIMEOUT = ("INTAKE_OCR_TIMEOUT_SECONDS", Both, "120 locally, 90 on AWS", "seconds", "the longest one image's OCR may take (then a retryable timeout); on AWS also the wait for a Textract job and a document's reading in the function");
    /// See [`Setting::meaning`].
    DATA_DIR = ("INTAKE_DATA_DIR", Local, ".intake", "a directory", "where objects, the database and the signing secret live (the CLI finds the admin key there)");
    /// See [`Setting::meaning`].
    ADDR = ("INTAKE_ADDR", Local, "127.0.0.1:8080", "host:port (port 0: any free port)", "the address the local server listens on");
    /// See [`Setting::meaning`].
    WORKERS = ("INTAKE_WORKERS", Local, "2 × cores", "a number", "how many jobs run at once");
    /// See [`Setting::meaning`].
    PUBLIC_URL = ("INTAKE_PUBLIC_URL", Local, "http://ADDR", "a URL", "the URL clients reach the server at, in presigned URLs");
    /// See [`Setting::meaning`].
    OCR_LANGUAGE = ("INTAKE_OCR_LANGUAGE", Local, "eng", "Tesseract languages (eng+deu)", "Tesseract's languages");
    /// See [`Setting::meaning`].
    TESSERACT_MAX_PIXELS = ("INTAKE_TESSERACT_MAX_PIXELS", Local, "40000000", "pixels", "the most pixels Tesseract reads a page at (larger pages are scaled down first)");
    /// See [`Setting::meaning`].
    PPOCR_PAGE_PIXELS = ("INTAKE_PPOCR_PAGE_PIXELS", Local, "16000000", "pixels", "the most pixels PP-OCR reads a page at (larger pages are averaged down as they are decoded)");
    /// See [`Setting::meaning`].
    LOG = ("INTAKE_LOG", Local, "info", "levels, per target too (intake_server=debug,info)", "the local server's log levels");
    /// See [`Setting::meaning`].
    LOG_FORMAT = ("INTAKE_LOG_FORMAT", Local, "human", "human, json", "the local server's log format");
    /// See [`Setting::meaning`].
    HEADER_TIMEOUT = ("INTAKE_HEADER_TIMEOUT_SECONDS", Local, "10", "seconds", "the longest a client may take to send a request's head");
    /// See [`Setting::meaning`].
    MAX_CONNECTIONS = ("INTAKE_MAX_CONNECTIONS", Local, "half the open-file limit, at most 1024", "a number", "the most client connections open at once");
    /// See [`Setting::meaning`].
    MIN_BODY_RATE = ("INTAKE_MIN_BODY_RATE", Local, "1024", "bytes per second (0: none)", "the slowest a request body may arrive after its first 10 s");
    /// See [`Setting::meaning`].
    CORS_ORIGINS = ("INTAKE_CORS_ORIGINS", Local, "", "comma-separated origins, or `*`", "browser origins allowed to call the API from other sites");
    /// See [`Setting::meaning`].
    WEBHOOK_HOSTS = ("INTAKE_WEBHOOK_HOSTS", Local, "localhost,127.0.0.1,::1", "comma-separated hosts, `*.domain`, or `*`", "hosts webhooks may be sent to");
    /// See [`Setting::meaning`].
    BUCKET = ("INTAKE_BUCKET", Aws, "required", "a bucket name", "the private bucket for uploads (uploads/) and OCR sidecars (results/)");
    /// See [`Setting::meaning`].
    TABLE = ("INTAKE_TABLE", Aws, "required", "a table name", "the DynamoDB table");
    /// See [`Setting::meaning`].
    FINGERPRINT_TABLE = ("INTAKE_FINGERPRINT_TABLE", Aws, "none (near-duplicates are not looked for)", "a table name", "the DynamoDB table of the near-duplicate fingerprint index");
    /// See [`Setting::meaning`].
    S3_FORCE_PATH_STYLE = ("INTAKE_S3_FORCE_PATH_STYLE", Aws, "true if AWS_ENDPOINT_URL[_S3] is set", "true, false", "path-style S3 addressing, for emulators");
    /// See [`Setting::meaning`].
    PROCESSING_QUEUE_URL = ("INTAKE_PROCESSING_QUEUE_URL", Aws, "none (reprocessing answers 501)", "a queue URL", "the processing queue, where the API asks for images to be processed again");
    /// See [`Setting::meaning`].
    EVENT_BUS = ("INTAKE_EVENT_BUS", Aws, "none (events are not published)", "a bus name or ARN", "the EventBridge bus the events function publishes to");
    /// See [`Setting::meaning`].
    FIELDS = ("INTAKE_FIELDS", Aws, "rules", "rules, textract-expense", "what reads a document's type and fields: the rule engine in the function, or Textract AnalyzeExpense (receipts and invoices only)");
    /// See [`Setting::meaning`].
    BATCH_CONCURRENCY = ("INTAKE_BATCH_CONCURRENCY", Aws, "1 per GiB of memory (1..10)", "a positive number", "messages of an SQS batch processed at once");
    /// See [`Setting::meaning`].
    RUST_LOG = ("RUST_LOG", Aws, "info", "levels, per target too", "the functions' log levels");
    /// See [`Setting::meaning`].
    FUNCTION_MEMORY = ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Aws, "set by Lambda", "MiB", "the function's memory (the batch concurrency's default)");
    /// See [`Setting::meaning`].
    IGNORE_STAGE_IN_PATH = ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", Aws, "unset", "set or unset", "lambda_http keeps a REST API's stage out of the path itself");
    /// See [`Setting::meaning`].
    API = ("INTAKE_API", Client, "http://127.0.0.1:8080", "a URL", "the API the intake command calls");
    /// See [`Setting::meaning`].
    AUTH = ("INTAKE_AUTH", Client, "jwt with a token, iam for an execute-api URL, else key", "iam, key, jwt", "how the intake command authenticates (iam: SigV4 with the usual AWS credentials)");
    /// See [`Setting::meaning`].
    TOKEN = ("INTAKE_TOKEN", Client, "none", "a JWT", "the bearer token the intake command sends with --auth jwt");
    /// See [`Setting::meaning`].
    API_KEY = ("INTAKE_API_KEY", Client, "the local admin key (localhost only)", "an API key", "the key the intake command sends");
    /// See [`Setting::meaning`].
    API_KEY_FILE = ("INTAKE_API_KEY_FILE", Client, "none", "a file", "a file holding the key the intake command sends");
}

/// The table as the README shows it (a Markdown table, one row a variable).
pub fn markdown() -> String {
    let mut out = String::from(
        "| variable | where | default | values | what it sets |\n|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            "(none)"
        } else {
            s.default
        };
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            s.name,
            s.applies.label(),
            default,
            s.values,
            s.meaning
        );
    }
    out
}
