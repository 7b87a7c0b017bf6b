//! The demo's people and institutions, named once (from `selfcare::demo`), and the steps a
//! behaviour test takes to act as one of them: a Reserved Area session, an institution's id,
//! an identity token of a product (the "Gestisci" hand-off).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Fetch, TestApp};

pub use selfcare::demo::{ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE};

/// A Reserved Area session token of the person with `fiscal_code`, from the test identity
/// provider (as scripts get one).
pub async fn session_token(app: &TestApp, fiscal_code: &str) -> String {
    let r: Value = app
        .post("/auth/test-idp/token")
        .json(&json!({ "fiscal_number": fiscal_code }))
        .fetch_json()
        .await;
    r["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no session token for {fiscal_code}: {r}"))
        .to_string()
}

/// The Reserved Area id of the institution with `tax_code`.
pub async fn institution_id(app: &TestApp, tax_code: &str) -> String {
    let db = app.db.connect().await;
    let id: String = sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
        .bind(tax_code)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("no institution with tax code {tax_code}: {e}"));
    db.close().await;
    id
}

/// `suspend`s or `activate`s (`action`) the roles of the person `user` on `product` at the
/// institution `institution`, with the session `token`: the answer's status.
pub async fn change_roles(
    app: &TestApp,
    token: &str,
    action: &str,
    user: &str,
    institution: &str,
    product: &str,
) -> StatusCode {
    let path = format!("/v2/users/{user}/{action}?institutionId={institution}&productId={product}");
    app.post(&path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// Suspends from a person's page at `page_url` (a full URL; its query is ignored) their role
/// `role` on `product`, with the page's `csrf`: the answer.
pub async fn suspend_from_page(
    client: &reqwest::Client,
    page_url: &str,
    csrf: &str,
    product: &str,
    role: &str,
) -> reqwest::Response {
    let page = page_url.split('?').next().unwrap_or(page_url);
    let form = [
        ("csrf", csrf),
        ("action", "suspend"),
        ("product_id", product),
        ("product_role", role),
    ];
    crate::post_form(client, format!("{page}/roles"), &form).await
}

/// The number `sql` (a `SELECT count(*) ...` with the one parameter `$1` = `param`) counts.
pub async fn count(db: &platform::db::Db, sql: &str, param: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(param)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The Reserved Area id of the person with `fiscal_code` (whether or not they ever logged in).
pub async fn person_id(app: &TestApp, fiscal_code: &str) -> String {
    let db = app.db.connect().await;
    let id: String = sqlx::query_scalar("SELECT id FROM users WHERE fiscal_code = $1")
        .bind(fiscal_code)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("no person with fiscal code {fiscal_code}: {e}"));
    db.close().await;
    id
}

/// The identity token of `product` for the institution with id `institution`, exchanged with a
/// session token; or the exchange's refusal.
pub async fn try_identity_token(
    app: &TestApp,
    session: &str,
    institution: &str,
    product: &str,
) -> Result<String, StatusCode> {
    let r = app
        .get(&format!(
            "/v2/token/exchange?institutionId={institution}&productId={product}"
        ))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::OK {
        return Err(r.status());
    }
    let v: Value = r.json().await.unwrap();
    Ok(v["token"].as_str().unwrap().to_string())
}

/// The identity token of `product` for the institution with `tax_code`, of the person with
/// `fiscal_code` (who must have a role on it).
pub async fn identity_token(
    app: &TestApp,
    fiscal_code: &str,
    tax_code: &str,
    product: &str,
) -> String {
    let session = session_token(app, fiscal_code).await;
    let institution = institution_id(app, tax_code).await;
    try_identity_token(app, &session, &institution, product)
        .await
        .unwrap_or_else(|status| {
            panic!("{fiscal_code} may not enter {product} of {tax_code}: {status}")
        })
}

/// A valid fiscal code of `family` `given`, born in Rome, told apart from the others of the
/// same names by `i` (the day of birth, so `i` < 31).
pub fn fiscal_code_of(family: &str, given: &str, i: usize) -> String {
    use platform::types::FiscalCode;
    let first15 = format!(
        "{}{}80A{:02}H501",
        FiscalCode::surname_code_of(family),
        FiscalCode::name_code_of(given),
        1 + i
    );
    let check = FiscalCode::check_character(&first15).expect("a well-formed fiscal code");
    format!("{first15}{check}")
}

/// Adds, with the session `token` of an admin of `institution`, an operator of App IO for
/// each of `families`: Carla, with [`fiscal_code_of`] her position and the e-mail
/// `persona{i}@comune.roccabella.it`.
pub async fn add_operators(app: &TestApp, token: &str, institution: &str, families: &[&str]) {
    for (i, family) in families.iter().enumerate() {
        let given = "Carla";
        let r = app
            .post(&format!(
                "/v2/institutions/{institution}/products/prod-io/users"
            ))
            .bearer_auth(token)
            .json(&json!({
                "name": given, "surname": family, "taxCode": fiscal_code_of(family, given, i),
                "email": format!("persona{i}@comune.roccabella.it"),
                "role": "OPERATOR", "productRoles": ["operator"]
            }))
            .send()
            .await
            .expect("the users API answers");
        assert!(
            r.status().is_success(),
            "{family}: {}",
            r.text().await.unwrap_or_default()
        );
    }
}
