//! Notifications by email through a durable outbox.
//!
//! A context calls [`enqueue`] in the transaction of the change the email tells about, so that
//! the email exists exactly when the change committed, and calls [`Mailer::wake`] after the
//! commit. A background [`Worker`] sends what is due through a [`Transport`] (`smtp`, or `log`:
//! `.eml` files in a directory), retries failures with exponential backoff and gives up after
//! `mail.max_attempts` (status `FAILED`, with the last error). A failed send never blocks nor
//! undoes the change that queued it.
//!
//! Several instances may share one PostgreSQL database: a worker claims one row at a time with
//! `FOR UPDATE SKIP LOCKED` and pushes its `next_attempt_at` forward as a lease, so no other
//! worker takes it while it is being sent (only a crash or a send that outlives the lease, twice
//! `mail.send_timeout_ms`, can make it go out twice). SQLite has one writer, so a plain claim is
//! safe there.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Row};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::ConfigError;
use crate::db::{Db, Dialect, now_millis};
use crate::types::Email;

pub const STATUS_PENDING: &str = "PENDING";
pub const STATUS_SENT: &str = "SENT";
pub const STATUS_FAILED: &str = "FAILED";

/// The longest `last_error` kept, in characters.
const MAX_ERROR_CHARS: usize = 1000;

/// An email to send: plain text, UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

/// Queues `email` in the caller's transaction (or on a pool): it is sent only if that
/// transaction commits. Returns the outbox id (also the email's `Message-ID` local part).
/// Call [`Mailer::wake`] after the commit to have it sent at once rather than at the next poll.
pub async fn enqueue<'e, E>(executor: E, email: &OutgoingEmail) -> Result<String, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO outbox (id, to_address, subject, body, status, attempts, next_attempt_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(&id)
    .bind(email.to.as_str())
    .bind(&email.subject)
    .bind(&email.text)
    .bind(STATUS_PENDING)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(id)
}

/// `mail.mailer`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailerKind {
    /// Writes each email as a `.eml` file under `mail.log_dir` instead of sending it.
    Log,
    /// Sends through the SMTP server of `mail.smtp.*`.
    Smtp,
}

/// `mail.smtp.tls`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network); default port 25.
    None,
    /// STARTTLS, required: nothing is sent if the upgrade fails; default port 587.
    Starttls,
    /// TLS from the first byte (SMTPS); default port 465.
    Tls,
}

/// `mail.*`
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    pub mailer: MailerKind,
    /// The sender, e.g. `Area Riservata <noreply@selfcare.local>`.
    pub from: String,
    /// Where the `log` mailer writes its `.eml` files (`demo`: `<data-dir>/mail`).
    pub log_dir: Option<PathBuf>,
    pub smtp: SmtpSettings,
    /// How often the worker looks for due emails besides being woken, in milliseconds.
    pub poll_interval_ms: u64,
    /// The wait before the first retry, doubled at each further failure, in milliseconds.
    pub retry_base_ms: u64,
    /// The longest wait between two retries, in milliseconds.
    pub retry_max_ms: u64,
    /// Sends tried before the email is given up (`FAILED`).
    pub max_attempts: u32,
    /// The longest one send may take before it counts as failed, in milliseconds. A claimed
    /// email is leased for twice this long.
    pub send_timeout_ms: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            mailer: MailerKind::Log,
            from: "Area Riservata <noreply@selfcare.local>".into(),
            log_dir: None,
            smtp: SmtpSettings::default(),
            poll_interval_ms: 5_000,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            max_attempts: 10,
            send_timeout_ms: 60_000,
        }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("mailer", &self.mailer)
            .field("from", &self.from)
            .field("log_dir", &self.log_dir)
            .field("smtp", &self.smtp)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("retry_base_ms", &self.retry_base_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("max_attempts", &self.max_attempts)
            .field("send_timeout_ms", &self.send_timeout_ms)
            .finish()
    }
}

/// `mail.smtp.*`. `Debug` hides the password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: String,
    /// Defaults by `tls`: 25, 587 (STARTTLS) or 465 (TLS).
    pub port: Option<u16>,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    pub tls: SmtpTls,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: None,
            username: String::new(),
            password: String::new(),
            tls: SmtpTls::Starttls,
        }
    }
}

impl SmtpSettings {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("tls", &self.tls)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("invalid setting `mail.from` ({value:?}): {reason}")]
    InvalidFrom { value: String, reason: String },
    #[error("cannot create the mail directory {path} (setting `mail.log_dir`): {source}")]
    LogDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up TLS for the SMTP server {host} (setting `mail.smtp.tls`): {reason}")]
    Tls { host: String, reason: String },
}

/// How emails leave: written to files (`log`) or sent by SMTP.
pub struct Transport {
    from: Mailbox,
    kind: TransportKind,
}

enum TransportKind {
    Log { dir: PathBuf },
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>, String),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Transport {
    /// Builds the transport `settings` ask for; says which setting is missing or wrong.
    pub fn from_settings(settings: &MailSettings) -> Result<Transport, MailError> {
        let from = Mailbox::from_str(settings.from.trim()).map_err(|e| MailError::InvalidFrom {
            value: settings.from.clone(),
            reason: e.to_string(),
        })?;
        let kind = match settings.mailer {
            MailerKind::Log => {
                let dir = settings.log_dir.clone().ok_or(ConfigError::Missing {
                    key: "mail.log_dir",
                    hint: "the `log` mailer (the default) writes each email as a .eml file into \
                           this directory instead of sending it; or send them with \
                           mail.mailer = \"smtp\" and mail.smtp.host (SELFCARE_MAIL__LOG_DIR, \
                           SELFCARE_MAIL__MAILER)",
                })?;
                std::fs::create_dir_all(&dir).map_err(|source| MailError::LogDir {
                    path: dir.clone(),
                    source,
                })?;
                TransportKind::Log { dir }
            }
            MailerKind::Smtp => {
                let smtp = &settings.smtp;
                let host = smtp.host.trim().to_string();
                if host.is_empty() {
                    return Err(ConfigError::Missing {
                        key: "mail.smtp.host",
                        hint: "the SMTP server the `smtp` mailer sends through \
                               (SELFCARE_MAIL__SMTP__HOST)",
                    }
                    .into());
                }
                let port = smtp.port();
                let tls_error = |e: lettre::transport::smtp::Error| MailError::Tls {
                    host: host.clone(),
                    reason: e.to_string(),
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
                    .port(port)
                    .timeout(Some(Duration::from_millis(settings.send_timeout_ms.max(1))));
                builder = match smtp.tls {
                    SmtpTls::None => builder.tls(Tls::None),
                    SmtpTls::Starttls => builder.tls(Tls::Required(
                        TlsParameters::new(host.clone()).map_err(tls_error)?,
                    )),
                    SmtpTls::Tls => builder.tls(Tls::Wrapper(
                        TlsParameters::new(host.clone()).map_err(tls_error)?,
                    )),
                };
                if !smtp.username.is_empty() {
                    if smtp.tls == SmtpTls::None {
                        tracing::warn!(
                            host = %host,
                            "mail.smtp.tls is `none`: the SMTP password travels unencrypted"
                        );
                    }
                    builder = builder.credentials(Credentials::new(
                        smtp.username.clone(),
                        smtp.password.clone(),
                    ));
                }
                let tls = match smtp.tls {
                    SmtpTls::None => "none",
                    SmtpTls::Starttls => "starttls",
                    SmtpTls::Tls => "tls",
                };
                TransportKind::Smtp(
                    Box::new(builder.build()),
                    format!("smtp {host}:{port} (tls: {tls})"),
                )
            }
        };
        Ok(Transport { from, kind })
    }

    /// What the transport does, for the start-up log (no secrets).
    pub fn describe(&self) -> String {
        match &self.kind {
            TransportKind::Log { dir } => format!("log: .eml files in {}", dir.display()),
            TransportKind::Smtp(_, description) => description.clone(),
        }
    }

    /// Whether emails are only written to files.
    pub fn is_log(&self) -> bool {
        matches!(self.kind, TransportKind::Log { .. })
    }

    fn message(&self, email: &Claimed) -> Result<Message, SendError> {
        let to = Mailbox::from_str(&email.to_address)
            .map_err(|e| SendError::permanent(format!("invalid recipient: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(format!("<{}@{}>", email.id, self.from.email.domain())))
            .singlepart(SinglePart::plain(email.body.clone()))
            .map_err(|e| SendError::permanent(format!("cannot build the message: {e}")))
    }

    async fn send(&self, email: &Claimed) -> Result<(), SendError> {
        let message = self.message(email)?;
        match &self.kind {
            TransportKind::Log { dir } => {
                let name = format!("{}-{}.eml", now_millis(), email.id);
                let temporary = dir.join(format!(".{name}.tmp"));
                let path = dir.join(&name);
                // Written aside, then renamed: a reader never sees half a file.
                let written = async {
                    tokio::fs::write(&temporary, message.formatted()).await?;
                    tokio::fs::rename(&temporary, &path).await
                }
                .await;
                written.map_err(|e| SendError::transient(format!("cannot write {name}: {e}")))?;
                tracing::info!(id = %email.id, path = %path.display(), "email written (log mailer)");
                Ok(())
            }
            TransportKind::Smtp(transport, _) => {
                transport.send(message).await.map_err(|e| SendError {
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                })?;
                tracing::info!(id = %email.id, "email sent");
                Ok(())
            }
        }
    }
}

/// Why a send failed; a permanent failure (a 5xx answer, a bad address) is not retried.
#[derive(Debug)]
struct SendError {
    permanent: bool,
    message: String,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self {
            permanent: true,
            message,
        }
    }

    fn transient(message: String) -> Self {
        Self {
            permanent: false,
            message,
        }
    }
}

/// The handle contexts keep (`platform.mail`): wakes this process's worker after a commit
/// that queued emails. Cheap to clone; harmless when no worker runs.
#[derive(Clone, Default)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Has the worker look for due emails now rather than at its next poll. A wake while the
    /// worker is busy is kept for when it is done.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The wait before retry number `attempts` (1 for the first): `base · 2^(attempts-1)`, at most
/// `max`.
pub fn backoff_ms(base_ms: u64, max_ms: u64, attempts: u32) -> u64 {
    let exponent = attempts.saturating_sub(1).min(63);
    base_ms.saturating_mul(1u64 << exponent).min(max_ms)
}

/// The background sender. Stop it with [`Worker::stop`] (dropping it stops it too, without
/// waiting).
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Worker")
    }
}

impl Worker {
    /// Starts sending the due emails of `db` through `transport`, woken by `mailer`.
    pub fn spawn(db: Db, settings: &MailSettings, transport: Transport, mailer: &Mailer) -> Worker {
        let send_timeout = Duration::from_millis(settings.send_timeout_ms.max(1));
        let runner = Runner {
            db,
            transport,
            wake: mailer.wake.clone(),
            poll_interval: Duration::from_millis(settings.poll_interval_ms.max(1)),
            retry_base_ms: settings.retry_base_ms,
            retry_max_ms: settings.retry_max_ms.max(settings.retry_base_ms),
            max_attempts: settings.max_attempts.max(1),
            send_timeout,
            lease_ms: i64::try_from(send_timeout.as_millis().saturating_mul(2)).unwrap_or(i64::MAX),
        };
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(runner.run(stopping));
        Worker { stop, task }
    }

    /// Lets the email being sent finish (at most `mail.send_timeout_ms`), then stops.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the mail worker ended abnormally");
        }
    }
}

/// A row claimed for sending, with the lease that marks it as ours.
struct Claimed {
    id: String,
    to_address: String,
    subject: String,
    body: String,
    attempts: i64,
    lease_until: i64,
}

struct Runner {
    db: Db,
    transport: Transport,
    wake: Arc<Notify>,
    poll_interval: Duration,
    retry_base_ms: u64,
    retry_max_ms: u64,
    max_attempts: u32,
    send_timeout: Duration,
    lease_ms: i64,
}

fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

impl Runner {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::debug!(transport = %self.transport.describe(), "mail worker started");
        while !stopping(&stop) {
            // Everything due now, one at a time.
            loop {
                if stopping(&stop) {
                    return;
                }
                match self.claim().await {
                    Ok(Some(email)) => self.deliver(email).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "mail outbox: cannot claim due emails");
                        break;
                    }
                }
            }
            let wait = self.next_wait().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                changed = stop.changed() => if changed.is_err() { return; },
            }
        }
    }

    /// Takes the oldest due email and leases it. PostgreSQL: rows locked by another worker's
    /// claim are skipped, and once that claim commits they are no longer due. SQLite: the one
    /// writer runs claims one after the other.
    async fn claim(&self) -> Result<Option<Claimed>, sqlx::Error> {
        let now = now_millis();
        let lease_until = now.saturating_add(self.lease_ms);
        let lock = match self.db.dialect() {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET next_attempt_at = $1 WHERE id = (SELECT id FROM outbox \
             WHERE status = $2 AND next_attempt_at <= $3 \
             ORDER BY next_attempt_at, created_at LIMIT 1{lock}) \
             RETURNING id, to_address, subject, body, attempts"
        );
        let row = sqlx::query(&sql)
            .bind(lease_until)
            .bind(STATUS_PENDING)
            .bind(now)
            .fetch_optional(self.db.writer())
            .await?;
        row.map(|row| {
            Ok(Claimed {
                id: row.try_get("id")?,
                to_address: row.try_get("to_address")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
                lease_until,
            })
        })
        .transpose()
    }

    /// Until the next pending email is due (a retry, or a lease that runs out), at most the
    /// poll interval.
    async fn next_wait(&self) -> Duration {
        let next: Result<Option<i64>, sqlx::Error> =
            sqlx::query_scalar("SELECT min(next_attempt_at) FROM outbox WHERE status = $1")
                .bind(STATUS_PENDING)
                .fetch_one(self.db.reader())
                .await;
        match next {
            Ok(Some(at)) => {
                let until = u64::try_from(at.saturating_sub(now_millis())).unwrap_or(0);
                // A little slack, so the row is due when we look.
                Duration::from_millis(until.saturating_add(5)).min(self.poll_interval)
            }
            Ok(None) => self.poll_interval,
            Err(e) => {
                tracing::warn!(error = %e, "mail outbox: cannot read the next due time");
                self.poll_interval
            }
        }
    }

    async fn deliver(&self, email: Claimed) {
        let result =
            match tokio::time::timeout(self.send_timeout, self.transport.send(&email)).await {
                Ok(result) => result,
                Err(_) => Err(SendError::transient(format!(
                    "no answer within {} ms",
                    self.send_timeout.as_millis()
                ))),
            };
        let outcome = match result {
            Ok(()) => self.mark_sent(&email).await,
            Err(error) => self.mark_failed(&email, error).await,
        };
        match outcome {
            Ok(true) => {}
            // Our lease ran out and another worker took the email over.
            Ok(false) => tracing::warn!(id = %email.id, "mail outbox: lease lost while sending"),
            Err(e) => tracing::error!(
                id = %email.id,
                error = %e,
                "mail outbox: cannot record the outcome of a send (the email will be tried again \
                 when its lease runs out)"
            ),
        }
    }

    async fn mark_sent(&self, email: &Claimed) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, sent_at = $2 \
             WHERE id = $3 AND status = $4 AND next_attempt_at = $5",
        )
        .bind(STATUS_SENT)
        .bind(now_millis())
        .bind(&email.id)
        .bind(STATUS_PENDING)
        .bind(email.lease_until)
        .execute(self.db.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_failed(&self, email: &Claimed, error: SendError) -> Result<bool, sqlx::Error> {
        let attempts = email.attempts.saturating_add(1);
        let give_up = error.permanent || attempts >= i64::from(self.max_attempts);
        let now = now_millis();
        let delay = backoff_ms(
            self.retry_base_ms,
            self.retry_max_ms,
            u32::try_from(attempts).unwrap_or(u32::MAX),
        );
        let next = now.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
        let message: String = error.message.chars().take(MAX_ERROR_CHARS).collect();
        if give_up {
            tracing::error!(
                id = %email.id,
                attempts,
                permanent = error.permanent,
                error = %message,
                "email given up"
            );
        } else {
            tracing::warn!(
                id = %email.id,
                attempts,
                retry_in_ms = delay,
                error = %message,
                "email not sent; will retry"
            );
        }
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, last_error = $4 \
             WHERE id = $5 AND status = $6 AND next_attempt_at = $7",
        )
        .bind(if give_up {
            STATUS_FAILED
        } else {
            STATUS_PENDING
        })
        .bind(attempts)
        .bind(if give_up { now } else { next })
        .bind(&message)
        .bind(&email.id)
        .bind(STATUS_PENDING)
        .bind(email.lease_until)
        .execute(self.db.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_ms(100, 10_000, 1), 100);
        assert_eq!(backoff_ms(100, 10_000, 2), 200);
        assert_eq!(backoff_ms(100, 10_000, 4), 800);
        assert_eq!(backoff_ms(100, 10_000, 8), 10_000);
        assert_eq!(backoff_ms(100, 10_000, 200), 10_000);
        assert_eq!(backoff_ms(u64::MAX / 2, u64::MAX, 3), u64::MAX);
    }

    #[test]
    fn debug_hides_the_smtp_password() {
        let mut settings = MailSettings::default();
        settings.smtp.username = "mailer".into();
        settings.smtp.password = "s3cr3t-value".into();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        settings.mailer = MailerKind::Smtp;
        settings.smtp.host = "smtp.example.it".into();
        let transport = Transport::from_settings(&settings).unwrap();
        let shown = format!("{transport:?} {}", transport.describe());
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("smtp.example.it:587"), "{shown}");
    }

    #[test]
    fn missing_settings_are_named() {
        let settings = MailSettings::default();
        let err = Transport::from_settings(&settings).unwrap_err().to_string();
        assert!(err.contains("mail.log_dir"), "{err}");
        let settings = MailSettings {
            mailer: MailerKind::Smtp,
            ..MailSettings::default()
        };
        let err = Transport::from_settings(&settings).unwrap_err().to_string();
        assert!(err.contains("mail.smtp.host"), "{err}");
        let settings = MailSettings {
            mailer: MailerKind::Smtp,
            from: "not an address".into(),
            ..MailSettings::default()
        };
        let err = Transport::from_settings(&settings).unwrap_err().to_string();
        assert!(err.contains("mail.from"), "{err}");
    }

    #[test]
    fn default_ports_follow_tls() {
        let mut smtp = SmtpSettings::default();
        assert_eq!(smtp.port(), 587);
        smtp.tls = SmtpTls::Tls;
        assert_eq!(smtp.port(), 465);
        smtp.tls = SmtpTls::None;
        assert_eq!(smtp.port(), 25);
        smtp.port = Some(2525);
        assert_eq!(smtp.port(), 2525);
    }
}
