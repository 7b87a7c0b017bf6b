//! The pages of attributes, driven as a browser does (a cookie session entered from the
//! Reserved Area, forms with their CSRF and one-time tokens): "Attributi dell'ente" (certified
//! ones listed, a declared one declared and withdrawn, the contact email), the registry (search,
//! creation), the requirements' editor of a draft version, the catalogue's marks and the
//! verification of an attribute on a received request.

use reqwest::{Client, Response, StatusCode};
use serde_json::json;
use testkit::{TestApp, hidden_field, links, visible_text};

use crate::{
    COLL, COMUNE, GIULIA, LUCA, PAGOPA, PAOLO, REGIONE, expect, get_ok, give_anna_collaudo,
    give_luca_collaudo, institution_id, member, post_created, post_ok,
};

/// The Comune's IPA category, a certified attribute of the demo.
const L6: &str = "Comuni e loro Consorzi e Associazioni";

/// A browser of `fiscal_code` that entered Interoperabilità Collaudo for the institution
/// `tax_code` from the Reserved Area.
pub(crate) async fn browser_in_collaudo(
    app: &TestApp,
    fiscal_code: &str,
    tax_code: &str,
) -> Client {
    let browser = testkit::logged_in(app, fiscal_code).await;
    let iid = institution_id(app, tax_code).await;
    let entry = testkit::read_page(
        &browser,
        app,
        &format!("/dashboard/{iid}/enter/prod-interop-coll"),
    )
    .await;
    let identity = hidden_field(&entry, "identity_token").expect("the entry form");
    let r = browser
        .post(app.url(&format!("{COLL}/session")))
        .form(&[("identity_token", identity.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    browser
}

/// The page at `path` (under the server), asserting a 200: its HTML.
pub(crate) async fn open(browser: &Client, app: &TestApp, path: &str) -> String {
    let r = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.text().await.unwrap()
}

/// Posts `fields` to `path` with the CSRF token of the page `form` (HTML).
pub(crate) async fn post(
    browser: &Client,
    app: &TestApp,
    path: &str,
    form: &str,
    fields: &[(&str, &str)],
) -> Response {
    let csrf = hidden_field(form, "csrf").expect("a form with its CSRF token");
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post(app.url(path)).form(&all).send().await.unwrap()
}

/// Where a 303 leads, as the browser reads it.
fn location(r: &Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// A declared or verified attribute created through the API: its id.
async fn new_attribute(app: &TestApp, token: &str, kind: &str, name: &str) -> String {
    let a = post_created(
        app,
        token,
        &format!("{COLL}/api/attributes/{kind}"),
        &json!({ "name": name, "description": "Un attributo per provare le pagine." }),
    )
    .await;
    a["id"].as_str().unwrap().to_string()
}

/// Posts the agreement page's "Inoltra la richiesta" at `path` with a bearer token.
async fn submit(app: &TestApp, token: &str, path: &str) -> Response {
    app.post(path)
        .bearer_auth(token)
        .form(&[("action", "submit")])
        .send()
        .await
        .unwrap()
}

/// The mark (`data-mark`) next to the attribute `id` on a page.
fn mark_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("data-attribute=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[at..];
    let end = rest.find("</li>").unwrap_or(rest.len());
    let marker = "data-mark=\"";
    let start = rest[..end]
        .find(marker)
        .unwrap_or_else(|| panic!("no mark for {id} in {}", &rest[..end]))
        + marker.len();
    rest[start..].chars().take_while(|c| *c != '"').collect()
}

#[tokio::test]
async fn the_attributes_page_lists_certified_ones_and_declares_and_withdraws_a_declared_one() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let browser = browser_in_collaudo(&app, LUCA, COMUNE).await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let declared = new_attribute(&app, &paolo, "declared", "Adesione al progetto di prova").await;

    // The left column leads to the page; the Comune's IPA attributes are listed.
    let path = format!("{COLL}/attributes");
    let home = open(&browser, &app, COLL).await;
    assert!(links(&home).contains(&path), "{home}");
    let html = open(&browser, &app, &path).await;
    assert!(
        html.contains(&format!("href=\"{path}\" aria-current=\"page\"")),
        "{html}"
    );
    let text = visible_text(&html);
    assert!(text.contains("Attributi dell'ente"), "{text}");
    assert!(text.contains(&format!("{L6} IPA")), "{text}");
    assert_eq!(testkit::codes_in(&text), Vec::<String>::new(), "{text}");

    // The declared attribute is offered (found by a search), then declared.
    let html = open(&browser, &app, &format!("{path}?q=progetto+di+prova")).await;
    assert!(
        html.contains(&format!(
            "<option value=\"{declared}\">Adesione al progetto di prova</option>"
        )),
        "{html}"
    );
    // Nothing chosen: the message beside the list, and in the summary.
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[("action", "declare"), ("attribute", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let refused = r.text().await.unwrap();
    // (Askama writes the apostrophe as an entity.)
    assert!(
        refused.contains(
            "id=\"attribute-error\" data-testid=\"error-attribute\">Scegli l&#39;attributo da dichiarare."
        ),
        "{refused}"
    );
    assert!(refused.contains("href=\"#attribute\""), "{refused}");
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[("action", "declare"), ("attribute", &declared)],
    )
    .await;
    let to = location(&r);
    assert!(to.ends_with("/attributes?done=attribute_declared"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Attributo dichiarato."), "{text}");
    assert!(
        text.contains("Adesione al progetto di prova") && text.contains("Revoca la dichiarazione"),
        "{text}"
    );
    let held = get_ok(
        &app,
        &paolo,
        &format!(
            "{COLL}/api/tenants/{}/attributes",
            institution_id(&app, COMUNE).await
        ),
    )
    .await;
    assert!(held["declared"].to_string().contains(&declared), "{held}");

    // Withdrawn: the list says none.
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[("action", "withdraw"), ("attribute", &declared)],
    )
    .await;
    let to = location(&r);
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Dichiarazione revocata."), "{text}");
    assert!(html.contains("data-testid=\"declared-none\""), "{html}");

    // In English, the same page in words.
    testkit::switch_language(&browser, &app, "en").await;
    let text = visible_text(&open(&browser, &app, &path).await);
    assert!(text.contains("Certified attributes"), "{text}");
    assert_eq!(testkit::codes_in(&text), Vec::<String>::new(), "{text}");
}

#[tokio::test]
async fn the_contact_email_form_refuses_a_bad_address_beside_the_field_and_saves_a_good_one() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let browser = browser_in_collaudo(&app, LUCA, COMUNE).await;
    let path = format!("{COLL}/attributes");
    let html = open(&browser, &app, &path).await;

    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[
            ("action", "contact_email"),
            ("address", "non è un indirizzo"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains(
            "id=\"address-error\" data-testid=\"error-address\">Indica un indirizzo email valido"
        ),
        "{refused}"
    );
    assert!(refused.contains("data-error-summary"), "{refused}");
    assert!(refused.contains("href=\"#address\""), "{refused}");
    // What was typed stays.
    assert!(
        refused.contains("value=\"non è un indirizzo\""),
        "{refused}"
    );

    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[
            ("action", "contact_email"),
            ("address", "protocollo@comune.roccabella.it"),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.ends_with("?done=contact_email_saved"), "{to}");
    let html = open(&browser, &app, &to).await;
    assert!(
        html.contains("data-testid=\"contact-email\">protocollo@comune.roccabella.it<"),
        "{html}"
    );
    assert!(visible_text(&html).contains("Email di contatto salvata."));

    // A security operator sees it but may not change it.
    give_anna_collaudo(&app, &["security"]).await;
    let anna = member(&app, crate::ANNA, COMUNE, "prod-interop-coll").await;
    let html = crate::page(&app, &anna, &path).await;
    assert!(
        !html.contains("data-testid=\"contact-email-form\""),
        "{html}"
    );
    let r = app
        .post(&path)
        .bearer_auth(&anna)
        .form(&[("action", "contact_email"), ("address", "altro@example.it")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        visible_text(&r.text().await.unwrap())
            .contains("Solo un amministratore dell'ente può dichiarare attributi")
    );
}

#[tokio::test]
async fn the_registry_finds_attributes_by_name_and_refuses_a_duplicate_name() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let browser = browser_in_collaudo(&app, LUCA, COMUNE).await;
    let registry = format!("{COLL}/attributes/registry");

    // By name: the Comune's category, certified by IPA with its code; its page says the
    // Comune holds it.
    let html = open(
        &browser,
        &app,
        &format!("{registry}?q=comuni+e+loro+consorzi"),
    )
    .await;
    let text = visible_text(&html);
    assert!(text.contains(L6) && text.contains("Certificato"), "{text}");
    assert!(html.contains("<code>L6</code> · IPA"), "{html}");
    let page = links(&html)
        .into_iter()
        .find(|l| l.starts_with(&format!("{registry}/")))
        .unwrap_or_else(|| panic!("no attribute's link in {html}"));
    let detail = open(&browser, &app, &page).await;
    let text = visible_text(&detail);
    assert!(text.contains(L6), "{text}");
    assert!(
        text.contains("Il tuo ente ha questo attributo dal"),
        "{text}"
    );
    // The kind filters.
    let html = open(
        &browser,
        &app,
        &format!("{registry}?kind=DECLARED&q=consorzi"),
    )
    .await;
    assert!(html.contains("data-testid=\"registry-empty\""), "{html}");

    // Created from the form: its page.
    let form = open(&browser, &app, &registry).await;
    let once = hidden_field(&form, "once").unwrap();
    let r = post(
        &browser,
        &app,
        &registry,
        &form,
        &[
            ("once", &once),
            ("kind", "VERIFIED"),
            ("name", "Abilitazione alle prove"),
            ("description", "Attesta che l'ente è abilitato alle prove."),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.ends_with("?done=attribute_created"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Attributo creato nel registro."), "{text}");
    assert!(
        text.contains("Abilitazione alle prove") && text.contains("Verificato"),
        "{text}"
    );

    // The same name in another case: refused beside the name, what was typed kept.
    let form = open(&browser, &app, &registry).await;
    let once = hidden_field(&form, "once").unwrap();
    let r = post(
        &browser,
        &app,
        &registry,
        &form,
        &[
            ("once", &once),
            ("kind", "DECLARED"),
            ("name", "abilitazione alle PROVE"),
            ("description", "Un altro attributo con lo stesso nome."),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "id=\"name-error\" data-testid=\"error-name\">Esiste già un attributo dichiarato o verificato con questo nome"
        ),
        "{html}"
    );
    assert!(html.contains("value=\"abilitazione alle PROVE\""), "{html}");
    assert!(!visible_text(&html).contains("attributeDuplicateByName"));

    // Too short: both fields say why.
    let form = open(&browser, &app, &registry).await;
    let once = hidden_field(&form, "once").unwrap();
    let r = post(
        &browser,
        &app,
        &registry,
        &form,
        &[
            ("once", &once),
            ("kind", "DECLARED"),
            ("name", "ab"),
            ("description", "corta"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"error-name\">Deve avere da 3 a 160 caratteri (ne ha 2).")
            && html.contains(
                "data-testid=\"error-description\">Deve avere da 10 a 1000 caratteri (ne ha 5)."
            ),
        "{html}"
    );

    // 20 a page.
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    for i in 0..21 {
        new_attribute(&app, &luca, "declared", &format!("Prova paginata {i:02}")).await;
    }
    let html = open(&browser, &app, &format!("{registry}?q=paginata")).await;
    let text = visible_text(&html);
    assert!(text.contains("Attributi trovati: 21"), "{text}");
    assert!(text.contains("Pagina 1 di 2"), "{text}");
    assert!(text.contains("Prova paginata 19") && !text.contains("Prova paginata 20"));
    let next = format!("{registry}?q=paginata&page=2");
    assert!(links(&html).contains(&next), "{html}");
    let text = visible_text(&open(&browser, &app, &next).await);
    assert!(
        text.contains("Prova paginata 20") && text.contains("Pagina 2 di 2"),
        "{text}"
    );
}

#[tokio::test]
async fn the_producer_edits_the_groups_of_a_draft_and_sees_them_once_published() {
    let app = TestApp::spawn().await;
    let browser = browser_in_collaudo(&app, PAOLO, PAGOPA).await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let e = post_created(
        &app,
        &paolo,
        &format!("{COLL}/api/eservices"),
        &json!({
            "name": "Servizio con requisiti", "description": "Un e-service che chiede attributi.",
            "technology": "REST", "mode": "DELIVER", "personalData": false,
            "descriptor": {
                "audience": ["https://api.example.it/requisiti"], "voucherLifespan": 600,
                "dailyCallsPerConsumer": 100, "dailyCallsTotal": 1000,
                "agreementApprovalPolicy": "AUTOMATIC",
            },
        }),
    )
    .await;
    let id = e["id"].as_str().unwrap();
    let d = e["descriptors"][0]["id"].as_str().unwrap();
    let version = format!("{COLL}/eservices/{id}/versions/{d}");
    let l6 = crate::attributes::attribute(&app, &paolo, "CERTIFIED", L6).await;
    let pa =
        crate::attributes::attribute(&app, &paolo, "CERTIFIED", "Pubbliche Amministrazioni").await;

    // The draft's editor offers the registry's names while typing.
    let html = open(&browser, &app, &version).await;
    assert!(html.contains("data-testid=\"editor-certified\""), "{html}");
    assert!(html.contains(&format!("<option value=\"{L6}\">")), "{html}");
    assert!(html.contains("list=\"req-certified-choices\""), "{html}");

    // A new group with its first attribute and a daily-calls figure.
    let r = post(
        &browser,
        &app,
        &version,
        &html,
        &[
            ("action", "requirement_add"),
            ("kind", "certified"),
            ("group", "new"),
            ("name", &L6.to_lowercase()),
            ("dailyCalls", "5.000"),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.ends_with("?done=requirements_saved"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Attributi richiesti aggiornati."), "{text}");
    assert!(
        text.contains(&format!(
            "Gruppo 1 {L6} (5.000 chiamate al giorno per chi lo ha)"
        )),
        "{text}"
    );

    // An unknown name: refused beside its field.
    let r = post(
        &browser,
        &app,
        &version,
        &html,
        &[
            ("action", "requirement_add"),
            ("kind", "certified"),
            ("group", "0"),
            ("name", "Enti che non esistono"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains(
            "id=\"req-certified-0-name-error\" data-testid=\"error-req-certified-0-name\">Nessun attributo certificato del registro si chiama «Enti che non esistono»."
        ),
        "{refused}"
    );
    assert!(
        refused.contains("href=\"#req-certified-0-name\""),
        "{refused}"
    );
    assert!(
        refused.contains("value=\"Enti che non esistono\""),
        "{refused}"
    );

    // Another attribute in the same group: one of the two suffices.
    let r = post(
        &browser,
        &app,
        &version,
        &html,
        &[
            ("action", "requirement_add"),
            ("kind", "certified"),
            ("group", "0"),
            ("name", "Pubbliche Amministrazioni"),
        ],
    )
    .await;
    let html = open(&browser, &app, &location(&r)).await;
    assert!(visible_text(&html).contains("Gruppo 1: uno tra"), "{html}");
    // The same again: refused.
    let r = post(
        &browser,
        &app,
        &version,
        &html,
        &[
            ("action", "requirement_add"),
            ("kind", "certified"),
            ("group", "0"),
            ("name", "Pubbliche Amministrazioni"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains(
            "data-testid=\"error-req-certified-0-name\">L&#39;attributo è già in questo gruppo."
        ),
        "{refused}"
    );
    let v = get_ok(&app, &paolo, &format!("{COLL}/api/eservices/{id}")).await;
    let group = &v["descriptors"][0]["attributes"]["certified"][0];
    assert_eq!(group[0]["id"], l6.as_str(), "{v}");
    assert_eq!(group[0]["dailyCallsPerConsumer"], 5000, "{v}");
    assert_eq!(group[1]["id"], pa.as_str(), "{v}");

    // Taken away again.
    let r = post(
        &browser,
        &app,
        &version,
        &html,
        &[
            ("action", "requirement_remove"),
            ("kind", "certified"),
            ("group", "0"),
            ("attribute", &pa),
        ],
    )
    .await;
    let html = open(&browser, &app, &location(&r)).await;
    let text = visible_text(&html);
    assert!(!text.contains("Gruppo 1: uno tra"), "{text}");
    assert!(text.contains(&format!("Gruppo 1 {L6}")), "{text}");

    // Published: the groups are shown, the editor gone.
    let (status, v) = crate::documents::upload(
        &app,
        &paolo,
        &format!("{COLL}/api/eservices/{id}/descriptors/{d}"),
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            crate::documents::openapi("https://api.example.it/requisiti/v1").into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    post_ok(
        &app,
        &paolo,
        &format!("{COLL}/api/eservices/{id}/descriptors/{d}/publish"),
    )
    .await;
    let html = open(&browser, &app, &version).await;
    assert!(!html.contains("data-testid=\"editor-certified\""), "{html}");
    assert!(
        html.contains("data-testid=\"requirements-certified\""),
        "{html}"
    );
    assert!(
        visible_text(&html).contains(&format!("Gruppo 1 {L6}")),
        "{html}"
    );
}

#[tokio::test]
async fn the_catalogue_marks_held_and_missing_attributes_and_names_them_when_it_refuses() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let l6 = crate::attributes::attribute(&app, &paolo, "CERTIFIED", L6).await;
    let declared = new_attribute(&app, &paolo, "declared", "Adesione alla convenzione").await;
    let verified = new_attribute(&app, &paolo, "verified", "Nulla osta del garante").await;
    let (eservice, descriptor) = crate::attributes::eservice_requiring(
        &app,
        &paolo,
        "Servizio per i Comuni",
        "AUTOMATIC",
        json!({
            "certified": [[{"id": l6}]],
            "declared": [[{"id": declared}]],
            "verified": [[{"id": verified}]],
        }),
    )
    .await;
    let path = format!("{COLL}/catalog/{eservice}");

    // The Comune: its category is held, the declaration missing, the verification the
    // producer's to make.
    let html = crate::page(&app, &luca, &path).await;
    assert_eq!(mark_of(&html, &l6), "held");
    assert_eq!(mark_of(&html, &declared), "missing");
    assert_eq!(mark_of(&html, &verified), "to-verify");
    assert!(
        !html.contains("data-testid=\"missing-certified\""),
        "{html}"
    );
    let text = visible_text(&html);
    assert!(
        text.contains("Posseduto") && text.contains("Mancante"),
        "{text}"
    );
    // Declared: now held.
    expect(
        &app,
        &luca,
        "POST",
        &format!("{COLL}/api/tenants/attributes/declared"),
        Some(&json!({ "id": declared })),
        200,
    )
    .await;
    let html = crate::page(&app, &luca, &path).await;
    assert_eq!(mark_of(&html, &declared), "held");

    // The Regione is no Comune: told at the top, and refused naming the attribute.
    let html = crate::page(&app, &giulia, &path).await;
    assert_eq!(mark_of(&html, &l6), "missing");
    let text = visible_text(&html);
    assert!(
        text.contains(&format!(
            "Il tuo ente non ha gli attributi certificati necessari: «{L6}»."
        )),
        "{text}"
    );
    let r = app
        .post(&path)
        .bearer_auth(&giulia)
        .form(&[("descriptorId", descriptor.as_str())])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = visible_text(&r.text().await.unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(
        text.contains(&format!(
            "Operazione non eseguita: Il tuo ente non ha gli attributi certificati necessari: «{L6}»."
        )),
        "{text}"
    );
    assert!(!text.contains("missingCertifiedAttributesError"), "{text}");
    // In English.
    let r = app
        .get(&path)
        .bearer_auth(&giulia)
        .header("cookie", "lang=en")
        .send()
        .await
        .unwrap();
    let text = visible_text(&r.text().await.unwrap());
    assert!(
        text.contains(&format!(
            "Your institution does not have the certified attributes it needs: “{L6}”."
        )) && text.contains("Missing"),
        "{text}"
    );
    assert_eq!(testkit::codes_in(&text), Vec::<String>::new(), "{text}");
}

#[tokio::test]
async fn the_producer_verifies_an_attribute_on_a_received_request_before_approving_it() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let verified = new_attribute(&app, &paolo, "verified", "Idoneità verificata").await;
    let (eservice, descriptor) = crate::attributes::eservice_requiring(
        &app,
        &paolo,
        "Servizio da verificare",
        "AUTOMATIC",
        json!({ "verified": [[{"id": verified}]] }),
    )
    .await;
    let (agreement, a) = crate::submitted_agreement(&app, &luca, &eservice, &descriptor).await;
    assert_eq!(a["state"], "PENDING", "{a}");
    let browser = browser_in_collaudo(&app, PAOLO, PAGOPA).await;
    let path = format!("{COLL}/agreements/{agreement}");
    let html = open(&browser, &app, &path).await;
    assert!(html.contains("data-testid=\"verifications\""), "{html}");
    assert!(
        visible_text(&html).contains("Idoneità verificata Non verificato"),
        "{html}"
    );

    // Approving first: refused, naming what is missing.
    let r = post(&browser, &app, &path, &html, &[("action", "approve")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = visible_text(&r.text().await.unwrap());
    assert!(
        text.contains(
            "Il fruitore non ha ancora tutti gli attributi richiesti: «Idoneità verificata»."
        ),
        "{text}"
    );

    // A day past: refused beside the date.
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[
            ("action", "verify"),
            ("attribute", &verified),
            ("expires", "2001-01-01"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains(&format!(
            "id=\"expires-{verified}-error\" data-testid=\"error-expires\">La scadenza deve essere una data futura."
        )),
        "{refused}"
    );
    assert!(refused.contains("value=\"2001-01-01\""), "{refused}");

    // Verified until the end of a day in Italy; then approved.
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[
            ("action", "verify"),
            ("attribute", &verified),
            ("expires", "2099-12-31"),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.ends_with("?done=attribute_verified"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(
        text.contains("Verificato fino al 31/12/2099 23:59"),
        "{text}"
    );
    let r = post(&browser, &app, &path, &html, &[("action", "approve")]).await;
    location(&r);
    let a = get_ok(&app, &luca, &format!("{COLL}/api/agreements/{agreement}")).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");

    // Revoked: the platform suspends the request, and the consumer is told why.
    let html = open(&browser, &app, &path).await;
    let r = post(
        &browser,
        &app,
        &path,
        &html,
        &[("action", "unverify"), ("attribute", &verified)],
    )
    .await;
    location(&r);
    let html = crate::page(&app, &luca, &path).await;
    let text = visible_text(&html);
    assert!(text.contains("sospesa dalla piattaforma"), "{text}");
    assert!(
        text.contains("non ha più gli attributi richiesti: «Idoneità verificata»"),
        "{text}"
    );
}

#[tokio::test]
async fn a_refused_submission_says_what_to_put_right_and_where() {
    let app = TestApp::spawn().await;
    give_luca_collaudo(&app, "admin").await;
    let paolo = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let luca = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    let declared = new_attribute(&app, &paolo, "declared", "Adesione al protocollo").await;
    let (eservice, descriptor) = crate::attributes::eservice_requiring(
        &app,
        &paolo,
        "Servizio con dichiarazione",
        "AUTOMATIC",
        json!({ "declared": [[{"id": declared}]] }),
    )
    .await;
    // Created from the catalogue (nothing certified is required).
    let r = app
        .post(&format!("{COLL}/catalog/{eservice}"))
        .bearer_auth(&luca)
        .form(&[("descriptorId", descriptor.as_str())])
        .send()
        .await
        .unwrap();
    let to = location(&r);
    let path = to.split('?').next().unwrap().to_string();

    // Without a contact email: said, with the way to set it.
    let db = app.db.connect().await;
    sqlx::query(
        "UPDATE interop_institutions SET contact_email = NULL WHERE env = 'collaudo' \
         AND fiscal_code = $1",
    )
    .bind(COMUNE)
    .execute(db.writer())
    .await
    .unwrap();
    let r = submit(&app, &luca, &path).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        visible_text(&html).contains(
            "Per inoltrare una richiesta di fruizione indica prima l'email di contatto del tuo ente."
        ),
        "{html}"
    );
    assert!(
        links(&html).contains(&format!("{COLL}/attributes#contact-email")),
        "{html}"
    );

    // With it, the missing declaration is named, with the way to declare it.
    expect(
        &app,
        &luca,
        "POST",
        &format!("{COLL}/api/tenants/mails"),
        Some(&json!({ "kind": "CONTACT_EMAIL", "address": "protocollo@comune.roccabella.it" })),
        200,
    )
    .await;
    let r = submit(&app, &luca, &path).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    let text = visible_text(&html);
    assert!(
        text.contains(
            "Il tuo ente non ha dichiarato gli attributi richiesti: «Adesione al protocollo»."
        ),
        "{text}"
    );
    assert!(
        links(&html).contains(&format!("{COLL}/attributes#declared")),
        "{html}"
    );
    assert!(!text.contains("agreementSubmissionFailed"), "{text}");
}
