//! The producer's pages, driven as a browser does (a cookie session entered from the Reserved
//! Area, forms with their CSRF and one-time tokens): "Crea e-service", the version's page with
//! the interface uploaded as a file, publication, and the catalogue's download of the
//! interface.

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use testkit::{TestApp, hidden_field, links, visible_text};

use crate::documents::openapi;
use crate::{COLL, GIULIA, PAGOPA, PAOLO, REGIONE, institution_id, member};

const SWAGGER_2: &str = "swagger: '2.0'\ninfo:\n  title: Vecchia\n  version: '1'\n\
                         host: api.example.it\nbasePath: /v1\npaths: {}\n";

const NAME: &str = "Registro delle prove";

/// Paolo (PagoPA admin) in a browser that entered Interoperabilità Collaudo from the Reserved
/// Area: the browser.
async fn paolo_in_collaudo(app: &TestApp) -> Client {
    let browser = testkit::logged_in(app, PAOLO).await;
    let pagopa = institution_id(app, PAGOPA).await;
    let entry = testkit::read_page(
        &browser,
        app,
        &format!("/dashboard/{pagopa}/enter/prod-interop-coll"),
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
async fn open(browser: &Client, app: &TestApp, path: &str) -> String {
    let r = browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.text().await.unwrap()
}

/// Where a 303 leads, as the browser reads it.
fn location(r: &Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The creation form's fields, valid, with `name` and the tokens of the `form` page.
fn creation(form: &str, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", hidden_field(form, "csrf").unwrap()),
        ("once", hidden_field(form, "once").unwrap()),
        ("name", name.to_string()),
        (
            "description",
            "Un registro per provare le pagine dell'erogatore.".into(),
        ),
        ("technology", "REST".into()),
        ("mode", "DELIVER".into()),
        ("personalData", "false".into()),
        ("versionDescription", "Prima versione".into()),
        ("audience", "https://api.example.it/prove\n\n".into()),
        ("voucherMinutes", "10".into()),
        ("dailyCallsPerConsumer", "1.000".into()),
        ("dailyCallsTotal", "10000".into()),
        ("agreementApprovalPolicy", "AUTOMATIC".into()),
    ]
}

/// Uploads `text` as the version's interface through the page's form (multipart).
async fn upload_interface(
    browser: &Client,
    app: &TestApp,
    version: &str,
    file_name: &str,
    text: &str,
) -> Response {
    let html = open(browser, app, version).await;
    let part = Part::bytes(text.as_bytes().to_vec())
        .file_name(file_name.to_string())
        .mime_str("application/yaml")
        .unwrap();
    let form = Form::new()
        .text("csrf", hidden_field(&html, "csrf").unwrap())
        .text("once", hidden_field(&html, "once").unwrap())
        .text("action", "upload")
        .text("kind", "INTERFACE")
        .text("prettyName", "Interfaccia del registro")
        .part("doc", part);
    browser
        .post(app.url(version))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_producer_creates_an_eservice_uploads_its_interface_and_publishes_it_from_the_pages() {
    let app = TestApp::spawn().await;
    let browser = paolo_in_collaudo(&app).await;

    // "I miei e-service" leads to the form.
    let list = open(&browser, &app, &format!("{COLL}/eservices")).await;
    let new = format!("{COLL}/eservices/new");
    assert!(links(&list).contains(&new), "{list}");
    assert!(visible_text(&list).contains("Crea e-service"));

    // A bad form: 400, the summary at the top, each message next to its field, in Italian.
    let form = open(&browser, &app, &new).await;
    let mut fields = creation(&form, "Reg");
    fields.retain(|(k, _)| *k != "technology");
    for (k, v) in &mut fields {
        match *k {
            "voucherMinutes" => *v = "0".into(),
            "dailyCallsPerConsumer" => *v = "100".into(),
            "dailyCallsTotal" => *v = "10".into(),
            _ => {}
        }
    }
    let r = browser
        .post(app.url(&new))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    let text = visible_text(&html);
    assert!(html.contains("data-error-summary"), "{html}");
    assert!(text.contains("Il modulo contiene 4 errori"), "{text}");
    for (id, words) in [
        ("name", "Deve avere da 5 a 60 caratteri (ne ha 3)."),
        ("technology", "Scegli una delle opzioni."),
        (
            "voucherMinutes",
            "Indica un numero di minuti tra 1 e 1440 (è 0).",
        ),
        (
            "dailyCallsPerConsumer",
            "Le chiamate per fruitore non possono superare le chiamate totali.",
        ),
    ] {
        assert!(html.contains(&format!("href=\"#{id}\"")), "{id}: {html}");
        assert!(
            html.contains(&format!(
                "id=\"{id}-error\" data-testid=\"error-{id}\">{words}"
            )),
            "{id}: {html}"
        );
    }
    assert!(
        !text.contains("must be") && !text.contains("required"),
        "{text}"
    );
    // What was typed stays.
    assert!(html.contains("value=\"Reg\""), "{html}");

    // The form as it should be: the e-service and its draft, then the draft's page.
    let r = browser
        .post(app.url(&new))
        .form(&creation(&html, NAME))
        .send()
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.ends_with("?done=eservice_created"), "{to}");
    let version = to.split('?').next().unwrap().to_string();
    let eservice = version.split("/versions/").next().unwrap().to_string();
    let id = eservice.rsplit('/').next().unwrap().to_string();
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("E-service creato"), "{text}");
    assert!(text.contains("Bozza"), "{text}");
    assert!(text.contains("10 minuti"), "{text}");
    assert!(
        html.contains("data-testid=\"per-consumer\">1.000<"),
        "{html}"
    );
    assert!(
        text.contains("Prossimo passo: carica l'interfaccia"),
        "{text}"
    );

    // The same name again: refused next to the name.
    let form = open(&browser, &app, &new).await;
    let r = browser
        .post(app.url(&new))
        .form(&creation(&form, NAME))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("data-testid=\"error-name\">Il tuo ente ha già un e-service con questo nome"),
        "{html}"
    );

    // A Swagger 2.0 file: refused in words, never by its code.
    let r = upload_interface(&browser, &app, &version, "vecchia.yaml", SWAGGER_2).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    let text = visible_text(&html);
    assert!(
        text.contains(
            "Il file non è un'interfaccia OpenAPI 3: le versioni Swagger 2.0 non sono accettate."
        ),
        "{text}"
    );
    assert!(!text.contains("openapiVersionNotRecognized"), "{text}");
    assert!(html.contains("href=\"#interface-doc\""), "{html}");
    assert!(
        html.contains("value=\"Interfaccia del registro\""),
        "{html}"
    );

    // An OpenAPI 3 interface: its server's address is the version's.
    let yaml = openapi("https://api.example.it/prove/v1");
    let r = upload_interface(&browser, &app, &version, "registro.yaml", &yaml).await;
    let to = location(&r);
    assert!(to.ends_with("?done=interface_uploaded"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Interfaccia caricata."), "{text}");
    assert!(
        html.contains("<code>https://api.example.it/prove/v1</code>"),
        "{html}"
    );
    assert!(text.contains("Interfaccia del registro"), "{text}");
    assert!(
        text.contains("Prossimo passo: la bozza è completa"),
        "{text}"
    );

    // Published: in the catalogue, with the interface to download.
    let csrf = hidden_field(&html, "csrf").unwrap();
    let r = browser
        .post(app.url(&version))
        .form(&[("csrf", csrf.as_str()), ("action", "publish")])
        .send()
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.ends_with("?done=version_published"), "{to}");
    let html = open(&browser, &app, &to).await;
    let text = visible_text(&html);
    assert!(text.contains("Versione pubblicata"), "{text}");
    assert!(html.contains("data-state=\"PUBLISHED\""), "{html}");
    assert!(html.contains("data-testid=\"limits-form\""), "{html}");
    assert!(
        !html.contains("data-testid=\"edit-version-form\""),
        "{html}"
    );

    let catalogue = open(&browser, &app, &format!("{COLL}/catalog/{id}")).await;
    assert!(visible_text(&catalogue).contains(NAME));
    let d = version.rsplit('/').next().unwrap();
    let download = links(&catalogue)
        .into_iter()
        .find(|l| l.starts_with(&format!("{COLL}/catalog/{id}/versions/{d}/documents/")))
        .unwrap_or_else(|| panic!("no download link in {catalogue}"));
    // The producer's own link, on the version's page.
    let own = links(&html)
        .into_iter()
        .find(|l| l.starts_with(&format!("{version}/documents/")))
        .unwrap_or_else(|| panic!("no download link in {html}"));
    let r = browser.get(app.url(&own)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), yaml);
    let r = browser.get(app.url(&download)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/yaml");
    assert_eq!(r.text().await.unwrap(), yaml);
    // Another institution downloads it from the catalogue, once published; the producer's
    // pages stay closed to it.
    let giulia = member(&app, GIULIA, REGIONE, "prod-interop-coll").await;
    let r = app
        .get(&download)
        .bearer_auth(&giulia)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for path in [&eservice, &version, &own] {
        let r = app.get(path).bearer_auth(&giulia).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }

    // The e-service's page: its version, and a new one made from it.
    let html = open(&browser, &app, &eservice).await;
    assert!(links(&html).contains(&version), "{html}");
    let csrf = hidden_field(&html, "csrf").unwrap();
    let once = hidden_field(&html, "once").unwrap();
    let r = browser
        .post(app.url(&eservice))
        .form(&[
            ("csrf", csrf.as_str()),
            ("once", once.as_str()),
            ("action", "new_version"),
        ])
        .send()
        .await
        .unwrap();
    let draft = location(&r);
    assert!(draft.ends_with("?done=version_created"), "{draft}");
    let html = open(&browser, &app, &draft).await;
    let text = visible_text(&html);
    assert!(text.contains("Versione 2"), "{text}");
    assert!(text.contains("10 minuti"), "{text}");
    let html = open(&browser, &app, &eservice).await;
    assert!(html.contains("data-testid=\"open-draft\""), "{html}");
    assert!(
        !html.contains("data-testid=\"action-new_version\""),
        "{html}"
    );
}

/// A draft without its interface is not published, and says why next to the upload; the
/// e-service's only draft deleted takes the e-service with it.
#[tokio::test]
async fn a_draft_is_refused_publication_in_words_and_its_deletion_takes_the_eservice() {
    let app = TestApp::spawn().await;
    let browser = paolo_in_collaudo(&app).await;
    let new = format!("{COLL}/eservices/new");
    let form = open(&browser, &app, &new).await;
    let r = browser
        .post(app.url(&new))
        .form(&creation(&form, "Bozza da eliminare"))
        .send()
        .await
        .unwrap();
    let version = location(&r).split('?').next().unwrap().to_string();
    let eservice = version.split("/versions/").next().unwrap().to_string();

    let html = open(&browser, &app, &version).await;
    let csrf = hidden_field(&html, "csrf").unwrap();
    let r = browser
        .post(app.url(&version))
        .form(&[("csrf", csrf.as_str()), ("action", "publish")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("href=\"#interface-doc\""), "{html}");
    let text = visible_text(&html);
    assert!(
        text.contains("Prima di pubblicare la versione carica la sua interfaccia"),
        "{text}"
    );
    assert!(
        !text.contains("eServiceDescriptorWithoutInterface"),
        "{text}"
    );

    // Without its token, no change.
    let r = browser
        .post(app.url(&version))
        .form(&[("action", "delete")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser
        .post(app.url(&version))
        .form(&[("csrf", csrf.as_str()), ("action", "delete")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&r),
        format!("{COLL}/eservices?done=eservice_deleted")
    );
    let list = open(
        &browser,
        &app,
        &format!("{COLL}/eservices?done=eservice_deleted"),
    )
    .await;
    assert!(visible_text(&list).contains("E-service eliminato."));
    let r = browser.get(app.url(&eservice)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
