//! Attributes in a real browser, in Collaudo: the Regione's e-service requires the certified
//! attribute of the Comuni (from IPA) and a declared one; Comune di Roccabella declares it and
//! obtains an ACTIVE request; PagoPA, not a Comune, is refused with words that name the missing
//! attribute.

use fantoccini::Locator::Css;
use testkit::TestApp;
use testkit::browser::Browser;
use testkit::demo::{GIULIA, LUCA, PAOLO};

use crate::browser::{
    click, click_when_ready, login_as, mario_adds_the_technician, search_catalogue, text_of,
    type_into, wait_for_text,
};
use crate::producer::{enter_collaudo, fill_new_eservice, upload_interface_and_publish};

const NAME: &str = "Fascicolo dei servizi comunali";
const L6: &str = "Comuni e loro Consorzi e Associazioni";
const SERVER: &str = "https://api.collaudo.regione.valdoro.it/fascicolo/v1";
const DECLARED: &str = "Adesione al patto per la sanità digitale";

fn openapi() -> String {
    format!(
        "openapi: 3.0.3\ninfo:\n  title: {NAME}\n  version: 1.0.0\nservers:\n  - url: {SERVER}\npaths:\n  /fascicoli/{{id}}:\n    \
         get:\n      operationId: getFascicolo\n      parameters:\n        - name: id\n          \
         in: path\n          required: true\n          schema:\n            type: string\n      \
         responses:\n        '200':\n          description: Il fascicolo\n"
    )
}

/// Adds `name` to a new group of `kind` (certified, declared, verified) on the version page.
async fn require(c: &fantoccini::Client, kind: &str, name: &str) {
    let field = format!("#req-{kind}-new-name");
    type_into(c, &field, name).await;
    click(
        c,
        &format!("[data-testid=add-requirement-{kind}-new] [data-testid=add-requirement]"),
    )
    .await;
    let list = format!("[data-testid=editor-{kind}] .requirement-group");
    c.wait().for_element(Css(&list)).await.unwrap();
    let shown = text_of(c, &list).await;
    assert!(shown.contains(name), "{name} in {shown}");
}

#[tokio::test]
async fn browser_the_comune_declares_and_is_active_while_pagopa_lacks_the_certified_attribute() {
    let test =
        "browser_the_comune_declares_and_is_active_while_pagopa_lacks_the_certified_attribute";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    mario_adds_the_technician(c, &app, &browser).await;

    // 1) Giulia, for the Regione: a declared attribute in the registry...
    enter_collaudo(c, &app, GIULIA).await;
    click_when_ready(c, "nav a[href='/interop/collaudo/attributes']").await;
    click_when_ready(c, "[data-testid=to-registry]").await;
    c.wait()
        .for_element(Css("[data-testid=attribute-form]"))
        .await
        .unwrap();
    click(c, "#kind").await; // dichiarato
    type_into(c, "#name", DECLARED).await;
    type_into(
        c,
        "#description",
        "L'ente dichiara di aver aderito al patto regionale per la sanità digitale.",
    )
    .await;
    click(c, "[data-testid=create-attribute]").await;
    wait_for_text(c, "[data-testid=attribute-name]", DECLARED).await;

    // ...and an e-service whose version requires it and the Comuni's certified attribute.
    fill_new_eservice(
        c,
        NAME,
        "Il fascicolo dei servizi sociali e sanitari che la Regione offre ai Comuni.",
        "https://api.collaudo.regione.valdoro.it/fascicolo",
        "#agreementApprovalPolicy", // automatica
    )
    .await;
    click(c, "[data-testid=create-eservice]").await;
    wait_for_text(c, "[data-testid=version-state][data-state=DRAFT]", "Bozza").await;
    require(c, "certified", L6).await;
    require(c, "declared", DECLARED).await;
    browser.screenshot("attributes-version-requirements").await;
    upload_interface_and_publish(c, &browser, "fascicolo", &openapi(), SERVER).await;

    // 2) Luca, for the Comune: the catalogue says what it has and lacks.
    enter_collaudo(c, &app, LUCA).await;
    search_catalogue(c, "fascicolo").await;
    click_when_ready(c, "[data-testid=catalog] li.card h2 a").await;
    assert_eq!(text_of(c, "[data-testid=eservice-name]").await, NAME);
    let certified = text_of(c, "[data-testid=requirements-certified]").await;
    assert!(
        certified.contains(L6) && certified.contains("Posseduto"),
        "{certified}"
    );
    let declared = text_of(c, "[data-testid=requirements-declared]").await;
    assert!(
        declared.contains(DECLARED) && declared.contains("Mancante"),
        "{declared}"
    );
    browser.screenshot("attributes-catalogue-comune").await;
    let eservice_path = c.current_url().await.unwrap().path().to_string();

    // It declares the attribute on "Attributi"...
    click(c, "nav a[href='/interop/collaudo/attributes']").await;
    c.wait()
        .for_element(Css("[data-testid=declare-form]"))
        .await
        .unwrap();
    c.find(Css("#attribute"))
        .await
        .unwrap()
        .select_by_label(DECLARED)
        .await
        .unwrap();
    click(c, "[data-testid=declare]").await;
    c.wait()
        .for_element(Css("[data-testid=declared] [data-testid=withdraw]"))
        .await
        .unwrap();
    let mine = text_of(c, "[data-testid=declared]").await;
    assert!(mine.contains(DECLARED), "{mine}");
    let certified_held = text_of(c, "[data-testid=certified]").await;
    assert!(certified_held.contains(L6), "{certified_held}");
    browser.screenshot("attributes-comune-page").await;

    // ...and its request is ACTIVE at once (AUTOMATIC, every attribute held).
    c.goto(&app.url(&eservice_path)).await.unwrap();
    click_when_ready(c, "[data-testid=subscribe]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=DRAFT]",
        "Bozza",
    )
    .await;
    click(c, "[data-testid=action-submit]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=ACTIVE]",
        "Attiva",
    )
    .await;

    // 3) Paolo, for PagoPA (not a Comune): told what is missing, and refused naming it.
    // Paolo is a platform operator: he picks PagoPA from the institutions' page first.
    login_as(c, &app, PAOLO).await;
    click_when_ready(c, "ul.cards a.btn-primary").await;
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
    click_when_ready(c, "a[data-env='test']").await;
    c.wait()
        .for_element(Css("[data-testid=environment]"))
        .await
        .unwrap();
    c.goto(&app.url(&eservice_path)).await.unwrap();
    let note = text_of(c, "[data-testid=missing-certified]").await;
    assert!(note.contains(L6), "{note}");
    click_when_ready(c, "[data-testid=subscribe]").await;
    c.wait()
        .for_element(Css("[data-testid=refusal]"))
        .await
        .unwrap();
    let refusal = text_of(c, "[data-testid=refusal]").await;
    assert!(refusal.contains(L6), "{refusal}");
    browser.screenshot("attributes-refused-pagopa").await;
}
