//! Entering an environment, and leaving it when the Reserved Area says so.

use reqwest::StatusCode;
use serde_json::json;
use testkit::Fetch;
use testkit::TestApp;

use crate::{
    COLL, COMUNE, LUCA, MARIO, PAGOPA, PAOLO, PROD, call, enter, get_ok, give_luca_collaudo,
    identity_token, institution_id, member, session_token,
};

#[tokio::test]
async fn each_environment_is_entered_with_its_own_product_and_shares_nothing() {
    let app = TestApp::spawn().await;
    let paolo_coll = member(&app, PAOLO, PAGOPA, "prod-interop-coll").await;
    let me = get_ok(&app, &paolo_coll, &format!("{COLL}/api/me")).await;
    assert_eq!(me["environment"], "collaudo");
    assert_eq!(me["roles"], json!(["admin"]));
    assert_eq!(me["institution"]["fiscalCode"], PAGOPA);

    // A Collaudo session opens nothing of Produzione, and the reverse.
    let (status, _) = call(&app, &paolo_coll, "GET", &format!("{PROD}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let paolo_prod = member(&app, PAOLO, PAGOPA, "prod-interop").await;
    let (status, _) = call(&app, &paolo_prod, "GET", &format!("{COLL}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A Collaudo identity token does not open Produzione (its audience is another).
    let session = session_token(&app, PAOLO).await;
    let pagopa = institution_id(&app, PAGOPA).await;
    let coll_token = identity_token(&app, &session, &pagopa, "prod-interop-coll")
        .await
        .unwrap();
    let (status, _) = enter(&app, PROD, &coll_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nor an IO token, nor garbage.
    let comune = institution_id(&app, COMUNE).await;
    let mario = session_token(&app, MARIO).await;
    let io_token = identity_token(&app, &mario, &comune, "prod-io")
        .await
        .unwrap();
    assert_eq!(
        enter(&app, COLL, &io_token).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        enter(&app, COLL, "not a token").await.0,
        StatusCode::UNAUTHORIZED
    );

    // The people who entered, per environment and institution.
    let users = get_ok(&app, &paolo_coll, &format!("{COLL}/api/users")).await;
    let users = users["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["familyName"], "Esposito");
    assert_eq!(users[0]["roles"], json!(["admin"]));

    // Each environment publishes its own voucher keys.
    let coll: serde_json::Value = app
        .get(&format!("{COLL}/.well-known/jwks.json"))
        .fetch_json()
        .await;
    let prod: serde_json::Value = app
        .get(&format!("{PROD}/.well-known/jwks.json"))
        .fetch_json()
        .await;
    assert_eq!(coll["keys"].as_array().unwrap().len(), 1);
    assert_ne!(coll["keys"][0]["kid"], prod["keys"][0]["kid"]);
}

#[tokio::test]
async fn the_technician_enters_collaudo_only_and_leaves_when_suspended_or_logged_out() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    // Without a role, no token for Collaudo.
    let luca = session_token(&app, LUCA).await;
    assert!(
        identity_token(&app, &luca, &comune, "prod-interop-coll")
            .await
            .is_err()
    );
    give_luca_collaudo(&app, "admin").await;
    let luca = session_token(&app, LUCA).await;
    let token = member(&app, LUCA, COMUNE, "prod-interop-coll").await;
    get_ok(&app, &token, &format!("{COLL}/api/me")).await;
    // Produzione stays closed to him.
    assert!(
        identity_token(&app, &luca, &comune, "prod-interop")
            .await
            .is_err()
    );

    // Mario suspends Luca's Collaudo role: the session ends at its next request.
    let mario = session_token(&app, MARIO).await;
    let luca_id: String = {
        let db = app.db.connect().await;
        let id = sqlx::query_scalar("SELECT id FROM users WHERE fiscal_code = $1")
            .bind(LUCA)
            .fetch_one(db.reader())
            .await
            .unwrap();
        db.close().await;
        id
    };
    assert_eq!(
        testkit::demo::change_roles(
            &app,
            &mario,
            "suspend",
            &luca_id,
            &comune,
            "prod-interop-coll"
        )
        .await,
        204
    );
    let (status, _) = call(&app, &token, "GET", &format!("{COLL}/api/me"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Reactivated, he enters again; then his Reserved Area logout ends that session too.
    assert_eq!(
        testkit::demo::change_roles(
            &app,
            &mario,
            "activate",
            &luca_id,
            &comune,
            "prod-interop-coll"
        )
        .await,
        204
    );
    let browser = testkit::logged_in(&app, LUCA).await;
    let page = testkit::read_page(
        &browser,
        &app,
        &format!("/dashboard/{comune}/enter/prod-interop-coll"),
    )
    .await;
    let identity = testkit::hidden_field(&page, "identity_token")
        .expect("the entry form carries the identity token");
    let r = browser
        .post(app.url(&format!("{COLL}/session")))
        .form(&[("identity_token", identity.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let home = browser.get(app.url(COLL)).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("data-environment=\"collaudo\""), "{html}");
    assert!(html.contains("env-collaudo"));
    // Logout of the Reserved Area.
    let r = testkit::log_out(&browser, &app).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let home = browser.get(app.url(COLL)).send().await.unwrap();
    assert_eq!(home.status(), 401);
}

/// An environment opened without a session says so, in words (not "the session expired");
/// a session that ended says that it ended.
#[tokio::test]
async fn an_environment_not_entered_is_told_apart_from_an_ended_session() {
    let app = TestApp::spawn().await;
    let never = app.get(PROD).send().await.unwrap();
    assert_eq!(never.status(), StatusCode::UNAUTHORIZED);
    let page = never.text().await.unwrap();
    assert!(page.contains("Non hai accesso a questo ambiente"), "{page}");
    assert!(!page.contains("La sessione è scaduta"), "{page}");

    let ended = format!("interop_produzione={}", "A".repeat(43));
    let r = app.get(PROD).header("cookie", ended).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    assert!(page.contains("La sessione è scaduta"), "{page}");
}
