use std::fmt;
use std::fmt::Write as _;

/// A client's file name made safe to use as the last segment of an object key and in a
/// `Content-Disposition` header.
///
/// [`FileName::sanitize`] keeps only the last path component, removes control characters, Unicode
/// direction and invisible formatting marks, and the characters reserved on common file systems
/// (`< > : " / \ | ? *`), trims spaces and dots from both ends, renames reserved device names
/// (`CON`, `NUL`, ...), and cuts the result to 255 bytes at a character boundary, keeping the extension.
/// Sanitizing is idempotent, and the result is never empty.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileName(String);

/// Why a file name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileNameError {
    /// Nothing usable is left once unsafe characters and path components are removed.
    #[error("file name is empty once unsafe characters are removed")]
    Empty,
    /// The name is not in sanitized form (returned by [`FileName::parse`] only).
    #[error("file name is not in its safe form")]
    NotSanitized,
}

/// The longest file name, in bytes (the common file-system limit).
pub const MAX_FILE_NAME_BYTES: usize = 255;

const RESERVED: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];
const DEVICE_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}')
}

impl FileName {
    /// Makes a client-supplied name safe (see the type's documentation).
    ///
    /// # Errors
    /// [`FileNameError::Empty`] when nothing usable remains (`""`, `"../"`, `"\u{202e}"`).
    pub fn sanitize(raw: &str) -> Result<Self, FileNameError> {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last
            .chars()
            .filter(|&c| !c.is_control() && !is_invisible_format(c) && !RESERVED.contains(&c))
            .collect();
        let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
        if trimmed.is_empty() {
            return Err(FileNameError::Empty);
        }
        let mut name = trimmed.to_owned();
        let stem = name.split('.').next().unwrap_or_default();
        if DEVICE_NAMES
            .iter()
            .any(|d| d.eq_ignore_ascii_case(stem.trim_end()))
        {
            name.insert(0, '_');
        }
        let name = truncate_keeping_extension(&name);
        Ok(Self(name))
    }

    /// Accepts a name only if it is already in sanitized form, e.g. when reading it back from a key.
    ///
    /// # Errors
    /// [`FileNameError`] when the name is empty or would change under sanitizing.
    pub fn parse(text: &str) -> Result<Self, FileNameError> {
        let sanitized = Self::sanitize(text)?;
        if sanitized.0 == text {
            Ok(sanitized)
        } else {
            Err(FileNameError::NotSanitized)
        }
    }

    /// Accepts a name read back from storage: non-empty, at most 255 bytes, no path separator and no
    /// control character. Deliberately looser than [`FileName::parse`], so records written before a
    /// change to the sanitizing rules stay readable.
    ///
    /// # Errors
    /// [`FileNameError`] when the name could not have been written by any version of Intake.
    pub fn from_stored(text: &str) -> Result<Self, FileNameError> {
        if text.is_empty() {
            return Err(FileNameError::Empty);
        }
        if text.len() > MAX_FILE_NAME_BYTES
            || text.contains(['/', '\\'])
            || text.chars().any(char::is_control)
        {
            return Err(FileNameError::NotSanitized);
        }
        Ok(Self(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How a download of this file names it: `Content-Disposition: attachment` with an ASCII
    /// fallback and the exact UTF-8 name (RFC 6266, RFC 8187). One rule for every way a file is
    /// downloaded: S3's presigned responses, the local store's, and exports.
    pub fn content_disposition(&self) -> String {
        let fallback: String = self
            .0
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut encoded = String::with_capacity(self.0.len());
        for b in self.0.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                let _ = write!(encoded, "%{b:02X}");
            }
        }
        format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
    }

    /// The extension after the last dot, if any.
    pub fn extension(&self) -> Option<&str> {
        self.0
            .rsplit_once('.')
            .map(|(_, ext)| ext)
            .filter(|ext| !ext.is_empty())
    }
}

fn truncate_keeping_extension(name: &str) -> String {
    if name.len() <= MAX_FILE_NAME_BYTES {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (name, None),
    };
    let budget = MAX_FILE_NAME_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut cut = budget.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    match ext {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_owned(),
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileName({:?})", self.0)
    }
}

crate::text_serde!(FileName, FileName::from_stored);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(raw: &str) -> String {
        FileName::sanitize(raw).unwrap().as_str().to_owned()
    }

    #[test]
    fn strips_paths_controls_reserved_and_direction_marks() {
        assert_eq!(s("../../etc/passwd"), "passwd");
        assert_eq!(s("C:\\Users\\me\\cheque.png"), "cheque.png");
        assert_eq!(s("a\u{0}b\nc.png"), "abc.png");
        assert_eq!(s("in<voi>ce?*.png"), "invoice.png");
        assert_eq!(s("photo\u{202e}gnp.exe"), "photognp.exe");
        assert_eq!(s("  .hidden. "), "hidden");
        assert_eq!(s("Happy Face+#1 é😀.jpg"), "Happy Face+#1 é😀.jpg");
        assert_eq!(s("nul.png"), "_nul.png");
        assert_eq!(s("a\u{2028}b\u{E0041}.png"), "ab.png");
    }

    #[test]
    fn never_empty() {
        for raw in ["", "   ", "../", "..", "/", "\u{202e}", "???", "a/"] {
            assert_eq!(
                FileName::sanitize(raw),
                Err(FileNameError::Empty),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn long_names_are_cut_at_a_char_boundary_keeping_the_extension() {
        let long = format!("{}.png", "é".repeat(200));
        let name = s(&long);
        assert!(name.len() <= MAX_FILE_NAME_BYTES);
        assert_eq!(name.rsplit_once('.').map(|(_, e)| e), Some("png"));
        assert_eq!(s(&"a".repeat(300)).len(), 255);
    }

    #[test]
    fn stored_names_are_read_back_leniently_but_never_with_separators() {
        assert!(FileName::from_stored("written by an older version\u{2028}.png").is_ok());
        assert!(FileName::from_stored("a/b.png").is_err());
        assert!(FileName::from_stored("").is_err());
        assert!(FileName::from_stored("a\u{0}b").is_err());
    }

    #[test]
    fn parse_accepts_only_sanitized_names() {
        assert!(FileName::parse("scan 1.png").is_ok());
        assert_eq!(FileName::parse("a/b.png"), Err(FileNameError::NotSanitized));
    }

    proptest! {
        #[test]
        fn sanitized_names_are_safe_and_sanitizing_is_idempotent(raw in "\\PC{0,300}") {
            if let Ok(name) = FileName::sanitize(&raw) {
                let text = name.as_str();
                prop_assert!(!text.is_empty());
                prop_assert!(text.len() <= MAX_FILE_NAME_BYTES);
                prop_assert!(!text.chars().any(|c| c.is_control() || RESERVED.contains(&c) || is_invisible_format(c)));
                prop_assert!(text != "." && text != "..");
                prop_assert_eq!(FileName::sanitize(text).unwrap(), name.clone());
                prop_assert!(FileName::parse(text).is_ok());
            }
        }
    }

    #[test]
    fn content_disposition_has_a_safe_fallback_and_the_exact_name() {
        let name = FileName::sanitize("Chèque front 😀.png").unwrap();
        let cd = name.content_disposition();
        assert!(
            cd.starts_with("attachment; filename=\"Ch_que front _.png\"; "),
            "{cd}"
        );
        assert!(
            cd.ends_with("filename*=UTF-8''Ch%C3%A8que%20front%20%F0%9F%98%80.png"),
            "{cd}"
        );
        // names read back from older records may hold characters today's sanitizer removes
        let quoted = FileName::from_stored("a\"b.png")
            .unwrap()
            .content_disposition();
        assert!(
            quoted.starts_with("attachment; filename=\"a_b.png\"; "),
            "{quoted}"
        );
    }
}
