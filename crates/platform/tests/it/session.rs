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

mod backoffice {
    use platform::backoffice;
    use platform::identity::{IdentityClaims, OrgRole, Organization};
    use platform::jwt::now_secs;
    use platform::revocation::{self, Revocation};
    use platform::session;
    use testkit::TestDb;

    fn claims(sid: &str, desired_exp: i64) -> IdentityClaims {
        IdentityClaims {
            jti: "j".into(),
            iss: "http://127.0.0.1".into(),
            sub: "user-1".into(),
            aud: "api.io.selfcare.local".into(),
            iat: now_secs(),
            exp: now_secs() + 60,
            desired_exp,
            typ: "ID".into(),
            fiscal_number: "RSSMRA85T10A562S".into(),
            name: "Mario".into(),
            family_name: "Rossi".into(),
            email: None,
            spid_level: "L2".into(),
            organization: Some(Organization {
                id: "inst-1".into(),
                name: "Comune".into(),
                fiscal_code: "00123456782".into(),
                ipa_code: "c_r001".into(),
                roles: vec![OrgRole {
                    party_role: "MANAGER".into(),
                    role: "admin".into(),
                }],
                groups: vec![],
                sub_unit_code: None,
                sub_unit_type: None,
                root_parent: None,
            }),
            sid: sid.into(),
            platform_operator: false,
        }
    }

    /// Whether the back-office `backoffice` knows the session `secret`.
    async fn alive(
        db: &platform::db::Db,
        backoffice: &str,
        secret: &session::SessionSecret,
    ) -> bool {
        backoffice::find(db, backoffice, secret)
            .await
            .unwrap()
            .is_some()
    }

    /// Records that user-1's roles on `product` at inst-1 were suspended.
    async fn suspend(db: &platform::db::Db, product: &str) {
        let revocation = Revocation {
            user_id: Some("user-1".into()),
            institution_id: Some("inst-1".into()),
            product_id: Some(product.into()),
            reason: "suspended".into(),
            ..Default::default()
        };
        revocation::record(db.writer(), &revocation).await.unwrap();
    }

    #[tokio::test]
    async fn a_back_office_session_ends_with_the_reserved_area_session_and_its_revocations() {
        let test_db = TestDb::new().await;
        let db = test_db.connect().await;
        db.migrate().await.unwrap();

        // One reading of the clock: the session ends when its identity token does.
        let exp = now_secs() + 3600;
        let (secret, s) = backoffice::open(&db, "io", "prod-io", &claims("sid-1", exp))
            .await
            .unwrap();
        assert_eq!(s.expires_at, exp * 1000);
        assert!(alive(&db, "io", &secret).await);
        // Another back-office does not know it.
        assert!(!alive(&db, "interop-collaudo", &secret).await);

        // Logout of the Reserved Area session ends it.
        session::end(&db, "sid-1", "logout").await.unwrap();
        assert!(!alive(&db, "io", &secret).await);

        // A role suspended on that product and institution ends it.
        let (secret, _) =
            backoffice::open(&db, "io", "prod-io", &claims("sid-2", now_secs() + 3600))
                .await
                .unwrap();
        suspend(&db, "prod-interop").await;
        assert!(alive(&db, "io", &secret).await, "other product");
        suspend(&db, "prod-io").await;
        assert!(!alive(&db, "io", &secret).await);

        // Never beyond desired_exp.
        let (secret, _) = backoffice::open(&db, "io", "prod-io", &claims("sid-3", now_secs() - 1))
            .await
            .unwrap();
        assert!(!alive(&db, "io", &secret).await);
        assert!(backoffice::purge_expired(&db).await.unwrap() >= 1);
        db.close().await;
    }
}
