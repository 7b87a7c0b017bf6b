use reqwest::StatusCode;
use reserved_area::declared_routes;
use serde_json::Value;
use testkit::Fetch;
use testkit::TestApp;

#[tokio::test]
async fn every_json_route_is_in_the_openapi_document_and_the_docs_are_served() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/openapi.json").fetch_json().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for route in declared_routes() {
        let json_api = route.path.starts_with("/v2/")
            || route.path.starts_with("/auth/test-idp/identities")
            || route.path.starts_with("/auth/test-idp/token");
        if json_api {
            let item = paths
                .get(route.path)
                .unwrap_or_else(|| panic!("{} is not documented", route.path));
            assert!(
                item.get(route.method.to_ascii_lowercase()).is_some(),
                "{} {} is not documented",
                route.method,
                route.path
            );
        }
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["sessionToken"].is_object());

    let r = app.get("/docs/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let r = app.get("/docs/swagger-ui-bundle.js").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
