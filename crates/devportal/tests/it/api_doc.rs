//! The migration API's OpenAPI document: built from the route table, served by the portal.

use std::collections::BTreeSet;

use devportal::{declared_routes, openapi};
use reqwest::StatusCode;
use serde_json::Value;

use crate::Portal;

#[test]
fn the_json_routes_of_the_table_are_the_operations_of_the_document() {
    let table: BTreeSet<(String, String)> = declared_routes()
        .into_iter()
        .filter(|r| r.json)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let doc = openapi();
    let documented: BTreeSet<(String, String)> =
        platform::openapi::operations(&doc).into_iter().collect();
    assert_eq!(table, documented);
    assert_eq!(table.len(), 6);
    for r in declared_routes() {
        assert_eq!(
            r.json,
            r.path.starts_with("/api/"),
            "{} {}: every route of the API is a JSON route",
            r.method,
            r.path
        );
    }

    let json = serde_json::to_value(&doc).unwrap();
    for (method, path) in &table {
        let op = &json["paths"][path][method.to_ascii_lowercase()];
        let answers = op["responses"].as_object().unwrap();
        assert!(!answers.is_empty(), "{method} {path}");
        for (status, answer) in answers {
            let schema = answer["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .is_some_and(|c| c["schema"].is_object());
            assert!(schema, "{method} {path}: answer {status} without a schema");
        }
        // The migration API's steps take no body: their input is the path.
        assert!(op.get("requestBody").is_none(), "{method} {path}");
        assert_eq!(op["security"][0]["functionsKey"], serde_json::json!([]));
    }
    for schema in ["FreezeBody", "LegacyService", "Metadata", "Problem"] {
        assert!(
            json["components"]["schemas"][schema].is_object(),
            "{schema} is a component"
        );
    }
}

#[tokio::test]
async fn the_portal_serves_its_openapi_document() {
    let p = Portal::start().await;
    let r = p.api.get(p.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["paths"]["/api/v1/organizations/{fc}/delegates/{delegate_id}/services/{service_id}/freeze"]
            ["post"]
            .is_object()
    );
    assert!(doc["components"]["securitySchemes"]["functionsKey"].is_object());
}
