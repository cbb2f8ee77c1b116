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

/// One deployment's choice of engine: the engines it offers, each by its [`EngineName`], parsed and
/// refused the same way on every deployment.
pub trait OfferedEngines: Copy + 'static {
    /// Where the choice is made, as an error says it (`on the local server`, `on AWS`).
    const WHERE: &'static str;
    /// Every engine the deployment offers, in the order errors list them.
    const OFFERED: &'static [Self];

    /// The engine's name.
    fn name(self) -> EngineName;

    /// The offered engine `text` names, in any case.
    ///
    /// # Errors
    /// [`UnknownEngine`] naming the offered engines, for a name of no engine or of one the
    /// deployment does not offer.
    fn parse_offered(text: &str) -> Result<Self, UnknownEngine> {
        text.parse::<EngineName>()
            .ok()
            .and_then(|name| Self::OFFERED.iter().copied().find(|e| e.name() == name))
            .ok_or_else(|| {
                let offered: Vec<EngineName> = Self::OFFERED.iter().map(|e| e.name()).collect();
                UnknownEngine::new(text.trim(), Self::WHERE, &offered)
            })
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

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Local {
        Tesseract,
        PpOcr,
    }

    impl OfferedEngines for Local {
        const WHERE: &'static str = "here";
        const OFFERED: &'static [Self] = &[Self::Tesseract, Self::PpOcr];
        fn name(self) -> EngineName {
            match self {
                Self::Tesseract => EngineName::Tesseract,
                Self::PpOcr => EngineName::PpOcr,
            }
        }
    }

    #[test]
    fn a_deployment_takes_its_own_engines_and_names_them_when_refusing_others() {
        assert_eq!(Local::parse_offered(" PPOCR"), Ok(Local::PpOcr));
        assert_eq!(Local::parse_offered("tesseract"), Ok(Local::Tesseract));
        for other in ["textract", "easyocr"] {
            let error = Local::parse_offered(other).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("{other:?} is not an OCR engine here: expected tesseract, ppocr")
            );
        }
    }

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
