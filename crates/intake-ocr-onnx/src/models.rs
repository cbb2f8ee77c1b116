//! The model files: where they live in the models directory, and their pinned SHA-256 (the same
//! `models.sha256` that `scripts/ocr-models.sh` checks when it installs them). A missing or altered
//! file is a start-up error that says how to install the right one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// The pinned SHA-256 of every file, as `scripts/ocr-models.sh` installs them.
const PINNED: &str = include_str!("../models.sha256");

/// How to install the files, for error messages.
pub(crate) const INSTALL_HINT: &str =
    "install them with scripts/ocr-models.sh (make run and make test do)";

/// A size of the PP-OCRv6 detection and recognition models.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[non_exhaustive]
pub enum ModelTier {
    /// PP-OCRv6 tiny: 1.8 MB detection, 4.5 MB recognition (6,904 characters).
    #[default]
    Tiny,
    /// Tiny detection with small recognition: the small tier's reading (the recogniser carries its
    /// gain; small detection adds little but costs about 2.7× tiny's) at a fraction of its cost.
    Balanced,
    /// PP-OCRv6 small: 9.9 MB detection, 21 MB recognition (18,708 characters); reads dense and
    /// small print better at several times the cost.
    Small,
}

impl ModelTier {
    /// Every tier.
    pub const ALL: [Self; 3] = [Self::Tiny, Self::Balanced, Self::Small];

    /// The tier's name (`tiny`, `balanced`, `small`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tiny => "tiny",
            Self::Balanced => "balanced",
            Self::Small => "small",
        }
    }

    /// The engine name records carry (`ppocr-v6-tiny`).
    pub fn engine_name(self) -> String {
        format!("ppocr-v6-{}", self.as_str())
    }

    /// The installed folder of the detection model.
    fn det_folder(self) -> &'static str {
        match self {
            Self::Tiny | Self::Balanced => "ppocr-v6-tiny",
            Self::Small => "ppocr-v6-small",
        }
    }

    /// The installed folder of the recognition model and its dictionary.
    fn rec_folder(self) -> &'static str {
        match self {
            Self::Tiny => "ppocr-v6-tiny",
            Self::Balanced | Self::Small => "ppocr-v6-small",
        }
    }
}

impl fmt::Display for ModelTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tier name that is not `tiny`, `balanced` or `small`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PP-OCR model tier {0:?} (expected tiny, balanced or small)")]
pub struct UnknownTier(pub String);

impl FromStr for ModelTier {
    type Err = UnknownTier;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tiny" => Ok(Self::Tiny),
            "balanced" => Ok(Self::Balanced),
            "small" => Ok(Self::Small),
            other => Err(UnknownTier(other.to_owned())),
        }
    }
}

/// Why the models could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file is not there.
    #[error("OCR model file {path} is missing; {hint}", hint = INSTALL_HINT)]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A file is there but is not the pinned one.
    #[error("OCR model file {path} has SHA-256 {actual}, not the pinned {expected}; {hint}", hint = INSTALL_HINT)]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Its SHA-256.
        actual: String,
        /// The pinned SHA-256.
        expected: String,
    },
    /// A file could not be read.
    #[error("cannot read OCR model file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The pinned SHA-256 of `relative` (a path inside the models directory).
pub(crate) fn pinned_sha256(relative: &str) -> Option<&'static str> {
    PINNED
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once("  "))
        .find(|(_, path)| path.trim() == relative)
        .map(|(sha, _)| sha.trim())
}

/// Reads `relative` from `dir` and checks it against its pinned SHA-256.
///
/// # Errors
/// [`ModelError::Missing`], [`ModelError::Mismatch`] or [`ModelError::Read`].
pub(crate) fn read_verified(dir: &Path, relative: &str) -> Result<Vec<u8>, ModelError> {
    let path = dir.join(relative);
    let bytes = std::fs::read(&path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ModelError::Missing { path: path.clone() }
        } else {
            ModelError::Read {
                path: path.clone(),
                source,
            }
        }
    })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    let expected = pinned_sha256(relative).unwrap_or_default();
    if actual != expected {
        return Err(ModelError::Mismatch {
            path,
            actual,
            expected: expected.to_owned(),
        });
    }
    Ok(bytes)
}

/// The relative paths of a tier's files: detection model, recognition model, dictionary.
pub(crate) fn tier_files(tier: ModelTier) -> [String; 3] {
    let (det, rec) = (tier.det_folder(), tier.rec_folder());
    [
        format!("{det}/det.onnx"),
        format!("{rec}/rec.onnx"),
        format!("{rec}/dict.txt"),
    ]
}

/// The line classifier (0° / 180°).
pub(crate) const CLS_FILE: &str = "ppocr-cls/cls.onnx";
/// The page classifier (0° / 90° / 180° / 270°).
pub(crate) const ORIENTATION_FILE: &str = "ppocr-orientation/orientation.onnx";

/// The ONNX Runtime library for this machine, relative to the models directory.
pub(crate) fn runtime_library() -> String {
    format!(
        "onnxruntime/linux-{}/libonnxruntime.so",
        std::env::consts::ARCH
    )
}

/// The default models directory: `$INTAKE_MODELS_DIR`, else `~/.local/share/intake/models` (where
/// `scripts/ocr-models.sh` installs them), else `models` in the working directory.
pub fn default_models_dir() -> PathBuf {
    if let Some(dir) =
        std::env::var_os(intake_settings::table::MODELS_DIR.name).filter(|d| !d.is_empty())
    {
        return PathBuf::from(dir);
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map_or_else(
            || PathBuf::from("models"),
            |home| PathBuf::from(home).join(".local/share/intake/models"),
        )
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_engine_reads_is_pinned() {
        for tier in ModelTier::ALL {
            for f in tier_files(tier) {
                assert!(pinned_sha256(&f).is_some_and(|s| s.len() == 64), "{f}");
            }
        }
        assert!(pinned_sha256(CLS_FILE).is_some());
        assert!(pinned_sha256(ORIENTATION_FILE).is_some());
        assert!(pinned_sha256("onnxruntime/linux-x86_64/libonnxruntime.so").is_some());
        assert!(pinned_sha256("onnxruntime/linux-aarch64/libonnxruntime.so").is_some());
        assert!(pinned_sha256("nothing").is_none());
    }

    #[test]
    fn tiers_parse_and_name_the_engine() {
        assert_eq!("Small".parse::<ModelTier>().unwrap(), ModelTier::Small);
        assert!("huge".parse::<ModelTier>().is_err());
        assert_eq!(ModelTier::Tiny.engine_name(), "ppocr-v6-tiny");
        assert_eq!(
            " balanced".parse::<ModelTier>().unwrap(),
            ModelTier::Balanced
        );
        assert_eq!(ModelTier::Balanced.engine_name(), "ppocr-v6-balanced");
        for tier in ModelTier::ALL {
            assert_eq!(tier.as_str().parse::<ModelTier>().unwrap(), tier);
        }
    }

    #[test]
    fn balanced_pairs_tiny_detection_with_small_recognition() {
        assert_eq!(
            tier_files(ModelTier::Balanced),
            [
                "ppocr-v6-tiny/det.onnx".to_owned(),
                "ppocr-v6-small/rec.onnx".to_owned(),
                "ppocr-v6-small/dict.txt".to_owned(),
            ]
        );
        assert_eq!(
            tier_files(ModelTier::Small)[0],
            "ppocr-v6-small/det.onnx".to_owned()
        );
        assert_eq!(tier_files(ModelTier::Tiny)[1], "ppocr-v6-tiny/rec.onnx");
    }

    #[test]
    fn missing_and_altered_files_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_verified(dir.path(), CLS_FILE).unwrap_err();
        assert!(matches!(err, ModelError::Missing { .. }));
        assert!(err.to_string().contains("scripts/ocr-models.sh"));
        std::fs::create_dir_all(dir.path().join("ppocr-cls")).unwrap();
        std::fs::write(dir.path().join(CLS_FILE), b"not a model").unwrap();
        let err = read_verified(dir.path(), CLS_FILE).unwrap_err();
        assert!(matches!(err, ModelError::Mismatch { .. }), "{err}");
    }
}
