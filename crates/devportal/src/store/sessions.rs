//! The delegates' sessions (only the SHA-256 of their secret is stored).

use super::*;

/// A logged-in delegate, found by the hash of their cookie's secret.
#[derive(Clone)]
pub(crate) struct SessionRow {
    pub secret_hash: String,
    pub delegate_id: String,
    pub csrf: String,
    pub name: String,
    pub surname: String,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash and the CSRF token are secrets too.
        f.debug_struct("SessionRow")
            .field("delegate_id", &self.delegate_id)
            .finish_non_exhaustive()
    }
}

/// A successful login: the failures of the email are forgotten, the session the browser had
/// (if any) ends, and a new one starts. Returns the new CSRF token.
pub(crate) async fn start_session(
    db: &Db,
    delegate_id: &str,
    email: &str,
    secret_hash: &str,
    previous_hash: Option<&str>,
    ttl_millis: i64,
) -> Result<String, DevportalError> {
    let csrf = random_hex(32)?;
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM dp_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some(previous) = previous_hash {
        sqlx::query("DELETE FROM dp_sessions WHERE secret_hash = $1")
            .bind(previous)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM dp_login_failures WHERE email = $1")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO dp_sessions (secret_hash, delegate_id, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(secret_hash)
    .bind(delegate_id)
    .bind(&csrf)
    .bind(now)
    .bind(now + ttl_millis)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(csrf)
}

pub(crate) async fn find_session(
    db: &Db,
    secret_hash: &str,
) -> Result<Option<SessionRow>, DevportalError> {
    let row = sqlx::query(
        "SELECT s.secret_hash, s.delegate_id, s.csrf, d.name, d.surname \
         FROM dp_sessions s JOIN dp_delegates d ON d.id = s.delegate_id \
         WHERE s.secret_hash = $1 AND s.expires_at > $2",
    )
    .bind(secret_hash)
    .bind(now_millis())
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SessionRow {
        secret_hash: r.try_get("secret_hash")?,
        delegate_id: r.try_get("delegate_id")?,
        csrf: r.try_get("csrf")?,
        name: r.try_get("name")?,
        surname: r.try_get("surname")?,
    }))
}

pub(crate) async fn end_session(db: &Db, secret_hash: &str) -> Result<(), DevportalError> {
    sqlx::query("DELETE FROM dp_sessions WHERE secret_hash = $1")
        .bind(secret_hash)
        .execute(db.writer())
        .await?;
    Ok(())
}
