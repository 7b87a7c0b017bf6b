//! Every page a person reaches by following links — the Reserved Area, App IO and
//! Interoperabilità Collaudo — in Italian and in English, checked in a real browser by
//! axe-core (WCAG 2.1 A and AA): no serious or critical violation.

use std::collections::{BTreeMap, HashSet, VecDeque};

use fantoccini::Locator::Css;
use testkit::TestApp;
use testkit::browser::Browser;
use testkit::demo::{GIULIA, MARIO};

use crate::browser::{click, click_when_ready, enter_app_io, login_as};

/// At most this many pages of an area, in each language (lists repeat themselves).
const MOST_PAGES: usize = 20;

/// Follows the links under `area` from the page shown, checking each page reached: the
/// violations found, by page.
async fn walk(browser: &Browser, app: &TestApp, area: &str) -> BTreeMap<String, Vec<String>> {
    let c = &browser.client;
    let start = c.current_url().await.unwrap();
    let start = match start.query() {
        Some(q) => format!("{}?{q}", start.path()),
        None => start.path().to_string(),
    };
    let mut found = BTreeMap::new();
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    let mut read = 0;
    while let Some(path) = queue.pop_front() {
        if read == MOST_PAGES {
            break;
        }
        read += 1;
        c.goto(&app.url(&path))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let violations = browser.accessibility_violations().await;
        if !violations.is_empty() {
            found.insert(path.clone(), violations);
        }
        let links = c
            .execute(
                "return Array.from(document.querySelectorAll('a[href]'))\
                 .filter(a => !a.hasAttribute('download'))\
                 .map(a => a.getAttribute('href'))",
                vec![],
            )
            .await
            .unwrap();
        for link in links.as_array().into_iter().flatten() {
            let link = link.as_str().unwrap_or_default();
            let link = link.split('#').next().unwrap_or_default().to_string();
            let ours = link.starts_with(area)
                && !link.contains("/api/")
                && !link.contains("logout")
                && !link.contains("export")
                // The way into a product: a hand-off to its back-office, elsewhere.
                && !link.contains("/products/");
            if ours && seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    assert!(read > 1, "{area}: the walk read only its first page");
    found
}

/// Switches the browser's language with the switch every page has.
pub(crate) async fn switch_to(c: &fantoccini::Client, lang: &str) {
    click(c, &format!("form.lang-switch button[value={lang}]")).await;
    c.wait()
        .for_element(Css(&format!("html[lang={lang}]")))
        .await
        .unwrap();
}

#[tokio::test]
async fn browser_every_page_reached_by_links_is_accessible_in_both_languages() {
    let Some(browser) = Browser::start("accessibility").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    let mut found = BTreeMap::new();
    for lang in ["it", "en"] {
        // The Reserved Area, as Mario (two institutions).
        login_as(c, &app, MARIO).await;
        c.wait().for_element(Css("main")).await.unwrap();
        switch_to(c, lang).await;
        c.goto(&app.url("/dashboard")).await.unwrap();
        for (page, v) in walk(&browser, &app, "/dashboard").await {
            found.insert(format!("{lang} {page}"), v);
        }
        // The activity log, as an administrator reads it.
        c.goto(&app.url("/dashboard")).await.unwrap();
        click(c, "ul.cards a.btn-primary").await;
        click_when_ready(c, "a[href$='/audit']").await;
        c.wait().for_element(Css("table.activity")).await.unwrap();
        browser.screenshot(&format!("ra-activity-log-{lang}")).await;
        // App IO, entered with "Gestisci".
        enter_app_io(c, &app, MARIO).await;
        for (page, v) in walk(&browser, &app, "/io").await {
            found.insert(format!("{lang} {page}"), v);
        }
        // Interoperabilità Collaudo, as Giulia (Regione Valdoro).
        login_as(c, &app, GIULIA).await;
        click_when_ready(c, "li[data-product='prod-interop'] a.btn-primary").await;
        click_when_ready(c, "a[data-env='test']").await;
        c.wait()
            .for_element(Css("nav a[href='/interop/collaudo/catalog']"))
            .await
            .unwrap();
        for (page, v) in walk(&browser, &app, "/interop/collaudo").await {
            found.insert(format!("{lang} {page}"), v);
        }
    }
    browser.close().await;
    assert!(
        found.is_empty(),
        "pages with serious or critical accessibility violations: {found:#?}"
    );
}
