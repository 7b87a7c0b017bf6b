use testkit::{TestDb, run_binary};

use crate::bin;

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
    let out = run_binary(bin(), &["serve", "--database-url", db.url()], &[]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing required setting `signing.key_files`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = run_binary(bin(), &["serve"], &[]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("`database.url`"), "{err}");
}

#[tokio::test]
async fn unknown_settings_are_refused_naming_them() {
    let db = TestDb::new().await;
    let out = run_binary(
        bin(),
        &["serve", "--database-url", db.url()],
        &[("SELFCARE_HTTP__LISTN", "127.0.0.1:1")],
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SELFCARE_HTTP__LISTN"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("selfcare.toml");
    std::fs::write(
        &file,
        "[http]\nlisten = \"127.0.0.1:0\"\n[databse]\nurl = \"x\"\n",
    )
    .unwrap();
    let out = run_binary(bin(), &["serve", "--config", file.to_str().unwrap()], &[]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
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
    let ok = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let out = run_binary(
        bin(),
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
        &[],
    )
    .await;
    ok(&out);
    let out = run_binary(
        bin(),
        &[
            "onboard",
            "--database-url",
            url,
            "--institution",
            "00123456782",
            "--product",
            "prod-io",
            "--admin",
            "RSSMRA85T10A562S,Mario,Rossi,mario.rossi@comune.prova.it",
        ],
        &[],
    )
    .await;
    ok(&out);
    let out = run_binary(
        bin(),
        &[
            "operator",
            "grant",
            "RSSMRA85T10A562S",
            "--database-url",
            url,
        ],
        &[],
    )
    .await;
    ok(&out);

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
    let out = run_binary(
        bin(),
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
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid tax code"));
    let out = run_binary(
        bin(),
        &[
            "onboard",
            "--database-url",
            url,
            "--institution",
            "00123456782",
            "--product",
            "prod-io",
            "--admin",
            "RSSMRA85T10A562S,Marco,Rossi,mario.rossi@comune.prova.it",
        ],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not matching the fiscal code"));
    let out = run_binary(
        bin(),
        &[
            "operator",
            "grant",
            "BNCNNA90A41H501T",
            "--database-url",
            url,
        ],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no person with fiscal code"));
}
