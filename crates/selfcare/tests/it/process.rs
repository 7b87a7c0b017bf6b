use std::time::Duration;
use testkit::Fetch;

use platform::audit;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::{AppProcess, TestDb, client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{bin, refused};

async fn started_count(db: &TestDb) -> i64 {
    let conn = db.connect().await;
    let n = audit::count(conn.reader(), "system.started").await.unwrap();
    conn.close().await;
    n
}

#[tokio::test]
async fn sigkill_under_load_and_restart_keeps_the_data() {
    let db = TestDb::new().await;
    let first = AppProcess::serve(bin(), db.url(), &[]).await;
    let http = client();
    assert_eq!(
        http.get(first.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Requests in flight when the process dies.
    let mut load = Vec::new();
    for _ in 0..8 {
        let (http, url) = (http.clone(), first.url("/"));
        load.push(tokio::spawn(async move {
            for _ in 0..50 {
                let _ = http.get(&url).send().await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    first.kill().await;
    for task in load {
        let _ = task.await;
    }

    let second = AppProcess::serve(bin(), db.url(), &[]).await;
    assert_eq!(
        http.get(second.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Both starts are on record: nothing committed before the kill was lost.
    assert_eq!(started_count(&db).await, 2);
    if let Some(file) = db.sqlite_file() {
        let conn = db.connect().await;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(conn.reader())
            .await
            .unwrap();
        assert_eq!(check, "ok", "{}", file.display());
        conn.close().await;
    }
    second.terminate();
    assert!(second.wait(Duration::from_secs(15)).await.success());
}

#[tokio::test]
async fn sigterm_lets_a_slow_request_finish() {
    let db = TestDb::new().await;
    let app = AppProcess::serve(bin(), db.url(), &[]).await;
    let addr = app.url.trim_start_matches("http://").to_string();

    // A client that sends its body slowly: the request is in flight when SIGTERM arrives.
    let body = "lang=en&back=/x";
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /lang HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..7]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    app.terminate();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // New connections are no longer accepted while the old one finishes.
    assert!(
        client().get(app.url("/healthz")).send().await.is_err(),
        "still accepting after SIGTERM"
    );
    stream.write_all(&body.as_bytes()[7..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answer in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(answer.contains("location: /x"), "{answer}");

    let status = app.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn two_instances_share_one_postgresql() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        testkit::skipped(
            "two_instances_share_one_postgresql",
            "SQLite has one writer process; set SELFCARE_TEST_DATABASE_URL to run it",
        );
        return;
    }
    // Started together, so that both run the migrations at once.
    let (a, b) = tokio::join!(
        AppProcess::serve(bin(), db.url(), &[]),
        AppProcess::serve(bin(), db.url(), &[])
    );
    let http = client();
    for app in [&a, &b] {
        assert_eq!(
            http.get(app.url("/readyz")).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    assert_eq!(started_count(&db).await, 2);
    a.kill().await;
    b.kill().await;
}

async fn demo(data_dir: &std::path::Path) -> AppProcess {
    AppProcess::start(
        bin(),
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            // Not the Developer Portal's default port, which other tests' demos may hold.
            "--devportal-listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ],
        &[("SELFCARE_LOG__LEVEL", "warn")],
    )
    .await
}

async fn kid(app: &AppProcess) -> String {
    let jwks: Value = client()
        .get(app.url("/.well-known/jwks.json"))
        .fetch_json()
        .await;
    jwks["keys"][0]["kid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn demo_restarts_on_its_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo(dir.path()).await;
    let kid_before = kid(&first).await;
    first.terminate();
    assert!(first.wait(Duration::from_secs(15)).await.success());

    let second = demo(dir.path()).await;
    // The same signing key, the same database.
    assert_eq!(kid(&second).await, kid_before);
    let home = client().get(second.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    second.kill().await;

    let db = platform::db::Db::connect(
        &format!("sqlite://{}", dir.path().join("selfcare.db").display()),
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        audit::count(db.reader(), "system.started").await.unwrap(),
        2
    );
    db.close().await;
}

/// `selfcare demo` on free ports with the data directory `dir`.
fn demo_args(dir: &std::path::Path) -> [&str; 7] {
    [
        "demo",
        "--listen",
        "127.0.0.1:0",
        // Not the Developer Portal's default port, which other tests' demos may hold.
        "--devportal-listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.to_str().unwrap(),
    ]
}

#[tokio::test]
async fn a_corrupt_or_unreadable_database_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("selfcare.db"), vec![0xAB; 16 * 1024]).unwrap();
    let err = refused(&demo_args(dir.path()), &[]).await;
    assert!(err.contains("not a SQLite database or is corrupt"), "{err}");
    assert!(err.contains("selfcare.db"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // A database path that cannot be opened as a file.
    std::fs::remove_file(dir.path().join("selfcare.db")).unwrap();
    std::fs::create_dir(dir.path().join("selfcare.db")).unwrap();
    let err = refused(&demo_args(dir.path()), &[]).await;
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // A signing key file that is not a key.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/signing-1.pem"), "garbage").unwrap();
    let err = refused(&demo_args(dir.path()), &[]).await;
    assert!(err.contains("not a PEM RSA private key"), "{err}");
}

#[tokio::test]
async fn logs_are_json_lines_when_configured() {
    let db = TestDb::new().await;
    let app = AppProcess::serve(
        bin(),
        db.url(),
        &[
            ("SELFCARE_LOG__FORMAT", "json"),
            ("SELFCARE_LOG__LEVEL", "info"),
        ],
    )
    .await;
    app.terminate();
    let stderr_handle = app.stderr_handle();
    assert!(app.wait(Duration::from_secs(15)).await.success());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = stderr_handle.lock().unwrap().clone();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["message"] == "listening"), "{logs}");
    assert!(lines.iter().all(|l| l.get("level").is_some()), "{logs}");
}
