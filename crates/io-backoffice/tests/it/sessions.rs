//! A back-office session never outlives what opened it: a suspended role or a logout in the
//! Reserved Area ends it at the next request.

use serde_json::json;
use testkit::{Fetch, TestApp};

use crate::{
    ANNA, BO, COMUNE, MARIO, Who, bo, call, expect, get_ok, institution_id, open_session,
    session_token, user_id,
};

#[tokio::test]
async fn a_suspended_operator_is_out_at_the_next_request() {
    let app = TestApp::spawn().await;
    let anna = bo(&app, ANNA, COMUNE).await;
    let mario_ra = session_token(&app, MARIO).await;
    let services = format!("{BO}/services");
    get_ok(&app, &anna, &services).await;
    let me = get_ok(&app, &anna, "/io/api/me").await;
    assert_eq!(me["role"], "operator");

    let comune = institution_id(&app, COMUNE).await;
    let anna_id = user_id(&app, ANNA).await;
    assert_eq!(
        testkit::demo::change_roles(&app, &mario_ra, "suspend", &anna_id, &comune, "prod-io").await,
        204
    );

    for path in [services.as_str(), "/io/api/me"] {
        let (s, v) = call(&app, &anna, "GET", path, None).await;
        assert_eq!(s, 401, "{path}: {v}");
    }
    // Nor can she open a new one.
    let anna_ra = session_token(&app, ANNA).await;
    let r = app
        .get(&format!(
            "/v2/token/exchange?institutionId={comune}&productId=prod-io"
        ))
        .bearer_auth(&anna_ra)
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200);

    // Reactivated, a new session works again (the old one stays closed).
    assert_eq!(
        testkit::demo::change_roles(&app, &mario_ra, "activate", &anna_id, &comune, "prod-io")
            .await,
        204
    );
    let again = bo(&app, ANNA, COMUNE).await;
    get_ok(&app, &again, &services).await;
    let (s, _) = call(&app, &anna, "GET", &services, None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn logging_out_of_the_reserved_area_ends_the_back_office_session() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    // Mario in a browser: his Reserved Area session cookie gets the identity token.
    let browser = testkit::logged_in(&app, MARIO).await;
    let exchanged: serde_json::Value = browser
        .get(app.url(&format!(
            "/v2/token/exchange?institutionId={comune}&productId=prod-io"
        )))
        .fetch_json()
        .await;
    let mario = Who::Session(open_session(&app, exchanged["token"].as_str().unwrap()).await);
    // And a second session of his, by script, which the logout must leave alone.
    let other = bo(&app, MARIO, COMUNE).await;
    let services = format!("{BO}/services");
    get_ok(&app, &mario, &services).await;

    let r = testkit::log_out(&browser, &app).await;
    assert_eq!(r.status(), 303);

    let (s, v) = call(&app, &mario, "GET", &services, None).await;
    assert_eq!(s, 401, "{v}");
    let (s, _) = call(
        &app,
        &mario,
        "POST",
        &services,
        Some(&crate::service_payload("Dopo il logout")),
    )
    .await;
    assert_eq!(s, 401);
    get_ok(&app, &other, &services).await;

    // The back-office's own logout ends only the session presented.
    expect(&app, &other, "POST", "/io/api/logout", None, 204).await;
    let (s, _) = call(&app, &other, "GET", &services, None).await;
    assert_eq!(s, 401);

    // An identity token opens one session only, and only of the product it was made for.
    let mario_ra = session_token(&app, MARIO).await;
    let identity = crate::identity_token(&app, &mario_ra, COMUNE).await;
    open_session(&app, &identity).await;
    let v = expect(
        &app,
        &Who::Anonymous,
        "POST",
        "/io/api/session",
        Some(&json!({ "identity_token": identity })),
        401,
    )
    .await;
    assert_eq!(v["status"], 401);
    let interop: serde_json::Value = testkit::api::get_json(
        &app,
        &mario_ra,
        &format!("/v2/token/exchange?institutionId={comune}&productId=prod-interop"),
    )
    .await;
    expect(
        &app,
        &Who::Anonymous,
        "POST",
        "/io/api/session",
        Some(&json!({ "identity_token": interop["token"].as_str().unwrap() })),
        401,
    )
    .await;

    // A bad identity token opens nothing.
    let v = expect(
        &app,
        &Who::Anonymous,
        "POST",
        "/io/api/session",
        Some(&json!({ "identity_token": "not.a.token" })),
        401,
    )
    .await;
    assert_eq!(v["status"], 401);
}

#[tokio::test]
async fn a_cookie_session_needs_its_csrf_token_to_change_anything() {
    let app = TestApp::spawn().await;
    let session = session_token(&app, MARIO).await;
    let identity = crate::identity_token(&app, &session, COMUNE).await;
    let browser = testkit::client();
    let r = testkit::post_form(
        &browser,
        app.url("/io/session"),
        &[("identity_token", identity.as_str())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let services = app.url(&format!("{BO}/services"));
    // Reading needs no token.
    let r = browser.get(&services).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Changing does: none, or a wrong one, is refused and changes nothing.
    let payload = crate::service_payload("Dal browser");
    let r = browser.post(&services).json(&payload).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = browser
        .post(&services)
        .header("X-CSRF-Token", "forged")
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let list: serde_json::Value = browser.get(&services).fetch_json().await;
    assert!(!list.to_string().contains("Dal browser"));
    // With the session's own token (the pages carry it), it goes through.
    let declared = io_backoffice::declared_routes();
    if declared
        .iter()
        .any(|r| r.method == "GET" && r.path == "/io")
    {
        let html = testkit::read_page(&browser, &app, "/io").await;
        let csrf = testkit::hidden_field(&html, "csrf").expect("the page carries the CSRF token");
        let r = browser
            .post(&services)
            .header("X-CSRF-Token", &csrf)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
}
