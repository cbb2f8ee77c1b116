//! The web app at `/`: a page, its script modules (`app.js`; `dom.js`, the page-building helpers;
//! `fields.js`, the document fields panel), a style sheet and an icon, built into the binary (no
//! Node or network at run time), served with a strict Content-Security-Policy: scripts, styles,
//! images and API calls from this origin only, no inline script, no frames, no forms posting
//! elsewhere. The app speaks the public API with the API key the user pastes (kept in the tab's
//! session storage, sent as a bearer header, never in a URL) and shows images through their
//! presigned download URLs. The file types it guesses from extensions are the domain's one table,
//! served as `/app/types.js`.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use intake_domain::model::ContentType;
use sha2::{Digest as _, Sha256};

/// The policy every page and asset is served with, images and uploads also allowed to `objects` (the
/// origin of the presigned URLs, when it is not the page's own; such a page also needs that origin
/// in `--cors-origins`).
pub fn content_security_policy(objects: Option<&str>) -> String {
    let objects = objects.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:{objects}; \
         connect-src 'self'{objects}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The origin (`scheme://host[:port]`) of `url`, if it has one.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (!scheme.is_empty() && end > 0)
        .then(|| url.get(..scheme.len() + 3 + end))
        .flatten()
}

/// One built-in file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: [Asset; 6] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../web/index.html"),
    },
    Asset {
        path: "/app/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/app.js"),
    },
    Asset {
        path: "/app/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../web/app.css"),
    },
    Asset {
        path: "/app/icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../web/icon.svg"),
    },
    Asset {
        path: "/app/dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/dom.js"),
    },
    Asset {
        path: "/app/fields.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../web/fields.js"),
    },
];

/// The file types the web app guesses from a file's extension when the browser does not say: the
/// domain's table ([`ContentType::EXTENSIONS`], which the CLI uses too), as a module `app.js`
/// imports.
static TYPES_MODULE: LazyLock<String> = LazyLock::new(|| {
    let types: Vec<String> = ContentType::EXTENSIONS
        .iter()
        .map(|(extension, content_type)| format!("{extension:?}: {:?}", content_type.as_mime()))
        .collect();
    format!(
        "// File extensions and the types they name: Intake's one table (ContentType::EXTENSIONS).\n\
         export const TYPES = Object.freeze({{ {} }});\n",
        types.join(", ")
    )
});

/// [`TYPES_MODULE`] as an asset.
static TYPES_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset {
    path: "/app/types.js",
    content_type: "text/javascript; charset=utf-8",
    body: TYPES_MODULE.as_bytes(),
});

/// Every file the web app is made of: the built-in ones and the generated types module.
fn assets() -> impl Iterator<Item = &'static Asset> {
    ASSETS.iter().chain(std::iter::once(&*TYPES_ASSET))
}

/// The routes of the web app (no authentication: the page holds no data; the API it calls does).
/// `public_url` is where clients reach the server, whose object URLs the page shows images from.
pub fn router(public_url: &str) -> Router {
    let policy = HeaderValue::from_str(&content_security_policy(origin_of(public_url)))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    assets().fold(Router::new(), |router, asset| {
        let policy = policy.clone();
        // Assets change only with the binary: their tags are computed once.
        let digest = Sha256::digest(asset.body);
        let etag = format!("\"{}\"", hex::encode(digest.get(..12).unwrap_or_default()));
        router.route(
            asset.path,
            get(move |headers: HeaderMap| async move { serve(asset, &etag, &headers, policy) }),
        )
    })
}

/// The asset, or `304` when the client's copy is current. Assets change only with the binary, so
/// clients revalidate (`no-cache`) and an unchanged file costs a round trip, not its bytes.
fn serve(asset: &Asset, etag: &str, request: &HeaderMap, policy: HeaderValue) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn get(path: &str, etag: Option<&str>) -> Response {
        let mut request = Request::builder().uri(path);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        router("https://files.example.com/intake")
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("served")
    }

    #[tokio::test]
    async fn every_asset_is_served_with_the_policy_and_revalidates() {
        for asset in assets() {
            let response = get(asset.path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], asset.content_type);
            let policy = headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii");
            assert!(policy.contains("script-src 'self';"), "{policy}");
            assert!(
                policy.contains("img-src 'self' blob: https://files.example.com;"),
                "{policy}"
            );
            let etag = headers[header::ETAG].to_str().expect("ascii").to_owned();
            let again = get(asset.path, Some(&etag)).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{}", asset.path);
        }
    }

    #[test]
    fn origins_are_cut_from_urls() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("https://x.example/intake/objects?a"),
            Some("https://x.example")
        );
        assert_eq!(origin_of("not a url"), None);
        assert_eq!(origin_of("https:///path"), None);
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_and_no_other_origin() {
        let page = std::str::from_utf8(ASSETS[0].body).expect("utf-8");
        for script in page.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src=\"/app/"),
                "inline or foreign script: {tag}"
            );
        }
        assert!(!page.contains("style="), "inline style");
        assert!(!page.contains("<style"), "inline style sheet");
        for asset in assets() {
            // The SVG namespace is a name, not a place anything is fetched from.
            let text =
                String::from_utf8_lossy(asset.body).replace("http://www.w3.org/2000/svg", "");
            assert!(!text.contains("://"), "{} names another origin", asset.path);
        }
    }

    #[test]
    fn the_app_takes_its_file_types_from_the_one_table() {
        let module = std::str::from_utf8(TYPES_ASSET.body).expect("utf-8");
        for (extension, content_type) in ContentType::EXTENSIONS {
            assert!(
                module.contains(&format!("\"{extension}\": \"{}\"", content_type.as_mime())),
                "{module}"
            );
        }
        // An iPhone's photos, whichever extension they come with.
        for extension in ["heic", "heif"] {
            assert!(
                module.contains(&format!("\"{extension}\": \"image/heic\"")),
                "{module}"
            );
        }
        let app = std::str::from_utf8(ASSETS[1].body).expect("utf-8");
        assert!(app.contains("import { TYPES } from \"./types.js\";"));
        assert!(
            !app.contains("\"image/png\""),
            "a table of its own in app.js"
        );
    }
}
