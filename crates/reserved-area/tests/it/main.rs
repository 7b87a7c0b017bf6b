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

use testkit::TestApp;
pub use testkit::demo::{
    ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE, institution_id, session_token,
};

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

/// The value of the hidden field `name` in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}
