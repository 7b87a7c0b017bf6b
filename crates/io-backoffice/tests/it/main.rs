//! The IO back-office's JSON APIs through the real HTTP server: the back-office API
//! (`/io/api`, a back-office session), the manage API (`/api/v1/manage`, a manage key) and the
//! service API (`/api/v1/services/{id}`, a service's own key).

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_doc;
mod cidrs;
mod conformance;
mod isolation;
mod keys;
mod lifecycle;
mod pagination;
mod plans;
mod review;
mod sessions;
mod validation;

use serde_json::{Value, json};
use testkit::TestApp;
pub use testkit::api::{call, expect, get_ok, put_ok};
pub use testkit::demo::{
    ANNA, COMUNE, GIULIA, MARIO, PAOLO, REGIONE, institution_id, person_id as user_id,
    session_token,
};

pub const MANAGE: &str = "/api/v1/manage";
pub const BO: &str = "/io/api";

/// Who calls: nobody, a back-office session (bearer) or a key (`Ocp-Apim-Subscription-Key`).
#[derive(Debug, Clone)]
pub enum Who {
    Anonymous,
    Session(String),
    Key(String),
}

impl testkit::api::Caller for Who {
    fn sign(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Who::Anonymous => request,
            Who::Session(token) => request.bearer_auth(token),
            Who::Key(key) => request.header("Ocp-Apim-Subscription-Key", key),
        }
    }
}

/// An identity token for `prod-io` of the institution with `tax_code`, from a session token.
pub async fn identity_token(app: &TestApp, session: &str, tax_code: &str) -> String {
    let iid = institution_id(app, tax_code).await;
    testkit::demo::try_identity_token(app, session, &iid, "prod-io")
        .await
        .unwrap_or_else(|status| panic!("no identity token of prod-io for {tax_code}: {status}"))
}

/// Opens a back-office session with an identity token: the bearer token for `/io/api`.
pub async fn open_session(app: &TestApp, identity_token: &str) -> String {
    let r = expect(
        app,
        &Who::Anonymous,
        "POST",
        "/io/api/session",
        Some(&json!({ "identity_token": identity_token })),
        200,
    )
    .await;
    r["token"].as_str().unwrap().to_string()
}

/// A back-office session of a person for the institution with `tax_code`.
pub async fn bo(app: &TestApp, fiscal_code: &str, tax_code: &str) -> Who {
    let session = session_token(app, fiscal_code).await;
    let identity = identity_token(app, &session, tax_code).await;
    Who::Session(open_session(app, &identity).await)
}

/// The platform operator's back-office session (review queue).
pub async fn operator(app: &TestApp) -> Who {
    Who::Session(open_session(app, &operator_identity(app).await).await)
}

/// An identity token of the platform operator.
pub async fn operator_identity(app: &TestApp) -> String {
    let session = session_token(app, PAOLO).await;
    let r: Value = testkit::api::get_json(
        app,
        &session,
        "/v2/token/exchange/back-office/admin?productId=prod-io",
    )
    .await;
    r["token"].as_str().unwrap().to_string()
}

/// The institution's root manage subscription (seen by an admin's session): its id and keys.
pub struct ManageKeys {
    pub id: String,
    pub primary: String,
    pub secondary: String,
}

impl ManageKeys {
    pub fn who(&self) -> Who {
        Who::Key(self.primary.clone())
    }
}

pub async fn manage_keys(app: &TestApp, admin: &Who) -> ManageKeys {
    let list = get_ok(app, admin, "/io/api/subscriptions?kind=MANAGE_ROOT").await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    let keys = get_ok(app, admin, &format!("/io/api/subscriptions/{id}/keys")).await;
    ManageKeys {
        id,
        primary: keys["primary_key"].as_str().unwrap().to_string(),
        secondary: keys["secondary_key"].as_str().unwrap().to_string(),
    }
}

/// The manage key of the institution `tax_code`, through its admin `fiscal_code`.
pub async fn manage_key(app: &TestApp, fiscal_code: &str, tax_code: &str) -> Who {
    let admin = bo(app, fiscal_code, tax_code).await;
    manage_keys(app, &admin).await.who()
}

/// A create payload that passes every check and the review's quality check.
pub fn service_payload(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Avvisi e scadenze del servizio.",
        "organization": { "name": "Ente", "fiscal_code": "00000000000" },
        "authorized_recipients": ["AAAAAA00A00A000A"],
        "max_allowed_payment_amount": 1000,
        "metadata": {
            "scope": "LOCAL",
            "topic_id": 3,
            "privacy_url": "https://ente.example.it/privacy",
            "email": "servizi@ente.example.it",
        },
    })
}

/// Creates a service with [`service_payload`] under `prefix` (`MANAGE` or `BO`); its id.
pub async fn create(app: &TestApp, who: &Who, prefix: &str, name: &str) -> String {
    let v = expect(
        app,
        who,
        "POST",
        &format!("{prefix}/services"),
        Some(&service_payload(name)),
        201,
    )
    .await;
    v["id"].as_str().unwrap().to_string()
}

/// The service as `who` sees it.
pub async fn service(app: &TestApp, who: &Who, prefix: &str, id: &str) -> Value {
    get_ok(app, who, &format!("{prefix}/services/{id}")).await
}

/// Its lifecycle status value.
pub async fn status(app: &TestApp, who: &Who, prefix: &str, id: &str) -> String {
    service(app, who, prefix, id).await["status"]["value"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Submits for review.
pub async fn submit(app: &TestApp, who: &Who, prefix: &str, id: &str, auto_publish: bool) {
    expect(
        app,
        who,
        "PUT",
        &format!("{prefix}/services/{id}/review"),
        Some(&json!({ "auto_publish": auto_publish })),
        204,
    )
    .await;
}

/// The operator approves.
pub async fn approve(app: &TestApp, op: &Who, id: &str) {
    expect(
        app,
        op,
        "POST",
        &format!("/io/api/review/{id}/approve"),
        None,
        204,
    )
    .await;
}

/// Creates, submits with `auto_publish` and has the operator approve: a published service.
pub async fn published(app: &TestApp, who: &Who, op: &Who, prefix: &str, name: &str) -> String {
    let id = create(app, who, prefix, name).await;
    submit(app, who, prefix, &id, true).await;
    approve(app, op, &id).await;
    id
}

/// The names of the invalid parameters of a problem answer.
pub fn invalid_params(problem: &Value) -> Vec<String> {
    problem["invalidParams"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A PNG of `w`×`h` as the server checks it (signature and IHDR chunk), in base64.
pub fn png_base64(w: u32, h: u32) -> String {
    use base64::Engine;
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\r".to_vec();
    b.extend_from_slice(&ihdr);
    b.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    b.extend_from_slice(b"\0\0\0\0IEND");
    b.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The CRC of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
