//! The document fields in the web app, in Chromium: a rendered cheque whose amount in words was
//! planted apart from its figures and a receipt, read by the server's rule extractor. The library
//! filters by document type; the cheque's detail lists its type and every field and line item cell
//! the API gives, marks the two that disagree, lights a field's box over the picture where the API
//! says it is (scaled to the picture on screen) when the field is hovered, keeps it lit when
//! selected, and the "Fields" view draws every field's box. No script error in the page.

use fantoccini::Locator;
use intake_domain::model::DocumentKind;
use intake_domain::testkit::documents;
use serde_json::{Value, json};

use super::super::{prerequisites, spawn_app};
use super::{Driver, browser, click, count, picture_loaded, session, type_into, until};

/// Where field `i`'s box is drawn, as fractions of the picture on screen (`null` while not drawn).
const DRAWN_BOX: &str = "
    const rect = document.querySelector(`#overlay rect.box-field[data-field='${arguments[0]}']`);
    const picture = document.getElementById('picture').getBoundingClientRect();
    if (!rect || getComputedStyle(rect).display === 'none' || picture.width === 0) return null;
    const r = rect.getBoundingClientRect();
    return [(r.left - picture.left) / picture.width, (r.top - picture.top) / picture.height,
            r.width / picture.width, r.height / picture.height];";

#[tokio::test]
async fn the_web_app_shows_fields_beside_the_page_and_lights_their_boxes() {
    let Some(font) = prerequisites() else { return };
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let docs = documents::clean(&font).expect("the font parses");
    let cheque = docs
        .iter()
        .find(|d| d.kind == DocumentKind::Cheque && d.planted_mismatch)
        .expect("a cheque with its words planted apart");
    let receipt = docs
        .iter()
        .find(|d| d.page.name.starts_with("receipt centred en-MY"))
        .expect("a receipt");
    let app = spawn_app().await;
    let cheque_id = app.upload("cheque.png", &cheque.page.png()).await;
    let receipt_id = app.upload("receipt.png", &receipt.page.png()).await;
    for id in [&cheque_id, &receipt_id] {
        assert_eq!(app.wait_terminal(id).await["status"], "PROCESSED");
    }
    let (status, read) = app.get_json(&format!("/images/{cheque_id}/fields")).await;
    assert_eq!(status, 200, "{read:#}");
    assert_eq!(read["documentType"]["type"], "cheque", "{read:#}");
    let fields: Vec<Value> = read["fields"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .chain(
            read["lineItems"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|row| row["fields"].as_array().unwrap().clone()),
        )
        .collect();
    let warned = fields
        .iter()
        .filter(|f| !f["warnings"].as_array().unwrap().is_empty())
        .count();
    assert!(warned >= 2, "words and figures both warned: {read:#}");

    let driver = Driver::start(&chromedriver);
    let client = session(&driver, &chromium).await;
    client.goto(&app.url).await.unwrap();
    type_into(&client, Locator::Id("api-key"), &app.admin_key).await;
    click(&client, Locator::Css("#sign-in-form button")).await;
    until(30, "both images", || async {
        (count(&client, "#images li[data-status=PROCESSED]").await == 2).then_some(())
    })
    .await;

    // The library by document type: cheques only.
    click(&client, Locator::Css("#doctype option[value=cheque]")).await;
    until(20, "the cheques", || async {
        let listed = count(&client, "#images li").await;
        let cheques = count(&client, &format!("#images li[data-id='{cheque_id}']")).await;
        (listed == 1 && cheques == 1).then_some(())
    })
    .await;

    // The cheque: its type, every field and cell, the two in doubt marked.
    click(&client, Locator::Css("#images li a")).await;
    until(30, "the fields", || async {
        (count(&client, "#fields li[data-field]").await == fields.len()).then_some(())
    })
    .await;
    let kind = client
        .find(Locator::Id("doc-type"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(kind.starts_with("Cheque"), "{kind}");
    assert_eq!(count(&client, "#fields li.warn").await, warned);
    assert_eq!(count(&client, "#fields-doubt:not([hidden])").await, 1);
    let flagged = client
        .find(Locator::Css("#fields li.warn .fwarn"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(flagged.contains("disagree"), "{flagged}");
    picture_loaded(&client).await;

    // Hovering a field lights its box where the API says, scaled to the picture on screen.
    let (i, amount) = fields
        .iter()
        .enumerate()
        .find(|(_, f)| f["type"] == "AMOUNT")
        .expect("the amount in figures");
    assert_eq!(
        client.execute(DRAWN_BOX, vec![json!(i)]).await.unwrap(),
        Value::Null
    );
    client
        .execute(
            "document.querySelector(`#fields li[data-field='${arguments[0]}']`)
               .dispatchEvent(new MouseEvent('mouseenter'));",
            vec![json!(i)],
        )
        .await
        .unwrap();
    let drawn = client.execute(DRAWN_BOX, vec![json!(i)]).await.unwrap();
    for (k, side) in ["left", "top", "width", "height"].into_iter().enumerate() {
        let on_screen = drawn[k].as_f64().expect("the box is drawn");
        let given = amount["box"][side].as_f64().unwrap();
        assert!(
            (on_screen - given).abs() < 0.01,
            "{side}: drawn at {on_screen}, the API says {given}"
        );
    }
    client
        .execute(
            "document.querySelector(`#fields li[data-field='${arguments[0]}']`)
               .dispatchEvent(new MouseEvent('mouseleave'));",
            vec![json!(i)],
        )
        .await
        .unwrap();
    assert_eq!(
        client.execute(DRAWN_BOX, vec![json!(i)]).await.unwrap(),
        Value::Null
    );

    // Selected, it stays lit; a warned field's box is marked as such.
    click(
        &client,
        Locator::Css(&format!("#fields li[data-field='{i}']")),
    )
    .await;
    assert_eq!(
        count(
            &client,
            &format!("#overlay rect.box-field.on[data-field='{i}']")
        )
        .await,
        1
    );
    assert_eq!(count(&client, "#fields li.on").await, 1);
    assert_eq!(
        count(
            &client,
            &format!("#overlay rect.box-field.warn[data-field='{i}']")
        )
        .await,
        usize::from(!amount["warnings"].as_array().unwrap().is_empty())
    );

    // The "Fields" view draws every field's box on the page.
    click(&client, Locator::Css("input[name=boxes][value=fields]")).await;
    let on_page = fields.iter().filter(|f| f["page"] == 1).count();
    assert_eq!(
        count(&client, "#overlay rect.box-field.shown").await,
        on_page
    );
    assert_eq!(count(&client, "#overlay rect.box-line").await, 0);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("fields.png"), client.screenshot().await.unwrap()).unwrap();

    let errors = client
        .execute("return window.__intakeErrors;", vec![])
        .await
        .unwrap();
    assert_eq!(errors, json!([]), "errors in the page");
    client.close().await.unwrap();
    drop(driver);
    app.stop().await;
}
