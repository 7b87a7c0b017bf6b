use testkit::Fetch;
use testkit::TestApp;
use testkit::browser::Browser;
use testkit::demo::{ANNA, GIULIA, LUCA, MARIO, PAOLO};

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
pub(crate) async fn login_as(c: &fantoccini::Client, app: &TestApp, fiscal_code: &str) {
    c.goto(&app.url("/auth/test-idp")).await.unwrap();
    c.find(fantoccini::Locator::Css(&format!(
        "button[data-testid='login-{fiscal_code}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    // Logged in once the browser has left the identity provider's page.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while c.current_url().await.unwrap().path().starts_with("/auth/") {
        assert!(std::time::Instant::now() < deadline, "still logging in");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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
    c.find(Css(&format!("button[data-testid='login-{MARIO}']")))
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
    login_as(c, &app, PAOLO).await;
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
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
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
    mario_adds_the_technician(c, &app, &browser).await;
    let detail_url = c.current_url().await.unwrap();

    // Luca logs in, opens Interoperabilità: only Collaudo is offered.
    login_as(c, &app, LUCA).await;
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
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
    let mario = testkit::logged_in(&app, MARIO).await;
    let detail = mario.get(detail_url.as_str()).fetch_text().await;
    let csrf = testkit::hidden_field(&detail, "csrf").unwrap();
    let page = detail_url.as_str();
    let r =
        testkit::demo::suspend_from_page(&mario, page, &csrf, "prod-interop-coll", "admin").await;
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
pub(crate) async fn enter_app_io(c: &fantoccini::Client, app: &TestApp, fiscal_code: &str) {
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
pub(crate) async fn click(c: &fantoccini::Client, css: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

pub(crate) async fn type_into(c: &fantoccini::Client, css: &str, text: &str) {
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

pub(crate) async fn text_of(c: &fantoccini::Client, css: &str) -> String {
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
    enter_app_io(c, &app, MARIO).await;
    let main = text_of(c, "main").await;
    assert!(main.contains("Comune di Roccabella"), "{main}");
    assert!(main.contains("Panoramica"), "{main}");
    assert!(main.contains("Chiavi API"), "{main}");
    browser.screenshot("io-overview").await;
    click(c, "nav a[href='/io/services']").await;
    click_when_ready(c, "a[href='/io/services/new']").await;
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
    login_as(c, &app, PAOLO).await;
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
    enter_app_io(c, &app, MARIO).await;
    c.goto(&app.url(&detail_path)).await.unwrap();
    assert_eq!(text_of(c, "[data-testid=status]").await, "Approvato");
    assert_eq!(text_of(c, "[data-testid=visibility]").await, "Pubblicato");
    browser.screenshot("io-published").await;

    // Anna, operator of the same Comune, sees it in "Servizi".
    enter_app_io(c, &app, ANNA).await;
    c.goto(&app.url("/io/services")).await.unwrap();
    let list = text_of(c, "[data-testid=services]").await;
    assert!(list.contains("Prenota sportello"), "{list}");
    assert!(list.contains(&service_id), "{list}");

    // Giulia, of Regione Valdoro, cannot reach it by URL.
    enter_app_io(c, &app, GIULIA).await;
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
    enter_app_io(c, &app, MARIO).await;
    c.goto(&app.url(&detail_path)).await.unwrap();
    assert_eq!(text_of(c, "[data-testid=status]").await, "Approvato");
    c.goto(&app.url("/dashboard")).await.unwrap();
    click_when_ready(c, "form.logout button").await;
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
    // The login page has an h1 too: wait until the browser has left it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while c.current_url().await.unwrap().path() == "/login" {
        assert!(
            std::time::Instant::now() < deadline,
            "still on the portal's login page"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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
    enter_app_io(c, &app, MARIO).await;
    let import_box = text_of(c, "[data-testid=import-box]").await;
    assert!(
        import_box.contains("Importa i servizi dal Developer Portal"),
        "{import_box}"
    );
    let stats_before = text_of(c, "#service-stats").await;
    assert_eq!(
        text_of(c, "[data-testid=import-open]").await,
        "Importa i servizi"
    );
    click(c, "[data-testid=import-open]").await;
    c.wait()
        .for_element(Css("[data-testid=import-window]"))
        .await
        .unwrap();
    // A window over the overview, as the guide says ("si apre una finestra").
    assert!(
        c.find(Css("dialog[open] [data-testid=import-start]"))
            .await
            .is_ok()
    );
    assert!(c.find(Css("[data-testid=import-box]")).await.is_ok());
    assert_eq!(
        text_of(c, "[data-testid=import-start]").await,
        "Avvia importazione"
    );
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
    // The service marked deleted stays out, and the window says so and why.
    let mut listed = String::new();
    for span in c
        .find_all(Css("[data-testid=delegate-services]"))
        .await
        .unwrap()
    {
        listed.push_str(&span.text().await.unwrap());
    }
    assert!(!listed.contains("deleted"), "{listed}");
    let excluded = text_of(c, "[data-testid=import-excluded]").await;
    assert!(
        excluded.contains("Mensa scolastica (deleted)")
            && excluded.contains("segnato come eliminato sul Developer Portal"),
        "{excluded}"
    );
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
    // The window's page shows the status too: wait for the form's answer, the overview.
    wait_for_path(c, "/io").await;
    c.wait()
        .for_element(Css("[data-testid=import-status]"))
        .await
        .unwrap();

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
    // The page was not reloaded: the script refreshed the table, the banner and the counters.
    assert_eq!(
        c.current_url().await.unwrap().query(),
        Some("import=started")
    );
    let banner = c
        .find(Css("[data-testid=import-banner]"))
        .await
        .unwrap()
        .attr("data-banner")
        .await
        .unwrap();
    assert_eq!(banner.as_deref(), Some("io.import.banner_done"));
    let stats = text_of(c, "#service-stats").await;
    assert_ne!(stats, stats_before, "the counters follow the import");
    let rekey = text_of(c, "[data-testid=import-rekey]").await;
    assert!(rekey.contains("Tari - Tassa sui rifiuti"), "{rekey}");
    browser.screenshot("io-import-completed").await;

    // The services are under "Servizi", for Mario and for Anna (operator of the Comune).
    assert_eq!(text_of(c, "nav a[href='/io/services']").await, "Servizi");
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
    // Marked as imported in the list, on the page and in its history, with whose they were.
    let row = text_of(c, &format!("tr[data-service='{tari_id}']")).await;
    assert!(row.contains("Importato dal Developer Portal"), "{row}");
    click(c, &format!("a[href='/io/services/{tari_id}']")).await;
    let origin = text_of(c, "[data-testid=imported]").await;
    assert!(
        origin.contains("Importato dal Developer Portal il") && origin.contains("Giovanni Verdi"),
        "{origin}"
    );
    let history = text_of(c, "[data-testid=history-imported]").await;
    assert!(history.contains("Giovanni Verdi"), "{history}");
    browser.screenshot("io-import-service-imported").await;
    enter_app_io(c, &app, ANNA).await;
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

/// Mario (admin of Comune di Roccabella) adds Luca Neri as a user with "Interoperabilità
/// Collaudo" / "Amministratore" through the pages ("Utenti", "Aggiungi utente"); the browser
/// ends on the new user's page.
pub(crate) async fn mario_adds_the_technician(
    c: &fantoccini::Client,
    app: &TestApp,
    browser: &Browser,
) {
    use fantoccini::Locator::Css;
    login_as(c, app, MARIO).await;
    click_when_ready(c, "ul.cards a.btn-primary").await;
    click_when_ready(c, "a[href$='/users']").await;
    // The guide's "Crea Utente": here "Aggiungi utente".
    c.wait()
        .for_element(Css("a[href$='/users/new']"))
        .await
        .unwrap();
    assert_eq!(text_of(c, "a[href$='/users/new']").await, "Aggiungi utente");
    click_when_ready(c, "a[href$='/users/new']").await;
    c.wait()
        .for_element(Css("form[data-user-form]"))
        .await
        .unwrap();
    // The product "Interoperabilità Collaudo" and the role "Amministratore", in the guide's words.
    assert_eq!(
        text_of(c, "#product_id option[value='prod-interop-coll']").await,
        "Interoperabilità Collaudo"
    );
    let role = c
        .execute(
            "return document.querySelector(\"input[value='ADMIN:admin'][data-product='prod-interop-coll']\").closest('label').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        role.as_str().unwrap_or_default().contains("Amministratore"),
        "{role}"
    );
    type_into(c, "#fiscal_code", LUCA).await;
    type_into(c, "#email", "luca.neri@comune.roccabella.it").await;
    type_into(c, "#email_confirm", "luca.neri@comune.roccabella.it").await;
    // The known person's name is filled in by the page.
    click(c, "#email").await;
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
    click(c, "#product_id option[value='prod-interop-coll']").await;
    click(
        c,
        "input[value='ADMIN:admin'][data-product='prod-interop-coll']",
    )
    .await;
    click(c, "form[data-user-form] button[type=submit]").await;
    c.wait().for_element(Css(".alert-success")).await.unwrap();
    browser.screenshot("interop-seed-user-added").await;
}

/// Opens Collaudo's catalogue from the sidebar and searches it for `q`; returns once the
/// results' page is shown (the list it replaces has links that go stale).
pub(crate) async fn search_catalogue(c: &fantoccini::Client, q: &str) {
    use fantoccini::Locator::Css;
    click(c, "nav a[href='/interop/collaudo/catalog']").await;
    c.wait()
        .for_element(Css("[data-testid=catalog]"))
        .await
        .unwrap();
    type_into(c, "#q", q).await;
    click(c, "[data-testid=catalog-search] button[type=submit]").await;
    c.wait()
        .for_element(Css(&format!("input#q[value='{q}']")))
        .await
        .unwrap();
}

/// Waits until the text of `css` is `expected` (pages reload after a form's POST).
/// Waits until the browser is on `path` (after a form's submission or a link), failing the
/// test when it does not get there.
pub(crate) async fn wait_for_path(c: &fantoccini::Client, path: &str) {
    let mut last = String::new();
    for _ in 0..300 {
        last = c.current_url().await.unwrap().path().to_string();
        if last == path {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected to reach {path}, still on {last}");
}

pub(crate) async fn wait_for_text(c: &fantoccini::Client, css: &str, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(fantoccini::Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t == expected {
                return;
            }
            last = t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css}: expected {expected:?}, last seen {last:?}");
}

#[tokio::test]
async fn browser_technician_requests_send_uat_and_activates_a_purpose() {
    let test = "browser_technician_requests_send_uat_and_activates_a_purpose";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    use fantoccini::Locator::Css;
    const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";

    // 1) The institution creates the technician's user: Interoperabilità Collaudo, admin.
    mario_adds_the_technician(c, &app, &browser).await;

    // 2-3) Luca logs in, picks the card "Interoperabilità" and chooses "Collaudo".
    login_as(c, &app, LUCA).await;
    c.wait()
        .for_element(Css("li[data-product='prod-interop'] a.btn-primary"))
        .await
        .unwrap();
    assert_eq!(
        text_of(c, "li[data-product='prod-interop'] a.btn-primary").await,
        "Gestisci"
    );
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
    c.wait()
        .for_element(Css("a[data-env='test']"))
        .await
        .unwrap();
    assert!(text_of(c, "a[data-env='test']").await.contains("Collaudo"));
    let chooser = c.current_url().await.unwrap();
    assert!(c.find(Css("a[data-env='production']")).await.is_err());
    click(c, "a[data-env='test']").await;
    c.wait()
        .for_element(Css("[data-testid=environment]"))
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/interop/collaudo");
    let env = c
        .find(Css("[data-testid=environment]"))
        .await
        .unwrap()
        .attr("data-environment")
        .await
        .unwrap();
    assert_eq!(env.as_deref(), Some("collaudo"));
    assert_eq!(text_of(c, "[data-testid=bo-user]").await, "Luca Neri");
    assert_eq!(
        text_of(c, "[data-testid=institution]").await,
        "Comune di Roccabella"
    );
    browser.screenshot("interop-seed-collaudo-home").await;

    // The catalogue: SEND - UAT is there, found by the search box.
    search_catalogue(c, "send").await;
    let cards = c
        .find_all(Css("[data-testid=catalog] li.card h2 a"))
        .await
        .unwrap();
    let mut names = Vec::new();
    for a in &cards {
        names.push(a.text().await.unwrap());
    }
    assert_eq!(names, vec![SEND.to_string()], "the search keeps only SEND");
    let card = text_of(c, "[data-testid=catalog] li.card").await;
    assert!(card.contains("PagoPA S.p.A."), "{card}");
    browser.screenshot("interop-seed-catalog").await;
    cards[0].clone().click().await.unwrap();

    // The e-service's page: its active version, AUTOMATIC approval; "Iscriviti".
    assert_eq!(text_of(c, "[data-testid=eservice-name]").await, SEND);
    let policy = c
        .find(Css("[data-testid=policy]"))
        .await
        .unwrap()
        .attr("data-policy")
        .await
        .unwrap();
    assert_eq!(policy.as_deref(), Some("AUTOMATIC"));
    type_into(
        c,
        "#consumerNotes",
        "Collaudo dell'invio delle notifiche del Comune.",
    )
    .await;
    browser.screenshot("interop-seed-eservice").await;
    click(c, "[data-testid=subscribe]").await;

    // The richiesta di fruizione, a draft; "Inoltra la richiesta" makes it ACTIVE at once.
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=DRAFT]",
        "Bozza",
    )
    .await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/interop/collaudo/agreements/")
    );
    let label = text_of(c, "[data-testid=agreement-state-label]").await;
    assert_eq!(label, "Bozza");
    assert!(
        text_of(c, "main h1")
            .await
            .starts_with("Richiesta di fruizione")
    );
    browser.screenshot("interop-seed-agreement-draft").await;
    click(c, "[data-testid=action-submit]").await;
    wait_for_text(
        c,
        "[data-testid=agreement-state][data-state=ACTIVE]",
        "Attiva",
    )
    .await;
    assert_eq!(
        text_of(c, "[data-testid=agreement-state-label]").await,
        "Attiva"
    );
    assert!(c.find(Css("[data-testid=action-submit]")).await.is_err());
    browser.screenshot("interop-seed-agreement-active").await;

    // "Le mie richieste" lists it as active.
    click(c, "nav a[href='/interop/collaudo/agreements']").await;
    let row = text_of(c, "[data-testid=agreements] tr[data-state='ACTIVE']").await;
    assert!(row.contains(SEND) && row.contains("Attiva"), "{row}");
    c.back().await.unwrap();

    // A purpose on it: the form shows the risk analysis from the form as data.
    click_when_ready(c, "[data-testid=new-purpose]").await;
    c.wait()
        .for_element(Css("[data-testid=purpose-form]"))
        .await
        .unwrap();
    let chosen = c
        .execute(
            "const s = document.querySelector('#eserviceId'); return s.options[s.selectedIndex].text",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(chosen.as_str(), Some(SEND));
    let kinds = c
        .execute(
            "return Array.from(document.querySelectorAll('[data-question]')).map(q => q.dataset.kind).join(',')",
            vec![],
        )
        .await
        .unwrap();
    let kinds = kinds.as_str().unwrap_or("").to_string();
    assert!(
        kinds.contains("SINGLE") && kinds.contains("MULTI") && kinds.contains("TEXT"),
        "{kinds}"
    );
    type_into(c, "#title", "Notifiche atti del Comune").await;
    type_into(
        c,
        "#description",
        "Invio a valore legale degli atti del Comune ai cittadini.",
    )
    .await;
    type_into(c, "#dailyCalls", "1000").await;
    type_into(
        c,
        "#ra-purpose",
        "Notificare ai cittadini gli atti del Comune con valore legale.",
    )
    .await;
    click(c, "#ra-usesPersonalData-YES").await;
    click(c, "#ra-personalDataTypes-COMMON").await;
    click(c, "#ra-legalBasis-LEGAL_OBLIGATION").await;
    click(c, "#ra-legalBasis-PUBLIC_INTEREST").await;
    type_into(
        c,
        "#ra-publicInterestReference",
        "D.L. 76/2020, art. 26 (piattaforma per le notifiche digitali)",
    )
    .await;
    click(c, "#ra-dataRetention-PURPOSE_DURATION").await;
    // A question shows only while the answer it depends on is given: the third parties
    // appear with "Sì", and go with "No" (what was typed there is not taken into account).
    assert!(!displayed(c, "[data-question=thirdParties]").await);
    click(c, "#ra-sharedWithThirdParties-YES").await;
    type_into(c, "#ra-thirdParties", "Nessuno").await;
    click(c, "#ra-sharedWithThirdParties-NO").await;
    assert!(!displayed(c, "[data-question=thirdParties]").await);
    // With the script, the follow-up step of the server is not needed.
    assert!(!displayed(c, "[data-testid=ra-follow-up]").await);
    click(c, "#ra-securityMeasures-ACCESS_CONTROL").await;
    click(c, "#ra-securityMeasures-LOGGING").await;
    click(c, "#ra-dpia-NOT_REQUIRED").await;
    // The declaration is left out: the server says so next to it, keeping what was typed.
    click(c, "[data-testid=create-purpose]").await;
    let error = text_of(c, "[data-testid='error-ra.confirmation']").await;
    assert!(error.contains("obbligatorio"), "{error}");
    assert!(c.find(Css("[data-testid=form-errors]")).await.is_ok());
    // The summary is where the focus is, and each of its links names the field it leads to.
    let focused = c
        .execute(
            "const s = document.activeElement; \
             return s.hasAttribute('data-error-summary') ? s.querySelector('a').textContent : null",
            vec![],
        )
        .await
        .unwrap();
    let link = focused.as_str().unwrap_or_default();
    assert!(
        link.contains(": ") && link.contains("obbligatorio"),
        "{focused}"
    );
    let kept = c
        .execute("return document.querySelector('#title').value", vec![])
        .await
        .unwrap();
    assert_eq!(kept.as_str(), Some("Notifiche atti del Comune"));
    assert!(
        c.find(Css("#ra-legalBasis-PUBLIC_INTEREST:checked"))
            .await
            .is_ok()
    );
    scroll_to(c, "#q-confirmation").await;
    browser.screenshot("interop-seed-purpose-form-error").await;
    click(c, "#ra-confirmation-CONFIRMED").await;
    click(c, "[data-testid=create-purpose]").await;

    // The purpose, a draft; "Attiva" (1000 calls, within SEND's 10,000 a day): ACTIVE.
    wait_for_text(c, "[data-testid=purpose-state][data-state=DRAFT]", "Bozza").await;
    let answers = text_of(c, "[data-testid=risk-answers]").await;
    assert!(
        answers.contains("Adempimento di un obbligo legale"),
        "{answers}"
    );
    assert!(!answers.contains("Nessuno"), "{answers}");
    browser.screenshot("interop-seed-purpose-draft").await;
    click(c, "[data-testid=action-activate]").await;
    wait_for_text(
        c,
        "[data-testid=purpose-state][data-state=ACTIVE]",
        "Attiva",
    )
    .await;
    assert_eq!(
        text_of(c, "[data-testid=purpose-state-label]").await,
        "Attiva"
    );
    assert_eq!(text_of(c, "[data-testid=daily-calls]").await, "1.000");
    // What comes next, as the guide goes on: a client, its key, the voucher.
    let next = text_of(c, "[data-testid=next-step]").await;
    assert!(next.contains("Associala a un client e-service"), "{next}");
    browser.screenshot("interop-seed-purpose-active").await;
    scroll_to(c, "[data-testid=versions]").await;
    browser.screenshot("interop-seed-purpose-versions").await;
    click(c, "nav a[href='/interop/collaudo/purposes']").await;
    let purposes = text_of(c, "[data-testid=purposes]").await;
    assert!(
        purposes.contains("Notifiche atti del Comune") && purposes.contains("Attiva"),
        "{purposes}"
    );

    // Nothing in Produzione, and no way in: the chooser offers Collaudo only, and
    // /interop/produzione answers 401 to Luca's browser.
    c.goto(chooser.as_str()).await.unwrap();
    c.wait()
        .for_element(Css("a[data-env='test']"))
        .await
        .unwrap();
    assert!(c.find(Css("a[data-env='production']")).await.is_err());
    browser
        .screenshot("interop-seed-chooser-collaudo-only")
        .await;
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/interop/produzione', {credentials: 'same-origin'}).then(r => done(r.status), () => done(0));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_i64(), Some(401));
    c.goto(&app.url("/interop/produzione/catalog"))
        .await
        .unwrap();
    // Not an ended session: an environment never entered, and the way to be let in.
    let message = text_of(c, "[data-testid=error-message]").await;
    assert!(
        message.contains("chiedi a un amministratore del tuo ente"),
        "{message}"
    );
    assert!(
        text_of(c, "h1")
            .await
            .contains("Non hai accesso a questo ambiente"),
        "the page's title"
    );
    let db = app.db.connect().await;
    for (env, expected) in [("produzione", 0), ("collaudo", 1)] {
        let n = testkit::demo::count(
            &db,
            "SELECT count(*) FROM interop_agreements WHERE env = $1",
            env,
        )
        .await;
        assert_eq!(n, expected, "agreements in {env}");
        let n = testkit::demo::count(
            &db,
            "SELECT count(*) FROM interop_purposes WHERE env = $1",
            env,
        )
        .await;
        assert_eq!(n, expected, "purposes in {env}");
    }
    db.close().await;
    browser.close().await;
}

/// Scrolls the element `css` to the middle of the window (for a screenshot of it).
pub(crate) async fn scroll_to(c: &fantoccini::Client, css: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap_or_else(|e| panic!("{css}: {e}"));
}

/// Whether the element `css` is shown (it must exist).
async fn displayed(c: &fantoccini::Client, css: &str) -> bool {
    c.find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .is_displayed()
        .await
        .unwrap()
}

/// Waits for the element `css`, then clicks it.
pub(crate) async fn click_when_ready(c: &fantoccini::Client, css: &str) {
    c.wait()
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// A screenshot of the whole page (the window grown to the page's height, then back).
async fn full_page_screenshot(c: &fantoccini::Client, browser: &Browser, name: &str) {
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(900);
    c.set_window_size(1280, u32::try_from(height).unwrap_or(900).clamp(900, 6000))
        .await
        .unwrap();
    browser.screenshot(name).await;
    c.set_window_size(1280, 900).await.unwrap();
}

/// `method path` of the JSON API of Collaudo with a bearer token: the status and the body.
pub(crate) async fn interop_call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut r = app
        .client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(&format!("/interop/collaudo{path}")),
        )
        .bearer_auth(token);
    if let Some(b) = &body {
        r = r.json(b);
    }
    let response = r.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A purpose of the caller's institution on `eservice` asking `daily_calls`, with a complete
/// risk analysis, created and activated through the JSON API: its id and its first version's
/// state (ACTIVE, or WAITING_FOR_APPROVAL over the quota).
pub(crate) async fn activated_purpose(
    app: &TestApp,
    token: &str,
    eservice: &str,
    title: &str,
    description: &str,
    daily_calls: i64,
) -> (String, String) {
    let risk = risk_answers(app, token).await;
    let p = interop_call(
        app,
        token,
        "POST",
        "/api/purposes",
        Some(serde_json::json!({
            "eserviceId": eservice, "title": title, "description": description,
            "isFreeOfCharge": false, "dailyCalls": daily_calls, "riskAnalysisForm": risk,
        })),
    )
    .await;
    let purpose = p["id"].as_str().unwrap().to_string();
    let p = interop_call(
        app,
        token,
        "POST",
        &format!(
            "/api/purposes/{purpose}/versions/{}/activate",
            p["versions"][0]["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let state = p["versions"][0]["state"].as_str().unwrap().to_string();
    (purpose, state)
}

/// Answers that satisfy the current risk-analysis form: the first choice of every question
/// that applies, a sentence for texts.
pub(crate) async fn risk_answers(app: &TestApp, token: &str) -> serde_json::Value {
    let form = interop_call(app, token, "GET", "/api/purposes/riskAnalysis/form", None).await;
    testkit::interop::risk_answers(&form)
}

/// The end of the seed guide: "completare la generazione del Voucher". Luca, with an ACTIVE
/// agreement and purpose on SEND - UAT (made through the JSON API with his own session), in
/// the browser creates a client, uploads his public key as PEM, links the purpose and reads
/// on "Genera voucher" what the client assertion must say; the assertion signed with exactly
/// that gets a voucher from Collaudo (verified with Collaudo's JWKS), none from Produzione,
/// and the debug tool passes every step.
#[tokio::test]
async fn browser_technician_completes_the_voucher() {
    let test = "browser_technician_completes_the_voucher";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    use fantoccini::Locator::Css;
    use serde_json::{Value, json};
    const SEND: &str = "SEND - UAT (Piattaforma Notifiche)";

    // Mario gives Luca Interoperabilità Collaudo / Amministratore; Luca enters Collaudo.
    mario_adds_the_technician(c, &app, &browser).await;
    login_as(c, &app, LUCA).await;
    click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
    click_when_ready(c, "a[data-env='test']").await;
    c.wait()
        .for_element(Css("[data-testid=environment]"))
        .await
        .unwrap();
    // His session of Collaudo also works as a bearer token for the JSON API.
    let luca = c
        .get_named_cookie("interop_collaudo")
        .await
        .unwrap()
        .value()
        .to_string();

    // An ACTIVE agreement and an ACTIVE purpose on SEND - UAT, quickly.
    let catalog = interop_call(&app, &luca, "GET", "/api/catalog?q=SEND", None).await;
    let send = catalog["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == SEND)
        .unwrap()
        .clone();
    let send_id = send["id"].as_str().unwrap().to_string();
    let a = interop_call(
        &app,
        &luca,
        "POST",
        "/api/agreements",
        Some(json!({"eserviceId": send_id, "descriptorId": send["activeDescriptor"]["id"]})),
    )
    .await;
    let a = interop_call(
        &app,
        &luca,
        "POST",
        &format!("/api/agreements/{}/submit", a["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    let (purpose, state) = activated_purpose(
        &app,
        &luca,
        &send_id,
        "Notifiche atti del Comune",
        "Invio a valore legale degli atti del Comune ai cittadini.",
        1000,
    )
    .await;
    assert_eq!(state, "ACTIVE");

    // "Client e-service": the list is empty; "Crea nuovo client" with Luca checked.
    click_when_ready(c, "nav a[href='/interop/collaudo/clients?kind=CONSUMER']").await;
    c.wait()
        .for_element(Css("[data-testid=clients-empty]"))
        .await
        .unwrap();
    let current = text_of(c, "nav a[aria-current=page]").await;
    assert_eq!(current, "Client e-service");
    assert!(
        c.find(Css("input[name=members][data-me=true]:checked"))
            .await
            .is_ok(),
        "the creator is a member by default"
    );
    // Too short a name: said next to the field, what was typed kept.
    type_into(c, "#client-name", "SEND").await;
    type_into(c, "#client-description", "Il gestionale delle notifiche.").await;
    click(c, "[data-testid=create-client]").await;
    let error = text_of(c, "[data-testid=error-name]").await;
    assert!(error.contains("da 5 a 60"), "{error}");
    let kept = c
        .execute(
            "return document.querySelector('#client-description').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept.as_str(), Some("Il gestionale delle notifiche."));
    c.find(Css("#client-name"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(c, "#client-name", "Gestionale notifiche SEND").await;
    scroll_to(c, "#new-client").await;
    browser.screenshot("interop-voucher-client-form").await;
    click(c, "[data-testid=create-client]").await;

    // The client's page.
    wait_for_text(c, "[data-testid=flash]", "Client creato.").await;
    assert_eq!(
        text_of(c, "[data-testid=client-name]").await,
        "Gestionale notifiche SEND"
    );
    let client_id = text_of(c, "[data-testid=client-id]").await;
    assert_eq!(client_id.len(), 36, "{client_id}");
    let members = text_of(c, "[data-testid=client-members]").await;
    assert!(members.contains("Luca Neri"), "{members}");
    let next = text_of(c, "[data-testid=next-step]").await;
    assert!(next.contains("associa al client la finalità"), "{next}");

    // A private key pasted by mistake: the specific message next to the field.
    let key = testkit::interop::ClientKey::generate();
    c.execute(
        "document.querySelector('#key').value = arguments[0]",
        vec![json!(key.private_pem)],
    )
    .await
    .unwrap();
    type_into(c, "#key-name", "Chiave del gestionale").await;
    click(c, "[data-testid=upload-key]").await;
    let error = text_of(c, "[data-testid=error-key]").await;
    assert!(error.contains("chiave privata"), "{error}");
    // In the page's language only, and first: a summary at the top, focused, linking to the
    // field.
    assert!(!error.contains("private key"), "{error}");
    let summary = text_of(c, "[data-error-summary]").await;
    assert!(
        summary.contains("un errore") && summary.contains("chiave privata"),
        "{summary}"
    );
    let focused = c
        .execute(
            "return document.activeElement.hasAttribute('data-error-summary') \
             && document.activeElement.querySelector('a').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focused.as_str(), Some("#key_file"), "{focused}");
    browser.screenshot("interop-voucher-key-refused").await;
    // The private key is not written back into the page.
    let kept = c
        .execute("return document.querySelector('#key').value", vec![])
        .await
        .unwrap();
    assert_eq!(kept.as_str(), Some(""));
    // "Carica chiave": the public key file, chosen from the disk.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key.pub");
    std::fs::write(&file, &key.public_pem).unwrap();
    c.find(Css("[data-testid=key-file]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    click(c, "[data-testid=upload-key]").await;
    wait_for_text(c, "[data-testid=flash]", "Chiave caricata.").await;
    assert_eq!(text_of(c, "[data-testid=key-kid]").await, key.kid);
    let row = text_of(c, "[data-testid=client-keys] tbody tr").await;
    assert!(
        row.contains("Chiave del gestionale") && row.contains("Luca Neri"),
        "{row}"
    );

    // The purpose, linked.
    let option = text_of(c, "#purposeId option").await;
    assert!(option.contains("Notifiche atti del Comune"), "{option}");
    click(c, "[data-testid=link-purpose]").await;
    wait_for_text(c, "[data-testid=flash]", "Finalità associata al client.").await;
    let next = text_of(c, "[data-testid=next-step]").await;
    assert!(next.contains("il client è pronto"), "{next}");
    let row = text_of(c, &format!("tr[data-purpose='{purpose}']")).await;
    assert!(row.contains(SEND) && row.contains("Attiva"), "{row}");
    full_page_screenshot(c, &browser, "interop-voucher-client").await;
    scroll_to(c, "#keys").await;
    browser.screenshot("interop-voucher-client-keys").await;

    // The key as JWK, an attachment.
    let r = app
        .get(&format!(
            "/interop/collaudo/clients/{client_id}/keys/{}/jwk",
            key.kid
        ))
        .bearer_auth(&luca)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/jwk+json");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let jwk: Value = r.json().await.unwrap();
    assert_eq!(jwk["kid"], key.kid.as_str());
    assert_eq!(jwk["n"], key.jwk()["n"]);

    // "Genera voucher": what the client assertion must say.
    click(
        c,
        &format!("tr[data-purpose='{purpose}'] [data-testid=voucher]"),
    )
    .await;
    let shown_kid = text_of(c, "[data-testid=kid]").await;
    assert_eq!(shown_kid, key.kid);
    assert!(text_of(c, "main h1").await.contains("Genera voucher"));
    assert_eq!(text_of(c, "[data-testid=alg]").await, "RS256");
    assert_eq!(text_of(c, "[data-testid=typ]").await, "JWT");
    assert_eq!(text_of(c, "[data-testid=client-id]").await, client_id);
    assert_eq!(text_of(c, "[data-testid=purpose-id]").await, purpose);
    assert_eq!(text_of(c, "[data-testid=eservice]").await, SEND);
    let audience = text_of(c, "[data-testid=audience]").await;
    assert!(!audience.is_empty());
    assert_eq!(text_of(c, "[data-testid=claim-aud]").await, audience);
    assert_eq!(text_of(c, "[data-testid=claim-iss]").await, client_id);
    assert_eq!(text_of(c, "[data-testid=claim-sub]").await, client_id);
    let jti = text_of(c, "[data-testid=claim-jti]").await;
    assert!(uuid::Uuid::parse_str(&jti).is_ok(), "{jti}");
    let token_url = text_of(c, "[data-testid=token-url]").await;
    assert_eq!(token_url, app.url("/interop/collaudo/token.oauth2"));
    let curl = text_of(c, "[data-testid=curl]").await;
    for field in [
        "client_id=",
        "client_assertion=",
        "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "grant_type=client_credentials",
    ] {
        assert!(curl.contains(field), "{field} in {curl}");
    }
    full_page_screenshot(c, &browser, "interop-voucher-page").await;
    scroll_to(c, "[data-testid=payload-claims]").await;
    browser.screenshot("interop-voucher-page-payload").await;
    scroll_to(c, "[data-testid=curl]").await;
    browser.screenshot("interop-voucher-page-request").await;

    // The technician's software signs exactly what the page showed.
    let now = platform::jwt::now_secs();
    let assertion = key.sign(
        &json!({"kid": shown_kid, "alg": "RS256", "typ": "JWT"}),
        &json!({
            "iss": client_id, "sub": client_id, "aud": audience, "purposeId": purpose,
            "jti": jti, "iat": now, "exp": now + 600,
        }),
    );
    let form = testkit::interop::token_form(Some(&client_id), &assertion);
    let r = app
        .client
        .post(&token_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let voucher = body["access_token"].as_str().unwrap().to_string();
    // The voucher verifies with Collaudo's published keys, and says the right things.
    let jwks: Value = app
        .get("/interop/collaudo/.well-known/jwks.json")
        .fetch_json()
        .await;
    let parsed = platform::jwt::Unverified::parse(&voucher).unwrap();
    let signing = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == parsed.kid())
        .unwrap_or_else(|| panic!("the voucher's kid is not in {jwks}"));
    let (n, e) = platform::jwt::rsa_components(signing).unwrap();
    let claims: Value = parsed.verify(&n, &e).unwrap();
    let db = app.db.connect().await;
    let comune: String =
        sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = '00123456782'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    db.close().await;
    assert_eq!(claims["purposeId"], purpose.as_str(), "{claims}");
    assert_eq!(claims["sub"], client_id.as_str(), "{claims}");
    assert_eq!(claims["client_id"], client_id.as_str(), "{claims}");
    assert_eq!(claims["eserviceId"], send_id.as_str(), "{claims}");
    assert_eq!(claims["consumerId"], comune.as_str(), "{claims}");
    // The page's shell script and curl command, run as written (where OpenSSL and curl are
    // installed), get a voucher too.
    let text_content = |css: &'static str| async move {
        c.find(Css(css))
            .await
            .unwrap()
            .prop("textContent")
            .await
            .unwrap()
            .unwrap_or_default()
    };
    let script = text_content("[data-testid=script]").await;
    let curl = text_content("[data-testid=curl]").await;
    let dpop_script = text_content("[data-testid=dpop-script]").await;
    let dpop_curl = text_content("[data-testid=dpop-curl]").await;
    let installed = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if installed("openssl", "version") && installed("curl", "--version") {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.pem"), &key.private_pem).unwrap();
        // Asynchronously: the app answering curl runs on this test's runtime.
        let out = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -e\n{script}\n{curl} --silent --max-time 30"))
            .current_dir(dir.path())
            .output()
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{answer} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answer: Value =
            serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
        assert_eq!(answer["token_type"], "Bearer", "{answer}");
        // The page's DPoP proof, made by its script (xxd too), gets a voucher bound to it.
        if installed("xxd", "-v") {
            let out = tokio::process::Command::new("bash")
                .arg("-c")
                .arg(format!(
                    "set -e\n{script}\n{dpop_script}\n{dpop_curl} --silent --max-time 30"
                ))
                .current_dir(dir.path())
                .output()
                .await
                .unwrap();
            let answer = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{answer} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let answer: Value =
                serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
            assert_eq!(answer["token_type"], "DPoP", "{answer}");
        } else {
            testkit::skipped(
                test,
                "xxd is not installed: the page's DPoP script was not run",
            );
        }
    } else {
        testkit::skipped(
            test,
            "openssl or curl is not installed: the page's script was not run",
        );
    }
    // Nothing of Collaudo exists in Produzione.
    let r = app
        .client
        .post(app.url("/interop/produzione/token.oauth2"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // "Verifica client assertion": every step passed for this assertion.
    click(c, "nav a[href='/interop/collaudo/tools/client-assertion']").await;
    c.wait()
        .for_element(Css("[data-testid=debug-form]"))
        .await
        .unwrap();
    c.execute(
        "document.querySelector('#client_assertion').value = arguments[0]",
        vec![json!(assertion)],
    )
    .await
    .unwrap();
    type_into(c, "#client_id", &client_id).await;
    click(c, "[data-testid=debug-check]").await;
    c.wait()
        .for_element(Css("[data-testid=verdict][data-result=PASSED]"))
        .await
        .unwrap();
    assert_eq!(
        text_of(c, "nav a[aria-current=page]").await,
        "Verifica client assertion"
    );
    let results = c
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=steps] tr[data-step]')).map(r => r.dataset.result).join(',')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(results.as_str(), Some("PASSED,PASSED,PASSED,PASSED"));
    browser.screenshot("interop-voucher-debug-passed").await;
    // Another purpose id: the states step fails, with its reason.
    let wrong = key.sign(
        &json!({"kid": shown_kid, "alg": "RS256", "typ": "JWT"}),
        &json!({
            "iss": client_id, "sub": client_id, "aud": audience,
            "purposeId": uuid::Uuid::new_v4().to_string(),
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 600,
        }),
    );
    c.execute(
        "document.querySelector('#client_assertion').value = arguments[0]",
        vec![json!(wrong)],
    )
    .await
    .unwrap();
    click(c, "[data-testid=debug-check]").await;
    c.wait()
        .for_element(Css("[data-testid=verdict][data-result=FAILED]"))
        .await
        .unwrap();
    let failed = text_of(
        c,
        "tr[data-step=platformStatesVerification][data-result=FAILED]",
    )
    .await;
    // The reason in the page's language, never the check's English.
    assert!(
        failed.contains("Nessuna finalità dell'ente del client ha questo purposeId"),
        "{failed}"
    );
    assert!(!failed.contains("no purpose"), "{failed}");
    scroll_to(c, "[data-testid=steps]").await;
    browser.screenshot("interop-voucher-debug-failed").await;

    // Another institution (Giulia, Regione Valdoro, admin in Collaudo) learns nothing of the
    // Comune's client from the debug tool.
    let session: Value = app
        .post("/auth/test-idp/token")
        .json(&json!({ "fiscal_number": GIULIA }))
        .fetch_json()
        .await;
    let db = app.db.connect().await;
    let regione: String =
        sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = '80001234568'")
            .fetch_one(db.reader())
            .await
            .unwrap();
    db.close().await;
    let identity: Value = app
        .get(&format!(
            "/v2/token/exchange?institutionId={regione}&productId=prod-interop-coll"
        ))
        .bearer_auth(session["sessionToken"].as_str().unwrap())
        .fetch_json()
        .await;
    let giulia: Value = app
        .post("/interop/collaudo/api/session")
        .json(&json!({ "identity_token": identity["token"] }))
        .fetch_json()
        .await;
    let r = app
        .post("/interop/collaudo/tools/client-assertion")
        .bearer_auth(giulia["token"].as_str().unwrap())
        .header("accept-language", "it")
        .form(&[("client_assertion", assertion.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let page = r.text().await.unwrap();
    assert!(page.contains("Client non trovato"), "{page}");
    assert!(!page.contains(&client_id), "the client's id leaks");

    // A form posted with the session cookie but without the CSRF token changes nothing.
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0], {method: 'POST', credentials: 'same-origin', \
               headers: {'Content-Type': 'application/x-www-form-urlencoded'}, \
               body: 'action=delete'}).then(r => done(r.status), () => done(0));",
            vec![json!(format!("/interop/collaudo/clients/{client_id}"))],
        )
        .await
        .unwrap();
    assert_eq!(status.as_i64(), Some(403));
    interop_call(
        &app,
        &luca,
        "GET",
        &format!("/api/clients/{client_id}"),
        None,
    )
    .await;

    // An API client: created by the same form, its voucher page without purposeId.
    let r = app
        .post("/interop/collaudo/clients")
        .bearer_auth(&luca)
        .form(&[("kind", "API"), ("name", "Gestionale anagrafe")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let api_client = location
        .trim_start_matches("/interop/collaudo/clients/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let listed = interop_call(&app, &luca, "GET", "/api/clients?kind=API", None).await;
    assert_eq!(listed["results"][0]["id"], api_client.as_str(), "{listed}");
    let page = app
        .get(&format!("/interop/collaudo/clients/{api_client}/voucher"))
        .bearer_auth(&luca)
        .fetch_text()
        .await;
    assert!(page.contains(&audience), "{page}");
    assert!(!page.contains("purposeId"), "{page}");
    assert!(page.contains("data-testid=\"no-keys\""), "{page}");

    // The list of e-service clients shows it.
    click(c, "nav a[href='/interop/collaudo/clients?kind=CONSUMER']").await;
    let row = text_of(c, "[data-testid=clients] tbody tr").await;
    assert!(row.contains("Gestionale notifiche SEND"), "{row}");
    full_page_screenshot(c, &browser, "interop-voucher-clients-list").await;

    // The same pages in English: the language switch comes back to the client's page.
    let client_page = app.url(&format!("/interop/collaudo/clients/{client_id}"));
    c.goto(&client_page).await.unwrap();
    c.wait()
        .for_element(Css("[data-testid=client-keys]"))
        .await
        .unwrap();
    click(c, "button[value=en]").await;
    c.wait().for_element(Css("html[lang=en]")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().as_str(), client_page);
    assert_eq!(text_of(c, "#keys-title").await, "Public keys");
    assert_eq!(
        text_of(c, "nav a[aria-current=page]").await,
        "E-service clients"
    );
    browser.screenshot("interop-voucher-client-en").await;
    browser.close().await;
}

/// The users page of an institution with more people than a page shows, in a real browser and
/// in both languages: the pager moves through the pages and the search narrows the list, with
/// the words of each language (the screenshots are the national-scale lists looked at).
#[tokio::test]
async fn browser_users_page_is_paged_and_searched_in_both_languages() {
    let test = "browser_users_page_is_paged_and_searched_in_both_languages";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let comune = testkit::demo::institution_id(&app, testkit::demo::COMUNE).await;
    let token = testkit::demo::session_token(&app, MARIO).await;
    // 22 more people: 24 with the demo's two, more than the 20 of a page.
    let families = [
        "Rossi", "Bianchi", "Rossini", "Verdi", "Ferrari", "Rosà", "Esposito", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano",
        "Rizzo", "Lombardi", "Moretti", "Barbieri",
    ];
    testkit::demo::add_operators(&app, &token, &comune, &families).await;
    let c = &browser.client;
    login_as(c, &app, MARIO).await;
    c.goto(&app.url(&format!("/dashboard/{comune}/users")))
        .await
        .unwrap();
    assert_eq!(text_of(c, "[data-testid=position]").await, "Pagina 1 di 2");
    let source = c.source().await.unwrap();
    assert!(source.contains("Utenti trovati: 24"), "{source}");
    full_page_screenshot(c, &browser, "users-paged-it").await;

    click(c, "button[value=en]").await;
    c.wait()
        .for_element(fantoccini::Locator::Css("html[lang=en]"))
        .await
        .unwrap();
    assert_eq!(text_of(c, "[data-testid=position]").await, "Page 1 of 2");
    click(c, "[data-testid=next-page]").await;
    wait_for_text(c, "[data-testid=position]", "Page 2 of 2").await;
    let source = c.source().await.unwrap();
    assert!(source.contains("Users found: 24"), "{source}");
    assert!(
        source.contains("Verdi") && !source.contains("Barbieri"),
        "{source}"
    );
    full_page_screenshot(c, &browser, "users-paged-en-2").await;

    // A search from the field: the start of a family name, accents folded.
    type_into(c, "#q", "ros").await;
    click(c, "form.filters button[type=submit]").await;
    // Rosà, Carla and Mario Rossi, Rossini.
    // The form's answer replaces the page while this looks: an element of the page before
    // goes stale, and is looked for again.
    let mut text = String::new();
    for _ in 0..100 {
        if let Ok(main) = c.find(fantoccini::Locator::Css("main")).await
            && let Ok(t) = main.text().await
        {
            text = t;
            if text.contains("Users found: 4") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(text.contains("Users found: 4"), "{text}");
    assert!(text.contains("Rossini") && text.contains("Rosà"), "{text}");
    assert!(!text.contains("Verdi"), "{text}");
    full_page_screenshot(c, &browser, "users-searched-en").await;
    browser.close().await;
}
