//! Which extractor reads a document's type and fields on AWS (`INTAKE_FIELDS`).

use std::fmt;
use std::str::FromStr;

/// What reads a document's type and fields in the processor. AnalyzeExpense reads receipts and
/// invoices only, so cheques and forms stay with the rules; the deployment chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FieldsChoice {
    /// The layout-aware rule engine in the function (`intake-fields`): every kind of document,
    /// no per-page charge.
    #[default]
    Rules,
    /// Textract AnalyzeExpense ([`crate::TextractExpense`]): receipts and invoices, one page.
    TextractExpense,
}

impl FieldsChoice {
    /// Every choice, as `INTAKE_FIELDS` names them.
    pub const ALL: [Self; 2] = [Self::Rules, Self::TextractExpense];

    /// The choice's name in `INTAKE_FIELDS` and in records (`rules`, `textract-expense`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rules => "rules",
            Self::TextractExpense => "textract-expense",
        }
    }
}

/// `INTAKE_FIELDS` names no extractor the AWS deployment offers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected rules or textract-expense")]
pub struct UnknownFields;

impl FromStr for FieldsChoice {
    type Err = UnknownFields;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or(UnknownFields)
    }
}

impl fmt::Display for FieldsChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for choice in FieldsChoice::ALL {
            assert_eq!(choice.to_string().parse::<FieldsChoice>(), Ok(choice));
        }
        assert_eq!(
            " Textract-Expense ".parse(),
            Ok(FieldsChoice::TextractExpense)
        );
        assert_eq!("textract".parse::<FieldsChoice>(), Err(UnknownFields));
        assert_eq!(FieldsChoice::default(), FieldsChoice::Rules);
    }

    #[test]
    fn the_settings_read_intake_fields_with_rules_by_default() {
        let read = |fields: Option<&str>| {
            crate::AwsSettings::from_lookup(&|name| match name {
                "INTAKE_BUCKET" => Some("b".into()),
                "INTAKE_TABLE" => Some("t".into()),
                "INTAKE_FIELDS" => fields.map(str::to_owned),
                _ => None,
            })
        };
        assert_eq!(read(None).unwrap().fields, FieldsChoice::Rules);
        assert_eq!(
            read(Some("textract-expense")).unwrap().fields,
            FieldsChoice::TextractExpense
        );
        let error = read(Some("textract")).unwrap_err().to_string();
        assert!(error.contains("INTAKE_FIELDS"), "{error}");
    }
}
