//! Every page a person reaches by following links, in Italian and in English, says things in
//! words: none of the codes records hold (`testkit::CODES_NOT_FOR_PEOPLE`) in its visible text.

use std::collections::{BTreeMap, VecDeque};

use reqwest::RequestBuilder;
use testkit::TestApp;
use testkit::demo::{COMUNE, GIULIA, MARIO, PAOLO, REGIONE, identity_token};

/// At most this many pages a walk reads (pages of lists are many; the first ones suffice).
const MOST_PAGES: usize = 120;

/// Walks the pages under `area` from `start` by their links, each read with `get`: for each
/// page, the codes its visible text shows (only pages that show some).
async fn walk(
    start: &str,
    area: &str,
    get: impl Fn(&str) -> RequestBuilder,
) -> BTreeMap<String, Vec<String>> {
    let mut found = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue = VecDeque::from([start.to_string()]);
    seen.insert(start.to_string());
    let mut read = 0;
    while let Some(path) = queue.pop_front() {
        if read == MOST_PAGES {
            break;
        }
        read += 1;
        let r = get(&path).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "GET {path}: {}", r.status());
        let html = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        if !html {
            continue;
        }
        let page = r.text().await.unwrap();
        let codes = testkit::codes_in(&testkit::visible_text(&page));
        if !codes.is_empty() {
            found.insert(path.clone(), codes);
        }
        for link in testkit::links(&page) {
            let link = link.split('#').next().unwrap_or_default().to_string();
            let ours = link.starts_with(area)
                && !link.contains("/api/")
                && !link.contains("logout")
                && !link.ends_with(".json");
            if ours && seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    assert!(read > 1, "{start}: the walk read only its first page");
    found
}

/// A bearer session of a back-office, opened with an identity token.
async fn back_office(app: &TestApp, base: &str, identity: &str) -> String {
    let (status, token) = testkit::enter_back_office(app, base, identity).await;
    assert_eq!(status, 200, "{base}");
    token.unwrap()
}

#[tokio::test]
async fn every_page_reached_by_links_says_things_in_words_in_both_languages() {
    let app = TestApp::spawn().await;
    let io = back_office(
        &app,
        "/io",
        &identity_token(&app, MARIO, COMUNE, "prod-io").await,
    )
    .await;
    let produzione = back_office(
        &app,
        "/interop/produzione",
        &identity_token(&app, MARIO, COMUNE, "prod-interop").await,
    )
    .await;
    let collaudo = back_office(
        &app,
        "/interop/collaudo",
        &identity_token(&app, GIULIA, REGIONE, "prod-interop-coll").await,
    )
    .await;
    let mut found = BTreeMap::new();
    for lang in ["it", "en"] {
        let cookie = format!("lang={lang}");
        // The Reserved Area, as Mario's browser (the session cookie and the language).
        let mario = testkit::logged_in(&app, MARIO).await;
        testkit::switch_language(&mario, &app, lang).await;
        let ra = walk("/dashboard", "/dashboard", |p| mario.get(app.url(p))).await;
        let paolo = testkit::logged_in(&app, PAOLO).await;
        testkit::switch_language(&paolo, &app, lang).await;
        let operator = walk("/dashboard", "/dashboard", |p| paolo.get(app.url(p))).await;
        let io_pages = walk("/io", "/io", |p| {
            app.get(p).bearer_auth(&io).header("cookie", cookie.clone())
        })
        .await;
        let prod_pages = walk("/interop/produzione", "/interop/produzione", |p| {
            app.get(p)
                .bearer_auth(&produzione)
                .header("cookie", cookie.clone())
        })
        .await;
        let coll_pages = walk("/interop/collaudo", "/interop/collaudo", |p| {
            app.get(p)
                .bearer_auth(&collaudo)
                .header("cookie", cookie.clone())
        })
        .await;
        for (path, codes) in ra
            .into_iter()
            .chain(operator)
            .chain(io_pages)
            .chain(prod_pages)
            .chain(coll_pages)
        {
            found.insert(format!("{lang} {path}"), codes);
        }
    }
    assert!(found.is_empty(), "pages that show codes: {found:#?}");
}

/// "Back to the Reserved Area" leads to the institution the person was working for, not to
/// the chooser of their institutions (Mario has two).
#[tokio::test]
async fn the_way_back_to_the_reserved_area_keeps_the_institution() {
    let app = TestApp::spawn().await;
    let comune = testkit::demo::institution_id(&app, COMUNE).await;
    for (base, product) in [("/io", "prod-io"), ("/interop/produzione", "prod-interop")] {
        let token = back_office(
            &app,
            base,
            &identity_token(&app, MARIO, COMUNE, product).await,
        )
        .await;
        let page = app
            .get(base)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let back = format!(r#"href="/dashboard/{comune}" data-testid="back-to-reserved-area""#);
        assert!(page.contains(&back), "{base}: {page}");
    }
}
