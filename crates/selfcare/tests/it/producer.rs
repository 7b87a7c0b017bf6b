//! The producer's side of Interoperability in a real browser, in Collaudo: the Regione
//! publishes an e-service with its OpenAPI interface, approves the Comune's request from
//! "Richieste ricevute" and its purpose over the quota from "Finalità ricevute"; the Comune's
//! voucher names the new e-service and version.

use fantoccini::Locator::Css;
use serde_json::{Value, json};
use testkit::TestApp;
use testkit::browser::Browser;
use testkit::demo::{COMUNE, GIULIA, LUCA};

use crate::browser::{
    activated_purpose, click, click_when_ready, interop_call, login_as, mario_adds_the_technician,
    scroll_to, search_catalogue, text_of, type_into, wait_for_text,
};

const NAME: &str = "Anagrafe delle esenzioni";
const SERVER: &str = "https://api.collaudo.regione.valdoro.it/esenzioni/v1";

fn openapi() -> String {
    format!(
        "openapi: 3.0.3\ninfo:\n  title: {NAME}\n  version: 1.0.0\nservers:\n  - url: {SERVER}\n\
         paths:\n  /esenzioni/{{codiceFiscale}}:\n    get:\n      operationId: getEsenzioni\n      \
         parameters:\n        - name: codiceFiscale\n          in: path\n          required: true\n          \
         schema:\n            type: string\n      responses:\n        '200':\n          \
         description: Le esenzioni dell'assistito\n"
    )
}

/// A session of Collaudo for `fiscal_code` of the Comune, opened through the JSON API (the
/// browser's own ends when another person logs in on it).
async fn api_session(app: &TestApp, fiscal_code: &str) -> String {
    let session = testkit::demo::session_token(app, fiscal_code).await;
    let comune = testkit::demo::institution_id(app, COMUNE).await;
    let identity = testkit::demo::try_identity_token(app, &session, &comune, "prod-interop-coll")
        .await
        .unwrap();
    let (status, token) = testkit::enter_back_office(app, "/interop/collaudo", &identity).await;
    assert_eq!(status, 200);
    token.unwrap()
}

/// Replaces what the field `css` holds (a form's default) with `text`.
pub(crate) async fn replace(c: &fantoccini::Client, css: &str, text: &str) {
    c.find(Css(css)).await.unwrap().clear().await.unwrap();
    type_into(c, css, text).await;
}

/// Logs `fiscal_code` in and enters Interoperabilità Collaudo: the session token of Collaudo
/// (the cookie, also a bearer token for its JSON API).
pub(crate) async fn enter_collaudo(
    c: &fantoccini::Client,
    app: &TestApp,
    fiscal_code: &str,
) -> String {
    login_as(c, app, fiscal_code).await;
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
    click_when_ready(c, "a[data-env='test']").await;
    c.wait()
        .for_element(Css("[data-testid=environment]"))
        .await
        .unwrap();
    c.get_named_cookie("interop_collaudo")
        .await
        .unwrap()
        .value()
        .to_string()
}

/// From "I miei e-service", "Crea e-service" filled for a REST e-service that delivers personal
/// data, with a 10-minute voucher, 100 calls a day per consumer and 1000 in all; `policy` is
/// the approval's radio button. Stops before creating it.
pub(crate) async fn fill_new_eservice(
    c: &fantoccini::Client,
    name: &str,
    description: &str,
    audience: &str,
    policy: &str,
) {
    click_when_ready(c, "nav a[href='/interop/collaudo/eservices']").await;
    click_when_ready(c, "[data-testid=new-eservice]").await;
    c.wait()
        .for_element(Css("[data-testid=eservice-form]"))
        .await
        .unwrap();
    type_into(c, "#name", name).await;
    type_into(c, "#description", description).await;
    click(c, "#technology").await; // REST
    click(c, "#mode").await; // eroga dati
    click(c, "#personalData").await; // sì
    type_into(c, "#audience", audience).await;
    // The lifespan is asked in minutes, as on the real platform.
    replace(c, "#voucherMinutes", "10").await;
    replace(c, "#dailyCallsPerConsumer", "100").await;
    replace(c, "#dailyCallsTotal", "1000").await;
    click(c, policy).await;
}

/// On a draft version's page: uploads `openapi` as the interface (its `server` shown), then
/// publishes the version.
pub(crate) async fn upload_interface_and_publish(
    c: &fantoccini::Client,
    browser: &Browser,
    stem: &str,
    openapi: &str,
    server: &str,
) {
    let file = std::env::temp_dir().join(format!("{stem}-{}.yaml", uuid::Uuid::new_v4()));
    std::fs::write(&file, openapi).unwrap();
    type_into(c, "#interface-prettyName", "Interfaccia REST").await;
    c.find(Css("#interface-doc"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(c, "[data-testid=upload-interface-submit]").await;
    wait_for_text(c, "[data-testid=server-urls]", server).await;
    browser
        .screenshot(&format!("{stem}-version-interface"))
        .await;
    let _ = std::fs::remove_file(&file);
    click(c, "[data-testid=action-publish]").await;
    wait_for_text(
        c,
        "[data-testid=version-state][data-state=PUBLISHED]",
        "Pubblicata",
    )
    .await;
}

#[tokio::test]
async fn browser_regione_publishes_an_eservice_and_approves_the_comune_from_its_received_lists() {
    let test =
        "browser_regione_publishes_an_eservice_and_approves_the_comune_from_its_received_lists";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;

    // The Comune's technician (Luca, admin of Interoperabilità Collaudo) is added by Mario.
    mario_adds_the_technician(c, &app, &browser).await;

    // 1) Giulia, for Regione Valdoro: "I miei e-service" → "Crea e-service".
    enter_collaudo(c, &app, GIULIA).await;
    fill_new_eservice(
        c,
        NAME,
        "Le esenzioni dal ticket sanitario degli assistiti della Regione Valdoro.",
        "https://api.collaudo.regione.valdoro.it/esenzioni",
        "#agreementApprovalPolicy-MANUAL",
    )
    .await;
    browser.screenshot("producer-eservice-form").await;
    click(c, "[data-testid=create-eservice]").await;

    // The draft version's page: the interface, then "Pubblica".
    wait_for_text(c, "[data-testid=version-state][data-state=DRAFT]", "Bozza").await;
    assert_eq!(
        text_of(c, "[data-testid=lifespan]").await.trim(),
        "10 minuti"
    );
    upload_interface_and_publish(c, &browser, "esenzioni", &openapi(), SERVER).await;
    browser.screenshot("producer-version-published").await;
    let version_path = c.current_url().await.unwrap().path().to_string();
    // /interop/collaudo/eservices/{id}/versions/{descriptor}
    let parts: Vec<&str> = version_path.split('/').collect();
    let (eservice_id, descriptor_id) = (parts[4].to_string(), parts[6].to_string());

    // 2) Luca, for the Comune: finds it in the catalogue with its interface, and asks for it.
    let luca = enter_collaudo(c, &app, LUCA).await;
    search_catalogue(c, "esenzioni").await;
    click_when_ready(c, "[data-testid=catalog] li.card h2 a").await;
    assert_eq!(text_of(c, "[data-testid=eservice-name]").await, NAME);
    assert_eq!(
        text_of(c, "[data-testid=download-interface]").await,
        "Interfaccia REST"
    );
    let href = c
        .find(Css("[data-testid=download-interface]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let r = app.get(&href).bearer_auth(&luca).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), openapi());
    click(c, "[data-testid=subscribe]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=DRAFT]",
        "Bozza",
    )
    .await;
    click(c, "[data-testid=action-submit]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=PENDING]",
        "In attesa di approvazione",
    )
    .await;

    // 3) Giulia approves it from "Richieste ricevute".
    enter_collaudo(c, &app, GIULIA).await;
    click_when_ready(c, "nav a[href='/interop/collaudo/agreements/received']").await;
    let row = text_of(c, "[data-testid=agreements] tr[data-state='PENDING']").await;
    assert!(
        row.contains(NAME) && row.contains("Comune di Roccabella"),
        "{row}"
    );
    browser.screenshot("producer-received-requests").await;
    click(c, "[data-testid=agreements] tr[data-state='PENDING'] a").await;
    click_when_ready(c, "[data-testid=action-approve]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=ACTIVE]",
        "Attiva",
    )
    .await;

    // 4) The Comune's purpose asks 500 calls a day, over the 100 per consumer: it waits.
    let luca = api_session(&app, LUCA).await;
    let (purpose, state) = activated_purpose(
        &app,
        &luca,
        &eservice_id,
        "Verifica delle esenzioni",
        "Verifica delle esenzioni dal ticket per i servizi sociali.",
        500,
    )
    .await;
    assert_eq!(state, "WAITING_FOR_APPROVAL");

    // 5) Giulia sees it in "Finalità ricevute" with the figures, and activates it.
    enter_collaudo(c, &app, GIULIA).await;
    click_when_ready(c, "nav a[href='/interop/collaudo/purposes/received']").await;
    let waiting = text_of(c, "[data-testid=purposes-waiting]").await;
    for words in [
        "Verifica delle esenzioni",
        "Comune di Roccabella",
        "500",
        "0 su 100",
        "Oltre i limiti",
    ] {
        assert!(waiting.contains(words), "{words:?} in {waiting}");
    }
    browser.screenshot("producer-received-purposes").await;
    click(c, "[data-testid=purposes-waiting] [data-testid=decide]").await;
    click_when_ready(c, "[data-testid=action-approve]").await;
    wait_for_text(
        c,
        "[data-testid=purpose-state][data-state=ACTIVE]",
        "Attiva",
    )
    .await;

    // 6) The Comune's voucher for it names the new e-service and version.
    let me = interop_call(&app, &luca, "GET", "/api/me", None).await;
    let client = interop_call(
        &app,
        &luca,
        "POST",
        "/api/clientsConsumer",
        Some(json!({"name": "Gestionale esenzioni", "members": [me["userId"]]})),
    )
    .await;
    let client_id = client["id"].as_str().unwrap().to_string();
    interop_call(
        &app,
        &luca,
        "POST",
        &format!("/api/clients/{client_id}/purposes"),
        Some(json!({"purposeId": purpose})),
    )
    .await;
    let key = testkit::interop::ClientKey::generate();
    interop_call(
        &app,
        &luca,
        "POST",
        &format!("/api/clients/{client_id}/keys"),
        Some(
            json!([{"key": key.upload_b64(), "use": "SIG", "alg": "RS256",
                     "name": "Chiave del gestionale"}]),
        ),
    )
    .await;
    let assertion = key.assertion(&testkit::interop::assertion_claims(
        &client_id,
        "auth.uat.interop.pagopa.it/client-assertion",
        Some(&purpose),
    ));
    let r = app
        .client
        .post(app.url("/interop/collaudo/token.oauth2"))
        .form(&testkit::interop::token_form(Some(&client_id), &assertion))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let voucher = platform::jwt::Unverified::parse(body["access_token"].as_str().unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(voucher.payload()).unwrap();
    assert_eq!(claims["eserviceId"], eservice_id.as_str(), "{claims}");
    assert_eq!(claims["descriptorId"], descriptor_id.as_str(), "{claims}");
    assert_eq!(
        claims["aud"],
        "https://api.collaudo.regione.valdoro.it/esenzioni"
    );
    // The lifespan set in minutes: 10 minutes.
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    scroll_to(c, "main").await;
    browser.close().await;
}
