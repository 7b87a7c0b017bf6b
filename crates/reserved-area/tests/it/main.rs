//! The Reserved Area through the real HTTP server.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_doc;
mod dashboard;
mod home;
mod isolation;
mod login;
mod oidc;
mod plans;
mod users;
mod users_paging;

pub use testkit::demo::{
    ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE, institution_id, session_token,
};

pub use testkit::{hidden_field, logged_in as browser};

/// The product `product` of the institution `institution` as the session `token` sees it in
/// the institution's list of products.
pub async fn listed_product(
    app: &testkit::TestApp,
    token: &str,
    institution: &str,
    product: &str,
) -> serde_json::Value {
    let path = format!("/v2/institutions/{institution}/products");
    let products = testkit::api::get_json(app, token, &path).await;
    let found = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == product);
    found
        .unwrap_or_else(|| panic!("{product} not listed: {products}"))
        .clone()
}
