//! The seed guide "Import of services in the Reserved Area", walked in English as its reader
//! would: every step photographed (and so checked for accessibility), the guide's words on the
//! pages.

use fantoccini::Locator::Css;
use testkit::TestApp;
use testkit::browser::Browser;
use testkit::demo::MARIO;

use crate::accessibility::switch_to;
use crate::browser::{click, login_as, text_of};

#[tokio::test]
async fn browser_import_guide_in_english() {
    let Some(browser) = Browser::start("browser_import_guide_in_english").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;

    // 1-2. Log in to the Reserved Area and choose the institution.
    login_as(c, &app, MARIO).await;
    c.wait().for_element(Css("ul.cards")).await.unwrap();
    switch_to(c, "en").await;
    assert!(
        text_of(c, "main h1")
            .await
            .contains("Select your institution")
    );
    browser.screenshot("import-en-1-institutions").await;
    click(c, "ul.cards a.btn-primary").await;

    // 3. "Manage" on the IO App card.
    let manage = c
        .wait()
        .for_element(Css("li[data-product='prod-io'] a.btn-primary"))
        .await
        .unwrap();
    assert_eq!(manage.text().await.unwrap(), "Manage");
    browser.screenshot("import-en-2-institution").await;
    manage.click().await.unwrap();
    c.wait()
        .for_element(Css("nav a[href='/io/services']"))
        .await
        .unwrap();

    // 4-5. The box "Import the services from the Developer Portal", its button.
    let import_box = text_of(c, "[data-testid=import-box]").await;
    assert!(
        import_box.contains("Import the services from the Developer Portal"),
        "{import_box}"
    );
    assert_eq!(
        text_of(c, "[data-testid=import-open]").await,
        "Import the services"
    );
    browser.screenshot("import-en-3-overview").await;
    click(c, "[data-testid=import-open]").await;

    // 6-7. A window with the delegates; select them all.
    c.wait()
        .for_element(Css("dialog[open][data-testid=import-window]"))
        .await
        .unwrap();
    let window = text_of(c, "[data-testid=import-window]").await;
    assert!(window.contains("Delegates"), "{window}");
    assert!(
        window.contains("marked as deleted on the Developer Portal"),
        "the service left out, and why: {window}"
    );
    for cb in c
        .find_all(Css(
            "[data-testid=delegate-row] input[type=checkbox]:not([disabled])",
        ))
        .await
        .unwrap()
    {
        cb.click().await.unwrap();
    }
    browser.screenshot("import-en-4-window").await;

    // 8. Start the import.
    assert_eq!(
        text_of(c, "[data-testid=import-start]").await,
        "Start the import"
    );
    click(c, "[data-testid=import-start]").await;

    // Step 2 of the guide: the progress, on the same page, until done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let mut states = Vec::new();
        for s in c.find_all(Css("[data-testid=import-state]")).await.unwrap() {
            states.push(s.text().await.unwrap_or_default());
        }
        if !states.is_empty() && states.iter().all(|s| s == "Completed") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    c.wait()
        .for_element(Css("[data-banner='io.import.banner_done']"))
        .await
        .unwrap();
    assert!(
        text_of(c, "[data-testid=import-banner]")
            .await
            .contains("Import completed")
    );
    browser.screenshot("import-en-5-completed").await;

    // "Services" in the left column: the imported services, marked as such.
    let services = c.find(Css("nav a[href='/io/services']")).await.unwrap();
    assert_eq!(services.text().await.unwrap(), "Services");
    services.click().await.unwrap();
    let list = text_of(c, "[data-testid=services]").await;
    assert!(list.contains("Tari - Tassa sui rifiuti"), "{list}");
    assert!(
        list.contains("Imported from the Developer Portal"),
        "{list}"
    );
    browser.screenshot("import-en-6-services").await;
    browser.close().await;
}
