use platform::identity::{
    IdentityClaims, IdentityVerifier, OrgRole, Organization, VerifyError, issue,
};
use platform::jwt::{self, JwtError, now_secs};
use platform::keys::{SigningKeys, generate_pem_file};
use serde_json::json;
use testkit::Fetch;
use testkit::TestApp;

const AUD: &str = "interop.selfcare.local";

fn claims(app: &TestApp) -> IdentityClaims {
    IdentityClaims {
        jti: uuid::Uuid::new_v4().to_string(),
        iss: app.app().public_url().to_string(),
        sub: "user-1".into(),
        aud: AUD.into(),
        iat: now_secs(),
        exp: now_secs() + 900,
        desired_exp: now_secs() + 3600,
        typ: "ID".into(),
        fiscal_number: "RSSMRA85T10A562S".into(),
        name: "Mario".into(),
        family_name: "Rossi".into(),
        email: Some("mario.rossi@comune.example.it".into()),
        spid_level: "https://www.spid.gov.it/SpidL2".into(),
        organization: Some(Organization {
            id: "inst-1".into(),
            name: "Comune di Esempio".into(),
            fiscal_code: "00000000000".into(),
            ipa_code: "c_x000".into(),
            roles: vec![OrgRole {
                party_role: "SUB_DELEGATE".into(),
                role: "admin".into(),
            }],
            groups: vec![],
            sub_unit_code: None,
            sub_unit_type: None,
            root_parent: None,
        }),
        sid: "sid-1".into(),
        platform_operator: false,
    }
}

fn verifier(app: &TestApp) -> IdentityVerifier {
    IdentityVerifier::new(
        app.app().platform().db.clone(),
        app.app().public_url(),
        AUD,
        &app.url("/.well-known/jwks.json"),
    )
}

#[tokio::test]
async fn a_valid_identity_token_is_accepted_once_across_instances() {
    let app = TestApp::spawn().await;
    let keys = &app.app().platform().keys;
    let token = issue(keys, &claims(&app)).unwrap();
    let got = verifier(&app).verify(&token).await.unwrap();
    assert_eq!(got.organization.unwrap().roles[0].role, "admin");
    // Again on the same verifier, and on another one sharing the database (another instance).
    assert_eq!(
        verifier(&app).verify(&token).await.unwrap_err(),
        VerifyError::Replayed
    );
    let other_instance = IdentityVerifier::new(
        app.db.connect().await,
        app.app().public_url(),
        AUD,
        &app.url("/.well-known/jwks.json"),
    );
    assert_eq!(
        other_instance.verify(&token).await.unwrap_err(),
        VerifyError::Replayed
    );
}

#[tokio::test]
async fn identity_tokens_with_wrong_claims_are_refused() {
    let app = TestApp::spawn().await;
    let keys = &app.app().platform().keys;
    let v = verifier(&app);

    let mut c = claims(&app);
    c.aud = "api.io.selfcare.local".into();
    assert_eq!(
        v.verify(&issue(keys, &c).unwrap()).await.unwrap_err(),
        VerifyError::WrongAudience
    );

    let mut c = claims(&app);
    c.iss = "https://elsewhere.example".into();
    assert_eq!(
        v.verify(&issue(keys, &c).unwrap()).await.unwrap_err(),
        VerifyError::WrongIssuer
    );

    let mut c = claims(&app);
    c.exp = now_secs() - 1;
    assert_eq!(
        v.verify(&issue(keys, &c).unwrap()).await.unwrap_err(),
        VerifyError::Expired
    );

    let mut c = claims(&app);
    c.organization.as_mut().unwrap().roles.clear();
    assert_eq!(
        v.verify(&issue(keys, &c).unwrap()).await.unwrap_err(),
        VerifyError::NoRoles
    );

    let mut c = claims(&app);
    c.typ = "SESSION".into();
    assert_eq!(
        v.verify(&issue(keys, &c).unwrap()).await.unwrap_err(),
        VerifyError::WrongType
    );
}

#[tokio::test]
async fn a_session_token_or_an_unknown_key_is_refused() {
    let app = TestApp::spawn().await;
    let keys = &app.app().platform().keys;
    let v = verifier(&app);

    // A session token of the Reserved Area: same key, other claims, its own audience.
    let session_token = jwt::sign(
        keys.active().unwrap(),
        "JWT",
        &json!({
            "fiscal_number": "RSSMRA85T10A562S", "name": "Mario", "family_name": "Rossi",
            "uid": "user-1", "spid_level": "https://www.spid.gov.it/SpidL2",
            "iss": app.app().public_url(), "aud": "selfcare.local", "iat": now_secs(),
            "exp": now_secs() + 3600, "sid": "sid-1"
        }),
    )
    .unwrap();
    assert_eq!(
        v.verify(&session_token).await.unwrap_err(),
        VerifyError::WrongType
    );

    // Signed by a key the issuer never published.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rogue.pem");
    generate_pem_file(&path).unwrap();
    let rogue = SigningKeys::load(&[path]).unwrap();
    let token = issue(&rogue, &claims(&app)).unwrap();
    assert_eq!(
        v.verify(&token).await.unwrap_err(),
        VerifyError::Token(JwtError::UnknownKey)
    );
    assert!(matches!(
        v.verify("garbage").await.unwrap_err(),
        VerifyError::Token(_)
    ));
}

#[tokio::test]
async fn rotated_keys_keep_verifying_tokens_of_the_retired_key() {
    // The retired key signs a token; then the server starts with a new key first and the old
    // one kept for verification.
    let dir = tempfile::tempdir().unwrap();
    let (new_key, old_key) = (dir.path().join("new.pem"), dir.path().join("old.pem"));
    generate_pem_file(&new_key).unwrap();
    generate_pem_file(&old_key).unwrap();
    let old = SigningKeys::load(std::slice::from_ref(&old_key)).unwrap();
    let keys = vec![new_key, old_key];
    let app = TestApp::spawn_with(testkit::Options {
        settings: Some(Box::new(move |s| s.signing.key_files = keys)),
        ..Default::default()
    })
    .await;
    let jwks: serde_json::Value = app.get("/.well-known/jwks.json").fetch_json().await;
    let kids = testkit::strings_of(&jwks["keys"], "kid");
    let active = app
        .app()
        .platform()
        .keys
        .active()
        .unwrap()
        .kid()
        .to_string();
    let retired = old.active().unwrap().kid().to_string();
    assert_eq!(kids, vec![active.as_str(), retired.as_str()]);

    let from_retired = issue(&old, &claims(&app)).unwrap();
    assert_eq!(
        jwt::Unverified::parse(&from_retired).unwrap().kid(),
        Some(retired.as_str())
    );
    verifier(&app).verify(&from_retired).await.unwrap();
    let from_active = issue(&app.app().platform().keys, &claims(&app)).unwrap();
    verifier(&app).verify(&from_active).await.unwrap();
}
