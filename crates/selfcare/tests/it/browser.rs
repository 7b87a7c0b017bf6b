use testkit::Fetch;
use testkit::TestApp;
use testkit::browser::Browser;

#[tokio::test]
async fn browser_home_page_has_its_title_and_styles() {
    let Some(browser) = Browser::start("browser_home_page_has_its_title_and_styles").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    c.goto(&app.url("/")).await.unwrap();
    let title = c.title().await.unwrap();
    assert!(title.contains("Area Riservata"), "{title}");

    // The stylesheet loaded: the header has the colour it sets (#0066cc), not the default.
    let background = c
        .execute(
            "return getComputedStyle(document.querySelector('.site-header')).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        background.as_str(),
        Some("rgb(0, 102, 204)"),
        "{background:?}"
    );
    let sheets = c
        .execute("return document.styleSheets.length", vec![])
        .await
        .unwrap();
    assert_eq!(sheets.as_i64(), Some(1));
    let path = browser.screenshot("home-it").await;
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);

    // The language switch works in a real browser.
    c.find(fantoccini::Locator::Css("button[value=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(fantoccini::Locator::Css("html[lang=en]"))
        .await
        .unwrap();
    let title = c.title().await.unwrap();
    assert!(title.contains("Reserved Area"), "{title}");
    browser.screenshot("home-en").await;
    browser.close().await;
}

/// Logs in through the test identity provider's page as the demo person `fiscal_code`.
async fn login_as(c: &fantoccini::Client, app: &TestApp, fiscal_code: &str) {
    c.goto(&app.url("/auth/test-idp")).await.unwrap();
    c.find(fantoccini::Locator::Css(&format!(
        "button[data-testid='login-{fiscal_code}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
}

/// A stand-in for the Interoperability back-office's entry point, mounted on the app itself:
/// verifies the posted identity token with the platform's verifier (the issuer's JWKS fetched
/// over HTTP; the issuer is this very server, known from the Host header) and greets the
/// person.
fn interop_entry(db: platform::db::Db) -> axum::Router {
    use axum::http::HeaderMap;
    use axum::response::Html;
    use platform::identity::IdentityVerifier;
    let verifier: std::sync::Arc<tokio::sync::OnceCell<IdentityVerifier>> = Default::default();
    axum::Router::new().route(
        "/interop/produzione/session",
        axum::routing::post(
            move |headers: HeaderMap,
                  axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let (verifier, db) = (verifier.clone(), db.clone());
                async move {
                    let host = headers["host"].to_str().unwrap().to_string();
                    let issuer = format!("http://{host}");
                    let verifier = verifier
                        .get_or_init(|| async {
                            IdentityVerifier::new(
                                db,
                                &issuer,
                                "interop.selfcare.local",
                                &format!("{issuer}/.well-known/jwks.json"),
                            )
                        })
                        .await;
                    let token = form.get("identity_token").cloned().unwrap_or_default();
                    match verifier.verify(&token).await {
                        Ok(c) => Html(format!(
                            "<html><head><title>Back-office</title></head><body>\
                             <p id=who>{} {} — {} — {}</p></body></html>",
                            c.name,
                            c.family_name,
                            c.organization.map(|o| o.name).unwrap_or_default(),
                            c.aud
                        )),
                        Err(e) => Html(format!("<p id=who>refused: {e}</p>")),
                    }
                }
            },
        ),
    )
}

#[tokio::test]
async fn browser_login_pick_institution_and_enter_interoperability() {
    let test = "browser_login_pick_institution_and_enter_interoperability";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    // The stand-in back-office keeps its used token ids in a database of its own.
    let side = testkit::TestDb::new().await;
    let side_db = side.connect().await;
    side_db.migrate().await.unwrap();
    let app = TestApp::spawn_with(testkit::Options {
        routes: Some(interop_entry(side_db)),
        ..Default::default()
    })
    .await;
    let c = &browser.client;
    use fantoccini::Locator::Css;

    c.goto(&app.url("/")).await.unwrap();
    c.find(Css("main a[href='/dashboard']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Not logged in: the login page, then the test identity provider.
    c.find(Css("a[href='/auth/test-idp']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Css("button[data-testid='login-RSSMRA85T10A562S']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Two institutions: the picker.
    c.wait().for_element(Css("ul.cards")).await.unwrap();
    let text = c.find(Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Seleziona il tuo ente"), "{text}");
    browser.screenshot("picker").await;
    // Comune di Roccabella comes first (by name).
    c.find(Css("ul.cards a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("li[data-product='prod-interop']"))
        .await
        .unwrap();
    let user = c
        .find(Css("[data-testid=user]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(user, "Mario Rossi");
    browser.screenshot("institution").await;
    c.find(Css("li[data-product='prod-interop'] a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The environment chooser: Mario holds a role on Produzione only.
    c.wait()
        .for_element(Css("a[data-env='production']"))
        .await
        .unwrap();
    let h1 = c.find(Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(h1, "In quale ambiente vuoi entrare?");
    assert!(c.find(Css("a[data-env='test']")).await.is_err());
    browser.screenshot("environments").await;

    // Gestisci posts the identity token to the product's entry point (by script).
    c.find(Css("a[data-env='production']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Css("#who")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/interop/produzione/session");
    let who = c.find(Css("#who")).await.unwrap().text().await.unwrap();
    assert_eq!(
        who,
        "Mario Rossi — Comune di Roccabella — interop.selfcare.local"
    );

    // Paolo (PagoPA S.p.A.) holds roles on both environments: both are offered.
    login_as(c, &app, "SPSPLA80E12F839K").await;
    // A platform operator sees the picker (with the "Area operatore") even with one
    // institution.
    c.wait()
        .for_element(Css("a[href='/operator']"))
        .await
        .unwrap();
    c.find(Css("ul.cards a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("li[data-product='prod-interop'] a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("a[data-env='test']"))
        .await
        .unwrap();
    assert!(c.find(Css("a[data-env='production']")).await.is_ok());
    browser.screenshot("environments-both").await;
    browser.close().await;
}

#[tokio::test]
async fn browser_admin_creates_the_technician_who_enters_collaudo_until_suspended() {
    let test = "browser_admin_creates_the_technician_who_enters_collaudo_until_suspended";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    use fantoccini::Locator::Css;

    // Mario, admin of the Comune, opens the users of the Comune and adds the technician.
    login_as(c, &app, "RSSMRA85T10A562S").await;
    c.wait()
        .for_element(Css("ul.cards a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("a[href$='/users']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("a[href$='/users/new']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("form[data-user-form]"))
        .await
        .unwrap();
    for (field, value) in [
        ("#fiscal_code", "NRELCU92C15L219G"),
        ("#email", "luca.neri@comune.roccabella.it"),
        ("#email_confirm", "luca.neri@comune.roccabella.it"),
    ] {
        c.find(Css(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    // The known person's name and surname are filled in by the page.
    c.find(Css("#email")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Css("#name[value], #name"))
        .await
        .unwrap();
    let mut filled = String::new();
    for _ in 0..50 {
        filled = c
            .execute("return document.querySelector('#name').value", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or("")
            .to_string();
        if !filled.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(filled, "Luca");
    c.find(Css("#product_id option[value='prod-interop-coll']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Css(
        "input[value='ADMIN:admin'][data-product='prod-interop-coll']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser.screenshot("add-user").await;
    c.find(Css("form[data-user-form] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Css(".alert-success")).await.unwrap();
    let detail_url = c.current_url().await.unwrap();
    browser.screenshot("user-added").await;

    // Luca logs in, opens Interoperabilità: only Collaudo is offered.
    login_as(c, &app, "NRELCU92C15L219G").await;
    c.wait()
        .for_element(Css("li[data-product='prod-interop'] a.btn-primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Css("a[data-env='test']"))
        .await
        .unwrap();
    assert!(c.find(Css("a[data-env='production']")).await.is_err());
    let enter = c
        .find(Css("a[data-env='test']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.screenshot("technician-environments").await;

    // Mario suspends the role; Luca's open session can no longer enter Collaudo.
    let luca_cookie = c.get_named_cookie("sc_session").await.unwrap();
    let mario = testkit::client();
    let r = mario
        .post(app.url("/auth/test-idp/login"))
        .form(&[("fiscal_number", "RSSMRA85T10A562S")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let detail = mario.get(detail_url.as_str()).fetch_text().await;
    let csrf = {
        let marker = "name=\"csrf\" value=\"";
        let at = detail.find(marker).unwrap() + marker.len();
        detail[at..]
            .chars()
            .take_while(|c| *c != '"')
            .collect::<String>()
    };
    let r = mario
        .post(format!(
            "{}/roles",
            detail_url.as_str().split('?').next().unwrap()
        ))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "suspend"),
            ("product_id", "prod-interop-coll"),
            ("product_role", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(luca_cookie.value().len(), 43);
    c.goto(&app.url(&enter)).await.unwrap();
    let text = c.find(Css("main")).await.unwrap().text().await.unwrap();
    assert!(
        text.contains("Pagina non trovata") || text.contains("Accesso negato"),
        "{text}"
    );
    let db = app.db.connect().await;
    let revoked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM revocations WHERE product_id = 'prod-interop-coll' AND reason = 'user.role.suspended'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(revoked, 1);
    db.close().await;
    browser.close().await;
}
