//! Server-side sessions: a row per session (so they survive restarts and are shared by every
//! instance), a random secret in an HttpOnly cookie of which only the hash is stored, idle and
//! absolute expiry, a CSRF token per session, and logout recorded as a revocation.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use std::sync::LazyLock;

use crate::db::hot::{HotRow, Param, Sql};
use crate::db::{Db, now_millis};
use crate::revocation;

/// The session cookie.
pub const SESSION_COOKIE: &str = "sc_session";

/// `session.*`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A session unused for this long ends, in seconds.
    pub idle_timeout_secs: u64,
    /// A session ends this long after login whatever happens, in seconds (9 hours, as the
    /// real platform's session token).
    pub absolute_timeout_secs: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 60 * 60,
            absolute_timeout_secs: 9 * 60 * 60,
        }
    }
}

/// Who logged in, as the identity provider said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub user_id: String,
    pub fiscal_code: String,
    pub name: String,
    pub family_name: String,
    pub spid_level: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    /// Public id: carried by tokens and revocations, never enough to use the session.
    pub sid: String,
    pub identity: Identity,
    pub csrf: String,
    pub created_at: i64,
    /// Absolute expiry, milliseconds since the epoch.
    pub expires_at: i64,
}

/// The cookie's secret. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(String);

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecret(…)")
    }
}

impl SessionSecret {
    pub fn from_cookie(value: &str) -> Option<Self> {
        // 32 random bytes in base64url are 43 characters; anything else is not ours.
        (value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(value.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(d.as_ref())
    }
}

/// 32 random bytes, base64url.
pub fn random_token() -> Result<String, sqlx::Error> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| sqlx::Error::Protocol("no randomness available".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Starts a session for `identity`. When `previous` is given (a session cookie the browser
/// already had), that session ends: the id is rotated at login.
pub async fn start(
    db: &Db,
    identity: &Identity,
    settings: &SessionSettings,
    previous: Option<&SessionSecret>,
) -> Result<(SessionSecret, Session), sqlx::Error> {
    let secret = SessionSecret(random_token()?);
    let sid = uuid::Uuid::new_v4().to_string();
    let csrf = random_token()?;
    let now = now_millis();
    let expires_at = now + (settings.absolute_timeout_secs as i64) * 1000;
    let mut tx = db.begin().await.map_err(into_sqlx)?;
    if let Some(previous) = previous {
        let old: Option<String> = sqlx::query_scalar(
            "SELECT sid FROM sessions WHERE secret_hash = $1 AND ended_at IS NULL",
        )
        .bind(previous.hash())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(old) = old {
            end_in(&mut tx, &old, "rotated", now).await?;
        }
    }
    sqlx::query(
        "INSERT INTO sessions (sid, secret_hash, user_id, fiscal_code, name, family_name, \
         spid_level, csrf, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&sid)
    .bind(secret.hash())
    .bind(&identity.user_id)
    .bind(&identity.fiscal_code)
    .bind(&identity.name)
    .bind(&identity.family_name)
    .bind(&identity.spid_level)
    .bind(&csrf)
    .bind(now)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        secret,
        Session {
            sid,
            identity: identity.clone(),
            csrf,
            created_at: now,
            expires_at,
        },
    ))
}

fn into_sqlx(e: crate::db::DbError) -> sqlx::Error {
    match e {
        crate::db::DbError::Query(e) => e,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// The columns of a session, then `WHERE` the key: every request reads one (a point read by
/// a unique index, on the native driver; on SQLite on the calling thread).
macro_rules! select_session {
    ($key:literal) => {
        concat!(
            "SELECT sid, user_id, fiscal_code, name, family_name, spid_level, csrf, \
             created_at, last_seen_at, expires_at FROM sessions WHERE ",
            $key,
            " = $1 AND ended_at IS NULL"
        )
    };
}

static BY_SECRET: LazyLock<Sql> = LazyLock::new(|| Sql::new(select_session!("secret_hash")));
static BY_SID: LazyLock<Sql> = LazyLock::new(|| Sql::new(select_session!("sid")));

fn from_row(row: &dyn HotRow) -> Result<(Session, i64), sqlx::Error> {
    Ok((
        Session {
            sid: row.required_text("sid")?,
            identity: Identity {
                user_id: row.required_text("user_id")?,
                fiscal_code: row.required_text("fiscal_code")?,
                name: row.required_text("name")?,
                family_name: row.required_text("family_name")?,
                spid_level: row.required_text("spid_level")?,
            },
            csrf: row.required_text("csrf")?,
            created_at: row.required_int("created_at")?,
            expires_at: row.required_int("expires_at")?,
        },
        row.required_int("last_seen_at")?,
    ))
}

/// The live session of a cookie secret, if any; refreshes its idle time.
pub async fn find(
    db: &Db,
    secret: &SessionSecret,
    settings: &SessionSettings,
) -> Result<Option<Session>, sqlx::Error> {
    let hash = secret.hash();
    let found = db
        .hot()
        .fetch_optional(&BY_SECRET, &[Param::text(&hash)], from_row)
        .await?;
    let Some(found) = found else { return Ok(None) };
    alive(db, found, settings).await
}

/// The live session with public id `sid` (for session tokens, which carry it).
pub async fn find_by_sid(
    db: &Db,
    sid: &str,
    settings: &SessionSettings,
) -> Result<Option<Session>, sqlx::Error> {
    let found = db
        .hot()
        .fetch_optional(&BY_SID, &[Param::text(sid)], from_row)
        .await?;
    let Some(found) = found else { return Ok(None) };
    alive(db, found, settings).await
}

async fn alive(
    db: &Db,
    (session, last_seen): (Session, i64),
    settings: &SessionSettings,
) -> Result<Option<Session>, sqlx::Error> {
    let now = now_millis();
    let idle_ms = (settings.idle_timeout_secs as i64) * 1000;
    if now >= session.expires_at || now >= last_seen + idle_ms {
        return Ok(None);
    }
    // Touch at most once a minute: a write per request would serialise every reader.
    if now - last_seen > 60_000.min(idle_ms / 2) {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE sid = $2")
            .bind(now)
            .bind(&session.sid)
            .execute(db.writer())
            .await?;
    }
    Ok(Some(session))
}

/// Logout: the session ends, and the back-offices it opened learn it from the revocations.
pub async fn end(db: &Db, sid: &str, reason: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await.map_err(into_sqlx)?;
    end_in(&mut tx, sid, reason, now_millis()).await?;
    tx.commit().await
}

async fn end_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sid: &str,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE sid = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(sid)
        .execute(&mut **tx)
        .await?;
    revocation::record(
        &mut **tx,
        &revocation::Revocation {
            sid: Some(sid.to_string()),
            reason: reason.to_string(),
            ..Default::default()
        },
    )
    .await
}

/// `Set-Cookie` for a session secret.
pub fn cookie(secret: &SessionSecret, secure: bool, max_age_secs: u64) -> String {
    crate::web::Cookie::new(SESSION_COOKIE, secret.expose())
        .max_age(max_age_secs)
        .secure(secure)
        .to_header_string()
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    crate::web::Cookie::removal(SESSION_COOKIE)
        .secure(secure)
        .to_header_string()
}

/// Compares a submitted CSRF token with the session's in constant time.
pub fn csrf_matches(session: &Session, submitted: &str) -> bool {
    token_matches(&session.csrf, submitted)
}

/// Compares a submitted token with the expected one in constant time (for equal lengths).
pub fn token_matches(expected: &str, submitted: &str) -> bool {
    let (a, b) = (expected.as_bytes(), submitted.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer <token>` header, if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}
