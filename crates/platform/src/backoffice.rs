//! Back-office sessions: what a product back-office opens when it accepts an identity token.
//! One row per session (shared by every instance); it never outlives the Reserved Area session
//! the token came from (`desired_exp`), and every request checks the revocations (logout,
//! role suspended or removed) with one indexed read.

use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};

use std::sync::LazyLock;

use crate::db::hot::{Param, Sql};
use crate::db::{Db, now_millis};
use crate::identity::{IdentityClaims, IdentityVerifier, VerifyError};
use crate::revocation;
use crate::session::{SessionSecret, random_token};
use crate::web::Cookie;

/// A back-office's door: the name its sessions carry, the product whose identity tokens open
/// it, its session cookie and the paths that cookie and its JSON API live under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Door {
    /// `backoffice_sessions.back_office`.
    pub name: &'static str,
    pub product_id: &'static str,
    pub cookie: &'static str,
    /// The path the cookie is scoped to (`/io`, `/interop/collaudo`).
    pub path: &'static str,
    /// Where its JSON API starts: unsafe calls there with the cookie carry `X-CSRF-Token`.
    pub api_prefix: &'static str,
}

/// How a session was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// Why a request has no usable session.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("no session")]
    Unauthenticated,
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Why an identity token opened no session.
#[derive(Debug, thiserror::Error)]
pub enum NotOpened {
    /// The Reserved Area's keys could not be fetched: try again later.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The token is not a valid identity token for this door.
    #[error("{0}")]
    Token(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// `From<Refused>` and `From<NotOpened>` for a context's error enum, which has the variants
/// `Unauthenticated`, `Csrf`, `Token(String)`, `Unavailable(String)` and `Sql(sqlx::Error)`.
#[macro_export]
macro_rules! backoffice_refusals {
    ($error:ident) => {
        impl From<$crate::backoffice::Refused> for $error {
            fn from(r: $crate::backoffice::Refused) -> Self {
                match r {
                    $crate::backoffice::Refused::Unauthenticated => $error::Unauthenticated,
                    $crate::backoffice::Refused::Csrf => $error::Csrf,
                    $crate::backoffice::Refused::Db(e) => $error::Sql(e),
                }
            }
        }

        impl From<$crate::backoffice::NotOpened> for $error {
            fn from(e: $crate::backoffice::NotOpened) -> Self {
                match e {
                    $crate::backoffice::NotOpened::Unavailable(why) => $error::Unavailable(why),
                    $crate::backoffice::NotOpened::Token(why) => $error::Token(why),
                    $crate::backoffice::NotOpened::Db(e) => $error::Sql(e),
                }
            }
        }
    };
}

impl Door {
    /// The session secret a request carries: a bearer token first, then the cookie.
    pub fn presented(&self, parts: &Parts) -> Option<(SessionSecret, Via)> {
        let (raw, via) = match crate::session::bearer_token(&parts.headers) {
            Some(token) => (Some(token), Via::Bearer),
            None => (crate::i18n::cookie(parts, self.cookie), Via::Cookie),
        };
        raw.and_then(SessionSecret::from_cookie).map(|s| (s, via))
    }

    /// The live session of a request. Unsafe calls of the JSON API with the cookie must carry
    /// the CSRF token in `X-CSRF-Token` (page forms check their own field).
    pub async fn session(
        &self,
        db: &Db,
        parts: &Parts,
    ) -> Result<(BackOfficeSession, Via), Refused> {
        let (secret, via) = self.presented(parts).ok_or(Refused::Unauthenticated)?;
        let session = find(db, self.name, &secret)
            .await?
            .ok_or(Refused::Unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via == Via::Cookie && !safe && parts.uri.path().starts_with(self.api_prefix) {
            let token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf_matches(&session, token) {
                return Err(Refused::Csrf);
            }
        }
        Ok((session, via))
    }

    /// Verifies an identity token of this door's product and opens a session for it. What the
    /// back-office asks beyond a valid token (a role, an organization) it checks on the
    /// session, closing it with [`close`] when refused.
    pub async fn open_with_token(
        &self,
        db: &Db,
        verifier: &IdentityVerifier,
        identity_token: &str,
    ) -> Result<(SessionSecret, BackOfficeSession), NotOpened> {
        let claims = verifier
            .verify(identity_token.trim())
            .await
            .map_err(|e| match e {
                VerifyError::Unavailable(why) => NotOpened::Unavailable(why),
                other => NotOpened::Token(other.to_string()),
            })?;
        Ok(open(db, self.name, self.product_id, &claims).await?)
    }

    /// Ends the session a logout presents: a bearer token's at once (no other site can send
    /// one), a cookie's live session only with the form's CSRF token; an ended one just loses
    /// its cookie.
    pub async fn sign_out(&self, db: &Db, parts: &Parts, csrf: &str) -> Result<(), Refused> {
        let Some((secret, via)) = self.presented(parts) else {
            return Ok(());
        };
        if via == Via::Cookie
            && let Some(session) = find(db, self.name, &secret).await?
            && !csrf_matches(&session, csrf)
        {
            return Err(Refused::Csrf);
        }
        close(db, &secret).await?;
        Ok(())
    }

    /// The answer to an accepted identity token: the session's cookie, and on to `to`.
    pub fn welcome(
        &self,
        secret: &SessionSecret,
        session: &BackOfficeSession,
        secure: bool,
        to: &str,
    ) -> Response {
        let max_age = (session.expires_at - now_millis()) / 1000;
        let cookie = self.session_cookie(secret, secure, max_age);
        ([(SET_COOKIE, cookie)], Redirect::to(to)).into_response()
    }

    /// The answer to a logout: the cookie removed, and on to `to`.
    pub fn farewell(&self, secure: bool, to: &str) -> Response {
        let cookie = self.clear_cookie(secure);
        ([(SET_COOKIE, cookie)], Redirect::to(to)).into_response()
    }

    /// `Set-Cookie` for a session of this door.
    pub fn session_cookie(
        &self,
        secret: &SessionSecret,
        secure: bool,
        max_age_secs: i64,
    ) -> HeaderValue {
        Cookie::new(self.cookie, secret.expose())
            .path(self.path)
            .max_age(u64::try_from(max_age_secs).unwrap_or(0))
            .secure(secure)
            .to_header()
    }

    /// `Set-Cookie` that ends this door's session in the browser.
    pub fn clear_cookie(&self, secure: bool) -> HeaderValue {
        Cookie::removal(self.cookie)
            .path(self.path)
            .secure(secure)
            .to_header()
    }
}

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

impl BackOfficeSession {
    /// The person's id (the token's `sub`).
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    /// "Name Surname".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.claims.name, self.claims.family_name)
    }
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
    // Every request of a back-office starts here: a point read by the secret's hash, on the
    // native driver (on SQLite on the calling thread).
    static SESSION: LazyLock<Sql> = LazyLock::new(|| {
        Sql::new(
            "SELECT product_id, claims, csrf, created_at, expires_at FROM backoffice_sessions \
             WHERE secret_hash = $1 AND back_office = $2",
        )
    });
    let hashed = hash(secret);
    let params = [Param::text(&hashed), Param::text(back_office)];
    let row = db
        .hot()
        .fetch_optional(&SESSION, &params, |r| {
            Ok((
                r.required_text("product_id")?,
                r.required_text("claims")?,
                r.required_text("csrf")?,
                r.required_int("created_at")?,
                r.required_int("expires_at")?,
            ))
        })
        .await?;
    let Some((product_id, claims, csrf, created_at, expires_at)) = row else {
        return Ok(None);
    };
    if now_millis() >= expires_at {
        return Ok(None);
    }
    let claims: IdentityClaims =
        serde_json::from_str(&claims).map_err(|e| sqlx::Error::Protocol(format!("claims: {e}")))?;
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
        csrf,
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
