//! The OpenAPI document is the route table's: every JSON route is an operation (and nothing
//! else is), each with its answers' schemas, its body's schema, and every schema it names.

use std::collections::BTreeSet;

use serde_json::Value;

/// The JSON routes that take no body although their method could carry one.
const BODYLESS: &[(&str, &str)] = &[
    ("POST", "/io/api/logout"),
    ("POST", "/io/api/review/{service_id}/approve"),
    (
        "POST",
        "/io/api/services/migrations/ownership-claims/{delegate_id}",
    ),
    (
        "PUT",
        "/io/api/subscriptions/{subscription_id}/keys/{key_type}",
    ),
    ("POST", "/api/v1/manage/services/{service_id}/release"),
    ("POST", "/io/api/services/{service_id}/release"),
    (
        "PUT",
        "/api/v1/manage/services/{service_id}/keys/{key_type}",
    ),
    ("PUT", "/io/api/services/{service_id}/keys/{key_type}"),
];

/// Every `$ref` under `v`.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.insert(r.to_string());
                }
                refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_is_the_route_tables_json_routes_with_their_schemas() {
    let api = io_backoffice::openapi();
    let documented = platform::openapi::operations(&api);
    let routes = io_backoffice::json_routes();
    assert_eq!(routes, documented);
    // The pages are not operations; every API route is.
    for decl in io_backoffice::declared_routes() {
        let listed = routes
            .iter()
            .any(|(m, p)| m == decl.method && p == decl.path);
        let api_path = decl.path.starts_with("/io/api/") || decl.path.starts_with("/api/");
        assert_eq!(listed, api_path, "{} {}", decl.method, decl.path);
    }
    assert!(documented.len() >= 50, "{} operations", documented.len());

    let json = serde_json::to_value(&api).unwrap();
    for (method, path) in &documented {
        let op = &json["paths"][path][method.to_lowercase()];
        let id = format!("{method} {path}");
        let answers = op["responses"].as_object().unwrap();
        assert!(
            answers.values().any(|a| a["content"]
                .as_object()
                .is_some_and(|c| c.values().any(|m| m["schema"].is_object()))),
            "{id}: no answer with a schema"
        );
        assert!(
            answers.keys().any(|s| s.starts_with('2')),
            "{id}: no success answer"
        );
        let has_body = op["requestBody"]["content"]["application/json"]["schema"].is_object();
        let may_have_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let bodyless = BODYLESS.iter().any(|(m, p)| m == method && p == path);
        assert_eq!(has_body, may_have_body && !bodyless, "{id}: request body");
        assert!(
            op["security"].is_array()
                || path.ends_with("/info")
                || path.ends_with("/topics")
                || path == "/io/api/session",
            "{id}: security"
        );
    }

    // Every schema named is a component, and the security schemes are there.
    let mut named = BTreeSet::new();
    refs(&json["paths"], &mut named);
    refs(&json["components"]["schemas"], &mut named);
    for r in &named {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            json["components"]["schemas"][name].is_object(),
            "{r} is not a component"
        );
    }
    for schema in [
        "ServicePayload",
        "ServiceLifecycle",
        "ServicePublication",
        "ServiceHistory",
        "ServiceList",
        "SubscriptionKeys",
        "Problem",
    ] {
        assert!(
            named.contains(&format!("#/components/schemas/{schema}")),
            "{schema}"
        );
    }
    // The service payload: what the reference requires, required.
    assert_eq!(
        json["components"]["schemas"]["ServicePayload"]["required"],
        serde_json::json!(["name", "description", "metadata"])
    );
    for scheme in ["bearer", "manage_key", "service_key"] {
        assert!(
            json["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    assert_eq!(
        json["components"]["securitySchemes"]["manage_key"]["name"],
        "Ocp-Apim-Subscription-Key"
    );
}
