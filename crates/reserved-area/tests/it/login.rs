use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Fetch;
use testkit::{Options, TestApp};

use crate::{ANNA, MARIO, browser, hidden_field, session_token};

#[tokio::test]
async fn the_test_idp_lists_demo_identities_and_logs_in_by_form() {
    let app = TestApp::spawn().await;
    let page = app.get("/auth/test-idp").fetch_text().await;
    assert!(page.contains(MARIO), "{page}");
    assert!(page.contains("Mario Rossi"), "{page}");
    // Every page says the test identity provider is on.
    let home = app.get("/").fetch_text().await;
    assert!(home.contains("Identity provider di test attivo"), "{home}");

    let r = testkit::post_form(
        &app.client,
        app.url("/auth/test-idp/login"),
        &[("fiscal_number", MARIO)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/dashboard");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("sc_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let json: Value = app.get("/auth/test-idp/identities").fetch_json().await;
    let list = json.as_array().unwrap();
    assert!(list.len() >= 5);
    assert!(list.iter().all(|i| i["fiscal_number"].is_string()
        && i["name"].is_string()
        && i["family_name"].is_string()
        && i["description"].as_str().is_some_and(|d| !d.is_empty())));
}

#[tokio::test]
async fn any_person_with_a_valid_fiscal_code_may_log_in_and_mismatches_are_explained() {
    let app = TestApp::spawn().await;
    // Not a demo identity: name and family name must match the code.
    let r = testkit::post_form(
        &app.client,
        app.url("/auth/test-idp/login"),
        &[
            ("fiscal_number", "CLMFNC75R55G273E"),
            ("name", "Francesca"),
            ("family_name", "Colombo"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A person with no institution: "Accesso non consentito".
    let r = app.get("/dashboard").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Accesso non consentito"));

    let r = testkit::post_form(
        &app.client,
        app.url("/auth/test-idp/login"),
        &[
            ("fiscal_number", "CLMFNC75R55G273E"),
            ("name", "Marco"),
            ("family_name", "Colombo"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Nome/Cognome non corretto o diverso dal Codice Fiscale"),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));

    let r = testkit::post_form(
        &app.client,
        app.url("/auth/test-idp/login"),
        &[("fiscal_number", "RSSMRA85T10A562X")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Inserisci un codice fiscale valido")
    );

    // The JSON door says why, too.
    let r = app
        .post("/auth/test-idp/token")
        .json(&json!({"fiscal_number": "CLMFNC75R55G273E"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "invalid_identity");
    assert_eq!(p["invalidParams"][0]["name"], "name");
}

#[tokio::test]
async fn the_test_idp_answers_404_when_off() {
    let app = TestApp::spawn_with(Options {
        serve: true,
        ..Default::default()
    })
    .await;
    for path in ["/auth/test-idp", "/auth/test-idp/identities"] {
        assert_eq!(
            app.get(path).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .post("/auth/test-idp/token")
        .json(&json!({"fiscal_number": MARIO}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = testkit::post_form(
        &app.client,
        app.url("/auth/test-idp/login"),
        &[("fiscal_number", MARIO)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let login = app.get("/login").fetch_text().await;
    assert!(!login.contains("/auth/test-idp"), "{login}");
    let home = app.get("/").fetch_text().await;
    assert!(!home.contains("Identity provider di test attivo"));
}

#[tokio::test]
async fn the_session_id_rotates_at_login_and_logout_ends_cookie_and_token() {
    let app = TestApp::spawn().await;
    let client = browser(&app, MARIO).await;
    let dash = client
        .get(app.url("/dashboard?choose=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), StatusCode::OK);
    let html = dash.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf").expect("logout form with csrf");

    // Logging in again in the same browser replaces the session: the old csrf dies with it.
    let again = testkit::log_in(&client, &app, ANNA).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let r = testkit::post_form(&client, app.url("/logout"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "old session's csrf must not work"
    );

    // Logout needs the CSRF token.
    let html = testkit::read_page(&client, &app, "/dashboard?choose=true").await;
    let csrf = hidden_field(&html, "csrf").unwrap();
    let r = testkit::post_form(&client, app.url("/logout"), &[("csrf", "nope")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = testkit::post_form(&client, app.url("/logout"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");

    // A session token dies with its session.
    let token = session_token(&app, MARIO).await;
    let ok = app
        .get("/v2/institutions")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let db = app.db.connect().await;
    let sid: String = sqlx::query_scalar(
        "SELECT sid FROM sessions WHERE fiscal_code = $1 AND ended_at IS NULL ORDER BY created_at DESC",
    )
    .bind(MARIO)
    .fetch_one(db.reader())
    .await
    .unwrap();
    platform::session::end(&db, &sid, "logout").await.unwrap();
    db.close().await;
    let gone = app
        .get("/v2/institutions")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_identity_token_is_not_a_session_token() {
    let app = TestApp::spawn().await;
    let token = session_token(&app, MARIO).await;
    let comune = crate::institution_id(&app, crate::COMUNE).await;
    let exchanged: Value = testkit::api::get_json(
        &app,
        &token,
        &format!("/v2/token/exchange?institutionId={comune}&productId=prod-io"),
    )
    .await;
    let identity = exchanged["token"].as_str().unwrap();
    // The session token passed (and is kept as verified): another payload under its signature
    // does not.
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let other_payload = identity.split('.').nth(1).unwrap();
    let forged = format!("{head}.{other_payload}.{signature}");
    let r = app
        .get("/v2/institutions")
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .get("/v2/institutions")
        .bearer_auth(identity)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .get("/v2/institutions")
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}
