use platform::audit::{self, AuditEvent};
use platform::db::Db;
use testkit::TestDb;

#[tokio::test]
async fn migrations_run_once_and_again_harmlessly() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
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
    let db = test_db.connect().await;
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
    let db = test_db.connect().await;
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

/// The group-commit writer on the native driver: a lone record is committed (nothing waits
/// for a second one), a burst is committed whole, every record carries its values, and a
/// read-then-write transaction of the sqlx pool runs beside the writer without failing.
#[tokio::test]
async fn group_commits_write_lone_records_bursts_and_leave_other_writers_alone() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let writer = audit::GroupWriter::spawn(&db, "test audit records");

    let mut lone = AuditEvent::new("test.group.lone");
    lone.actor = Some("someone".into());
    lone.details = serde_json::json!({"n": 1});
    let committed = tokio::time::timeout(std::time::Duration::from_secs(10), writer.record(lone))
        .await
        .expect("a lone record is committed without waiting for another");
    assert!(committed);
    let (actor, details, institution): (Option<String>, String, Option<String>) = sqlx::query_as(
        "SELECT actor, details, institution_id FROM audit_log WHERE action = 'test.group.lone'",
    )
    .fetch_one(db.reader())
    .await
    .unwrap();
    assert_eq!(actor.as_deref(), Some("someone"));
    assert_eq!(details, r#"{"n":1}"#);
    assert_eq!(institution, None);

    // A burst, while a transaction of the pool reads and then writes.
    let burst = futures::future::join_all(
        (0..300).map(|_| writer.record(AuditEvent::new("test.group.burst"))),
    );
    let other = async {
        for _ in 0..20 {
            let mut tx = db.begin().await.unwrap();
            let n = audit::count(&mut *tx, "test.group.burst").await.unwrap();
            let mut event = AuditEvent::new("test.group.beside");
            event.target = Some(n.to_string());
            audit::record(&mut *tx, &event).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    let (written, ()) = tokio::join!(burst, other);
    assert!(written.iter().all(|ok| *ok));
    assert_eq!(
        audit::count(db.reader(), "test.group.burst").await.unwrap(),
        300
    );
    assert_eq!(
        audit::count(db.reader(), "test.group.beside")
            .await
            .unwrap(),
        20
    );
    db.close().await;
}

/// The writer's pacing, wired to the real runtime: while the runtime has time to spare,
/// records in a row are committed one after the other at once, however long
/// `database.group_commit_interval_ms`; after the runtime's worker was busy all along, the
/// next commit is paced (it waits for company), on SQLite only as long as the runtime has work:
/// once its worker parks, nobody else can come and the commit starts. The waits themselves are the pure
/// `Pacing`'s, unit-tested with made-up instants; this test reads the writer's own count of
/// paced commits, never the wall clock, so a busy machine does not change its outcome.
#[tokio::test]
async fn group_commits_wait_for_more_records_only_when_the_runtime_is_saturated() {
    use platform::config::DatabaseSettings;
    use std::time::Duration;

    let test_db = TestDb::new().await;
    let idle = DatabaseSettings {
        group_commit_interval_ms: 60_000,
        ..Default::default()
    };
    let db = Db::connect(test_db.url(), &idle).await.unwrap();
    db.migrate().await.unwrap();
    let writer = audit::GroupWriter::spawn(&db, "test audit records");
    for _ in 0..3 {
        let committed = tokio::time::timeout(
            Duration::from_secs(30),
            writer.record(AuditEvent::new("test.pace.idle")),
        )
        .await
        .expect("with time to spare, a commit does not wait for the interval");
        assert!(committed);
    }
    assert_eq!(writer.commits(), 3);
    assert_eq!(writer.paced_commits(), 0);
    db.close().await;

    // On SQLite an interval of ten days: a paced commit that waited out even a small share of
    // it would never come back in time. On PostgreSQL a pause is always waited out whole.
    let sqlite = test_db.url().starts_with("sqlite:");
    let paced = DatabaseSettings {
        group_commit_interval_ms: if sqlite { 864_000_000 } else { 50 },
        ..Default::default()
    };
    let db = Db::connect(test_db.url(), &paced).await.unwrap();
    let writer = audit::GroupWriter::spawn(&db, "test audit records");
    // The runtime's only worker busy for far longer than the writer's sample, then parked for
    // a moment (tokio publishes a worker's busy time when it parks). Busy time is counted in
    // the worker's own poll, so a slow machine only makes it longer.
    std::thread::sleep(Duration::from_millis(2_000));
    tokio::time::sleep(Duration::from_millis(1)).await;
    for _ in 0..2 {
        // The second commit is paced, but while this test waits for it the runtime has
        // nothing else to do (its worker parks), so nobody else can join it: on SQLite the
        // pause ends.
        let committed = tokio::time::timeout(
            Duration::from_secs(60),
            writer.record(AuditEvent::new("test.pace.busy")),
        )
        .await
        .expect("a paced commit stops waiting once the runtime has run out of work");
        assert!(committed);
    }
    assert_eq!(writer.commits(), 2);
    assert!(
        writer.paced_commits() >= 1,
        "after saturation the commits wait for company"
    );
    let n = audit::count(db.reader(), "test.pace.busy").await.unwrap();
    assert_eq!(n, 2);
    db.close().await;
}

/// The writer checkpoints the WAL itself once the log has grown past
/// `CHECKPOINT_FRAMES` (SQLite's automatic checkpoint is replaced, so that it does not run
/// inside a commit): a long run of lone commits leaves every record in the database and, on
/// SQLite, a log that stays near that size instead of growing with every commit.
#[tokio::test]
async fn a_long_run_of_group_commits_keeps_the_log_bounded() {
    use platform::group_commit::CHECKPOINT_FRAMES;

    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let writer = audit::GroupWriter::spawn(&db, "test audit records");
    // Each lone commit writes at least two frames (the row and its table's index pages), so
    // this is more than twice the threshold's worth of frames.
    let commits = CHECKPOINT_FRAMES as usize;
    for i in 0..commits {
        let mut event = AuditEvent::new("test.group.long");
        event.target = Some(format!("record {i:05} of a long run of lone commits"));
        assert!(writer.record(event).await);
    }
    assert_eq!(
        audit::count(db.reader(), "test.group.long").await.unwrap(),
        commits as i64
    );
    if let Some(path) = platform::db::sqlite_path(test_db.url()) {
        let wal = std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len();
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(db.reader())
            .await
            .unwrap();
        // A frame is a page and its 24-byte header; a checkpointed log is written again from
        // its start, so its file stays about the threshold plus one commit long.
        let bound = (CHECKPOINT_FRAMES as u64 + 64) * (page as u64 + 24);
        assert!(
            wal <= bound,
            "the log is {wal} bytes after {commits} commits: never checkpointed (bound {bound})"
        );
    }
    db.close().await;
}
