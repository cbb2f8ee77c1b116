//! The OCR engines' names, one vocabulary for `INTAKE_OCR_ENGINE` (and `intake serve --ocr-engine`)
//! on every deployment: a name means the same engine everywhere, and each deployment says which of
//! them it offers.

use std::fmt;
use std::str::FromStr;

/// An OCR engine's name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum EngineName {
    /// PP-OCR on ONNX Runtime, in the process (local server, Lambda with the models layer).
    PpOcr,
    /// The `tesseract` command (local server).
    Tesseract,
    /// Amazon Rekognition `DetectText` (AWS).
    Rekognition,
    /// Amazon Textract `DetectDocumentText` (AWS).
    Textract,
    /// The deployment's choice among what it has (AWS: PP-OCR when its models are there, else
    /// Rekognition, escalating to Textract).
    Auto,
}

impl EngineName {
    /// Every name, in the order they are listed.
    pub const ALL: [Self; 5] = [
        Self::PpOcr,
        Self::Tesseract,
        Self::Rekognition,
        Self::Textract,
        Self::Auto,
    ];

    /// The name as written in settings.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PpOcr => "ppocr",
            Self::Tesseract => "tesseract",
            Self::Rekognition => "rekognition",
            Self::Textract => "textract",
            Self::Auto => "auto",
        }
    }
}

impl fmt::Display for EngineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no engine's, or an engine the deployment does not offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not an OCR engine {where_}: expected {expected}")]
pub struct UnknownEngine {
    /// What was given.
    pub given: String,
    /// Where it was asked for (`of Intake`, `on the local server`, `on AWS`).
    pub where_: &'static str,
    /// The names accepted there.
    pub expected: String,
}

impl UnknownEngine {
    /// `given` refused `where_`, which offers `offered`.
    pub fn new(given: impl Into<String>, where_: &'static str, offered: &[EngineName]) -> Self {
        Self {
            given: given.into(),
            where_,
            expected: offered
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl FromStr for EngineName {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == wanted)
            .ok_or_else(|| UnknownEngine::new(s.trim(), "of Intake", &Self::ALL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_unknown_ones_list_every_name() {
        assert_eq!("PPOCR".parse::<EngineName>(), Ok(EngineName::PpOcr));
        assert_eq!(" textract ".parse::<EngineName>(), Ok(EngineName::Textract));
        for engine in EngineName::ALL {
            assert_eq!(engine.as_str().parse::<EngineName>(), Ok(engine));
        }
        let error = "easyocr".parse::<EngineName>().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ppocr, tesseract, rekognition, textract, auto"),
            "{error}"
        );
    }
}
