//! The web app in a real browser: Debian's Chromium driven over WebDriver (chromedriver, started here on
//! an ephemeral port) against a fresh `intake serve`. Sign in, upload three images through the file
//! input, watch them reach PROCESSED, search a word on one of them and see its snippet, open it and
//! count the boxes drawn, delete it; a re-scan of another is marked as a possible duplicate and
//! shown beside it; no script error in the page, and the Content-Security-Policy
//! blocks an inline script. A screenshot of the detail view is saved under the test's output folder.
//! `fields` checks the document fields panel the same way.

mod fields;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::{prerequisites, rescanned_png, spawn_app, text_png};

/// Chromium and chromedriver, where Debian's `chromium` and `chromium-driver` put them.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| names.iter().map(PathBuf::from).find(|p| p.is_file());
    let found = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]).zip(find(&[
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]));
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "chromium and chromium-driver must be installed on CI (scripts/system-deps.sh)"
        );
        eprintln!(
            "SKIPPED: needs chromium and chromium-driver (scripts/system-deps.sh installs them)"
        );
    }
    found
}

/// A chromedriver on an ephemeral port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(program: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // A process group of its own, so that the browsers it starts go with it, even after a panic.
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn session(driver: &Driver, chromium: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--no-first-run", "--disable-extensions"],
        }),
    );
    // rustls has two crypto providers in the test build (ring for the `intake` binary, aws-lc for the
    // test clients): one is chosen before fantoccini asks for the default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .expect("a TLS configuration")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Waits until `check` answers `Some`, for up to `seconds`.
async fn until<T, F, Fut>(seconds: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(client: &Client, locator: Locator<'_>) {
    client
        .find(locator)
        .await
        .expect("the element")
        .click()
        .await
        .expect("clicked");
}

async fn type_into(client: &Client, locator: Locator<'_>, text: &str) {
    client
        .find(locator)
        .await
        .expect("the element")
        .send_keys(text)
        .await
        .expect("typed");
}

/// The HTTP status of the image's record through the API.
async fn record_status(app: &super::TestApp, id: &str) -> u16 {
    app.get_json(&format!("/images/{id}")).await.0
}

/// Waits (20 s at most) until the detail's picture has loaded.
async fn picture_loaded(client: &Client) {
    until(20, "the picture", || async {
        let loaded = client
            .execute(
                "const i = document.getElementById('picture'); return i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await
            .ok()?;
        (loaded == json!(true)).then_some(())
    })
    .await;
}

async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .map_or(0, |found| found.len())
}

#[tokio::test]
async fn the_web_app_uploads_searches_shows_boxes_and_deletes_in_a_real_browser() {
    let Some(font) = prerequisites() else { return };
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let pages = [
        (
            "cheque.png",
            vec!["PAY TO THE ORDER OF", "JANE DOE", "ONE THOUSAND DOLLARS"],
        ),
        ("receipt.png", vec!["ACME MARKET", "TOTAL 12.50"]),
        (
            "statement.png",
            vec!["ACCOUNT STATEMENT", "BALANCE 4721.08"],
        ),
    ];
    let mut paths = Vec::new();
    for (name, lines) in &pages {
        let path = work.path().join(name);
        std::fs::write(&path, text_png(&font, lines)).unwrap();
        paths.push(path.display().to_string());
    }
    let driver = Driver::start(&chromedriver);
    let client = session(&driver, &chromium).await;

    // Sign in.
    client.goto(&app.url).await.unwrap();
    type_into(&client, Locator::Id("api-key"), &app.admin_key).await;
    click(&client, Locator::Css("#sign-in-form button")).await;
    until(20, "the library", || async {
        (count(&client, "#library:not([hidden])").await == 1).then_some(())
    })
    .await;
    let url = client.current_url().await.unwrap();
    assert!(
        !url.as_str().contains(&app.admin_key),
        "the key is never in a URL"
    );

    // Upload three images through the file input; all three reach PROCESSED.
    type_into(&client, Locator::Id("files"), &paths.join("\n")).await;
    until(120, "three processed images", || async {
        (count(&client, "#images li[data-status=PROCESSED]").await == 3).then_some(())
    })
    .await;
    // Each shows its preview (a thumbnail made when it was processed), not the image itself.
    until(30, "three thumbnails", || async {
        let drawn = client
            .execute(
                "return [...document.querySelectorAll('#images img.thumb')]
                   .filter(i => i.complete && i.naturalWidth > 0 && i.src.includes('/objects/previews/')).length;",
                vec![],
            )
            .await
            .ok()?;
        (drawn == json!(3)).then_some(())
    })
    .await;
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("library.png"), client.screenshot().await.unwrap()).unwrap();

    // Search a word on one of them: one hit, its snippet marks the word.
    type_into(&client, Locator::Id("search"), "balance").await;
    let marked = until(20, "the search's hit", || async {
        if count(&client, "#images li").await != 1 {
            return None;
        }
        client
            .find(Locator::Css("#images li mark"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    })
    .await;
    assert_eq!(marked.to_uppercase(), "BALANCE");

    // Open it: as many line boxes as the record has lines.
    click(&client, Locator::Css("#images li a")).await;
    let url = client.current_url().await.unwrap();
    let id = url
        .fragment()
        .and_then(|f| f.strip_prefix("/images/"))
        .expect("the detail view's address")
        .to_owned();
    let record: Value = app
        .http
        .get(app.api(&format!("/images/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines = usize::try_from(record["ocrLineCount"].as_u64().expect("a line count")).unwrap();
    assert!(lines >= 2, "{record:#}");
    until(20, "the line boxes", || async {
        (count(&client, "#overlay rect.box-line").await == lines).then_some(())
    })
    .await;
    assert_eq!(count(&client, "#text li[data-line]").await, lines);
    picture_loaded(&client).await;
    let shot = client.screenshot().await.unwrap();
    std::fs::write(out.join("detail.png"), &shot).unwrap();
    eprintln!("screenshot: {}", out.join("detail.png").display());

    // Words instead of lines. Delete asks first: dismissed (Esc), nothing is deleted, even after an
    // earlier answer; confirmed, the image goes.
    click(&client, Locator::Css("input[name=boxes][value=words]")).await;
    assert!(count(&client, "#overlay rect.box-word").await > lines);
    for _ in 0..2 {
        click(&client, Locator::Id("delete")).await;
        client
            .execute("document.getElementById('confirm-delete').close();", vec![])
            .await
            .unwrap();
        // The close event is delivered after close() returns; then an earlier answer is planted,
        // which must not count for the next question.
        tokio::time::sleep(Duration::from_millis(200)).await;
        client
            .execute(
                "document.getElementById('confirm-delete').returnValue = 'delete';",
                vec![],
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        record_status(&app, &id).await,
        200,
        "deleted without confirmation"
    );
    click(&client, Locator::Id("delete")).await;
    click(&client, Locator::Id("confirm-yes")).await;
    until(20, "the deletion", || async {
        (record_status(&app, &id).await == 404).then_some(())
    })
    .await;
    until(20, "the library without it", || async {
        let listed = count(&client, &format!("#images li[data-id='{id}']")).await;
        (count(&client, "#library:not([hidden])").await == 1 && listed == 0).then_some(())
    })
    .await;

    // A PDF is read page by page: each page shows the server's picture of it, with its boxes.
    let document = intake_pdf::testkit::pdf(&[
        intake_pdf::testkit::TestPage::text(&["Invoice INV-2041 from ACME Supplies"]),
        intake_pdf::testkit::TestPage::text(&["Page two: total due 31.00 EUR"]),
    ]);
    let record = super::pdf::upload(&app, "invoice.pdf", document).await;
    assert_eq!(record["status"], "PROCESSED", "{record}");
    client
        .goto(&format!(
            "{}/#/images/{}",
            app.url,
            record["imageId"].as_str().unwrap()
        ))
        .await
        .unwrap();
    let drawn = "const i = document.getElementById('picture');
                 return !i.hidden && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')
                   ? [document.getElementById('page-of').textContent, i.src] : null;";
    let first = until(30, "page 1's picture", || async {
        let shown = client.execute(drawn, vec![]).await.ok()?;
        (shown[0] == json!("Page 1 of 2")).then_some(shown)
    })
    .await;
    click(&client, Locator::Id("next-page")).await;
    until(30, "page 2's picture", || async {
        let shown = client.execute(drawn, vec![]).await.ok()?;
        (shown[0] == json!("Page 2 of 2") && shown[1] != first[1]).then_some(())
    })
    .await;
    // The words view is still on: page 2's six words are boxed.
    assert_eq!(count(&client, "#overlay rect.box-word").await, 6);
    // A strip of both pages' thumbnails; the first one goes back to page 1.
    until(30, "two thumbnails", || async {
        let drawn = client
            .execute(
                "return [...document.querySelectorAll('#thumbs:not([hidden]) img')]
                   .filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight === 320).length;",
                vec![],
            )
            .await
            .ok()?;
        (drawn == json!(2)).then_some(())
    })
    .await;
    click(&client, Locator::Css("#thumbs button[data-page='1']")).await;
    until(30, "page 1 again", || async {
        let shown = client.execute(drawn, vec![]).await.ok()?;
        (shown[0] == json!("Page 1 of 2")).then_some(())
    })
    .await;
    std::fs::write(out.join("pdf-page.png"), client.screenshot().await.unwrap()).unwrap();

    // A re-scan of the receipt (another file: padded, lighter) is marked in the library as a
    // possible duplicate, and its page shows the two side by side.
    let rescan = app
        .upload(
            "receipt-rescan.png",
            &rescanned_png(&font, &pages[1].1, 24, 40),
        )
        .await;
    let record = app.wait_terminal(&rescan).await;
    assert_eq!(
        record["nearDuplicates"].as_array().map(Vec::len),
        Some(1),
        "{record:#}"
    );
    // The library afresh (no search), as a new visit shows it.
    client.goto(&format!("{}/#/", app.url)).await.unwrap();
    client.refresh().await.unwrap();
    until(30, "the library's mark", || async {
        (count(&client, &format!("#images li[data-id='{rescan}'] .dup")).await == 1).then_some(())
    })
    .await;
    assert_eq!(
        count(&client, "#images .dup").await,
        1,
        "only the re-scan is marked"
    );
    client
        .goto(&format!("{}/#/images/{rescan}", app.url))
        .await
        .unwrap();
    until(30, "the two side by side", || async {
        let drawn = client
            .execute(
                "return document.getElementById('compare').hidden ? -1 :
                   [...document.querySelectorAll('#compare-pair img')]
                     .filter(i => i.complete && i.naturalWidth > 0).length;",
                vec![],
            )
            .await
            .ok()?;
        (drawn == json!(2)).then_some(())
    })
    .await;
    let other = record["nearDuplicates"][0]["imageId"].as_str().unwrap();
    assert_eq!(
        count(
            &client,
            &format!("#compare-list a[href='#/images/{other}']")
        )
        .await,
        1
    );
    std::fs::write(
        out.join("near-duplicate.png"),
        client.screenshot().await.unwrap(),
    )
    .unwrap();

    // No script error; an inline script is refused by the policy.
    let errors = client
        .execute("return window.__intakeErrors;", vec![])
        .await
        .unwrap();
    assert_eq!(errors, json!([]), "errors in the page");
    // The key went in headers only: no address the page loaded or called carries it.
    let addresses = client
        .execute(
            "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        !addresses.to_string().contains(&app.admin_key),
        "the key is in an address: {addresses}"
    );
    let blocked = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const s = document.createElement('script');
             s.textContent = 'window.__inlineRan = true;';
             document.body.append(s);
             setTimeout(() => done([window.__inlineRan === true, window.__intakeCspViolations.length]), 200);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(blocked[0], json!(false), "an inline script ran");
    assert!(
        blocked[1].as_u64().unwrap_or(0) >= 1,
        "no violation seen: {blocked}"
    );

    client.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
