//! The OpenAPI document is made from the route table: every JSON route of both environments
//! is an operation (and nothing else is), with the schemas of its answers and of its body.

use std::collections::BTreeSet;

use interop::{Access, declared_routes};
use serde_json::Value;

/// The JSON routes of the table, by what they are: the API, the keys and the token endpoint.
fn json_routes() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for env in ["produzione", "collaudo"] {
        for r in declared_routes() {
            if r.path.starts_with("/api/")
                || r.path == "/.well-known/jwks.json"
                || r.path == "/keys/{kid}"
                || r.access == Access::Token
            {
                out.insert((r.method.to_string(), format!("/interop/{env}{}", r.path)));
            }
        }
    }
    out
}

/// The routes whose request has a body.
const WITH_BODY: &[&str] = &[
    "POST /token.oauth2",
    "POST /api/session",
    "POST /api/eservices",
    "PUT /api/eservices/{id}",
    "POST /api/eservices/{id}/descriptors",
    "PUT /api/eservices/{id}/descriptors/{descriptor_id}",
    "POST /api/eservices/{id}/name/update",
    "POST /api/eservices/{id}/description/update",
    "POST /api/eservices/{id}/descriptors/{descriptor_id}/update",
    "POST /api/eservices/{id}/descriptors/{descriptor_id}/agreementApprovalPolicy/update",
    "POST /api/eservices/{id}/descriptors/{descriptor_id}/documents",
    "POST /api/agreements",
    "POST /api/agreements/{id}/reject",
    "POST /api/purposes",
    "POST /api/purposes/{id}/versions",
    "POST /api/purposes/{id}/versions/{version_id}/reject",
    "POST /api/clientsConsumer",
    "POST /api/clientsApi",
    "POST /api/clients/{id}/purposes",
    "POST /api/clients/{id}/keys",
    "POST /api/tools/validateTokenGeneration",
    "POST /api/eservices/{id}/descriptors/{descriptor_id}/attributes/update",
    "POST /api/attributes/declared",
    "POST /api/attributes/verified",
    "POST /api/attributes/certified",
    "POST /api/tenants/attributes/declared",
    "POST /api/tenants/{id}/attributes/certified",
    "POST /api/tenants/{id}/attributes/verified",
    "POST /api/tenants/mails",
];

/// The schema of a content entry, with its `$ref` resolved against the components.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/")?;
            doc["components"]["schemas"].get(name)
        }
        None => schema.is_object().then_some(schema),
    }
}

fn schemas_of<'a>(doc: &'a Value, content: &'a Value) -> Vec<&'a Value> {
    content
        .as_object()
        .map(|c| {
            c.values()
                .filter_map(|m| resolve(doc, &m["schema"]))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_document_has_every_json_route_of_the_table_with_its_schemas() {
    let api = interop::openapi::openapi();
    let documented: BTreeSet<(String, String)> =
        platform::openapi::operations(&api).into_iter().collect();
    assert_eq!(documented, json_routes());
    assert_eq!(documented.len(), 2 * 74, "both environments' operations");

    let doc = serde_json::to_value(&api).unwrap();
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_lowercase()];
        let what = format!("{method} {path}");
        let answers = op["responses"].as_object().unwrap();
        let success: Vec<(&String, &Value)> =
            answers.iter().filter(|(s, _)| s.starts_with('2')).collect();
        assert!(!success.is_empty(), "{what}: no success answer");
        for (status, answer) in &success {
            if *status != "204" {
                assert!(
                    !schemas_of(&doc, &answer["content"]).is_empty(),
                    "{what}: answer {status} has no schema"
                );
            }
        }
        assert!(
            answers
                .iter()
                .any(|(_, a)| !schemas_of(&doc, &a["content"]).is_empty()),
            "{what}: no answer with a schema"
        );
        for (status, answer) in answers {
            if status.starts_with('4') {
                assert!(
                    answer["content"]
                        .get(platform::error::PROBLEM_JSON)
                        .is_some_and(|c| resolve(&doc, &c["schema"]).is_some()),
                    "{what}: refusal {status} is not a problem+json with a schema"
                );
            }
        }
        let relative = path
            .trim_start_matches("/interop/produzione")
            .trim_start_matches("/interop/collaudo");
        if WITH_BODY.contains(&format!("{method} {relative}").as_str()) {
            assert!(
                !schemas_of(&doc, &op["requestBody"]["content"]).is_empty(),
                "{what}: no request body schema"
            );
        } else {
            assert!(op.get("requestBody").is_none(), "{what}: unexpected body");
        }
        if path.contains("/api/") && !path.ends_with("/api/session") {
            assert!(op["security"].is_array(), "{what}: no bearer security");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let token = &doc["paths"]["/interop/collaudo/token.oauth2"]["post"];
    assert!(
        token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
        "{token}"
    );
    // The DPoP header (RFC 9449), and the debug tool's field for its proof.
    assert!(
        token["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "DPoP" && p["in"] == "header")),
        "{token}"
    );
    let debug = &doc["paths"]["/interop/collaudo/api/tools/validateTokenGeneration"]["post"];
    let body = schemas_of(&doc, &debug["requestBody"]["content"]);
    assert!(
        body.iter().any(|b| b.to_string().contains("dpop_proof")),
        "{debug}"
    );
    let props = &doc["components"]["schemas"]["InteropTokenResponse"]["properties"];
    for field in ["access_token", "token_type", "expires_in"] {
        assert!(props[field].is_object(), "TokenResponse.{field}");
    }
    assert!(
        doc["components"]["schemas"]["InteropTokenProblem"]["properties"]["correlationId"]
            .is_object()
    );
    // The names of the context's schemas are its own in the application's merged document.
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            name.starts_with("Interop") || ["Problem", "InvalidParam"].contains(&name.as_str()),
            "{name}"
        );
    }
}
