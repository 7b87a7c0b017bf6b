//! The mail outbox: queued in the caller's transaction, sent by the worker through the `log`
//! mailer or a real SMTP server (aiosmtpd, `tests/smtp/server.py`), retried with backoff, given
//! up after `max_attempts`, and sent once by two workers sharing one PostgreSQL database.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use platform::audit::{self, AuditEvent};
use platform::db::Db;
use platform::mail::{
    self, MailSettings, Mailer, MailerKind, OutgoingEmail, SmtpTls, Transport, Worker,
};
use platform::types::Email;
use serde_json::Value;
use sqlx::Row;
use testkit::TestDb;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const SUBJECT: &str = "Il tuo ruolo è sospeso";
const TEXT: &str = "Gentile Anna Bianchi,\n\nil tuo ruolo di operatore è stato sospeso \
                    dall'amministratore del Comune di Roccabella: non potrai più gestire \
                    i servizi di App IO finché non sarà riattivato.\n\nArea Riservata";

async fn migrated(test_db: &TestDb) -> Db {
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    db
}

fn email(to: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: Email::parse(to).unwrap(),
        subject: SUBJECT.into(),
        text: TEXT.into(),
    }
}

/// Short delays; a long poll, so that only a wake or a due retry makes the worker look.
fn fast_settings() -> MailSettings {
    MailSettings {
        poll_interval_ms: 60_000,
        retry_base_ms: 50,
        retry_max_ms: 400,
        max_attempts: 10,
        send_timeout_ms: 5_000,
        ..MailSettings::default()
    }
}

fn log_settings(dir: &Path) -> MailSettings {
    MailSettings {
        mailer: MailerKind::Log,
        log_dir: Some(dir.to_path_buf()),
        ..fast_settings()
    }
}

fn smtp_settings(port: u16) -> MailSettings {
    let mut settings = MailSettings {
        mailer: MailerKind::Smtp,
        ..fast_settings()
    };
    settings.smtp.host = "127.0.0.1".into();
    settings.smtp.port = Some(port);
    settings.smtp.tls = SmtpTls::None;
    settings
}

fn start_worker(db: &Db, settings: &MailSettings) -> (Mailer, Worker) {
    let mailer = Mailer::new();
    let transport = Transport::from_settings(settings).unwrap();
    let worker = Worker::spawn(db.clone(), settings, transport, &mailer);
    (mailer, worker)
}

/// Queues `email` in a transaction of its own, commits, wakes the worker.
async fn enqueue_committed(db: &Db, mailer: &Mailer, email: &OutgoingEmail) -> String {
    let mut tx = db.begin().await.unwrap();
    let id = mail::enqueue(&mut *tx, email).await.unwrap();
    tx.commit().await.unwrap();
    mailer.wake();
    id
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Debug)]
struct OutboxRow {
    status: String,
    attempts: i64,
    last_error: Option<String>,
    sent_at: Option<i64>,
}

async fn outbox_row(db: &Db, id: &str) -> OutboxRow {
    let row = sqlx::query("SELECT status, attempts, last_error, sent_at FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(db.reader())
        .await
        .unwrap();
    OutboxRow {
        status: row.get("status"),
        attempts: row.get("attempts"),
        last_error: row.get("last_error"),
        sent_at: row.get("sent_at"),
    }
}

async fn outbox_count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(db.reader())
        .await
        .unwrap()
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The value of header `name` in `raw`, unfolded.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        match &mut value {
            Some(v) if line.starts_with([' ', '\t']) => v.push_str(line),
            Some(_) => break,
            None => {
                if let Some((key, rest)) = line.split_once(':')
                    && key.eq_ignore_ascii_case(name)
                {
                    value = Some(rest.trim_start().to_string());
                }
            }
        }
    }
    value
}

/// Decodes the RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) of a header
/// (the space between two encoded words is not part of the text; any other is).
fn decode_words(value: &str) -> String {
    use base64::Engine;
    let mut bytes = Vec::new();
    let mut previous_encoded = false;
    for (i, word) in value.split_whitespace().enumerate() {
        let parts: Vec<&str> = word.split('?').collect();
        let encoded = parts.len() == 5 && parts[0] == "=" && parts[4] == "=";
        if i > 0 && !(encoded && previous_encoded) {
            bytes.push(b' ');
        }
        if encoded {
            assert!(parts[1].eq_ignore_ascii_case("utf-8"), "{value}");
            if parts[2].eq_ignore_ascii_case("b") {
                bytes.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(parts[3])
                        .unwrap(),
                );
            } else {
                bytes.extend(quoted_printable(&parts[3].replace('_', " ")));
            }
        } else {
            bytes.extend(word.as_bytes());
        }
        previous_encoded = encoded;
    }
    String::from_utf8(bytes).unwrap()
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "");
    let raw = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' && i + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// The text of a single-part message as the `log` mailer wrote it.
fn body_text(raw: &str) -> String {
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    let encoding = header(raw, "Content-Transfer-Encoding").unwrap_or_default();
    let bytes = if encoding.eq_ignore_ascii_case("quoted-printable") {
        quoted_printable(body)
    } else if encoding.eq_ignore_ascii_case("base64") {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(body.replace("\r\n", ""))
            .unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

#[tokio::test]
async fn log_mailer_sends_only_what_committed() {
    let test_db = TestDb::new().await;
    let db = migrated(&test_db).await;
    let dir = tempfile::tempdir().unwrap();
    let (mailer, worker) = start_worker(&db, &log_settings(dir.path()));

    // Rolled back: the email never existed.
    let mut tx = db.begin().await.unwrap();
    mail::enqueue(&mut *tx, &email("anna.bianchi@comune.roccabella.it"))
        .await
        .unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.role.suspended"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    mailer.wake();

    // Committed with the change it tells about: sent at once (the poll is a minute away).
    let mut tx = db.begin().await.unwrap();
    let id = mail::enqueue(&mut *tx, &email("anna.bianchi@comune.roccabella.it"))
        .await
        .unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.role.suspended"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    mailer.wake();

    wait_until("the .eml file", Duration::from_secs(10), || async {
        !eml_files(dir.path()).is_empty()
    })
    .await;
    wait_until("SENT", Duration::from_secs(5), || async {
        outbox_row(&db, &id).await.status == "SENT"
    })
    .await;
    let files = eml_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].display().to_string().contains(&id), "{files:?}");
    assert_eq!(outbox_count(&db).await, 1);
    assert_eq!(
        audit::count(db.reader(), "test.role.suspended")
            .await
            .unwrap(),
        1
    );

    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(
        decode_words(&header(&raw, "Subject").unwrap()),
        SUBJECT,
        "{raw}"
    );
    assert_eq!(
        header(&raw, "To").unwrap(),
        "anna.bianchi@comune.roccabella.it"
    );
    assert!(
        header(&raw, "From")
            .unwrap()
            .contains("noreply@selfcare.local"),
        "{raw}"
    );
    assert_eq!(
        header(&raw, "Message-ID").unwrap(),
        format!("<{id}@selfcare.local>")
    );
    assert!(
        header(&raw, "Content-Type")
            .unwrap()
            .to_ascii_lowercase()
            .contains("text/plain; charset=utf-8"),
        "{raw}"
    );
    assert_eq!(body_text(&raw).trim_end(), TEXT, "{raw}");

    let row = outbox_row(&db, &id).await;
    assert_eq!(row.attempts, 0);
    assert!(row.sent_at.is_some());

    // Stopping does not wait for the next poll, a minute away (a bound far from both).
    tokio::time::timeout(Duration::from_secs(30), worker.stop())
        .await
        .expect("the worker stops without waiting for its next poll");
    db.close().await;
}

#[tokio::test]
async fn the_app_runs_the_mail_worker() {
    let mut app = testkit::TestApp::spawn().await;
    let platform = app.app().platform().clone();
    let id = enqueue_committed(
        &platform.db,
        &platform.mail,
        &email("mario.rossi@comune.roccabella.it"),
    )
    .await;
    // `demo` writes its emails under <data-dir>/mail.
    let dir = app.data_dir().join("mail");
    wait_until("the demo's .eml file", Duration::from_secs(10), || async {
        eml_files(&dir).len() == 1
    })
    .await;
    assert!(eml_files(&dir)[0].display().to_string().contains(&id));
    app.stop().await;
}

/// Whether aiosmtpd can run; a missing one skips the test, or fails it under SELFCARE_E2E=1.
fn smtp_server_available(test: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let hint = "install it with `python3 -m pip install aiosmtpd==1.4.6`";
        assert!(
            !testkit::e2e_required(),
            "{test}: Python's aiosmtpd is required ({}=1) but not installed; {hint}",
            testkit::E2E_VAR
        );
        testkit::skipped(
            test,
            &format!(
                "Python's aiosmtpd is not installed ({hint}); set {}=1 to make this a failure",
                testkit::E2E_VAR
            ),
        );
    }
    found
}

/// A port on which nothing listens (for now).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A real SMTP server (aiosmtpd) that saves what it accepts; stopped when dropped.
struct SmtpServer {
    _child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    async fn start(port: u16, login: Option<(&str, &str)>) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let mut command = tokio::process::Command::new("python3");
        command
            .arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((user, password)) = login {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), stdout.next_line()).await;
        if !matches!(&ready, Ok(Ok(Some(line))) if line == "ready") {
            let _ = child.start_kill();
            let mut stderr = String::new();
            let _ = child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .await;
            panic!("the SMTP server did not start on port {port}: {ready:?}\n{stderr}");
        }
        SmtpServer { _child: child, dir }
    }

    /// What the server received, as its Python email parser read it, oldest first.
    fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn smtp_delivers_utf8_with_authentication() {
    if !smtp_server_available("mail::smtp_delivers_utf8_with_authentication") {
        return;
    }
    let port = free_port();
    let server = SmtpServer::start(port, Some(("selfcare", "s3cr3t-smtp"))).await;
    let test_db = TestDb::new().await;
    let db = migrated(&test_db).await;
    let mut settings = smtp_settings(port);
    settings.smtp.username = "selfcare".into();
    settings.smtp.password = "s3cr3t-smtp".into();
    let (mailer, worker) = start_worker(&db, &settings);

    let id = enqueue_committed(&db, &mailer, &email("anna.bianchi@comune.roccabella.it")).await;
    wait_until(
        "the message at the SMTP server",
        Duration::from_secs(10),
        || async { !server.messages().is_empty() },
    )
    .await;
    wait_until("SENT", Duration::from_secs(5), || async {
        outbox_row(&db, &id).await.status == "SENT"
    })
    .await;
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["login"], "selfcare");
    assert_eq!(m["mail_from"], "noreply@selfcare.local");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["anna.bianchi@comune.roccabella.it"])
    );
    assert_eq!(m["subject"], SUBJECT);
    assert_eq!(m["from"], "Area Riservata <noreply@selfcare.local>");
    assert_eq!(m["to"], "anna.bianchi@comune.roccabella.it");
    assert_eq!(m["message_id"], format!("<{id}@selfcare.local>"));
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["charset"], "utf-8");
    assert_eq!(
        m["body"].as_str().unwrap().replace("\r\n", "\n").trim_end(),
        TEXT
    );
    let row = outbox_row(&db, &id).await;
    assert_eq!(row.attempts, 0);
    assert!(row.last_error.is_none());
    worker.stop().await;
    db.close().await;
}

#[tokio::test]
async fn smtp_rejected_recipient_fails_at_once() {
    if !smtp_server_available("mail::smtp_rejected_recipient_fails_at_once") {
        return;
    }
    let port = free_port();
    let server = SmtpServer::start(port, None).await;
    let test_db = TestDb::new().await;
    let db = migrated(&test_db).await;
    let (mailer, worker) = start_worker(&db, &smtp_settings(port));

    let rejected = enqueue_committed(&db, &mailer, &email("nobody@rejected.example")).await;
    let accepted = enqueue_committed(&db, &mailer, &email("giulia.verdi@regione.valdoro.it")).await;
    wait_until("both outcomes", Duration::from_secs(10), || async {
        outbox_row(&db, &rejected).await.status == "FAILED"
            && outbox_row(&db, &accepted).await.status == "SENT"
    })
    .await;
    // A permanent refusal (5xx) is not tried again.
    let row = outbox_row(&db, &rejected).await;
    assert_eq!(row.attempts, 1);
    let error = row.last_error.unwrap();
    assert!(error.contains("550"), "{error}");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(
        messages[0]["rcpt_tos"],
        serde_json::json!(["giulia.verdi@regione.valdoro.it"])
    );
    worker.stop().await;
    db.close().await;
}

#[tokio::test]
async fn smtp_down_then_up_is_retried_until_sent() {
    if !smtp_server_available("mail::smtp_down_then_up_is_retried_until_sent") {
        return;
    }
    let test_db = TestDb::new().await;
    let db = migrated(&test_db).await;
    let port = free_port();
    let mut settings = smtp_settings(port);
    settings.retry_base_ms = 100;
    settings.retry_max_ms = 400;
    settings.max_attempts = 100;
    let (mailer, worker) = start_worker(&db, &settings);

    let id = enqueue_committed(&db, &mailer, &email("luca.neri@comune.roccabella.it")).await;
    // Nothing listens: the send fails and is retried after 100 ms, then 200 ms, ...
    let started = Instant::now();
    wait_until("two failed attempts", Duration::from_secs(10), || async {
        outbox_row(&db, &id).await.attempts >= 2
    })
    .await;
    // Backoff, not a busy loop: the second failure comes after the first retry's 100 ms.
    assert!(started.elapsed() >= Duration::from_millis(100));
    let row = outbox_row(&db, &id).await;
    assert_eq!(row.status, "PENDING");
    assert!(row.last_error.is_some());

    let server = SmtpServer::start(port, None).await;
    wait_until(
        "SENT once the server is up",
        Duration::from_secs(10),
        || async { outbox_row(&db, &id).await.status == "SENT" },
    )
    .await;
    let row = outbox_row(&db, &id).await;
    assert!(row.attempts >= 2, "{row:?}");
    // Within one backoff period the message arrived, once.
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["message_id"], format!("<{id}@selfcare.local>"));
    worker.stop().await;
    db.close().await;
}

#[tokio::test]
async fn smtp_unreachable_fails_after_max_attempts() {
    // Needs no SMTP server: nothing listens on the port.
    let test_db = TestDb::new().await;
    let db = migrated(&test_db).await;
    let mut settings = smtp_settings(free_port());
    settings.retry_base_ms = 20;
    settings.max_attempts = 3;
    let (mailer, worker) = start_worker(&db, &settings);

    let mut tx = db.begin().await.unwrap();
    let id = mail::enqueue(&mut *tx, &email("paolo.esposito@pagopa.it"))
        .await
        .unwrap();
    audit::record(&mut *tx, &AuditEvent::new("test.notified"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    mailer.wake();

    wait_until("FAILED", Duration::from_secs(10), || async {
        outbox_row(&db, &id).await.status == "FAILED"
    })
    .await;
    let row = outbox_row(&db, &id).await;
    assert_eq!(row.attempts, 3);
    assert!(row.sent_at.is_none());
    let error = row.last_error.unwrap();
    assert!(error.to_lowercase().contains("connect"), "{error}");
    // The change that queued it stays.
    assert_eq!(audit::count(db.reader(), "test.notified").await.unwrap(), 1);
    // Given up means given up: no further attempt.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(outbox_row(&db, &id).await.attempts, 3);
    worker.stop().await;
    db.close().await;
}

#[tokio::test]
async fn two_workers_on_postgresql_send_each_email_once() {
    let test_db = TestDb::new().await;
    if !test_db.is_postgres() {
        testkit::skipped(
            "mail::two_workers_on_postgresql_send_each_email_once",
            "SQLite belongs to one process (one writer, one worker); runs on PostgreSQL, with \
             SELFCARE_TEST_DATABASE_URL",
        );
        return;
    }
    const N: usize = 60;
    // Two instances: each its own pool, worker and mail directory.
    let db_a = migrated(&test_db).await;
    let db_b = test_db.connect().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mailer_a, worker_a) = start_worker(&db_a, &log_settings(dir_a.path()));
    let (mailer_b, worker_b) = start_worker(&db_b, &log_settings(dir_b.path()));

    let mut tx = db_a.begin().await.unwrap();
    let mut ids = HashSet::new();
    for i in 0..N {
        let id = mail::enqueue(&mut *tx, &email(&format!("utente{i}@comune.roccabella.it")))
            .await
            .unwrap();
        ids.insert(id);
    }
    tx.commit().await.unwrap();
    mailer_a.wake();
    mailer_b.wake();

    wait_until("every email SENT", Duration::from_secs(30), || async {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'SENT'")
            .fetch_one(db_a.reader())
            .await
            .unwrap();
        sent == N as i64
    })
    .await;
    worker_a.stop().await;
    worker_b.stop().await;

    let (files_a, files_b) = (eml_files(dir_a.path()), eml_files(dir_b.path()));
    let sent: Vec<String> = files_a
        .iter()
        .chain(&files_b)
        .map(|f| {
            let name = f.file_stem().unwrap().to_str().unwrap();
            name.split_once('-').unwrap().1.to_string()
        })
        .collect();
    assert_eq!(sent.len(), N, "a: {}, b: {}", files_a.len(), files_b.len());
    assert_eq!(sent.iter().cloned().collect::<HashSet<_>>(), ids);
    let retried: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE attempts > 0")
        .fetch_one(db_a.reader())
        .await
        .unwrap();
    assert_eq!(retried, 0);
    eprintln!(
        "worker a sent {}, worker b sent {}",
        files_a.len(),
        files_b.len()
    );
    db_a.close().await;
    db_b.close().await;
}
