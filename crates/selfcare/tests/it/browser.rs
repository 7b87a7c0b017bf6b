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
