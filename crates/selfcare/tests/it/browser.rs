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

#[tokio::test]
async fn browser_login_pick_institution_and_enter_interoperability() {
    let test = "browser_login_pick_institution_and_enter_interoperability";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
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
    // Interoperabilità Produzione opens, and says so unmistakably.
    c.wait()
        .for_element(Css("[data-testid=environment]"))
        .await
        .unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/interop/produzione");
    let env = c
        .find(Css("[data-testid=environment]"))
        .await
        .unwrap()
        .attr("data-environment")
        .await
        .unwrap();
    assert_eq!(env.as_deref(), Some("produzione"));
    assert_eq!(
        text_of(c, "[data-testid=institution]").await,
        "Comune di Roccabella"
    );
    assert_eq!(text_of(c, "[data-testid=bo-user]").await, "Mario Rossi");
    browser.screenshot("interop-produzione").await;

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

/// Logs in as `fiscal_code`, opens Comune di Roccabella (or the only institution) and enters
/// App IO with Gestisci; waits for the back-office.
async fn enter_app_io(c: &fantoccini::Client, app: &TestApp, fiscal_code: &str) {
    use fantoccini::Locator::Css;
    login_as(c, app, fiscal_code).await;
    // The picker (several institutions) or straight the institution's products.
    let product = Css("li[data-product='prod-io'] a.btn-primary");
    if c.wait()
        .for_element(Css("ul.cards, li[data-product]"))
        .await
        .is_ok()
        && c.find(product).await.is_err()
    {
        click(c, "ul.cards a.btn-primary").await;
    }
    c.wait()
        .for_element(product)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Gestisci posts the identity token to /io/session, which opens the back-office.
    c.wait()
        .for_element(Css("nav a[href='/io/services']"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/io");
}

/// Clicks the element `css` (failing the test when it is not there).
async fn click(c: &fantoccini::Client, css: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

async fn text_of(c: &fantoccini::Client, css: &str) -> String {
    c.wait()
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn browser_io_service_created_submitted_approved_published_and_isolated() {
    let test = "browser_io_service_created_submitted_approved_published_and_isolated";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    use fantoccini::Locator::Css;

    // Mario, admin of the Comune, enters App IO and creates a service.
    enter_app_io(c, &app, "RSSMRA85T10A562S").await;
    let main = text_of(c, "main").await;
    assert!(main.contains("Comune di Roccabella"), "{main}");
    assert!(main.contains("Panoramica"), "{main}");
    assert!(main.contains("Chiavi API"), "{main}");
    browser.screenshot("io-overview").await;
    click(c, "nav a[href='/io/services']").await;
    c.wait()
        .for_element(Css("a[href='/io/services/new']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Css("#name")).await.unwrap();
    // First without a name: the message stands next to the field.
    type_into(
        c,
        "#description",
        "Prenotazione degli appuntamenti allo sportello anagrafe.",
    )
    .await;
    click(c, "form.service-form button[type=submit]").await;
    let error = text_of(c, "#name-error").await;
    assert!(!error.is_empty());
    browser.screenshot("io-form-error").await;
    type_into(c, "#name", "Prenota sportello").await;
    click(c, "#scope option[value='LOCAL']").await;
    click(c, "#topic_id option[value='11']").await;
    type_into(
        c,
        "#privacy_url",
        "https://www.comune.roccabella.it/privacy",
    )
    .await;
    type_into(c, "#email", "anagrafe@comune.roccabella.it").await;
    click(c, "form.service-form button[type=submit]").await;
    c.wait()
        .for_element(Css("[data-testid=submit-form]"))
        .await
        .unwrap();
    let detail_path = c.current_url().await.unwrap().path().to_string();
    let service_id = detail_path.rsplit('/').next().unwrap().to_string();
    assert_eq!(service_id.len(), 26, "a ULID: {detail_path}");
    assert_eq!(text_of(c, "[data-testid=status]").await, "Bozza");

    // Submitted with "pubblica automaticamente".
    click(c, "[data-testid=submit-form] input[name=auto_publish]").await;
    click(c, "[data-testid=submit-form] button[type=submit]").await;
    c.wait()
        .for_element(Css("[data-testid=under-review]"))
        .await
        .unwrap();
    assert_eq!(text_of(c, "[data-testid=status]").await, "In revisione");
    browser.screenshot("io-submitted").await;

    // Paolo, platform operator, approves it from the review queue.
    login_as(c, &app, "SPSPLA80E12F839K").await;
    c.wait()
        .for_element(Css("a[href='/operator']"))
        .await
        .unwrap();
    c.goto(&app.url("/operator/enter/prod-io")).await.unwrap();
    c.wait()
        .for_element(Css("[data-testid=queue]"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/io/review");
    let queue = text_of(c, "[data-testid=queue]").await;
    assert!(queue.contains("Prenota sportello"), "{queue}");
    assert!(queue.contains("Comune di Roccabella"), "{queue}");
    browser.screenshot("io-review-queue").await;
    click(c, &format!("a[href='/io/review/{service_id}']")).await;
    c.wait()
        .for_element(Css("form input[name=action][value=approve]"))
        .await
        .unwrap();
    click(c, "form:has(input[value=approve]) button[type=submit]").await;
    c.wait()
        .for_element(Css("[data-testid=flash]"))
        .await
        .unwrap();
    // Operators see nothing else of the back-office.
    c.goto(&app.url("/io/services")).await.unwrap();
    let body = text_of(c, "main").await;
    assert!(!body.contains("Tassa sui rifiuti"), "{body}");

    // Back as Mario: approved and published.
    enter_app_io(c, &app, "RSSMRA85T10A562S").await;
    c.goto(&app.url(&detail_path)).await.unwrap();
    assert_eq!(text_of(c, "[data-testid=status]").await, "Approvato");
    assert_eq!(text_of(c, "[data-testid=visibility]").await, "Pubblicato");
    browser.screenshot("io-published").await;

    // Anna, operator of the same Comune, sees it in "Servizi".
    enter_app_io(c, &app, "BNCNNA90A41H501T").await;
    c.goto(&app.url("/io/services")).await.unwrap();
    let list = text_of(c, "[data-testid=services]").await;
    assert!(list.contains("Prenota sportello"), "{list}");
    assert!(list.contains(&service_id), "{list}");

    // Giulia, of Regione Valdoro, cannot reach it by URL.
    enter_app_io(c, &app, "VRDGLI78M50F205U").await;
    c.goto(&app.url(&detail_path)).await.unwrap();
    let body = text_of(c, "main").await;
    assert!(!body.contains("Prenota sportello"), "{body}");
    let status = c
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_i64(), Some(404), "{body}");

    // Mario logs out of the Reserved Area: the back-office page no longer opens.
    enter_app_io(c, &app, "RSSMRA85T10A562S").await;
    c.goto(&app.url(&detail_path)).await.unwrap();
    assert_eq!(text_of(c, "[data-testid=status]").await, "Approvato");
    c.goto(&app.url("/dashboard")).await.unwrap();
    c.wait()
        .for_element(Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Css("main")).await.unwrap();
    c.goto(&app.url(&detail_path)).await.unwrap();
    let body = text_of(c, "main").await;
    assert!(!body.contains("Prenota sportello"), "{body}");
    let status = c
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_i64(), Some(401), "{body}");
    browser.screenshot("io-after-logout").await;
    browser.close().await;
}

/// Logs into the legacy Developer Portal as a demo delegate.
async fn portal_login(c: &fantoccini::Client, portal: &str, email: &str) {
    c.goto(&format!("{portal}/login")).await.unwrap();
    type_into(c, "#email", email).await;
    type_into(c, "#password", selfcare::demo_devportal::PASSWORD).await;
    click(c, "form[action='/login'] button[type=submit]").await;
    c.wait()
        .for_element(fantoccini::Locator::Css("h1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn browser_import_from_the_developer_portal() {
    let test = "browser_import_from_the_developer_portal";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let portal = app.app().devportal().expect("the demo's portal").url();
    let c = &browser.client;
    use fantoccini::Locator::Css;

    // Before: Giovanni Verdi, delegate on the old portal, sees his services and their keys.
    portal_login(c, &portal, "giovanni.verdi@example.it").await;
    let list = text_of(c, "[data-testid=services]").await;
    assert!(list.contains("Tari - Tassa sui rifiuti"), "{list}");
    assert!(list.contains("Mensa scolastica (deleted)"), "{list}");
    browser.screenshot("devportal-before").await;
    let rows = c.find_all(Css("tr[data-service-id]")).await.unwrap();
    let mut tari = None;
    for row in rows {
        if row
            .text()
            .await
            .unwrap()
            .contains("Tari - Tassa sui rifiuti")
        {
            let id = row.attr("data-service-id").await.unwrap().unwrap();
            let key = row
                .find(Css("code.api-key"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            tari = Some((id, key));
        }
    }
    let (tari_id, tari_key) = tari.expect("Tari on the old portal");

    // Mario, admin of the Comune, opens App IO: the box on "Panoramica".
    enter_app_io(c, &app, "RSSMRA85T10A562S").await;
    let import_box = text_of(c, "[data-testid=import-box]").await;
    assert!(
        import_box.contains("Importa i servizi dal Developer Portal"),
        "{import_box}"
    );
    click(c, "[data-testid=import-open]").await;
    c.wait()
        .for_element(Css("[data-testid=import-window]"))
        .await
        .unwrap();
    // Exactly the delegates the rules give: Giovanni (3 services, not the "deleted" one) and
    // Laura (her Comune service only); not Franco.
    let mut names = Vec::new();
    for n in c
        .find_all(Css("[data-testid=delegate-name]"))
        .await
        .unwrap()
    {
        names.push(n.text().await.unwrap());
    }
    assert_eq!(names, vec!["Neri Laura", "Verdi Giovanni"]);
    let window = text_of(c, "[data-testid=import-window]").await;
    assert!(window.contains("giovanni.verdi@example.it"), "{window}");
    assert!(window.contains("Tari - Tassa sui rifiuti"), "{window}");
    assert!(
        window.contains("Polizia locale - Contravvenzioni"),
        "{window}"
    );
    assert!(!window.contains("deleted"), "{window}");
    assert!(!window.contains("Bollo auto"), "{window}");
    assert!(!window.contains("Gialli"), "{window}");
    browser.screenshot("io-import-window").await;
    for cb in c
        .find_all(Css("[data-testid=delegate-row] input[type=checkbox]"))
        .await
        .unwrap()
    {
        cb.click().await.unwrap();
    }
    click(c, "[data-testid=import-start]").await;
    c.wait()
        .for_element(Css("[data-testid=import-status]"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/io");

    // The status refreshes itself until both reach "Completato".
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let mut states = Vec::new();
        for s in c.find_all(Css("[data-testid=import-state]")).await.unwrap() {
            states.push(s.text().await.unwrap_or_default());
        }
        if states.len() == 2 && states.iter().all(|s| s == "Completato") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The page was not reloaded: the script refreshed the table.
    assert_eq!(
        c.current_url().await.unwrap().query(),
        Some("import=started")
    );
    let rekey = text_of(c, "[data-testid=import-rekey]").await;
    assert!(rekey.contains("Tari - Tassa sui rifiuti"), "{rekey}");
    browser.screenshot("io-import-completed").await;

    // The services are under "Servizi", for Mario and for Anna (operator of the Comune).
    click(c, "nav a[href='/io/services']").await;
    let list = text_of(c, "[data-testid=services]").await;
    for name in [
        "Tari - Tassa sui rifiuti",
        "Servizi demografici",
        "Prenotazione sale comunali",
        "Polizia locale - Contravvenzioni",
    ] {
        assert!(list.contains(name), "{name}: {list}");
    }
    assert!(!list.contains("deleted"), "{list}");
    enter_app_io(c, &app, "BNCNNA90A41H501T").await;
    c.goto(&app.url("/io/services")).await.unwrap();
    let list = text_of(c, "[data-testid=services]").await;
    assert!(list.contains("Tari - Tassa sui rifiuti"), "{list}");
    assert!(list.contains(&tari_id), "{list}");
    // Operators have no import box.
    c.goto(&app.url("/io")).await.unwrap();
    assert!(c.find(Css("[data-testid=import-box]")).await.is_err());

    // Giovanni, back on the old portal, no longer finds them; the "deleted" one stays.
    portal_login(c, &portal, "giovanni.verdi@example.it").await;
    let list = text_of(c, "main").await;
    assert!(!list.contains("Tari - Tassa sui rifiuti"), "{list}");
    assert!(!list.contains("Servizi demografici"), "{list}");
    assert!(list.contains("Mensa scolastica (deleted)"), "{list}");
    browser.screenshot("devportal-after").await;

    // The key read on the old portal still works on the IO API.
    let read = testkit::client()
        .get(app.url(&format!("/api/v1/services/{tari_id}")))
        .header("Ocp-Apim-Subscription-Key", &tari_key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let body: serde_json::Value = read.json().await.unwrap();
    assert_eq!(body["service_name"], "Tari - Tassa sui rifiuti", "{body}");
    browser.close().await;
}
