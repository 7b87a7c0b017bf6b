//! Back-office sessions: what a product back-office opens when it accepts an identity token.
//! One row per session (shared by every instance); it never outlives the Reserved Area session
//! the token came from (`desired_exp`), and every request checks the revocations (logout,
//! role suspended or removed) with one indexed read.

use sqlx::Row;

use crate::db::{Db, now_millis};
use crate::identity::IdentityClaims;
use crate::revocation;
use crate::session::{SessionSecret, random_token};

/// Compares a submitted CSRF token with the back-office session's in constant time.
pub fn csrf_matches(session: &BackOfficeSession, submitted: &str) -> bool {
    crate::session::token_matches(&session.csrf, submitted)
}

#[derive(Debug, Clone)]
pub struct BackOfficeSession {
    pub claims: IdentityClaims,
    pub csrf: String,
    pub created_at: i64,
    /// Milliseconds since the epoch: the token's `desired_exp`.
    pub expires_at: i64,
}

fn hash(secret: &SessionSecret) -> String {
    use base64::Engine;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.expose().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Opens a session of `back_office` for the (already verified) identity-token claims;
/// `product_id` is the product the token was issued for.
pub async fn open(
    db: &Db,
    back_office: &str,
    product_id: &str,
    claims: &IdentityClaims,
) -> Result<(SessionSecret, BackOfficeSession), sqlx::Error> {
    let raw = random_token()?;
    let secret = SessionSecret::from_cookie(&raw)
        .ok_or_else(|| sqlx::Error::Protocol("bad session secret".into()))?;
    let csrf = random_token()?;
    let now = now_millis();
    let expires_at = claims.desired_exp.saturating_mul(1000);
    let claims_json =
        serde_json::to_string(claims).map_err(|e| sqlx::Error::Protocol(format!("claims: {e}")))?;
    sqlx::query(
        "INSERT INTO backoffice_sessions (secret_hash, back_office, sid, user_id, institution_id, \
         product_id, claims, csrf, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(hash(&secret))
    .bind(back_office)
    .bind(&claims.sid)
    .bind(&claims.sub)
    .bind(claims.organization.as_ref().map(|o| o.id.clone()))
    .bind(product_id)
    .bind(claims_json)
    .bind(&csrf)
    .bind(now)
    .bind(expires_at)
    .execute(db.writer())
    .await?;
    Ok((
        secret,
        BackOfficeSession {
            claims: claims.clone(),
            csrf,
            created_at: now,
            expires_at,
        },
    ))
}

/// The live session of `back_office` for a cookie secret: not expired, not revoked.
pub async fn find(
    db: &Db,
    back_office: &str,
    secret: &SessionSecret,
) -> Result<Option<BackOfficeSession>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT product_id, claims, csrf, created_at, expires_at FROM backoffice_sessions \
         WHERE secret_hash = $1 AND back_office = $2",
    )
    .bind(hash(secret))
    .bind(back_office)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires_at: i64 = row.try_get("expires_at")?;
    if now_millis() >= expires_at {
        return Ok(None);
    }
    let claims: IdentityClaims = serde_json::from_str(&row.try_get::<String, _>("claims")?)
        .map_err(|e| sqlx::Error::Protocol(format!("claims: {e}")))?;
    let created_at: i64 = row.try_get("created_at")?;
    let product_id: String = row.try_get("product_id")?;
    let institution = claims
        .organization
        .as_ref()
        .map(|o| o.id.as_str())
        .unwrap_or("");
    if revocation::is_revoked(
        db,
        &claims.sid,
        &claims.sub,
        institution,
        &product_id,
        created_at,
    )
    .await?
    {
        return Ok(None);
    }
    Ok(Some(BackOfficeSession {
        claims,
        csrf: row.try_get("csrf")?,
        created_at,
        expires_at,
    }))
}

/// Ends a back-office session (its own logout).
pub async fn close(db: &Db, secret: &SessionSecret) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM backoffice_sessions WHERE secret_hash = $1")
        .bind(hash(secret))
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Removes expired back-office sessions.
pub async fn purge_expired(db: &Db) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM backoffice_sessions WHERE expires_at < $1")
        .bind(now_millis())
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}
