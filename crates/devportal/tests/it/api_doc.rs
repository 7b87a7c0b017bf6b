//! The migration API's OpenAPI document: built from the route table, served by the portal.

use devportal::{declared_routes, openapi};
use reqwest::StatusCode;
use serde_json::Value;

use crate::Portal;

#[test]
fn the_json_routes_of_the_table_are_the_operations_of_the_document() {
    let doc = openapi();
    let (table, json) = testkit::json_routes_documented(declared_routes(), &doc);
    assert_eq!(table.len(), 7);
    for r in declared_routes() {
        assert_eq!(
            r.json,
            r.path.starts_with("/api/"),
            "{} {}: every route of the API is a JSON route",
            r.method,
            r.path
        );
    }

    for (method, path) in &table {
        let op = &json["paths"][path][method.to_ascii_lowercase()];
        let answers = testkit::answers_with_schema(op);
        assert!(!answers.is_empty(), "{method} {path}");
        for (status, schema) in answers {
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
