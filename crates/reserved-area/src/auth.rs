//! Who is calling: the session, from the cookie (pages and APIs; unsafe methods then need the
//! CSRF token) or from a session token in `Authorization: Bearer` (APIs).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use platform::i18n;
use platform::jwt::{self, Unverified, now_secs};
use platform::session::{self, SESSION_COOKIE, Session, SessionSecret};
use serde::{Deserialize, Serialize};

use crate::error::RaError;
use crate::state::RaState;

/// The claims of the Reserved Area's session token, as the real platform's, plus `sid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionClaims {
    pub fiscal_number: String,
    pub name: String,
    pub family_name: String,
    pub uid: String,
    pub spid_level: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub sid: String,
}

/// A session token bound to `session`: it dies with it.
pub fn session_token(state: &RaState, session: &Session) -> Result<String, RaError> {
    let key = state.platform.keys.active().ok_or(jwt::JwtError::Sign)?;
    let claims = SessionClaims {
        fiscal_number: session.identity.fiscal_code.clone(),
        name: session.identity.name.clone(),
        family_name: session.identity.family_name.clone(),
        uid: session.identity.user_id.clone(),
        spid_level: session.identity.spid_level.clone(),
        iss: state.platform.public_url.clone(),
        aud: state.settings.session_token_audience.clone(),
        iat: now_secs(),
        exp: session.expires_at / 1000,
        sid: session.sid.clone(),
    };
    Ok(jwt::sign(key, "JWT", &claims)?)
}

/// The session named by a bearer session token, if the token is ours, valid and its session
/// alive. Identity tokens (other audience, `typ: ID`, other claims) are refused. A token that
/// passed is kept by its text until its `exp` (`RaState::verified_tokens`), so that the token a
/// caller sends with each request is verified once; the key that signed it must still be in the
/// ring and the session alive at every use.
async fn from_bearer(state: &RaState, token: &str) -> Result<Option<Session>, RaError> {
    let now = now_secs();
    let passed = match state.verified_tokens.get(token, now) {
        Some(passed) => passed,
        None => {
            let Some(passed) = verify_session_token(state, token, now) else {
                return Ok(None);
            };
            let passed = Arc::new(passed);
            let exp = passed.exp;
            state
                .verified_tokens
                .insert(token, passed.clone(), exp, now);
            passed
        }
    };
    if state.platform.keys.by_kid(&passed.kid).is_none() {
        return Ok(None);
    }
    Ok(session::find_by_sid(&state.platform.db, &passed.sid, &state.settings.session).await?)
}

/// What a session token that passed names: the key that signed it, its session and its expiry.
pub struct VerifiedSessionToken {
    kid: String,
    sid: String,
    exp: i64,
}

/// The session token `token` verified: signed by a key of the ring, ours (issuer and audience)
/// and not expired at `now`.
fn verify_session_token(state: &RaState, token: &str, now: i64) -> Option<VerifiedSessionToken> {
    let parsed = Unverified::parse(token).ok()?;
    let kid = parsed.kid()?;
    let key = state.platform.keys.by_kid(kid)?;
    let (n, e) = jwt::rsa_components(key.jwk())?;
    let claims = parsed.verify::<SessionClaims>(&n, &e).ok()?;
    if claims.aud != state.settings.session_token_audience
        || claims.iss != state.platform.public_url
        || claims.exp <= now
    {
        return None;
    }
    Some(VerifiedSessionToken {
        kid: kid.to_string(),
        sid: claims.sid,
        exp: claims.exp,
    })
}

/// The session cookie's secret, if the request carries one.
pub fn cookie_secret(parts: &Parts) -> Option<SessionSecret> {
    i18n::cookie(parts, SESSION_COOKIE).and_then(SessionSecret::from_cookie)
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// A logged-in caller of a JSON API.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub session: Session,
}

/// A logged-in person on a page (otherwise: to the login).
#[derive(Debug, Clone)]
pub struct PageUser {
    pub session: Session,
}

async fn resolve(parts: &Parts, state: &RaState) -> Result<Option<(Session, Via)>, RaError> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        return Ok(from_bearer(state, token.trim())
            .await?
            .map(|s| (s, Via::Bearer)));
    }
    let Some(secret) = cookie_secret(parts) else {
        return Ok(None);
    };
    Ok(
        session::find(&state.platform.db, &secret, &state.settings.session)
            .await?
            .map(|s| (s, Via::Cookie)),
    )
}

impl FromRequestParts<RaState> for ApiUser {
    type Rejection = RaError;

    async fn from_request_parts(parts: &mut Parts, state: &RaState) -> Result<Self, RaError> {
        let (session, via) = resolve(parts, state)
            .await?
            .ok_or(RaError::Unauthenticated { page: false })?;
        // A cookie rides along with cross-site requests: unsafe methods must prove they come
        // from our pages.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via == Via::Cookie && !safe {
            let token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !session::csrf_matches(&session, token) {
                return Err(RaError::Csrf);
            }
        }
        Ok(ApiUser { session })
    }
}

impl FromRequestParts<RaState> for PageUser {
    type Rejection = RaError;

    async fn from_request_parts(parts: &mut Parts, state: &RaState) -> Result<Self, RaError> {
        match resolve(parts, state).await? {
            Some((session, Via::Cookie)) => Ok(PageUser { session }),
            _ => Err(RaError::Unauthenticated { page: true }),
        }
    }
}

/// Checks the CSRF field of a page form.
pub fn check_form_csrf(user: &PageUser, submitted: &str) -> Result<(), RaError> {
    if session::csrf_matches(&user.session, submitted) {
        Ok(())
    } else {
        Err(RaError::Csrf)
    }
}
