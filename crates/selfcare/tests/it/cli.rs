use testkit::{TestDb, run_binary};

use crate::{bin, refused};

#[tokio::test]
async fn help_explains_every_command() {
    let out = run_binary(bin(), &["--help"], &[]).await;
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "demo", "migrate"] {
        assert!(text.contains(command), "{text}");
    }
    assert!(text.contains("SELFCARE_"), "{text}");
    for command in ["serve", "demo", "migrate"] {
        let out = run_binary(bin(), &[command, "--help"], &[]).await;
        assert!(out.status.success(), "{command} --help");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.len() > 100, "{command}: {text}");
    }
}

#[tokio::test]
async fn serve_without_required_settings_fails_clearly() {
    let db = TestDb::new().await;
    let err = refused(&["serve", "--database-url", db.url()], &[]).await;
    assert!(
        err.contains("missing required setting `signing.key_files`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let err = refused(&["serve"], &[]).await;
    assert!(err.contains("`database.url`"), "{err}");
}

#[tokio::test]
async fn unknown_settings_are_refused_naming_them() {
    let db = TestDb::new().await;
    let err = refused(
        &["serve", "--database-url", db.url()],
        &[("SELFCARE_HTTP__LISTN", "127.0.0.1:1")],
    )
    .await;
    assert!(err.contains("SELFCARE_HTTP__LISTN"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("selfcare.toml");
    std::fs::write(
        &file,
        "[http]\nlisten = \"127.0.0.1:0\"\n[databse]\nurl = \"x\"\n",
    )
    .unwrap();
    let err = refused(&["serve", "--config", file.to_str().unwrap()], &[]).await;
    assert!(err.contains("databse"), "{err}");

    let out = run_binary(bin(), &["serve", "--config", "/no/such/file.toml"], &[]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/file.toml"), "{err}");
}

#[tokio::test]
async fn migrate_brings_a_database_up_to_date() {
    let db = TestDb::new().await;
    let out = run_binary(bin(), &["migrate", "--database-url", db.url()], &[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(conn.reader())
        .await
        .unwrap();
    assert_eq!(n, 0);
    conn.close().await;
}

#[tokio::test]
async fn operators_add_and_onboard_institutions_and_grant_the_operator_flag() {
    let db = TestDb::new().await;
    let url = db.url();
    let onboard = |admin| {
        [
            "onboard",
            "--database-url",
            url,
            "--institution",
            "00123456782",
            "--product",
            "prod-io",
            "--admin",
            admin,
        ]
    };
    let commands: [&[&str]; 3] = [
        &[
            "institution",
            "add",
            "--database-url",
            url,
            "--tax-code",
            "00123456782",
            "--name",
            "Comune di Prova",
            "--ipa-code",
            "c_p001",
            "--type",
            "PA",
            "--pec",
            "protocollo@pec.comune.prova.it",
        ],
        &onboard("RSSMRA85T10A562S,Mario,Rossi,mario.rossi@comune.prova.it"),
        &[
            "operator",
            "grant",
            "RSSMRA85T10A562S",
            "--database-url",
            url,
        ],
    ];
    for args in commands {
        let out = run_binary(bin(), args, &[]).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let conn = db.connect().await;
    let (status,): (String,) = sqlx::query_as(
        "SELECT o.status FROM onboardings o JOIN institutions i ON i.id = o.institution_id \
         WHERE i.tax_code = '00123456782' AND o.product_id = 'prod-io'",
    )
    .fetch_one(conn.reader())
    .await
    .unwrap();
    assert_eq!(status, "ACTIVE");
    let (party, role): (String, String) = sqlx::query_as(
        "SELECT party_role, product_role FROM product_roles r JOIN users u ON u.id = r.user_id \
         WHERE u.fiscal_code = 'RSSMRA85T10A562S'",
    )
    .fetch_one(conn.reader())
    .await
    .unwrap();
    assert_eq!((party.as_str(), role.as_str()), ("MANAGER", "admin"));
    let operators: i64 = sqlx::query_scalar("SELECT count(*) FROM platform_operators")
        .fetch_one(conn.reader())
        .await
        .unwrap();
    assert_eq!(operators, 1);
    conn.close().await;

    // Refusals say why.
    let refusals: [(&[&str], &str); 3] = [
        (
            &[
                "institution",
                "add",
                "--database-url",
                url,
                "--tax-code",
                "00123456783",
                "--name",
                "X",
                "--ipa-code",
                "x",
                "--pec",
                "a@pec.x.it",
            ],
            "invalid tax code",
        ),
        (
            &onboard("RSSMRA85T10A562S,Marco,Rossi,mario.rossi@comune.prova.it"),
            "not matching the fiscal code",
        ),
        (
            &[
                "operator",
                "grant",
                "BNCNNA90A41H501T",
                "--database-url",
                url,
            ],
            "no person with fiscal code",
        ),
    ];
    for (args, why) in refusals {
        let err = refused(args, &[]).await;
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn io_master_keys_are_made_once_and_rekey_moves_every_key_to_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (m1, m2) = (dir.path().join("m1.key"), dir.path().join("m2.key"));
    for path in [&m1, &m2] {
        let out = run_binary(
            bin(),
            &["io", "new-master-key", path.to_str().unwrap()],
            &[],
        )
        .await;
        assert!(out.status.success(), "{out:?}");
    }
    // Never overwrites a master key.
    assert!(
        !refused(&["io", "new-master-key", m1.to_str().unwrap()], &[])
            .await
            .contains("panicked")
    );

    // A service and a manage key pair stored under m1.
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let old = io_backoffice::secrets::KeyRing::load(std::slice::from_ref(&m1)).unwrap();
    let tenant = io_backoffice::store::Tenant {
        institution_id: "inst-1".into(),
        name: "Comune di Prova".into(),
        fiscal_code: "00123456782".into(),
    };
    io_backoffice::store::upsert_institution(&db, &tenant)
        .await
        .unwrap();
    io_backoffice::store::ensure_manage_subscription(&db, &old, "inst-1")
        .await
        .unwrap();
    let data = io_backoffice::model::parse_service(
        &serde_json::json!({"name": "Servizio", "description": "Descrizione",
            "metadata": {"scope": "LOCAL", "topic_id": 0}}),
        io_backoffice::model::PayloadKind::Create,
    )
    .unwrap();
    let service = io_backoffice::store::create_service(&db, &old, &tenant, &data, "test")
        .await
        .unwrap();
    let before = io_backoffice::store::keys(&db, &old, &service.id)
        .await
        .unwrap();
    let manage = io_backoffice::model::manage_subscription_id("inst-1");
    let manage_before = io_backoffice::store::keys(&db, &old, &manage)
        .await
        .unwrap();

    let both = format!("{},{}", m1.display(), m2.display());
    let out = run_binary(
        bin(),
        &["io", "rekey", "--database-url", test_db.url()],
        &[("SELFCARE_IO__MASTER_KEY_FILES", both.as_str())],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("re-encrypted 4 keys"),
        "{out:?}"
    );
    // The newest key alone now reads every key, unchanged; the old one alone reads none.
    let new = io_backoffice::secrets::KeyRing::load(std::slice::from_ref(&m2)).unwrap();
    let after = io_backoffice::store::keys(&db, &new, &service.id)
        .await
        .unwrap();
    assert_eq!(after.primary, before.primary);
    assert_eq!(after.secondary, before.secondary);
    let manage_after = io_backoffice::store::keys(&db, &new, &manage)
        .await
        .unwrap();
    assert_eq!(manage_after.primary, manage_before.primary);
    assert!(
        io_backoffice::store::keys(&db, &old, &service.id)
            .await
            .is_err()
    );
    // Keys are found by hash, not by their encryption: lookups still work.
    let owner = io_backoffice::store::key_owner(&db, &after.primary)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.subscription.id, service.id);
    db.close().await;
}

#[tokio::test]
async fn serve_without_master_keys_names_the_setting() {
    let db = TestDb::new().await;
    let key = testkit::test_signing_key();
    let err = refused(
        &["serve", "--database-url", db.url()],
        &[
            ("SELFCARE_SIGNING__KEY_FILES", key.to_str().unwrap()),
            ("SELFCARE_HTTP__PUBLIC_URL", "http://127.0.0.1"),
        ],
    )
    .await;
    assert!(err.contains("`io.master_key_files`"), "{err}");
    assert!(err.contains("io new-master-key"), "{err}");
}

#[tokio::test]
async fn the_ipa_import_assigns_revokes_and_changes_nothing_the_second_time() {
    let db = TestDb::new().await;
    let url = db.url();
    let out = run_binary(bin(), &["migrate", "--database-url", url], &[]).await;
    assert!(out.status.success());
    let conn = db.connect().await;
    sqlx::query(
        "INSERT INTO interop_institutions (env, id, name, fiscal_code, updated_at) \
         VALUES ('collaudo', 'i-comune', 'Comune di Roccabella', '00123456782', 0)",
    )
    .execute(conn.writer())
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/ipa-enti.csv");
    let run = |file: String| async move {
        let out = run_binary(
            bin(),
            &["interop", "import-ipa", &file, "--database-url", url],
            &[],
        )
        .await;
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, text, err) = run(sample.to_string()).await;
    assert!(ok, "{err}");
    assert!(
        text.contains(
            "assigned\tcollaudo\tComune di Roccabella\tComuni e loro Consorzi e Associazioni"
        ),
        "{text}"
    );
    assert!(
        text.contains("1 on the platform; 3 assigned, 0 revoked"),
        "{text}"
    );
    let (ok, text, _) = run(sample.to_string()).await;
    assert!(ok);
    assert!(text.contains("0 assigned, 0 revoked"), "{text}");
    // A file where the Comune is in another category: L6 goes, L4 comes.
    let moved = std::fs::read_to_string(sample).unwrap().replace(
        "\"00123456782\",\"Pubbliche Amministrazioni\",\"L6\"",
        "\"00123456782\",\"Pubbliche Amministrazioni\",\"L4\"",
    );
    let file = dir.path().join("enti.csv");
    std::fs::write(&file, moved).unwrap();
    let (ok, text, err) = run(file.display().to_string()).await;
    assert!(ok, "{err}");
    assert!(
        text.contains(
            "revoked\tcollaudo\tComune di Roccabella\tComuni e loro Consorzi e Associazioni"
        ),
        "{text}"
    );
    assert!(text.contains("1 assigned, 1 revoked"), "{text}");
    // Not an IPA file: refused, naming what is wrong.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "nome,cognome\nMario,Rossi\n").unwrap();
    let (ok, _, err) = run(bad.display().to_string()).await;
    assert!(!ok);
    assert!(err.contains("bad.csv"), "{err}");
    // A certifier, by its tax code.
    let out = run_binary(
        bin(),
        &[
            "interop",
            "certifier",
            "grant",
            "--env",
            "collaudo",
            "--institution",
            "00123456782",
            "--origin",
            "ANPR",
            "--database-url",
            url,
        ],
        &[],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("now certifies ANPR in collaudo"));
    let out = run_binary(
        bin(),
        &[
            "interop",
            "certifier",
            "grant",
            "--env",
            "produzione",
            "--institution",
            "00123456782",
            "--origin",
            "ANPR",
            "--database-url",
            url,
        ],
        &[],
    )
    .await;
    assert!(!out.status.success(), "not an institution of produzione");
    conn.close().await;
}
