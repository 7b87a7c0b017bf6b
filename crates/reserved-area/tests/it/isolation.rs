//! Tenant isolation, for every route the Reserved Area declares: an anonymous caller, a person
//! of another institution and a person without a role are refused, and nothing of the other
//! institution leaks. A route added without a case here fails `every_declared_route_has_a_case`.

use reqwest::StatusCode;
use reserved_area::{Access, declared_routes};
use testkit::TestApp;

use crate::{ANNA, COMUNE, GIULIA, LUCA, MARIO, PAGOPA, PAOLO, REGIONE, browser, institution_id};

/// The request to make for a route against `institution`, `product` and `user` (a person of
/// that institution).
fn request_path(path: &str, institution: &str, product: &str, user: &str) -> String {
    let q = format!("institutionId={institution}&productId={product}");
    match path {
        "/v2/token/exchange" => format!("/v2/token/exchange?{q}"),
        "/v2/users/{user_id}/suspend" | "/v2/users/{user_id}/activate" | "/v2/users/{user_id}" => {
            format!("{}?{q}", path.replace("{user_id}", user))
        }
        other => {
            assert!(
                other.contains("{institution_id}"),
                "add a case for {other} in request_path"
            );
            other
                .replace("{institution_id}", institution)
                .replace("{product_id}", product)
                .replace("{user_id}", user)
        }
    }
}

/// A valid body for the routes that take one, so that only the caller's rights are tested.
fn body(path: &str) -> Option<serde_json::Value> {
    if path.ends_with("/users") {
        Some(serde_json::json!({
            "name": "Luca", "surname": "Neri", "taxCode": LUCA, "email": "luca.neri@example.it",
            "role": "OPERATOR", "productRoles": ["api"]
        }))
    } else if path.ends_with("/check-user") || path == "/v2/users/search" {
        Some(serde_json::json!({ "fiscalCode": LUCA }))
    } else {
        None
    }
}

/// A caller: a browser (cookie, with its session's CSRF token) for pages, a session token for
/// the JSON API.
struct Caller {
    browser: reqwest::Client,
    csrf: String,
    token: Option<String>,
}

async fn caller(app: &TestApp, fiscal_code: Option<&str>) -> Caller {
    match fiscal_code {
        None => Caller {
            browser: testkit::client(),
            csrf: String::new(),
            token: None,
        },
        Some(fc) => {
            let browser = browser(app, fc).await;
            let page = testkit::read_page(&browser, app, "/dashboard?choose=true").await;
            Caller {
                csrf: crate::hidden_field(&page, "csrf").unwrap_or_default(),
                browser,
                token: Some(crate::session_token(app, fc).await),
            }
        }
    }
}

async fn call(
    who: &Caller,
    app: &TestApp,
    method: &str,
    route: &str,
    path: &str,
) -> reqwest::Response {
    let url = app.url(path);
    let api = path.starts_with("/v2/");
    let client = if api {
        testkit::client()
    } else {
        who.browser.clone()
    };
    let mut request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "DELETE" => client.delete(url),
        other => panic!("add {other} to call()"),
    };
    if api && let Some(token) = &who.token {
        request = request.bearer_auth(token);
    }
    match body(route) {
        Some(json) if api => request.json(&json),
        // Page forms: valid fields and the caller's own CSRF token, so that only their rights
        // decide.
        _ if method == "POST" && !api => request.form(&[
            ("csrf", who.csrf.as_str()),
            ("action", "suspend"),
            ("product_id", "prod-interop"),
            ("product_role", ""),
            ("fiscal_code", LUCA),
            ("name", "Luca"),
            ("family_name", "Neri"),
            ("email", "luca.neri@example.it"),
            ("email_confirm", "luca.neri@example.it"),
            ("product_roles", "LIMITED:api"),
        ]),
        _ => request,
    }
    .send()
    .await
    .unwrap()
}

fn refused(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    )
}

#[tokio::test]
async fn every_declared_route_has_a_case() {
    for route in declared_routes() {
        match route.access {
            Access::Institution => {
                let _ = request_path(route.path, "i", "p", "u");
            }
            Access::Public | Access::TestIdp | Access::Session | Access::Operator => {}
        }
        assert!(
            ["GET", "POST", "DELETE"].contains(&route.method),
            "{}",
            route.method
        );
    }
}

#[tokio::test]
async fn institution_routes_refuse_strangers_and_leak_nothing() {
    let app = TestApp::spawn().await;
    let pagopa = institution_id(&app, PAGOPA).await;
    let paolo_id = testkit::demo::person_id(&app, PAOLO).await;
    let anonymous = caller(&app, None).await;
    // Giulia is ADMIN of another institution; Luca has no role anywhere.
    let strangers = [
        ("giulia", caller(&app, Some(GIULIA)).await),
        ("luca", caller(&app, Some(LUCA)).await),
    ];
    // What only PagoPA S.p.A.'s own people may read (its name is also the portal's owner in
    // every page header, so it proves nothing).
    let secrets = [
        PAGOPA,
        "5n2tr557",
        "selfcare@pec.pagopa.it",
        "Piazza Colonna",
        PAOLO,
    ];

    for route in declared_routes()
        .into_iter()
        .filter(|r| r.access == Access::Institution)
    {
        let path = request_path(route.path, &pagopa, "prod-interop", &paolo_id);
        let r = call(&anonymous, &app, route.method, route.path, &path).await;
        let status = r.status();
        if path.starts_with("/v2/") {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous {path}");
        } else {
            assert_eq!(status, StatusCode::SEE_OTHER, "anonymous {path}");
            assert_eq!(r.headers()["location"], "/login", "anonymous {path}");
        }
        for (who, caller) in &strangers {
            let r = call(caller, &app, route.method, route.path, &path).await;
            let status = r.status();
            let body = r.text().await.unwrap();
            assert!(
                refused(status),
                "{who} {} {path}: {status} {body}",
                route.method
            );
            for secret in secrets {
                assert!(
                    !body.contains(secret),
                    "{who} {path} leaks {secret}: {body}"
                );
            }
        }
    }
    // Nothing was changed by the refused calls.
    let db = app.db.connect().await;
    let changed = testkit::demo::count(
        &db,
        "SELECT count(*) FROM product_roles WHERE institution_id = $1 AND status <> 'ACTIVE'",
        &pagopa,
    )
    .await;
    assert_eq!(changed, 0);
    db.close().await;
}

#[tokio::test]
async fn limited_users_cannot_manage_users() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let mario_id = testkit::demo::person_id(&app, MARIO).await;
    let anna = caller(&app, Some(ANNA)).await; // LIMITED on the Comune
    for route in declared_routes().into_iter().filter(|r| {
        r.access == Access::Institution && (r.path.contains("user") || r.method != "GET")
    }) {
        let path = request_path(route.path, &comune, "prod-io", &mario_id);
        let r = call(&anna, &app, route.method, route.path, &path).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "anna {} {path}",
            route.method
        );
    }
}

#[tokio::test]
async fn session_routes_answer_only_about_the_caller() {
    let app = TestApp::spawn().await;
    let anonymous = caller(&app, None).await;
    for route in declared_routes()
        .into_iter()
        .filter(|r| r.access == Access::Session)
    {
        let r = call(&anonymous, &app, route.method, route.path, route.path).await;
        assert!(
            matches!(r.status(), StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER),
            "anonymous {} {}: {}",
            route.method,
            route.path,
            r.status()
        );
    }
    let luca = browser(&app, LUCA).await;
    let list = testkit::read_page(&luca, &app, "/v2/institutions").await;
    assert_eq!(list, "[]");
    let giulia = browser(&app, GIULIA).await;
    let list = testkit::read_page(&giulia, &app, "/v2/institutions").await;
    assert!(
        list.contains("Regione Valdoro") && !list.contains("Roccabella"),
        "{list}"
    );
}

#[tokio::test]
async fn tokens_are_exchanged_only_with_an_active_role_on_that_very_product() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let regione = institution_id(&app, REGIONE).await;
    let pagopa = institution_id(&app, PAGOPA).await;
    let mario = browser(&app, MARIO).await;
    let anna = browser(&app, ANNA).await;
    let paolo = browser(&app, PAOLO).await;
    let exchange = |client: &reqwest::Client, institution: &str, product: &str| {
        client
            .get(app.url(&format!(
                "/v2/token/exchange?institutionId={institution}&productId={product}"
            )))
            .send()
    };
    // Allowed.
    assert_eq!(
        exchange(&mario, &comune, "prod-io").await.unwrap().status(),
        200
    );
    assert_eq!(
        exchange(&mario, &comune, "prod-interop")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        exchange(&paolo, &pagopa, "prod-interop-coll")
            .await
            .unwrap()
            .status(),
        200
    );
    // Onboarded, but no role on that product (the Collaudo product is a product of its own,
    // and a role on Produzione does not open it).
    assert_eq!(
        exchange(&mario, &comune, "prod-interop-coll")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        exchange(&anna, &comune, "prod-interop")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        exchange(&mario, &regione, "prod-pagopa")
            .await
            .unwrap()
            .status(),
        403
    );
    // A role, but the institution is not onboarded to that product.
    assert_eq!(
        exchange(&anna, &comune, "prod-pn").await.unwrap().status(),
        403
    );
    // Unknown product, unknown environment.
    assert_eq!(
        exchange(&mario, &comune, "prod-nope")
            .await
            .unwrap()
            .status(),
        404
    );
    let r = mario
        .get(app.url(&format!(
            "/v2/token/exchange?institutionId={comune}&productId=prod-io&environment=Marte"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A suspended role opens nothing.
    let db = app.db.connect().await;
    sqlx::query(
        "UPDATE product_roles SET status = 'SUSPENDED' WHERE product_id = 'prod-io' \
         AND user_id = (SELECT id FROM users WHERE fiscal_code = $1)",
    )
    .bind(ANNA)
    .execute(db.writer())
    .await
    .unwrap();
    db.close().await;
    assert_eq!(
        exchange(&anna, &comune, "prod-io").await.unwrap().status(),
        404
    );
}

#[tokio::test]
async fn operator_routes_are_for_platform_operators_only() {
    let app = TestApp::spawn().await;
    let anonymous = caller(&app, None).await;
    let mario = caller(&app, Some(MARIO)).await; // an ADMIN, not an operator
    let paolo = caller(&app, Some(PAOLO)).await; // a platform operator
    for route in declared_routes()
        .into_iter()
        .filter(|r| r.access == Access::Operator)
    {
        let path = match route.path {
            "/v2/token/exchange/back-office/admin" => {
                "/v2/token/exchange/back-office/admin?productId=prod-io".to_string()
            }
            other => other.replace("{product_id}", "prod-io"),
        };
        assert!(!path.contains('{'), "add a case for {}", route.path);
        let r = call(&anonymous, &app, route.method, route.path, &path).await;
        assert!(
            matches!(r.status(), StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER),
            "anonymous {path}"
        );
        let r = call(&mario, &app, route.method, route.path, &path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "mario {path}");
        let r = call(&paolo, &app, route.method, route.path, &path).await;
        assert_eq!(r.status(), StatusCode::OK, "paolo {path}");
    }
}
