use reqwest::StatusCode;
use testkit::Fetch;
use testkit::TestApp;

#[tokio::test]
async fn the_home_page_speaks_italian_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let r = app.get("/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let it = r.text().await.unwrap();
    assert!(it.contains("<title>Area Riservata</title>"), "{it}");
    assert!(it.contains("Interoperabilità"));
    assert!(it.contains("Premi «Gestisci»"));

    testkit::post_form(
        &app.client,
        app.url("/lang"),
        &[("lang", "en"), ("back", "/")],
    )
    .await;
    let en = app.get("/").fetch_text().await;
    assert!(en.contains("<title>Reserved Area</title>"), "{en}");
    assert!(en.contains("Press “Manage”"), "{en}");
}
