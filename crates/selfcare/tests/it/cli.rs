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
