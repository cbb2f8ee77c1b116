//! Document fields (issue 28): `intake fields` lists the fields read from every image of a listing
//! (filtered as `GET /images` filters: status, document type, fields, words), as a table or as CSV
//! with one row per field, and `intake show` prints an image's document type and fields.

use std::process::ExitCode;

use clap::Args;
use clap::builder::PossibleValuesParser;
use futures::{StreamExt as _, TryStreamExt as _};
use intake_domain::model::DocumentKind;
use serde::Serialize;

use crate::client::{Api, ClientError};
use crate::output::table;
use crate::paging::Paging;
use crate::views::{DocumentTypeView, FieldView, FieldWarningView, FieldsView, ImageView};
use crate::{ApiArgs, output};

/// How many images' fields are asked for at once.
const PARALLEL: usize = 4;

#[derive(Debug, Args)]
pub(crate) struct FieldsArgs {
    /// Only images in this status (AWAITING_UPLOAD, PROCESSING, PROCESSED, REJECTED or FAILED).
    #[arg(long)]
    status: Option<String>,
    /// Only documents of this kind.
    #[arg(long, value_parser = PossibleValuesParser::new(DocumentKind::ALL.map(DocumentKind::name)))]
    document_type: Option<String>,
    /// Only images with a field of this type whose normalised value is VALUE (TOTAL:31.00,
    /// INVOICE_RECEIPT_DATE:2026-11-25); repeat it and every one must match.
    #[arg(long = "field", value_name = "TYPE:VALUE")]
    fields: Vec<String>,
    /// Only images whose words match (as `intake search`), best match first.
    #[arg(short = 'q', long = "query", value_name = "WORDS")]
    query: Option<String>,
    #[command(flatten)]
    paging: Paging,
    /// Write CSV to standard output: a header, then one row per field of every listed image (line
    /// item cells with their row's number). Text a spreadsheet would run as a formula (`=`, `+`,
    /// `-`, `@`, but not a number) is written with a leading `'`.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    #[command(flatten)]
    api: ApiArgs,
}

impl FieldsArgs {
    /// The listing's filters.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        let optional = [
            ("status", &self.status),
            ("documentType", &self.document_type),
            ("q", &self.query),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                query.push((name, value.clone()));
            }
        }
        query.extend(self.fields.iter().map(|f| ("field", f.clone())));
        query
    }
}

/// One field of one image, as a row of the listing.
pub(crate) struct Row<'a> {
    image_id: &'a str,
    file_name: &'a str,
    document_type: Option<&'a DocumentTypeView>,
    /// The line item's number (from 1) for a line item's cell, `None` for a summary field.
    line_item: Option<usize>,
    field: &'a FieldView,
}

/// The CSV's header.
pub(crate) const CSV_HEADER: [&str; 16] = [
    "image_id",
    "file_name",
    "document_type",
    "line_item",
    "page",
    "type",
    "label",
    "value",
    "normalized",
    "currency",
    "confidence",
    "box_left",
    "box_top",
    "box_width",
    "box_height",
    "warnings",
];

/// The table's header for `intake fields`.
const TABLE_HEADER: [&str; 8] = [
    "IMAGE",
    "DOCUMENT",
    "PAGE",
    "FIELD",
    "VALUE",
    "NORMALIZED",
    "CONF",
    "WARNINGS",
];

/// The table's header for `intake show`.
const SHOW_HEADER: [&str; 6] = ["FIELD", "VALUE", "NORMALIZED", "CONF", "PAGE", "WARNINGS"];

/// The rows of an image: its summary fields in the order read, then its line items' cells, row by
/// row.
pub(crate) fn rows<'a>(
    image_id: &'a str,
    file_name: &'a str,
    document_type: Option<&'a DocumentTypeView>,
    fields: &'a [FieldView],
    line_items: &'a [crate::views::LineItemView],
) -> Vec<Row<'a>> {
    let row = |line_item, field| Row {
        image_id,
        file_name,
        document_type,
        line_item,
        field,
    };
    fields
        .iter()
        .map(|f| row(None, f))
        .chain(line_items.iter().enumerate().flat_map(|(i, item)| {
            item.fields
                .iter()
                .flatten()
                .map(move |f| row(Some(i + 1), f))
        }))
        .collect()
}

/// A number as the API gave it, or nothing.
fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A warning for people and spreadsheets: its code, then what it names (`WORDS_DISAGREE(figures
/// 1250.00, words 1200.00)`).
pub(crate) fn warning_text(warning: &FieldWarningView) -> String {
    let code = warning.code.as_deref().unwrap_or("warning");
    let named: Vec<String> = warning
        .unread
        .iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => format!("{name} {text}"),
            other => format!("{name} {other}"),
        })
        .collect();
    if named.is_empty() {
        code.to_owned()
    } else {
        format!("{code}({})", named.join(", "))
    }
}

/// A field's warnings on one line.
fn warnings(field: &FieldView) -> String {
    field
        .warnings
        .iter()
        .flatten()
        .map(warning_text)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A cell a spreadsheet would run as a formula gets a leading `'`; numbers (`-3.50`) stay as they
/// are.
fn inert(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

impl Row<'_> {
    /// The row's CSV cells, in [`CSV_HEADER`]'s order.
    pub(crate) fn csv(&self) -> Vec<String> {
        let f = self.field;
        let b = f.bounding_box.as_ref();
        let side = |pick: fn(&crate::views::BoundingBox) -> Option<f64>| number(b.and_then(pick));
        vec![
            self.image_id.to_owned(),
            self.file_name.to_owned(),
            self.document_type
                .and_then(|d| d.kind.clone())
                .unwrap_or_default(),
            self.line_item.map(|i| i.to_string()).unwrap_or_default(),
            f.page.map(|p| p.to_string()).unwrap_or_default(),
            f.field_type.clone().unwrap_or_default(),
            f.label.clone().unwrap_or_default(),
            f.value.clone().unwrap_or_default(),
            f.normalized.clone().unwrap_or_default(),
            f.currency.clone().unwrap_or_default(),
            number(f.confidence),
            side(|b| b.left),
            side(|b| b.top),
            side(|b| b.width),
            side(|b| b.height),
            warnings(f),
        ]
        .into_iter()
        .map(inert)
        .collect()
    }

    /// What the field is: its type, its line item's number, its printed label (unless it only
    /// says the type again, as `SUB TOTAL` does).
    fn name(&self) -> String {
        let f = self.field;
        let kind = output::field(f.field_type.as_deref());
        let mut name = kind.to_owned();
        if let Some(i) = self.line_item {
            name = format!("{name} #{i}");
        }
        let letters = |text: &str| -> String {
            text.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect()
        };
        if let Some(label) = f
            .label
            .as_deref()
            .filter(|l| !l.is_empty() && letters(l) != letters(kind))
        {
            name = format!("{name} ({})", one_line(label));
        }
        name
    }

    /// The normalised value with its currency.
    fn normalized(&self) -> String {
        let f = self.field;
        match (&f.normalized, &f.currency) {
            (Some(value), Some(currency)) => format!("{} {currency}", one_line(value)),
            (Some(value), None) => one_line(value),
            (None, _) => "-".to_owned(),
        }
    }

    /// The row's cells for `intake fields`' table.
    pub(crate) fn listed(&self) -> Vec<String> {
        vec![
            self.image_id.to_owned(),
            document_type(self.document_type),
            self.field
                .page
                .map_or_else(|| "-".into(), |p| p.to_string()),
            self.name(),
            one_line(output::field(self.field.value.as_deref())),
            self.normalized(),
            percent(self.field.confidence),
            warnings(self.field),
        ]
    }

    /// The row's cells for `intake show`'s table.
    pub(crate) fn shown(&self) -> Vec<String> {
        vec![
            self.name(),
            one_line(output::field(self.field.value.as_deref())),
            self.normalized(),
            percent(self.field.confidence),
            self.field
                .page
                .map_or_else(|| "-".into(), |p| p.to_string()),
            warnings(self.field),
        ]
    }
}

/// A value on one line of a table: an address's lines joined by ` / `.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A confidence in `0..=1` as `93%`, or `-`.
fn percent(confidence: Option<f64>) -> String {
    confidence.map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", c * 100.0))
}

/// A document type as `receipt (92%)`, or `-`.
pub(crate) fn document_type(document_type: Option<&DocumentTypeView>) -> String {
    match document_type {
        Some(DocumentTypeView {
            kind: Some(kind),
            confidence,
            ..
        }) => match confidence {
            Some(c) => format!("{kind} ({})", percent(Some(*c))),
            None => kind.clone(),
        },
        _ => "-".to_owned(),
    }
}

/// The document type `intake show` prints among an image's facts, once fields were read.
pub(crate) fn document_fact(record: &ImageView) -> Option<String> {
    record
        .document_type
        .as_ref()
        .map(|d| document_type(Some(d)))
}

/// Prints what `intake show` says of an image's fields: a table of its fields and line items;
/// nothing for an image none were read from.
pub(crate) fn show(record: &ImageView) {
    let id = record.image_id.as_deref().unwrap_or_default();
    let fields = record.fields.as_deref().unwrap_or_default();
    let items = record.line_items.as_deref().unwrap_or_default();
    let rows = rows(id, "", record.document_type.as_ref(), fields, items);
    if rows.is_empty() {
        return;
    }
    println!(
        "\n{} field(s) read (`intake fields --csv` exports them):",
        rows.len()
    );
    let cells: Vec<Vec<String>> = rows.iter().map(Row::shown).collect();
    table(&SHOW_HEADER, &cells);
}

/// What `fields --json` prints: the fields of each listed image whose fields were read, as the API
/// gave them, and the cursor of the next page (`null` when there is none).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    images: &'a [FieldsView],
    next_cursor: Option<&'a str>,
}

/// The fields of each image whose fields were read (the listing gives its document type), in the
/// listing's order; an image deleted since it was listed has none.
async fn fields_of(api: &Api, images: &[ImageView]) -> Result<Vec<FieldsView>, ClientError> {
    let ids = images
        .iter()
        .filter(|i| i.document_type.is_some())
        .filter_map(|i| i.image_id.clone());
    let answers: Vec<Option<FieldsView>> = futures::stream::iter(ids)
        .map(|id| async move {
            match api
                .get_segments::<FieldsView>(&["images", &id, "fields"], &[])
                .await
            {
                Ok(answer) => Ok(Some(answer)),
                Err(ClientError::Api { status: 404, .. }) => Ok(None),
                Err(error) => Err(error),
            }
        })
        .buffered(PARALLEL)
        .try_collect()
        .await?;
    Ok(answers.into_iter().flatten().collect())
}

/// Writes the rows as CSV, a header first.
fn write_csv(rows: &[Row<'_>], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for row in rows {
        writer.write_record(row.csv())?;
    }
    writer.flush()?;
    Ok(())
}

pub(crate) async fn fields(args: FieldsArgs) -> Result<ExitCode, ClientError> {
    let api = args.api.client()?;
    let (images, next) = args.paging.images(&api, &args.query()).await?;
    let answers = fields_of(&api, &images).await?;
    if args.api.json {
        output::json(&Listed {
            images: &answers,
            next_cursor: next.as_deref(),
        });
        return Ok(ExitCode::SUCCESS);
    }
    let names: std::collections::HashMap<&str, &str> = images
        .iter()
        .filter_map(|i| Some((i.image_id.as_deref()?, i.file_name.as_deref()?)))
        .collect();
    let rows: Vec<Row<'_>> = answers
        .iter()
        .flat_map(|answer| {
            let id = answer.image_id.as_deref().unwrap_or_default();
            rows(
                id,
                names.get(id).copied().unwrap_or_default(),
                answer.document_type.as_ref(),
                answer.fields.as_deref().unwrap_or_default(),
                answer.line_items.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    if args.csv {
        write_csv(&rows, std::io::stdout().lock()).map_err(|e| ClientError::File {
            path: "standard output".into(),
            source: e.into(),
        })?;
    } else if rows.is_empty() {
        eprintln!(
            "no fields were read from the {} image(s) listed",
            images.len()
        );
    } else {
        let cells: Vec<Vec<String>> = rows.iter().map(Row::listed).collect();
        table(&TABLE_HEADER, &cells);
    }
    if let Some(next) = next {
        eprintln!("more: add --cursor {next} (or --all)");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> FieldsView {
        serde_json::from_value(serde_json::json!({
            "imageId": "019b76da-a800-7000-8000-000000000002",
            "documentType": {"type": "cheque", "confidence": 0.9},
            "extractor": "rules",
            "fields": [
                {"type": "AMOUNT", "label": "$", "value": "$1,250.00", "normalized": "1250.00",
                 "currency": "$", "confidence": 0.93, "page": 1,
                 "box": {"left": 0.7, "top": 0.25, "width": 0.2, "height": 0.05},
                 "warnings": [{"code": "WORDS_DISAGREE", "figures": "1250.00", "words": "1200.00"}]},
                {"type": "PAYEE", "value": "=HYPERLINK(\"x\")", "confidence": 0.8, "page": 1,
                 "box": {"left": 0.1, "top": 0.2, "width": 0.4, "height": 0.05}}
            ],
            "lineItems": [{"fields": [
                {"type": "PRICE", "value": "-3.50", "normalized": "-3.50", "confidence": 0.5,
                 "page": 2, "box": {"left": 0.5, "top": 0.5, "width": 0.1, "height": 0.02}}
            ]}],
            "pages": [{"page": 1, "widthPx": 1200, "heightPx": 600}],
            "read": true
        }))
        .unwrap()
    }

    fn rows_of(answer: &FieldsView) -> Vec<Row<'_>> {
        rows(
            answer.image_id.as_deref().unwrap(),
            "cheque.png",
            answer.document_type.as_ref(),
            answer.fields.as_deref().unwrap(),
            answer.line_items.as_deref().unwrap(),
        )
    }

    #[test]
    fn a_csv_row_per_field_and_line_item_cell() {
        let answer = answer();
        let mut out = Vec::new();
        write_csv(&rows_of(&answer), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "image_id,file_name,document_type,line_item,page,type,label,value,normalized,currency,confidence,box_left,box_top,box_width,box_height,warnings",
                "019b76da-a800-7000-8000-000000000002,cheque.png,cheque,,1,AMOUNT,$,\"$1,250.00\",1250.00,$,0.93,0.7,0.25,0.2,0.05,\"WORDS_DISAGREE(figures 1250.00, words 1200.00)\"",
                // A value that would be a formula in a spreadsheet is made inert.
                "019b76da-a800-7000-8000-000000000002,cheque.png,cheque,,1,PAYEE,,\"'=HYPERLINK(\"\"x\"\")\",,,0.8,0.1,0.2,0.4,0.05,",
                // A negative amount stays a number; the cell is in line item 1, on page 2.
                "019b76da-a800-7000-8000-000000000002,cheque.png,cheque,1,2,PRICE,,-3.50,-3.50,,0.5,0.5,0.5,0.1,0.02,",
            ]
        );
        // Read back by a CSV reader, every row has the header's columns.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            assert_eq!(record.unwrap().len(), CSV_HEADER.len());
        }
    }

    #[test]
    fn tables_name_the_field_its_row_and_label_and_mark_warnings() {
        let answer = answer();
        let rows = rows_of(&answer);
        assert_eq!(
            rows[0].shown(),
            [
                "AMOUNT ($)",
                "$1,250.00",
                "1250.00 $",
                "93%",
                "1",
                "WORDS_DISAGREE(figures 1250.00, words 1200.00)"
            ]
        );
        assert_eq!(
            rows[2].listed(),
            [
                "019b76da-a800-7000-8000-000000000002",
                "cheque (90%)",
                "2",
                "PRICE #1",
                "-3.50",
                "-3.50",
                "50%",
                ""
            ]
        );
        assert_eq!(document_type(None), "-");
        // A value of several lines stays on one; a label that only says the type is left out.
        let address: FieldView = serde_json::from_value(serde_json::json!({
            "type": "VENDOR_ADDRESS", "label": "Address", "value": "8 Jalan Hang Tuah\n75300 Melaka",
            "normalized": "8 Jalan Hang Tuah 75300 Melaka", "confidence": 0.75, "page": 1
        }))
        .unwrap();
        let subtotal: FieldView = serde_json::from_value(serde_json::json!({
            "type": "SUBTOTAL", "label": "SUB TOTAL", "value": "101.70", "confidence": 0.95, "page": 1
        }))
        .unwrap();
        let both = [address, subtotal];
        let lined = super::rows("x", "", None, &both, &[]);
        assert_eq!(
            lined[0].shown()[..2],
            [
                "VENDOR_ADDRESS (Address)",
                "8 Jalan Hang Tuah / 75300 Melaka"
            ]
        );
        assert_eq!(lined[1].shown()[0], "SUBTOTAL");
    }

    #[test]
    fn an_answer_without_fields_has_no_rows_and_unknown_warnings_still_read() {
        let empty: FieldsView = serde_json::from_value(serde_json::json!({
            "imageId": "019b76da-a800-7000-8000-000000000003",
            "documentType": null, "fields": [], "lineItems": [], "read": false
        }))
        .unwrap();
        assert!(
            rows(
                "x",
                "",
                empty.document_type.as_ref(),
                empty.fields.as_deref().unwrap(),
                empty.line_items.as_deref().unwrap()
            )
            .is_empty()
        );
        let warning: FieldWarningView =
            serde_json::from_value(serde_json::json!({"code": "UNREADABLE"})).unwrap();
        assert_eq!(warning_text(&warning), "UNREADABLE");
        let warning: FieldWarningView = serde_json::from_value(
            serde_json::json!({"code": "LINE_ITEMS_DISAGREE", "sum": "30.00"}),
        )
        .unwrap();
        assert_eq!(warning_text(&warning), "LINE_ITEMS_DISAGREE(sum 30.00)");
    }
}
