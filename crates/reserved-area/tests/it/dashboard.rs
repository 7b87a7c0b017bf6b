use axum::Form;
use axum::routing::post;
use platform::identity::IdentityVerifier;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::{Options, TestApp};

use crate::{
    ANNA, COMUNE, MARIO, PAGOPA, PAOLO, REGIONE, browser, hidden_field, institution_id,
    session_token,
};

#[tokio::test]
async fn one_institution_goes_straight_in_several_are_listed() {
    let app = TestApp::spawn().await;
    let anna = browser(&app, ANNA).await;
    let r = anna.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let comune = institution_id(&app, COMUNE).await;
    assert_eq!(r.headers()["location"], format!("/dashboard/{comune}"));

    let mario = browser(&app, MARIO).await;
    let page = testkit::read_page(&mario, &app, "/dashboard").await;
    assert!(page.contains("Seleziona il tuo ente"));
    assert!(page.contains("Comune di Roccabella") && page.contains("Regione Valdoro"));
    let pagopa = institution_id(&app, PAGOPA).await;
    assert!(!page.contains(&pagopa));
}

#[tokio::test]
async fn the_institution_page_shows_cards_data_and_the_other_products() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let anna = browser(&app, ANNA).await;
    let page = testkit::read_page(&anna, &app, &format!("/dashboard/{comune}")).await;
    // Active products as cards: Anna (operator on App IO) may enter App IO only.
    assert!(page.contains("data-product=\"prod-io\""));
    assert!(page.contains(&format!("href=\"/dashboard/{comune}/products/prod-io\"")));
    assert!(
        page.contains("data-product=\"prod-interop\""),
        "one Interoperabilità card"
    );
    assert!(
        !page.contains("data-product=\"prod-interop-coll\""),
        "no card of its own"
    );
    assert!(!page.contains(&format!("/dashboard/{comune}/products/prod-interop\"")));
    assert!(
        page.contains("aria-disabled=\"true\""),
        "Gestisci disabled without a role"
    );
    // Why, in words on the card (not only in a tooltip).
    assert!(
        testkit::visible_text(&page).contains("Non hai un ruolo su questo prodotto per l'ente"),
        "{page}"
    );
    // Not active: SEND.
    assert!(page.contains("Prodotti disponibili") && page.contains("SEND"));
    // The institution's data.
    for text in [
        "00123456782",
        "c_r001",
        "protocollo@pec.comune.roccabella.it",
        "PA",
    ] {
        assert!(page.contains(text), "{text}");
    }
}

#[tokio::test]
async fn the_environment_chooser_offers_only_the_environments_of_the_roles_held() {
    let app = TestApp::spawn().await;
    let comune = institution_id(&app, COMUNE).await;
    let pagopa = institution_id(&app, PAGOPA).await;

    // Mario: admin of prod-interop only → Produzione only.
    let mario = browser(&app, MARIO).await;
    let page = testkit::read_page(
        &mario,
        &app,
        &format!("/dashboard/{comune}/products/prod-interop"),
    )
    .await;
    assert!(page.contains("In quale ambiente vuoi entrare?"));
    assert!(page.contains("Ambiente di Produzione"));
    assert!(!page.contains("Ambiente di Collaudo"));

    // Paolo: both.
    let paolo = browser(&app, PAOLO).await;
    let page = testkit::read_page(
        &paolo,
        &app,
        &format!("/dashboard/{pagopa}/products/prod-interop"),
    )
    .await;
    assert!(page.contains("Ambiente di Produzione") && page.contains("Ambiente di Collaudo"));
    assert!(page.contains(&format!("/dashboard/{pagopa}/enter/prod-interop-coll")));

    // A product without test environments goes straight to the hand-off.
    let r = mario
        .get(app.url(&format!("/dashboard/{comune}/products/prod-io")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/dashboard/{comune}/enter/prod-io")
    );
}

/// A stand-in back-office entry point: verifies the identity token it is posted with the
/// platform's verifier and answers its claims.
fn receiver(issuer: String, jwks: String, db: platform::db::Db) -> axum::Router {
    let verifier = std::sync::Arc::new(IdentityVerifier::new(
        db,
        &issuer,
        "uat.interop.selfcare.local",
        &jwks,
    ));
    // Beside the real Collaudo entry, at a path of its own.
    axum::Router::new().route(
        "/stand-in/collaudo/session",
        post(
            move |Form(form): Form<std::collections::HashMap<String, String>>| {
                let verifier = verifier.clone();
                async move {
                    let token = form.get("identity_token").cloned().unwrap_or_default();
                    match verifier.verify(&token).await {
                        Ok(claims) => (StatusCode::OK, serde_json::to_string(&claims).unwrap()),
                        Err(e) => (StatusCode::UNAUTHORIZED, e.to_string()),
                    }
                }
            },
        ),
    )
}

#[tokio::test]
async fn gestisci_posts_an_identity_token_for_the_chosen_environment() {
    let app = TestApp::spawn().await;
    let pagopa = institution_id(&app, PAGOPA).await;
    let paolo = browser(&app, PAOLO).await;
    let r = paolo
        .get(app.url(&format!("/dashboard/{pagopa}/enter/prod-interop-coll")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("method=\"post\" action=\"/interop/collaudo/session\""),
        "{page}"
    );
    assert!(page.contains("Continua"));
    let token = hidden_field(&page, "identity_token").unwrap();

    // The token is what the Collaudo back-office expects.
    let claims = platform::jwt::Unverified::parse(&token).unwrap();
    assert_eq!(claims.typ(), Some("JWT"));
    let key = app.app().platform().keys.active().unwrap();
    let (n, e) = platform::jwt::rsa_components(key.jwk()).unwrap();
    let claims: Value = claims.verify(&n, &e).unwrap();
    assert_eq!(claims["aud"], "uat.interop.selfcare.local");
    assert_eq!(claims["typ"], "ID");
    assert_eq!(claims["iss"], app.app().public_url());
    assert_eq!(claims["fiscal_number"], PAOLO);
    assert_eq!(claims["email"], "paolo.esposito@pagopa.it");
    assert_eq!(claims["organization"]["fiscal_code"], PAGOPA);
    assert_eq!(claims["organization"]["ipaCode"], "5n2tr557");
    assert_eq!(
        claims["organization"]["roles"],
        serde_json::json!([{"partyRole": "MANAGER", "role": "admin"}])
    );
    let (iat, exp, desired) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
        claims["desired_exp"].as_i64().unwrap(),
    );
    assert!(exp - iat <= 15 * 60 && exp <= desired);
    for claim in ["jti", "sub", "sid", "name", "family_name", "spid_level"] {
        assert!(claims[claim].is_string(), "{claim}");
    }
}

#[tokio::test]
async fn a_back_office_accepts_the_token_once() {
    let app = TestApp::spawn().await;
    let pagopa = institution_id(&app, PAGOPA).await;
    let token = session_token(&app, PAOLO).await;
    let exchanged: Value = testkit::api::get_json(
        &app,
        &token,
        &format!("/v2/token/exchange?institutionId={pagopa}&productId=prod-interop-coll"),
    )
    .await;
    let identity = exchanged["token"].as_str().unwrap().to_string();
    // Another app plays the Collaudo back-office: it verifies through the issuer's JWKS over
    // HTTP and records used token ids in the shared database.
    let back_office = testkit::TestApp::spawn_with(Options {
        routes: Some(receiver(
            app.app().public_url().to_string(),
            app.url("/.well-known/jwks.json"),
            app.db.connect().await,
        )),
        ..Default::default()
    })
    .await;
    let post = |t: String| {
        back_office
            .post("/stand-in/collaudo/session")
            .form(&[("identity_token", t)])
            .send()
    };
    let first = post(identity.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let claims: Value = first.json().await.unwrap();
    assert_eq!(claims["organization"]["id"], pagopa);
    let second = post(identity).await.unwrap();
    assert_eq!(second.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(second.text().await.unwrap(), "already used");
}

#[tokio::test]
async fn the_api_lists_institutions_and_products_with_the_callers_role() {
    let app = TestApp::spawn().await;
    let token = session_token(&app, MARIO).await;
    let list: Value = testkit::api::get_json(&app, &token, "/v2/institutions").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let comune = institution_id(&app, COMUNE).await;
    let regione = institution_id(&app, REGIONE).await;
    let role = |id: &str| {
        list.iter()
            .find(|i| i["id"] == id)
            .map(|i| i["userRole"].as_str().unwrap().to_string())
    };
    assert_eq!(role(&comune).as_deref(), Some("ADMIN"));
    assert_eq!(role(&regione).as_deref(), Some("LIMITED"));

    let detail: Value =
        testkit::api::get_json(&app, &token, &format!("/v2/institutions/{comune}")).await;
    assert_eq!(detail["taxCode"], COMUNE);
    assert_eq!(detail["ipaCode"], "c_r001");

    let interop = crate::listed_product(&app, &token, &comune, "prod-interop").await;
    assert_eq!(interop["authorized"], true);
    assert_eq!(interop["environments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn operators_get_a_token_without_organization_for_the_operator_pages() {
    let app = TestApp::spawn().await;
    let paolo = browser(&app, PAOLO).await;
    let picker = testkit::read_page(&paolo, &app, "/dashboard").await;
    assert!(picker.contains("href=\"/operator\""), "{picker}");
    let area = testkit::read_page(&paolo, &app, "/operator").await;
    assert!(area.contains("Area operatore") && area.contains("/operator/enter/prod-io"));
    let handoff = testkit::read_page(&paolo, &app, "/operator/enter/prod-io").await;
    assert!(handoff.contains("action=\"/io/session\""));

    let token = session_token(&app, PAOLO).await;
    let r: Value = testkit::api::get_json(
        &app,
        &token,
        "/v2/token/exchange/back-office/admin?productId=prod-io",
    )
    .await;
    let parsed = platform::jwt::Unverified::parse(r["token"].as_str().unwrap()).unwrap();
    let key = app.app().platform().keys.active().unwrap();
    let (n, e) = platform::jwt::rsa_components(key.jwk()).unwrap();
    let claims: Value = parsed.verify(&n, &e).unwrap();
    assert_eq!(claims["platform_operator"], true);
    assert!(claims.get("organization").is_none());
    assert_eq!(claims["aud"], "api.io.selfcare.local");
    assert_eq!(claims["typ"], "ID");
}
