use platform::revocation;
use platform::session::{self, Identity, SessionSecret, SessionSettings};
use testkit::TestDb;

fn mario() -> Identity {
    Identity {
        user_id: "user-1".into(),
        fiscal_code: "RSSMRA85T10A562S".into(),
        name: "Mario".into(),
        family_name: "Rossi".into(),
        spid_level: "https://www.spid.gov.it/SpidL2".into(),
    }
}

#[tokio::test]
async fn sessions_are_found_by_secret_rotated_at_login_and_ended_by_logout() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let settings = SessionSettings::default();

    let (first, s1) = session::start(&db, &mario(), &settings, None)
        .await
        .unwrap();
    assert_eq!(
        session::find(&db, &first, &settings)
            .await
            .unwrap()
            .unwrap()
            .sid,
        s1.sid
    );
    // Logging in again with the old cookie ends the old session.
    let (second, s2) = session::start(&db, &mario(), &settings, Some(&first))
        .await
        .unwrap();
    assert_ne!(first, second);
    assert!(
        session::find(&db, &first, &settings)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        revocation::is_revoked(&db, &s1.sid, "x", "x", "x", 0)
            .await
            .unwrap()
    );

    // Logout ends it and is visible to the back-offices.
    assert!(
        !revocation::is_revoked(&db, &s2.sid, "u", "i", "p", 0)
            .await
            .unwrap()
    );
    session::end(&db, &s2.sid, "logout").await.unwrap();
    assert!(
        session::find(&db, &second, &settings)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        session::find_by_sid(&db, &s2.sid, &settings)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        revocation::is_revoked(&db, &s2.sid, "u", "i", "p", 0)
            .await
            .unwrap()
    );
    db.close().await;
}

#[tokio::test]
async fn sessions_expire_when_idle_or_old() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let expired = SessionSettings {
        idle_timeout_secs: 3600,
        absolute_timeout_secs: 0,
    };
    let (secret, _) = session::start(&db, &mario(), &expired, None).await.unwrap();
    assert!(
        session::find(&db, &secret, &expired)
            .await
            .unwrap()
            .is_none()
    );

    let idle = SessionSettings {
        idle_timeout_secs: 0,
        absolute_timeout_secs: 3600,
    };
    let (secret, _) = session::start(&db, &mario(), &idle, None).await.unwrap();
    assert!(session::find(&db, &secret, &idle).await.unwrap().is_none());
    db.close().await;
}

#[test]
fn only_well_formed_cookie_values_are_secrets() {
    assert!(SessionSecret::from_cookie("short").is_none());
    assert!(SessionSecret::from_cookie(&"a".repeat(43)).is_some());
    assert!(SessionSecret::from_cookie(&format!("{};x", "a".repeat(41))).is_none());
    assert_eq!(
        format!("{:?}", SessionSecret::from_cookie(&"a".repeat(43)).unwrap()),
        "SessionSecret(…)"
    );
}

#[tokio::test]
async fn role_revocations_apply_to_back_office_sessions_opened_before_them() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let before = platform::db::now_millis() - 1;
    revocation::record(
        db.writer(),
        &revocation::Revocation {
            user_id: Some("u".into()),
            institution_id: Some("i".into()),
            product_id: Some("prod-io".into()),
            reason: "role suspended".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        revocation::is_revoked(&db, "s", "u", "i", "prod-io", before)
            .await
            .unwrap()
    );
    // Another product, another institution, or a session opened afterwards: untouched.
    assert!(
        !revocation::is_revoked(&db, "s", "u", "i", "prod-interop", before)
            .await
            .unwrap()
    );
    assert!(
        !revocation::is_revoked(&db, "s", "u", "j", "prod-io", before)
            .await
            .unwrap()
    );
    let after = platform::db::now_millis() + 1;
    assert!(
        !revocation::is_revoked(&db, "s", "u", "i", "prod-io", after)
            .await
            .unwrap()
    );
    db.close().await;
}
