use platform::audit::{self, AuditEvent};
use platform::db::Db;
use testkit::TestDb;

#[tokio::test]
async fn migrations_run_once_and_again_harmlessly() {
    let test_db = TestDb::new().await;
    let db = Db::connect(test_db.url(), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert!(n >= 1);
    db.close().await;
}

#[tokio::test]
async fn a_transaction_commits_all_or_nothing() {
    let test_db = TestDb::new().await;
    let db = Db::connect(test_db.url(), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.rolled_back"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        audit::count(db.reader(), "test.rolled_back").await.unwrap(),
        0
    );

    let mut tx = db.begin().await.unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.committed"))
        .await
        .unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.committed"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        audit::count(db.reader(), "test.committed").await.unwrap(),
        2
    );
    db.close().await;
}

#[tokio::test]
async fn concurrent_writers_all_succeed() {
    let test_db = TestDb::new().await;
    let db = Db::connect(test_db.url(), &Default::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                let mut tx = db.begin().await.unwrap();
                audit::record(&mut *tx, &AuditEvent::new("test.concurrent"))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        audit::count(db.reader(), "test.concurrent").await.unwrap(),
        160
    );
    db.close().await;
}

#[tokio::test]
async fn the_app_records_its_start_in_the_audit_log() {
    let app = testkit::TestApp::spawn().await;
    let db = app.db.connect().await;
    assert_eq!(
        audit::count(db.reader(), "system.started").await.unwrap(),
        1
    );
    db.close().await;
}
