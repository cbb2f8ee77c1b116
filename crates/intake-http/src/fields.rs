//! `GET /images/{imageId}/fields`: the document's type and fields with the boxes they were read
//! from, and the views of fields the image's detail shares.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use intake_domain::Intake;
use intake_domain::model::{
    DocumentType, Field, FieldWarning, ImageId, ImageRecord, LineItem, PageSummary,
};
use serde::Serialize;

use crate::ApiError;
use crate::auth::Caller;
use crate::extract::Id;
use crate::views::BoxView;

/// The path of an image's fields.
pub(crate) const FIELDS_PATH: &str = "/images/{imageId}/fields";

/// `GET /images/{imageId}/fields`: what was read, or `read: false` (and no type) while nothing was.
pub(crate) async fn image_fields(
    State(intake): State<Intake>,
    caller: Caller,
    Id(id): Id<ImageId>,
) -> Result<Response, ApiError> {
    let record = intake.image_fields(&caller.owner, id).await?;
    Ok(Json(FieldsView::of(&record)).into_response())
}

/// The body of `GET /images/{imageId}/fields`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldsView<'a> {
    image_id: ImageId,
    /// Whether the fields were read (false: not processed yet, no extractor, or it failed).
    read: bool,
    document_type: Option<DocumentTypeView>,
    extractor: Option<&'a str>,
    fields: Vec<FieldView<'a>>,
    line_items: Vec<LineItemView<'a>>,
    pages: Vec<PageView>,
}

impl<'a> FieldsView<'a> {
    fn of(record: &'a ImageRecord) -> Self {
        Self {
            image_id: record.image_id(),
            read: record.document_type().is_some(),
            document_type: record.document_type().map(DocumentTypeView::of),
            extractor: record.fields_extractor(),
            fields: record.fields().iter().map(FieldView::of).collect(),
            line_items: record.line_items().iter().map(LineItemView::of).collect(),
            pages: record
                .pages()
                .unwrap_or_default()
                .iter()
                .map(PageView::of)
                .collect(),
        }
    }
}

/// A page's size, for drawing the boxes (relative to it) on its picture.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PageView {
    page: u32,
    width_px: Option<u32>,
    height_px: Option<u32>,
}

impl PageView {
    fn of(page: &PageSummary) -> Self {
        Self {
            page: page.page.get(),
            width_px: page.width_px,
            height_px: page.height_px,
        }
    }
}

/// A document's kind and the extractor's confidence in it.
#[derive(Debug, Serialize)]
pub(crate) struct DocumentTypeView {
    #[serde(rename = "type")]
    kind: &'static str,
    confidence: f32,
}

impl DocumentTypeView {
    pub(crate) fn of(t: DocumentType) -> Self {
        Self {
            kind: t.kind.name(),
            confidence: t.confidence,
        }
    }
}

/// One field as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FieldView<'a> {
    #[serde(rename = "type")]
    field_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
    confidence: f32,
    page: u32,
    #[serde(rename = "box")]
    bounding_box: BoxView,
    warnings: Vec<WarningView<'a>>,
}

impl<'a> FieldView<'a> {
    pub(crate) fn of(field: &'a Field) -> Self {
        Self {
            field_type: field.field_type.name(),
            label: field.label.as_deref(),
            value: &field.value,
            normalized: field.normalized.as_deref(),
            currency: field.currency.as_deref(),
            confidence: field.confidence,
            page: field.page.get(),
            bounding_box: BoxView::of(&field.bounding_box),
            warnings: field.warnings.iter().filter_map(WarningView::of).collect(),
        }
    }
}

/// Why a field's value is in doubt.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WarningView<'a> {
    /// `UNREADABLE`, `WORDS_DISAGREE`, `PARTS_DISAGREE`, `LINE_ITEMS_DISAGREE`.
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    figures: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    words: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<&'a str>,
}

impl<'a> WarningView<'a> {
    fn of(warning: &'a FieldWarning) -> Option<Self> {
        let bare = |code| Self {
            code,
            figures: None,
            words: None,
            expected: None,
            sum: None,
        };
        Some(match warning {
            FieldWarning::Unreadable => bare("UNREADABLE"),
            FieldWarning::WordsDisagree { figures, words } => Self {
                figures: Some(figures),
                words: Some(words),
                ..bare("WORDS_DISAGREE")
            },
            FieldWarning::PartsDisagree { expected } => Self {
                expected: Some(expected),
                ..bare("PARTS_DISAGREE")
            },
            FieldWarning::LineItemsDisagree { sum } => Self {
                sum: Some(sum),
                ..bare("LINE_ITEMS_DISAGREE")
            },
            _ => return None,
        })
    }
}

/// One item row: its cells.
#[derive(Debug, Serialize)]
pub(crate) struct LineItemView<'a> {
    fields: Vec<FieldView<'a>>,
}

impl<'a> LineItemView<'a> {
    pub(crate) fn of(item: &'a LineItem) -> Self {
        Self {
            fields: item.fields.iter().map(FieldView::of).collect(),
        }
    }
}
