//! `GET /images/{imageId}/fields`, the fields in the image's detail, and `GET /images?field=…&
//! documentType=…`: a receipt's total and date read by the rule engine, found by their normalised
//! values in any spelling, only by their owner.

use intake_domain::model::{
    BoundingBox, FIRST_PAGE, OcrLine, OcrPage, OcrResult, OcrWord, PageSource,
};

use super::*;

/// A receipt as an engine reads it: each row a line, its label at the left and its amount at the
/// right.
fn receipt(vendor: &str, date: &str, total: &str) -> OcrResult {
    let rows = [
        (vendor.to_owned(), String::new()),
        ("RECEIPT".to_owned(), String::new()),
        (format!("Date: {date}"), String::new()),
        ("Tea".to_owned(), "4.50".to_owned()),
        ("Cake".to_owned(), "26.50".to_owned()),
        ("Total".to_owned(), format!("RM {total}")),
    ];
    let lines = rows
        .iter()
        .zip(0_u16..)
        .map(|((left, right), row)| {
            let top = 0.05 + 0.1 * f32::from(row);
            let mut words: Vec<OcrWord> = left
                .split(' ')
                .zip(0_u16..)
                .map(|(w, i)| {
                    let b = BoundingBox::new(0.05 + 0.16 * f32::from(i), top, 0.14, 0.04).unwrap();
                    OcrWord::new(w, 95.0, b).unwrap()
                })
                .collect();
            let parts: Vec<&str> = right.split(' ').filter(|w| !w.is_empty()).collect();
            for (i, w) in parts.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let left = 0.95 - 0.12 * (parts.len() - i) as f32;
                let b = BoundingBox::new(left, top, 0.11, 0.04).unwrap();
                words.push(OcrWord::new(*w, 95.0, b).unwrap());
            }
            OcrLine::from_words(words).unwrap()
        })
        .collect();
    OcrResult::new("scripted", lines, false)
        .unwrap()
        .with_pages(vec![OcrPage::new(FIRST_PAGE, 320, 120, PageSource::Ocr)])
}

fn ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["imageId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_receipt_s_fields_are_shown_with_their_boxes_and_found_by_their_values() {
    let h = MemoryHarness::default();
    assert!(h.script_ocr(
        &png(320, 120, 61),
        receipt("CORNER CAFE", "25/11/2026", "31.00")
    ));
    assert!(h.script_ocr(
        &png(320, 120, 62),
        receipt("HARBOUR DELI", "26/11/2026", "12.40")
    ));
    let first = uploaded(&h, 61).await;
    let second = uploaded(&h, 62).await;

    let fields = call(&h, Method::GET, &format!("/images/{first}/fields"), None).await;
    assert_eq!(fields.status, StatusCode::OK, "{}", fields.body);
    let body = &fields.body;
    assert_eq!(body["imageId"], first.as_str());
    assert_eq!(body["read"], true);
    assert_eq!(body["extractor"], "rules");
    assert_eq!(body["documentType"]["type"], "receipt", "{body}");
    assert_eq!(
        body["pages"],
        json!([{"page": 1, "widthPx": 320, "heightPx": 120}])
    );
    let field = |t: &str| {
        body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["type"] == t)
            .unwrap_or_else(|| panic!("no {t} in {body}"))
            .clone()
    };
    let total = field("TOTAL");
    assert_eq!(total["normalized"], "31.00");
    assert_eq!(total["currency"], "MYR");
    assert_eq!(total["page"], 1);
    let b = &total["box"];
    let top = b["top"].as_f64().unwrap();
    assert!((0.54..0.56).contains(&top), "the total's row: {total}");
    assert!(
        b["left"].as_f64().unwrap() > 0.5,
        "the amount, right: {total}"
    );
    assert!(total["warnings"].is_array());
    assert_eq!(field("INVOICE_RECEIPT_DATE")["normalized"], "2026-11-25");

    // The detail has the fields; the metadata the type and the fields' types.
    let detail = call(&h, Method::GET, &format!("/images/{first}"), None).await;
    assert_eq!(detail.body["documentType"]["type"], "receipt");
    assert_eq!(detail.body["fieldsExtractor"], "rules");
    assert!(detail.body["fields"].as_array().unwrap().len() >= 2);
    assert!(
        detail.body["fieldTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("TOTAL"))
    );

    // Found by the total and the date in any spelling, with the other filters.
    for query in [
        "field=TOTAL:31.00",
        "field=TOTAL:31",
        "field=total:RM%2031.00",
        "field=TOTAL:31&field=INVOICE_RECEIPT_DATE:25%20Nov%202026",
        "field=INVOICE_RECEIPT_DATE:2026-11-25&documentType=receipt",
        "field=TOTAL:31&status=PROCESSED&limit=1",
    ] {
        let listed = call(&h, Method::GET, &format!("/images?{query}"), None).await;
        assert_eq!(ids(&listed), vec![first.clone()], "{query}");
    }
    let receipts = call(&h, Method::GET, "/images?documentType=receipt", None).await;
    assert_eq!(ids(&receipts), vec![second.clone(), first.clone()]);
    for query in [
        "field=TOTAL:31.01",
        "field=TOTAL:31&field=INVOICE_RECEIPT_DATE:2026-11-26",
        "field=TOTAL:31&documentType=invoice",
        "field=SUBTOTAL:31",
    ] {
        let listed = call(&h, Method::GET, &format!("/images?{query}"), None).await;
        assert!(ids(&listed).is_empty(), "{query}: {}", listed.body);
    }
    // Combined with search.
    let searched = call(&h, Method::GET, "/images?q=cafe&field=TOTAL:31", None).await;
    assert_eq!(ids(&searched), vec![first.clone()]);
    let searched = call(&h, Method::GET, "/images?q=cafe&field=TOTAL:12.40", None).await;
    assert!(ids(&searched).is_empty());

    // Another owner sees neither the fields nor the image through a filter.
    let other = call_as(
        &h,
        Some(&key_b()),
        Method::GET,
        &format!("/images/{first}/fields"),
        None,
    )
    .await;
    assert_error(&other, StatusCode::NOT_FOUND, "NOT_FOUND");
    let other = call_as(
        &h,
        Some(&key_b()),
        Method::GET,
        "/images?field=TOTAL:31",
        None,
    )
    .await;
    assert!(ids(&other).is_empty());
}

#[tokio::test]
async fn unknown_types_and_unreadable_values_are_refused_with_stable_codes() {
    let h = MemoryHarness::default();
    for query in [
        "field=GRAND_TOTAL:31",
        "field=TOTAL:abc",
        "field=TOTAL",
        "field=INVOICE_RECEIPT_DATE:31/31/2026",
        "field=A:1&field=A:2&field=A:3&field=A:4&field=A:5&field=A:6&field=A:7&field=A:8&field=A:9",
    ] {
        let reply = call(&h, Method::GET, &format!("/images?{query}"), None).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_FIELD_FILTER");
    }
    let reply = call(&h, Method::GET, "/images?documentType=bill", None).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_DOCUMENT_TYPE");
    let reply = call(
        &h,
        Method::GET,
        "/images?documentType=receipt&documentType=invoice",
        None,
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_QUERY");
}

#[tokio::test]
async fn an_image_whose_fields_were_not_read_answers_read_false() {
    let h = MemoryHarness::default();
    let reply = post_json(
        &h,
        "/uploads",
        &json!({"filename": "later.png", "contentType": "image/png"}),
    )
    .await;
    let id = reply.body["imageId"].as_str().unwrap();
    let fields = call(&h, Method::GET, &format!("/images/{id}/fields"), None).await;
    assert_eq!(fields.status, StatusCode::OK, "{}", fields.body);
    assert_eq!(
        fields.body,
        json!({"imageId": id, "read": false, "documentType": null, "extractor": null,
               "fields": [], "lineItems": [], "pages": []})
    );
    let unknown = intake_domain::testkit::id_at(9, 9);
    let missing = call(&h, Method::GET, &format!("/images/{unknown}/fields"), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
}
