//! Every way a presigned URL can be misused is refused by the local object endpoint, and nothing is
//! stored when it is.

use std::time::Duration;

use intake_domain::IntakeConfig;
use intake_domain::testkit::images;

use super::{TestApp, options, spawn_app, spawn_app_from, spawn_app_with};

async fn code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

async fn still_awaiting(app: &TestApp, id: &str) {
    let (status, record) = app.get_json(&format!("/images/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(record["status"], "AWAITING_UPLOAD", "{record:#}");
    assert!(record.get("downloadUrl").is_none());
}

#[tokio::test]
async fn tampered_and_misused_urls_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let png = images::png(320, 120, 1);
    let ticket = app.ticket("a.png", "image/png", &png).await;
    let wrong_sha = super::sha256_hex(b"something else");
    let wrong_sha_b64 = {
        let other = intake_domain::model::Sha256Digest::parse(&wrong_sha).unwrap();
        other.to_base64()
    };

    let tampered_signature = {
        let (head, signature) = ticket.url.rsplit_once("x-signature=").unwrap();
        let flipped: String = signature
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    if c == '0' { '1' } else { '0' }
                } else {
                    c
                }
            })
            .collect();
        format!("{head}x-signature={flipped}")
    };
    let other_key = ticket.url.replace("/a.png?", "/b.png?");
    let longer_expiry = ticket.url.replace("x-expires=", "x-expires=9");
    let traversal = ticket
        .url
        .replace("/objects/uploads/", "/objects/uploads/../../secret/");
    let unsigned = ticket.url.split('?').next().unwrap().to_owned();

    let cases: Vec<(&str, String, Vec<(&str, Option<&str>)>, (u16, &str))> = vec![
        (
            "tampered signature",
            tampered_signature,
            vec![],
            (403, "SIGNATURE_MISMATCH"),
        ),
        (
            "another key",
            other_key,
            vec![],
            (403, "SIGNATURE_MISMATCH"),
        ),
        (
            "extended expiry",
            longer_expiry,
            vec![],
            (403, "SIGNATURE_MISMATCH"),
        ),
        ("no signature", unsigned, vec![], (403, "URL_INVALID")),
        (
            "wrong content type",
            ticket.url.clone(),
            vec![("content-type", Some("image/jpeg"))],
            (403, "HEADER_MISMATCH"),
        ),
        (
            "no content type",
            ticket.url.clone(),
            vec![("content-type", None)],
            (403, "HEADER_MISMATCH"),
        ),
        (
            "no if-none-match",
            ticket.url.clone(),
            vec![("if-none-match", None)],
            (403, "HEADER_MISMATCH"),
        ),
        (
            "other checksum header",
            ticket.url.clone(),
            vec![("x-amz-checksum-sha256", Some(&wrong_sha_b64))],
            (403, "HEADER_MISMATCH"),
        ),
    ];
    for (what, url, change, expected) in cases {
        let response = app.put_to(&url, &ticket, png.clone(), &change).await;
        assert_eq!(
            code(response).await,
            (expected.0, expected.1.to_owned()),
            "{what}"
        );
    }
    let response = app.put_to(&traversal, &ticket, png.clone(), &[]).await;
    let (status, _) = code(response).await;
    assert!(
        status == 403 || status == 404,
        "path traversal answered {status}"
    );
    still_awaiting(&app, &ticket.image_id).await;

    // A body that is not the declared one: other length, other bytes of the same length.
    let shorter = png.slice(..png.len() - 1);
    let response = app.put(&ticket, shorter, &[]).await;
    assert_eq!(code(response).await.0, 403, "the declared length is bound");
    let mut other = png.to_vec();
    let last = other.len() - 30;
    other[last] ^= 0xFF;
    let response = app.put(&ticket, other.into(), &[]).await;
    assert_eq!(code(response).await, (400, "CHECKSUM_MISMATCH".to_owned()));
    still_awaiting(&app, &ticket.image_id).await;
    let leftovers = std::fs::read_dir(app.dir.path().join("store/tmp"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0, "a refused body left a temporary file");

    // The real upload works once; the URL cannot overwrite it.
    assert_eq!(app.put(&ticket, png.clone(), &[]).await.status(), 200);
    let response = app.put(&ticket, png.clone(), &[]).await;
    assert_eq!(code(response).await, (412, "OBJECT_EXISTS".to_owned()));
    // An upload URL does not download.
    let response = app.http.get(&ticket.url).send().await.unwrap();
    assert_eq!(code(response).await, (403, "METHOD_MISMATCH".to_owned()));
    app.stop().await;
}

/// A correctly signed URL for an image Intake has no record of (as after a machine crash, or a full
/// disk, that lost an upload ticket before it was stored) takes no bytes: 410 `UPLOAD_TICKET_LOST`
/// (ask for a new URL), nothing stored, no job; the URL of a deleted image takes none either (422
/// `UNKNOWN_OBJECT`); issued uploads work beside them.
#[tokio::test]
async fn a_signed_url_without_its_record_is_refused_and_stores_nothing() {
    use intake_domain::model::{ContentType, FileName, ImageId, ObjectKey, Timestamp};
    use intake_domain::ports::{PutUrlRequest, UrlSigner as _};

    let app = spawn_app().await;
    let hex = std::fs::read_to_string(app.dir.path().join("secret")).unwrap();
    let secret: Vec<u8> = (0..hex.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).unwrap())
        .collect();
    let signer = intake_signing::HmacUrlSigner::new(&format!("{}/objects", app.url), &secret);
    let png = images::png(320, 120, 1);
    let now = Timestamp::now_utc();
    let key = ObjectKey::for_upload(
        ImageId::generate(now),
        &FileName::sanitize("lost.png").unwrap(),
    );
    let presigned = signer
        .presign_put(&PutUrlRequest::new(
            key.clone(),
            ContentType::Png,
            Some(png.len() as u64),
            None,
            now,
            intake_domain::model::UrlTtl::from_secs(300).unwrap(),
        ))
        .await
        .unwrap();
    let mut put = app.http.put(&presigned.url).body(png.clone());
    for (name, value) in &presigned.headers {
        if name != "content-length" {
            put = put.header(name, value);
        }
    }
    let (status, error) = code(put.send().await.unwrap()).await;
    assert_eq!((status, error.as_str()), (410, "UPLOAD_TICKET_LOST"));
    let stored = app.dir.path().join("store/objects").join(key.as_str());
    assert!(!stored.exists(), "the refused body was stored");
    assert_eq!(
        std::fs::read_dir(app.dir.path().join("store/tmp"))
            .unwrap()
            .count(),
        0
    );
    let stats = app.server.queue_stats().await.unwrap();
    assert_eq!((stats.outstanding(), stats.dead), (0, 0), "{stats:?}");

    // A deleted image's URL takes no bytes either; issued uploads still work beside them.
    let deleted = app.ticket("gone.png", "image/png", &png).await;
    let response = app
        .http
        .delete(format!("{}/images/{}", app.url, deleted.image_id))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, error) = code(app.put(&deleted, png.clone(), &[]).await).await;
    assert_eq!((status, error.as_str()), (422, "UNKNOWN_OBJECT"));
    let ticket = app.ticket("a.png", "image/png", &png).await;
    assert_eq!(app.put(&ticket, png.clone(), &[]).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn expired_urls_are_refused() {
    let app = spawn_app_with(
        IntakeConfig::default().with_upload_url_ttl(intake_domain::model::UrlTtl::MIN),
    )
    .await;
    let png = images::png(320, 120, 2);
    let ticket = app.ticket("late.png", "image/png", &png).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = app.put(&ticket, png, &[]).await;
    assert_eq!(code(response).await, (403, "URL_EXPIRED".to_owned()));
    still_awaiting(&app, &ticket.image_id).await;
    app.stop().await;
}

#[tokio::test]
async fn a_second_server_cannot_share_a_data_directory() {
    let app = spawn_app().await;
    let second =
        intake_server::LocalServer::start(super::options(app.dir.path(), IntakeConfig::default()))
            .await;
    assert!(
        matches!(second, Err(intake_server::ServeError::Locked(_))),
        "{second:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(app.dir.path().join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the signing secret is private");
    }
    app.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_readable_or_damaged_signing_secret_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "ab".repeat(32)).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let started =
        intake_server::LocalServer::start(super::options(dir.path(), IntakeConfig::default()))
            .await;
    let error = started
        .expect_err("a world-readable secret is refused")
        .to_string();
    assert!(error.contains("chmod 600"), "{error}");

    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&secret, "abcd").unwrap();
    let started =
        intake_server::LocalServer::start(super::options(dir.path(), IntakeConfig::default()))
            .await;
    assert!(matches!(
        started,
        Err(intake_server::ServeError::Secret { .. })
    ));

    std::fs::write(&secret, "ab".repeat(32)).unwrap();
    let server =
        intake_server::LocalServer::start(super::options(dir.path(), IntakeConfig::default()))
            .await
            .expect("a private 32-byte secret is used");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_new_admin_key_can_be_asked_for_when_every_admin_key_is_lost() {
    if super::prerequisites().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = intake_server::LocalServer::start(super::options(
        dir.path(),
        intake_domain::IntakeConfig::default(),
    ))
    .await
    .unwrap();
    let lost = super::admin_key(dir.path());
    first.shutdown().await.unwrap();
    std::fs::remove_file(dir.path().join("admin-key")).unwrap();
    // A plain restart keeps the keys (one admin key is active, if unknown).
    let second = intake_server::LocalServer::start(super::options(
        dir.path(),
        intake_domain::IntakeConfig::default(),
    ))
    .await
    .unwrap();
    assert!(!dir.path().join("admin-key").exists());
    second.shutdown().await.unwrap();
    let mut options = super::options(dir.path(), intake_domain::IntakeConfig::default());
    options.new_admin_key = true;
    let third = intake_server::LocalServer::start(options).await.unwrap();
    let fresh = super::admin_key(dir.path());
    assert_ne!(fresh, lost);
    for key in [&fresh, &lost] {
        let principal = third.keys().authenticate(Some(key)).await.unwrap();
        assert!(principal.admin);
    }
    third.shutdown().await.unwrap();
}

/// A real preflight, as a browser on `origin` sends it before `method` with `headers`.
async fn preflight(url: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_page_on_an_allowed_origin_can_ask_upload_and_download() {
    const PAGE: &str = "http://localhost:5173";
    let app = spawn_app_from(|dir| {
        options(dir, IntakeConfig::default()).with_cors(PAGE.parse().unwrap())
    })
    .await;
    // The API: the preflight before POST /uploads, without credentials (browsers send none).
    let api = preflight(
        &app.api("/uploads"),
        PAGE,
        "POST",
        "authorization,content-type",
    )
    .await;
    assert_eq!(api.status(), 200);
    assert_eq!(api.headers()["access-control-allow-origin"], PAGE);
    // The object endpoint: the preflight before the PUT, with every header the upload URL binds.
    let png = images::png(320, 120, 1);
    let ticket = app.ticket("a.png", "image/png", &png).await;
    let bound: Vec<&str> = ticket
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|h| *h != "content-length")
        .collect();
    let put = preflight(&ticket.url, PAGE, "PUT", &bound.join(",")).await;
    assert_eq!(put.status(), 200, "{bound:?}");
    assert_eq!(put.headers()["access-control-allow-origin"], PAGE);
    let allowed = put.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in &bound {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
    // The upload itself, as the page sends it: the answer is readable by the page, ETag included.
    let response = app
        .put(&ticket, png.clone(), &[("origin", Some(PAGE))])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], PAGE);
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("etag")
    );
    // A page elsewhere gets no permission.
    let elsewhere = preflight(
        &app.api("/uploads"),
        "https://evil.example",
        "POST",
        "authorization",
    )
    .await;
    assert!(
        elsewhere
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn without_allowed_origins_no_preflight_passes() {
    let app = spawn_app().await;
    let response = preflight(
        &app.api("/uploads"),
        "http://localhost:5173",
        "POST",
        "authorization",
    )
    .await;
    assert_eq!(response.status(), 405);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    app.stop().await;
}
