//! Tenant isolation and access rules, for every route the IO back-office declares
//! (`io_backoffice::declared_routes()`): anonymous callers, people and keys of another institution,
//! operators of the institution on admin routes, platform operators on institution routes,
//! keys on session routes and sessions on key routes are all refused, and nothing of the other
//! institution leaks or changes. A route added without a case fails
//! `every_declared_route_has_a_case`.

use io_backoffice::{Access, RouteDecl, declared_routes};
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;
use testkit::api::Caller as _;

use crate::{
    ANNA, BO, COMUNE, GIULIA, MANAGE, MARIO, REGIONE, Who, bo, call, expect, get_ok,
    identity_token, manage_keys, operator, operator_identity, png_base64, published, put_ok,
    service_payload, session_token,
};

/// What the placeholders of a route stand for.
struct Ids {
    service: String,
    subscription: String,
}

/// The request path for a route, against the target institution's `ids`.
fn request_path(path: &str, ids: &Ids) -> String {
    let filled = path
        .replace("{service_id}", &ids.service)
        .replace("{subscription_id}", &ids.subscription)
        .replace("{key_type}", "primary")
        // A delegate of the legacy portal: nobody's here.
        .replace("{delegate_id}", "01DELEGATEOFNOBODY");
    assert!(
        !filled.contains('{'),
        "add a case for the placeholders of {path} in request_path"
    );
    match path {
        "/io/api/subscriptions" => format!("{filled}?kind=MANAGE_ROOT"),
        _ => filled,
    }
}

/// Whether a route is a page (HTML, cookie session, form posts).
fn is_page(path: &str) -> bool {
    !path.starts_with("/io/api/") && !path.starts_with("/api/")
}

/// Whether the route names something of the target institution.
fn names_target(path: &str) -> bool {
    path.contains("{service_id}") || path.contains("{subscription_id}")
}

/// A valid JSON body for the API routes that take one, so that only the caller's rights decide.
fn api_body(method: &str, path: &str) -> Option<Value> {
    let (_, suffix) = path
        .split_once("/services")
        .map_or(("", path), |(a, b)| (a, b));
    match (method, path, suffix) {
        ("GET", _, _) => None,
        ("POST", "/io/api/session", _) => Some(json!({ "identity_token": "" })),
        ("POST", "/io/api/logout", _) => None,
        ("PUT", "/io/api/subscriptions/{subscription_id}/cidrs", _) => {
            Some(json!(["127.0.0.1/32"]))
        }
        ("PUT", "/io/api/subscriptions/{subscription_id}/keys/{key_type}", _) => None,
        ("POST", "/io/api/review/{service_id}/approve", _) => None,
        ("POST", "/io/api/services/migrations/ownership-claims/{delegate_id}", _) => None,
        ("POST", "/io/api/review/{service_id}/reject", _) => {
            Some(json!({ "reason": "Rifiutato da un estraneo." }))
        }
        ("POST", _, "") | ("PUT", _, "/{service_id}") => {
            Some(service_payload("Servizio di un estraneo"))
        }
        ("PATCH", _, "/{service_id}") | ("PUT", _, "/{service_id}/patch") => {
            Some(json!({ "metadata": { "group_id": "g1" } }))
        }
        ("PUT", _, "/{service_id}/review") => Some(json!({ "auto_publish": true })),
        ("PATCH", _, "/{service_id}/review") => Some(json!({ "comment": "Da un estraneo." })),
        ("PUT", _, "/{service_id}/logo") => Some(json!({ "logo": png_base64(300, 300) })),
        ("DELETE", _, "/{service_id}")
        | ("POST" | "DELETE", _, "/{service_id}/release")
        | ("PUT", _, "/{service_id}/keys/{key_type}") => None,
        _ => panic!("add a body case for {method} {path} in api_body"),
    }
}

/// Someone calling: through the JSON API (`api`) and through pages (`page`, a browser with
/// its own back-office session cookie, and that session's CSRF token).
struct Caller {
    name: &'static str,
    api: Who,
    page: reqwest::Client,
    csrf: String,
}

impl Caller {
    fn anonymous() -> Caller {
        Caller {
            name: "anonymous",
            api: Who::Anonymous,
            page: testkit::client(),
            csrf: String::new(),
        }
    }

    fn key(name: &'static str, key: &str) -> Caller {
        Caller {
            name,
            api: Who::Key(key.to_string()),
            page: testkit::client(),
            csrf: String::new(),
        }
    }

    /// A person: a bearer session for the API, a cookie session for pages (an identity token
    /// opens one session only: one for each).
    async fn person(app: &TestApp, name: &'static str, identities: [String; 2]) -> Caller {
        let [for_api, for_pages] = identities;
        let api = Who::Session(crate::open_session(app, &for_api).await);
        let page = testkit::client();
        let r = testkit::post_form(
            &page,
            app.url("/io/session"),
            &[("identity_token", for_pages.as_str())],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name} enters the pages");
        let html = testkit::read_page(&page, app, "/io").await;
        let csrf = testkit::hidden_field(&html, "csrf").unwrap_or_default();
        Caller {
            name,
            api,
            page,
            csrf,
        }
    }

    async fn call(&self, app: &TestApp, route: &RouteDecl, path: &str) -> (StatusCode, String) {
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let request = if is_page(route.path) {
            let r = self.api.sign(self.page.request(method, app.url(path)));
            match route.method {
                "GET" => r,
                _ => r.form(&[("csrf", self.csrf.as_str()), ("identity_token", "")]),
            }
        } else {
            let r = self.api.sign(app.client.request(method, app.url(path)));
            match api_body(route.method, route.path) {
                Some(body) => r.json(&body),
                None => r,
            }
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    async fn expect(&self, app: &TestApp, route: &RouteDecl, path: &str, allowed: &[u16]) {
        let (status, body) = self.call(app, route, path).await;
        assert!(
            allowed.contains(&status.as_u16()),
            "{} {} {path}: {status}, expected one of {allowed:?}: {}",
            self.name,
            route.method,
            body.chars().take(300).collect::<String>()
        );
    }
}

/// Two identity tokens of a person for `prod-io` of an institution.
async fn identities(app: &TestApp, fiscal_code: &str, tax_code: &str) -> [String; 2] {
    let session = session_token(app, fiscal_code).await;
    [
        identity_token(app, &session, tax_code).await,
        identity_token(app, &session, tax_code).await,
    ]
}

/// The target institution (the Comune): what must neither leak nor change.
struct Target {
    ids: Ids,
    name: &'static str,
    secrets: Vec<String>,
}

async fn snapshot(app: &TestApp, mario: &Who, ids: &Ids) -> Value {
    let service = get_ok(app, mario, &format!("{BO}/services/{}", ids.service)).await;
    let release = get_ok(
        app,
        mario,
        &format!("{BO}/services/{}/release", ids.service),
    )
    .await;
    let history = get_ok(
        app,
        mario,
        &format!("{BO}/services/{}/history?limit=100", ids.service),
    )
    .await;
    let keys = get_ok(app, mario, &format!("{BO}/services/{}/keys", ids.service)).await;
    let sub = format!("/io/api/subscriptions/{}", ids.subscription);
    let manage = get_ok(app, mario, &format!("{sub}/keys")).await;
    let cidrs = get_ok(app, mario, &format!("{sub}/cidrs")).await;
    let logo: Option<String> = {
        let db = app.db.connect().await;
        let logo =
            sqlx::query_scalar("SELECT png_base64 FROM io_service_logos WHERE service_id = $1")
                .bind(&ids.service)
                .fetch_optional(db.reader())
                .await
                .unwrap();
        db.close().await;
        logo
    };
    json!({
        "service": service, "release": release, "history": history["items"].as_array().unwrap().len(),
        "keys": keys, "manage": manage, "cidrs": cidrs, "logo": logo,
    })
}

#[test]
fn every_declared_route_has_a_case() {
    let ids = Ids {
        service: "S".into(),
        subscription: "M".into(),
    };
    let routes = declared_routes();
    assert!(!routes.is_empty());
    for route in &routes {
        let path = request_path(route.path, &ids);
        assert!(path.starts_with('/'), "{path}");
        assert!(
            ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&route.method),
            "{} {}: add the method to Caller::call",
            route.method,
            route.path
        );
        let page = is_page(route.path);
        match route.access {
            Access::Public => assert!(!page && route.method == "GET", "{}", route.path),
            Access::Entry | Access::AnySession => {}
            Access::Member | Access::Admin | Access::Operator => {}
            Access::ManageKey => assert!(route.path.starts_with(MANAGE), "{}", route.path),
            Access::ServiceKey => assert!(route.path.starts_with("/api/v1/services/")),
        }
        if !page {
            let _ = api_body(route.method, route.path);
        }
    }
    // Every declared route is served, and each (method, path) once.
    let mut seen = std::collections::BTreeSet::new();
    for route in &routes {
        assert!(
            seen.insert((route.method, route.path)),
            "{} {} declared twice",
            route.method,
            route.path
        );
    }
}

#[tokio::test]
async fn every_route_refuses_whoever_may_not_call_it() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let mario_caller = Caller::person(&app, "mario", identities(&app, MARIO, COMUNE).await).await;
    let mario = mario_caller.api.clone();
    let comune_manage = manage_keys(&app, &mario).await;

    // The target: a published service of the Comune, changed and waiting for review again,
    // with a logo.
    let name = "Servizio del Comune da proteggere";
    let id = published(&app, &mario, &op, BO, name).await;
    let mut renamed = service_payload(name);
    renamed["description"] = json!("Una nuova descrizione da rivedere.");
    put_ok(&app, &mario, &format!("{BO}/services/{id}"), &renamed).await;
    crate::submit(&app, &mario, BO, &id, false).await;
    expect(
        &app,
        &mario,
        "PUT",
        &format!("{BO}/services/{id}/logo"),
        Some(&json!({ "logo": png_base64(400, 400) })),
        204,
    )
    .await;
    let service_keys = get_ok(&app, &mario, &format!("{BO}/services/{id}/keys")).await;
    let service_key = service_keys["primary_key"].as_str().unwrap().to_string();
    let target = Target {
        ids: Ids {
            service: id.clone(),
            subscription: comune_manage.id.clone(),
        },
        name,
        secrets: vec![
            id.clone(),
            comune_manage.id.clone(),
            comune_manage.primary.clone(),
            comune_manage.secondary.clone(),
            service_key.clone(),
            service_keys["secondary_key"].as_str().unwrap().to_string(),
            "Roccabella".into(),
        ],
    };
    let before = snapshot(&app, &mario, &target.ids).await;

    let anonymous = Caller::anonymous();
    let comune_key = Caller::key("the Comune's manage key", &comune_manage.primary);
    let own_service_key = Caller::key("the service's own key", &service_key);
    let anna = Caller::person(
        &app,
        "anna (operator of the Comune)",
        identities(&app, ANNA, COMUNE).await,
    )
    .await;
    let paolo = Caller::person(
        &app,
        "paolo (platform operator)",
        [operator_identity(&app).await, operator_identity(&app).await],
    )
    .await;
    let giulia = Caller::person(
        &app,
        "giulia (admin of the Regione)",
        identities(&app, GIULIA, REGIONE).await,
    )
    .await;
    let regione_manage = manage_keys(&app, &giulia.api).await;
    let regione_key = Caller::key("the Regione's manage key", &regione_manage.primary);

    let routes = declared_routes();
    if routes.iter().any(|r| r.method == "GET" && r.path == "/io") {
        // Page forms are posted with each person's own CSRF token, so that only their rights
        // decide.
        for caller in [&mario_caller, &anna, &giulia] {
            assert!(!caller.csrf.is_empty(), "no CSRF token for {}", caller.name);
        }
    }
    let path_of = |route: &RouteDecl| request_path(route.path, &target.ids);

    // 1. Callers of the wrong kind: nobody, a key on session routes, a session on key
    //    routes; the institution's operator on admin and review routes; the platform operator
    //    on institution routes.
    for route in &routes {
        let path = path_of(route);
        let page = is_page(route.path);
        match route.access {
            Access::Public => {
                let (s, body) = anonymous.call(&app, route, &path).await;
                assert_eq!(s, StatusCode::OK, "{path}: {body}");
            }
            Access::Entry => {
                // No identity token: the honest answers are "bad request" or "unauthorized".
                anonymous.expect(&app, route, &path, &[400, 401]).await;
                comune_key.expect(&app, route, &path, &[400, 401]).await;
            }
            Access::AnySession => {
                // A page logout without a session just goes home; the API says 401.
                let allowed: &[u16] = if page { &[303, 401] } else { &[401] };
                anonymous.expect(&app, route, &path, allowed).await;
                comune_key.expect(&app, route, &path, allowed).await;
            }
            Access::Member | Access::Admin | Access::Operator => {
                anonymous.expect(&app, route, &path, &[401]).await;
                comune_key.expect(&app, route, &path, &[401]).await;
                own_service_key.expect(&app, route, &path, &[401]).await;
                if route.access == Access::Operator {
                    mario_caller.expect(&app, route, &path, &[403]).await;
                } else {
                    paolo.expect(&app, route, &path, &[403]).await;
                }
                if route.access != Access::Member {
                    anna.expect(&app, route, &path, &[403]).await;
                }
            }
            Access::ManageKey => {
                anonymous.expect(&app, route, &path, &[401]).await;
                mario_caller.expect(&app, route, &path, &[401]).await;
                paolo.expect(&app, route, &path, &[401]).await;
                // A service key does not open the manage API.
                own_service_key.expect(&app, route, &path, &[403]).await;
            }
            Access::ServiceKey => {
                anonymous.expect(&app, route, &path, &[401]).await;
                mario_caller.expect(&app, route, &path, &[401]).await;
                // Only the service's own key reads it.
                comune_key.expect(&app, route, &path, &[403]).await;
                own_service_key.expect(&app, route, &path, &[200]).await;
            }
        }
    }

    // 2. The Regione's manage key on the Comune's things: not found; elsewhere, only its own.
    for route in routes
        .iter()
        .filter(|r| matches!(r.access, Access::ManageKey | Access::ServiceKey) && !is_page(r.path))
    {
        let path = path_of(route);
        let (status, body) = regione_key.call(&app, route, &path).await;
        if route.access == Access::ServiceKey {
            assert_eq!(status, 403, "{path}: {body}");
        } else if names_target(route.path) {
            assert_eq!(status, 404, "{} {path}: {body}", route.method);
        } else {
            assert!(
                status.is_success(),
                "{} {path}: {status} {body}",
                route.method
            );
        }
        for secret in &target.secrets {
            assert!(!body.contains(secret.as_str()), "{path} leaks {secret}");
        }
    }

    // 3. Giulia (admin of the Regione) on the Comune's things: not found; on review routes:
    //    forbidden; elsewhere, only the Regione's.
    for route in routes
        .iter()
        .filter(|r| matches!(r.access, Access::Member | Access::Admin | Access::Operator))
    {
        let path = path_of(route);
        let (status, body) = giulia.call(&app, route, &path).await;
        if route.access == Access::Operator {
            assert_eq!(status, 403, "{path}: {body}");
        } else if names_target(route.path) {
            assert_eq!(status, 404, "{} {path}: {body}", route.method);
        } else {
            assert!(
                !status.is_server_error() && status != 401,
                "{} {path}: {status} {body}",
                route.method
            );
        }
        for secret in &target.secrets {
            assert!(
                !body.contains(secret.as_str()),
                "giulia {} {path} leaks {secret}",
                route.method
            );
        }
        assert!(!body.contains(target.name), "{path} leaks the service name");
    }
    // Lists of the Regione do not contain the Comune's service.
    let list = get_ok(&app, &giulia.api, &format!("{BO}/services?limit=100")).await;
    assert!(!list.to_string().contains(&id));

    // 4. Logouts end only the session presented: a throwaway session of Giulia's.
    for route in routes.iter().filter(|r| r.access == Access::AnySession) {
        let throwaway = Caller::person(
            &app,
            "giulia's other session",
            identities(&app, GIULIA, REGIONE).await,
        )
        .await;
        let (status, body) = throwaway.call(&app, route, route.path).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{} {}: {status} {body}",
            route.method,
            route.path
        );
        let (s, _) = call(&app, &mario, "GET", &format!("{BO}/services"), None).await;
        assert_eq!(s, 200, "{} ended someone else's session", route.path);
    }

    // Nothing of the Comune changed.
    assert_eq!(snapshot(&app, &mario, &target.ids).await, before);
}

#[tokio::test]
async fn a_manage_key_never_reaches_another_institution() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let mario = bo(&app, MARIO, COMUNE).await;
    let comune = manage_keys(&app, &mario).await.who();
    let giulia = bo(&app, GIULIA, REGIONE).await;
    let regione = manage_keys(&app, &giulia).await.who();
    let id = published(&app, &comune, &op, MANAGE, "Servizio del Comune").await;
    let theirs = crate::create(&app, &regione, MANAGE, "Servizio della Regione").await;
    let s = |suffix: &str| format!("{MANAGE}/services/{id}{suffix}");

    let edit = service_payload("Preso dalla Regione");
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", s(""), None),
        ("PUT", s(""), Some(edit)),
        (
            "PATCH",
            s(""),
            Some(json!({ "metadata": { "group_id": "g" } })),
        ),
        ("PUT", s("/review"), Some(json!({ "auto_publish": true }))),
        ("PATCH", s("/review"), Some(json!({ "comment": "x" }))),
        ("GET", s("/release"), None),
        ("POST", s("/release"), None),
        ("DELETE", s("/release"), None),
        ("GET", s("/history"), None),
        ("GET", s("/keys"), None),
        ("PUT", s("/keys/primary"), None),
        ("PUT", s("/keys/secondary"), None),
        (
            "PUT",
            s("/logo"),
            Some(json!({ "logo": png_base64(300, 300) })),
        ),
        ("DELETE", s(""), None),
    ];
    for (method, path, body) in &calls {
        let (status, v) = call(&app, &regione, method, path, body.as_ref()).await;
        assert_eq!(status, 404, "{method} {path}: {v}");
        assert!(!v.to_string().contains("Roccabella"), "{v}");
    }
    let list = get_ok(&app, &regione, &format!("{MANAGE}/services?limit=100")).await;
    let ids = testkit::strings_of(&list["value"], "id");
    assert!(ids.contains(&theirs.as_str()) && !ids.contains(&id.as_str()));
    assert!(
        list["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["organization"]["fiscal_code"] == REGIONE)
    );

    // Still there, unchanged, with working keys.
    let v = get_ok(&app, &comune, &s("")).await;
    assert_eq!(v["name"], "Servizio del Comune");
    assert_eq!(v["status"]["value"], "approved");
    let v = get_ok(&app, &comune, &s("/release")).await;
    assert_eq!(v["status"], "published");

    // And the other way: the Comune's people and key do not see the Regione's service.
    for (who, prefix) in [(&mario, BO), (&comune, MANAGE)] {
        let (status, _) = call(
            &app,
            who,
            "GET",
            &format!("{prefix}/services/{theirs}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{prefix}");
    }
    // A user session of the Regione neither.
    let (status, _) = call(&app, &giulia, "GET", &format!("{BO}/services/{id}"), None).await;
    assert_eq!(status, 404);
}
