//! `GET /images/{imageId}/export`: the four formats inline, the refusals, and an export larger than
//! the inline limit stored, answered with `303 See Other` to a URL fetched without the API's key,
//! and erased by a purge.

use std::sync::Arc;

use intake_domain::model::{ExportFormat, ImageId, ObjectKey};
use intake_domain::ports::{ExportRenderer as _, HttpMethod, OcrDetail};
use intake_domain::testkit::{default_owner, owner};

use super::*;

/// What a call answered, the body as bytes (an export is no JSON).
struct Raw {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn raw(h: &MemoryHarness, key: Option<&str>, uri: &str) -> Raw {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let response = app(h.intake.clone())
        .await
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Raw {
        status: response.status(),
        headers: response.headers().clone(),
        body: response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

fn header_of<'a>(reply: &'a Raw, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

fn harness(config: IntakeConfig) -> MemoryHarness {
    MemoryHarness::with_exports(
        config,
        ScriptedOcr::default(),
        Arc::new(intake_export::Renderer),
    )
}

/// The export the renderer writes of the stored record (and its stored original, for the PDF),
/// for comparing with what the API served.
async fn rendered(h: &MemoryHarness, id: &str, format: ExportFormat) -> Vec<u8> {
    use intake_domain::ports::ImageRepository as _;
    let record = h
        .repository
        .get_view(&ImageId::parse(id).unwrap(), OcrDetail::Lines)
        .await
        .unwrap()
        .unwrap();
    let original = format
        .needs_original()
        .then(|| h.store.bytes(record.object_key()).unwrap());
    intake_export::Renderer
        .render(&record, format, original.as_deref())
        .unwrap()
}

#[tokio::test]
async fn each_format_is_a_download_of_what_was_read() {
    let h = harness(IntakeConfig::default());
    let id = uploaded(&h, 7).await;
    for (format, content_type, file) in [
        (
            "hocr",
            "application/xhtml+xml; charset=utf-8",
            "scan 7.hocr",
        ),
        ("alto", "application/xml; charset=utf-8", "scan 7.xml"),
        ("txt", "text/plain; charset=utf-8", "scan 7.txt"),
        ("pdf", "application/pdf", "scan 7.pdf"),
    ] {
        let reply = raw(
            &h,
            Some(&key_a()),
            &format!("/images/{id}/export?format={format}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{format}");
        assert_eq!(header_of(&reply, "content-type"), content_type);
        assert_eq!(
            header_of(&reply, "content-disposition"),
            format!(
                "attachment; filename=\"{file}\"; filename*=UTF-8''{}",
                file.replace(' ', "%20")
            )
        );
        assert_eq!(header_of(&reply, "cache-control"), "private, no-store");
        assert_eq!(header_of(&reply, "x-content-type-options"), "nosniff");
        assert!(header_of(&reply, "content-security-policy").contains("sandbox"));
        let expected = rendered(&h, &id, ExportFormat::parse(format).unwrap()).await;
        assert_eq!(reply.body, expected, "{format}");
    }
    // What the scripted engine read, as pdftotext writes it.
    let text = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{id}/export?format=txt"),
    )
    .await;
    assert_eq!(
        String::from_utf8(text.body).unwrap(),
        "PAY TO THE ORDER OF\nONE THOUSAND DOLLARS\n\u{c}"
    );
    let hocr = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{id}/export?format=hocr"),
    )
    .await;
    let hocr = String::from_utf8(hocr.body).unwrap();
    assert!(hocr.contains("class=\"ocrx_word\"") && hocr.contains(">THOUSAND<"));
    // The PDF embeds the uploaded PNG's page under the words (its text layer is read back by
    // Poppler in intake-export's tests).
    let pdf = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{id}/export?format=pdf"),
    )
    .await;
    assert!(pdf.body.starts_with(b"%PDF-") && pdf.body.ends_with(b"%%EOF"));
    let text = String::from_utf8_lossy(&pdf.body);
    assert!(text.contains("/Subtype /Image") && text.contains("/Count 1"));
}

#[tokio::test]
async fn exports_are_refused_as_get_image_is() {
    let h = harness(IntakeConfig::default());
    let id = uploaded(&h, 8).await;
    let path = format!("/images/{id}/export?format=alto");

    let anonymous = raw(&h, None, &path).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let error = |reply: Raw| -> Reply {
        Reply {
            status: reply.status,
            body: serde_json::from_slice(&reply.body).unwrap(),
            headers: reply.headers,
        }
    };
    for format in ["docx", "PDF", "HOCR", ""] {
        let unknown = raw(
            &h,
            Some(&key_a()),
            &format!("/images/{id}/export?format={format}"),
        )
        .await;
        assert_error(&error(unknown), StatusCode::BAD_REQUEST, "UNKNOWN_FORMAT");
    }
    let missing = raw(&h, Some(&key_a()), &format!("/images/{id}/export")).await;
    assert_error(&error(missing), StatusCode::BAD_REQUEST, "INVALID_QUERY");
    let extra = raw(&h, Some(&key_a()), &format!("{path}&x=1")).await;
    assert_error(&error(extra), StatusCode::BAD_REQUEST, "INVALID_QUERY");
    let bad_id = raw(&h, Some(&key_a()), "/images/nope/export?format=txt").await;
    assert_error(&error(bad_id), StatusCode::BAD_REQUEST, "INVALID_IMAGE_ID");

    // Another owner's image is as absent as an unknown one.
    let foreign = raw(&h, Some(&key_b()), &path).await;
    assert_error(&error(foreign), StatusCode::NOT_FOUND, "NOT_FOUND");
    let unknown_id = intake_domain::testkit::id_at(0, 999);
    let nothing = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{unknown_id}/export?format=txt"),
    )
    .await;
    assert_error(&error(nothing), StatusCode::NOT_FOUND, "NOT_FOUND");

    // An image whose upload has not arrived has no result yet.
    let ticket = post_json(
        &h,
        "/uploads",
        &json!({"filename": "later.png", "contentType": "image/png"}),
    )
    .await;
    let waiting = ticket.body["imageId"].as_str().unwrap();
    let early = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{waiting}/export?format=txt"),
    )
    .await;
    assert_error(&error(early), StatusCode::CONFLICT, "INVALID_STATE");

    // A deleted image is gone.
    let deleted = call(&h, Method::DELETE, &format!("/images/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = raw(&h, Some(&key_a()), &path).await;
    assert_error(&error(gone), StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn a_deployment_without_a_renderer_says_so() {
    let h = MemoryHarness::default();
    let id = uploaded(&h, 9).await;
    let reply = call(
        &h,
        Method::GET,
        &format!("/images/{id}/export?format=txt"),
        None,
    )
    .await;
    assert_error(&reply, StatusCode::NOT_IMPLEMENTED, "EXPORT_UNAVAILABLE");
}

#[tokio::test]
async fn a_large_export_is_stored_and_answered_with_see_other() {
    // Any export is larger than 16 bytes.
    let h = harness(IntakeConfig::default().with_export_inline_limit(Some(16)));
    let id = uploaded(&h, 10).await;
    let image = ImageId::parse(&id).unwrap();
    for format in ExportFormat::ALL {
        let reply = raw(
            &h,
            Some(&key_a()),
            &format!("/images/{id}/export?format={format}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{format}");
        assert!(reply.body.is_empty());
        assert_eq!(header_of(&reply, "cache-control"), "private, no-store");
        let location = header_of(&reply, "location");
        let key = ObjectKey::for_export(image, format);
        assert!(location.contains(&format!("exports/{id}/")), "{location}");
        // The URL is signed: fetched as it is, with no credentials of the API's.
        let fetched = h
            .gateway
            .send(
                HttpMethod::Get,
                location,
                &std::collections::BTreeMap::new(),
                None,
            )
            .unwrap();
        let expected = rendered(&h, &id, format).await;
        assert_eq!(fetched.to_vec(), expected, "{format}");
        assert_eq!(h.store.bytes(&key).unwrap().to_vec(), expected);
        // The URL saves under the export's name.
        assert!(
            location.contains(&format!("scan%2010.{}", format.extension())),
            "{location}"
        );
    }
    // The service answers the same way to any caller of its own.
    let export = h
        .intake
        .export(&default_owner(), image, ExportFormat::Alto)
        .await
        .unwrap();
    assert!(matches!(
        export.body,
        intake_domain::services::ExportBody::Stored(ref r) if r.method == HttpMethod::Get
    ));
    // Another owner gets nothing, and stores nothing.
    let stored = h.store.len();
    let refused = h.intake.export(&owner("b"), image, ExportFormat::Txt).await;
    assert!(matches!(
        refused,
        Err(intake_domain::IntakeError::NotFound { .. })
    ));
    assert_eq!(h.store.len(), stored);

    // A purge erases the stored exports with the image's bytes.
    let purged = call(
        &h,
        Method::DELETE,
        &format!("/images/{id}?purge=true"),
        None,
    )
    .await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT);
    for format in ExportFormat::ALL {
        assert!(
            h.store
                .bytes(&ObjectKey::for_export(image, format))
                .is_none(),
            "{format} export left after a purge"
        );
    }
    let after = raw(
        &h,
        Some(&key_a()),
        &format!("/images/{id}/export?format=txt"),
    )
    .await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert!(
        h.store.is_empty(),
        "objects left after a purge: {}",
        h.store.len()
    );
}
