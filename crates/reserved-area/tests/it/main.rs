//! The Reserved Area through the real HTTP server.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_doc;
mod dashboard;
mod home;
mod isolation;
mod login;
mod oidc;
mod users;

use testkit::Fetch;
use testkit::TestApp;

pub const MARIO: &str = "RSSMRA85T10A562S"; // Comune ADMIN (io, interop, pagopa), Regione LIMITED (io)
pub const ANNA: &str = "BNCNNA90A41H501T"; // Comune LIMITED (io)
pub const GIULIA: &str = "VRDGLI78M50F205U"; // Regione ADMIN
pub const LUCA: &str = "NRELCU92C15L219G"; // no role
pub const PAOLO: &str = "SPSPLA80E12F839K"; // PagoPA ADMIN (interop, interop-coll)

pub const COMUNE: &str = "00123456782";
pub const REGIONE: &str = "80001234568";
pub const PAGOPA: &str = "15376371009";

/// A browser-like client logged in through the test identity provider's form.
pub async fn browser(app: &TestApp, fiscal_code: &str) -> reqwest::Client {
    let client = testkit::client();
    let r = client
        .post(app.url("/auth/test-idp/login"))
        .form(&[("fiscal_number", fiscal_code)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login of {fiscal_code}");
    client
}

/// A session token for scripts.
pub async fn session_token(app: &TestApp, fiscal_code: &str) -> String {
    let r: serde_json::Value = app
        .post("/auth/test-idp/token")
        .json(&serde_json::json!({ "fiscal_number": fiscal_code }))
        .fetch_json()
        .await;
    r["sessionToken"].as_str().unwrap().to_string()
}

/// The id of the demo institution with this tax code.
pub async fn institution_id(app: &TestApp, tax_code: &str) -> String {
    let db = app.db.connect().await;
    let id: String = sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
        .bind(tax_code)
        .fetch_one(db.reader())
        .await
        .unwrap();
    db.close().await;
    id
}

/// The value of the hidden field `name` in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}
