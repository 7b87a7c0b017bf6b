//! Interoperability through the real HTTP server: entry into each environment, sessions that end
//! with the Reserved Area's, environments that share nothing.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agreements;
mod attribute_pages;
mod attributes;
mod catalogue;
mod clients;
mod documents;
mod dpop;
mod isolation;
mod openapi;
mod paging;
mod plans;
mod producer_pages;
mod purposes;
mod sessions;
mod tokens;
mod vouchers;

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;
pub use testkit::api::{call, expect, get_ok, post_created, post_ok, status_of};
pub use testkit::demo::{
    ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE, institution_id, person_id,
    session_token, try_identity_token as identity_token,
};

pub const COLL: &str = "/interop/collaudo";
pub const PROD: &str = "/interop/produzione";

pub use testkit::enter_back_office as enter;

/// A bearer session of `fiscal_code` for the institution `tax_code` in the environment of
/// `product` (`prod-interop` or `prod-interop-coll`).
pub async fn member(app: &TestApp, fiscal_code: &str, tax_code: &str, product: &str) -> String {
    let session = session_token(app, fiscal_code).await;
    let iid = institution_id(app, tax_code).await;
    let identity = identity_token(app, &session, &iid, product).await.unwrap();
    let base = if product == "prod-interop" {
        PROD
    } else {
        COLL
    };
    let (status, token) = enter(app, base, &identity).await;
    assert_eq!(status, StatusCode::OK);
    token.unwrap()
}

/// An HTML page (`GET path`) with a bearer token, asserting a 200; its text.
pub async fn page(app: &TestApp, token: &str, path: &str) -> String {
    let r = app.get(path).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.text().await.unwrap()
}

/// Mario (Comune admin) adds the Comune's person `user` (its fields `name`, `surname`,
/// `taxCode`, `email`) to Interoperabilità Collaudo with the role `role` and the product roles
/// `roles`.
async fn give_collaudo(app: &TestApp, user: Value, role: &str, roles: &[&str]) {
    let mario = session_token(app, MARIO).await;
    let comune = institution_id(app, COMUNE).await;
    let mut body = user;
    body["role"] = json!(role);
    body["productRoles"] = json!(roles);
    let r = app
        .post(&format!(
            "/v2/institutions/{comune}/products/prod-interop-coll/users"
        ))
        .bearer_auth(&mario)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// Mario (Comune admin) gives Anna the roles `roles` on Interoperabilità Collaudo.
pub async fn give_anna_collaudo(app: &TestApp, roles: &[&str]) {
    let anna = json!({
        "name": "Anna", "surname": "Bianchi", "taxCode": ANNA,
        "email": "anna.bianchi@comune.roccabella.it",
    });
    give_collaudo(app, anna, "OPERATOR", roles).await;
}

/// PagoPA's admin enters Produzione and finds nothing at `path` (an API path of Collaudo's,
/// asked of Produzione): a 404. His Produzione session.
pub async fn not_in_produzione(app: &TestApp, path: &str) -> String {
    let paolo_prod = member(app, PAOLO, PAGOPA, "prod-interop").await;
    let status = status_of(app, &paolo_prod, "GET", &format!("{PROD}{path}")).await;
    assert_eq!(status, 404, "{path} in Produzione");
    paolo_prod
}

/// The catalogue entry named `name` in the environment at `base`: its id and the id of its
/// published version.
pub async fn find(app: &TestApp, token: &str, base: &str, name: &str) -> (String, String) {
    let q = name.split_whitespace().next().unwrap_or(name);
    let v = get_ok(app, token, &format!("{base}/api/catalog?q={q}")).await;
    let e = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the catalogue: {v}"));
    (
        e["id"].as_str().unwrap().to_string(),
        e["activeDescriptor"]["id"].as_str().unwrap().to_string(),
    )
}

/// Mario (Comune admin) gives Luca the role `role` on Interoperabilità Collaudo.
pub async fn give_luca_collaudo(app: &TestApp, role: &str) {
    let luca = json!({
        "name": "Luca", "surname": "Neri", "taxCode": LUCA,
        "email": "luca.neri@comune.roccabella.it",
    });
    let kind = if role == "admin" {
        "SUB_DELEGATE"
    } else {
        "OPERATOR"
    };
    give_collaudo(app, luca, kind, &[role]).await;
}

// ---- shared by clients.rs and tokens.rs ----

/// The user id of the session's person (as members of clients are named).
pub async fn user_id(app: &TestApp, token: &str) -> String {
    let me = get_ok(app, token, &format!("{COLL}/api/me")).await;
    me["userId"].as_str().unwrap().to_string()
}

/// A new version of the e-service at `eservice` (its API path) with `body`, given an OpenAPI
/// interface and published: its id.
pub async fn published_version(app: &TestApp, token: &str, eservice: &str, body: &Value) -> String {
    let d = post_created(app, token, &format!("{eservice}/descriptors"), body).await;
    let id = d["id"].as_str().unwrap().to_string();
    let (status, v) = documents::upload(
        app,
        token,
        &format!("{eservice}/descriptors/{id}"),
        "INTERFACE",
        "Interfaccia",
        (
            "openapi.yaml",
            "application/yaml",
            documents::openapi("https://api.example.it/v9").into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    post_ok(app, token, &format!("{eservice}/descriptors/{id}/publish")).await;
    id
}

/// An agreement of the consumer `token` on `eservice` at version `descriptor`, created and
/// submitted: its id and the agreement as submitted.
pub async fn submitted_agreement(
    app: &TestApp,
    token: &str,
    eservice: &str,
    descriptor: &str,
) -> (String, Value) {
    let body = json!({"eserviceId": eservice, "descriptorId": descriptor});
    let a = post_created(app, token, &format!("{COLL}/api/agreements"), &body).await;
    let id = a["id"].as_str().unwrap().to_string();
    let a = post_ok(app, token, &format!("{COLL}/api/agreements/{id}/submit")).await;
    (id, a)
}

/// The consumer `token`'s ACTIVE agreement on SEND - UAT in Collaudo: the e-service, its
/// version and the agreement.
pub async fn send_agreement(app: &TestApp, token: &str) -> (String, String, String) {
    let (send, v1) = find(app, token, COLL, "SEND - UAT (Piattaforma Notifiche)").await;
    let (id, a) = submitted_agreement(app, token, &send, &v1).await;
    assert_eq!(a["state"], "ACTIVE", "{a}");
    (send, v1, id)
}

/// A purpose on `eservice` with a valid risk analysis, activated unless `draft`: its id, its
/// first version's id and that version's state.
pub async fn purpose(
    app: &TestApp,
    token: &str,
    eservice: &str,
    title: &str,
    daily_calls: i64,
    draft: bool,
) -> (String, String, String) {
    let risk = purposes::valid_answers(app, token).await;
    let p = post_created(
        app,
        token,
        &format!("{COLL}/api/purposes"),
        &json!({
            "eserviceId": eservice, "title": title,
            "description": "Invio delle notifiche degli atti del Comune.",
            "isFreeOfCharge": false, "dailyCalls": daily_calls,
            "riskAnalysisForm": risk,
        }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let version = p["versions"][0]["id"].as_str().unwrap().to_string();
    if draft {
        return (id, version, "DRAFT".into());
    }
    let p = post_ok(
        app,
        token,
        &format!("{COLL}/api/purposes/{id}/versions/{version}/activate"),
    )
    .await;
    let state = p["versions"][0]["state"].as_str().unwrap().to_string();
    (id, version, state)
}

/// Links the purpose `purpose` to the client `client`, asserting a 200: the client.
pub async fn link_purpose(app: &TestApp, token: &str, client: &str, purpose: &str) -> Value {
    let path = format!("{COLL}/api/clients/{client}/purposes");
    expect(
        app,
        token,
        "POST",
        &path,
        Some(&json!({ "purposeId": purpose })),
        200,
    )
    .await
}

/// The JSON of a key upload of one key.
pub fn key_upload(key_b64: &str, name: &str) -> Value {
    json!([{ "key": key_b64, "use": "SIG", "alg": "RS256", "name": name }])
}
