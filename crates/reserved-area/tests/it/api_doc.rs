use reqwest::StatusCode;
use reserved_area::{declared_routes, openapi};
use serde_json::Value;
use testkit::Fetch;
use testkit::TestApp;

/// The POST routes that take no body (their input is the path and the query).
const BODYLESS: [&str; 2] = [
    "/v2/users/{user_id}/suspend",
    "/v2/users/{user_id}/activate",
];

#[test]
fn the_json_routes_of_the_table_are_the_operations_of_the_document() {
    let (table, json) = testkit::json_routes_documented(declared_routes(), &openapi());
    assert_eq!(table.len(), 15);
    // Every route of the JSON API is marked as such in the table.
    for r in declared_routes() {
        if r.path.starts_with("/v2/") {
            assert!(r.json, "{} {} is a JSON route", r.method, r.path);
        }
    }

    for (method, path) in &table {
        let op = &json["paths"][path][method.to_ascii_lowercase()];
        let answers = testkit::answers_with_schema(op);
        assert!(
            answers.iter().any(|(_, s)| *s),
            "{method} {path}: no answer with a schema"
        );
        for (status, schema) in &answers {
            assert!(
                *schema || status == "204",
                "{method} {path}: answer {status} without a schema"
            );
        }
        let body = op["requestBody"]["content"]["application/json"]["schema"].is_object();
        let takes_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH")
            && !BODYLESS.contains(&path.as_str());
        assert_eq!(body, takes_body, "{method} {path}: request body schema");
    }
}

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
        assert_eq!(json_api, route.json, "{} {}", route.method, route.path);
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
    assert!(doc["components"]["securitySchemes"]["sessionCookie"].is_object());

    let r = app.get("/docs/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let r = app.get("/docs/swagger-ui-bundle.js").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Bodies and queries of the wrong shape are a 400 problem naming the field, never a 500 nor
/// a bare-text rejection.
#[tokio::test]
async fn malformed_bodies_and_queries_are_problems_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = crate::session_token(&app, crate::MARIO).await;
    let comune = crate::institution_id(&app, crate::COMUNE).await;
    let problem = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_payload", "{p}");
        p["invalidParams"][0]["name"].as_str().unwrap().to_string()
    };

    let cases = [
        (
            app.post("/v2/users/search").json(&serde_json::json!({})),
            "fiscalCode",
        ),
        (app.post("/v2/users/search").body("not json"), "body"),
        (
            app.post(&format!("/v2/institutions/{comune}/products/prod-io/users"))
                .json(
                    &serde_json::json!({"name": "Luca", "surname": "Neri", "taxCode": crate::LUCA,
                    "email": "luca.neri@example.it", "role": "OPERATOR", "productRoles": "api"}),
                ),
            "productRoles",
        ),
        (
            app.get(&format!("/v2/token/exchange?institutionId={comune}")),
            "productId",
        ),
    ];
    for (request, field) in cases {
        let r = request.bearer_auth(&token).send().await.unwrap();
        assert_eq!(problem(r).await, field, "the problem names {field}");
    }
}
