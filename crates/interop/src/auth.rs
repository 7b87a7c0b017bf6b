//! Who is calling an environment: a person of an institution with roles on that environment's
//! product, by the session opened with its identity token (a cookie on pages, a bearer token
//! for scripts). Every request checks the revocations, so a logout of the Reserved Area or a
//! suspended role ends the session at once.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::request::Parts;
use platform::backoffice::{self, BackOfficeSession};
use platform::i18n;
use platform::session::SessionSecret;
use platform::web::Cookie;

use crate::error::InteropError;
use crate::model::{Environment, Role};
use crate::state::EnvState;
use crate::store::{self, Tenant};

/// The back-office name of an environment's sessions.
pub fn back_office(env: Environment) -> &'static str {
    match env {
        Environment::Produzione => "interop-produzione",
        Environment::Collaudo => "interop-collaudo",
    }
}

/// The session cookie of an environment (scoped to its path).
pub fn cookie_name(env: Environment) -> &'static str {
    match env {
        Environment::Produzione => "interop_produzione",
        Environment::Collaudo => "interop_collaudo",
    }
}

pub fn base_path(env: Environment) -> String {
    format!("/interop/{}", env.as_str())
}

/// How a session was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// A person working in an environment for an institution.
#[derive(Debug, Clone)]
pub struct Member {
    pub session: BackOfficeSession,
    pub tenant: Tenant,
    pub roles: Vec<Role>,
    pub via: Via,
}

impl Member {
    pub fn user_id(&self) -> &str {
        &self.session.claims.sub
    }

    pub fn display_name(&self) -> String {
        format!(
            "{} {}",
            self.session.claims.name, self.session.claims.family_name
        )
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, allowed: bool, what: &str) -> Result<(), InteropError> {
        if allowed {
            Ok(())
        } else {
            Err(InteropError::Forbidden(format!(
                "your role does not allow you to {what}"
            )))
        }
    }
}

/// The roles an identity token gives on the environment's product.
pub fn roles_of(session: &BackOfficeSession) -> Vec<Role> {
    let mut roles: Vec<Role> = session
        .claims
        .organization
        .as_ref()
        .map(|o| {
            o.roles
                .iter()
                .filter_map(|r| Role::parse(&r.role))
                .collect()
        })
        .unwrap_or_default();
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    roles
}

pub fn tenant_of(session: &BackOfficeSession) -> Option<Tenant> {
    let org = session.claims.organization.as_ref()?;
    Some(Tenant {
        institution_id: org.id.clone(),
        name: org.name.clone(),
        fiscal_code: org.fiscal_code.clone(),
    })
}

fn bearer(parts: &Parts) -> Option<&str> {
    platform::session::bearer_token(&parts.headers)
}

/// The session secret a request carries (bearer first, then this environment's cookie).
pub fn presented_secret(parts: &Parts, env: Environment) -> Option<(SessionSecret, Via)> {
    let (raw, via) = match bearer(parts) {
        Some(token) => (Some(token), Via::Bearer),
        None => (i18n::cookie(parts, cookie_name(env)), Via::Cookie),
    };
    raw.and_then(SessionSecret::from_cookie).map(|s| (s, via))
}

/// Constant-time comparison of a submitted CSRF token.
pub fn csrf_matches(session: &BackOfficeSession, submitted: &str) -> bool {
    backoffice::csrf_matches(session, submitted)
}

impl FromRequestParts<EnvState> for Member {
    type Rejection = InteropError;

    async fn from_request_parts(parts: &mut Parts, state: &EnvState) -> Result<Self, InteropError> {
        let Some((secret, via)) = presented_secret(parts, state.env) else {
            return Err(InteropError::Unauthenticated);
        };
        let session = backoffice::find(&state.platform.db, back_office(state.env), &secret)
            .await?
            .ok_or(InteropError::Unauthenticated)?;
        // JSON calls with the cookie carry the CSRF token in a header; page forms check their
        // own field.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let api = parts.uri.path().contains("/api/");
        if via == Via::Cookie && !safe && api {
            let token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf_matches(&session, token) {
                return Err(InteropError::Csrf);
            }
        }
        let roles = roles_of(&session);
        let Some(tenant) = tenant_of(&session).filter(|_| !roles.is_empty()) else {
            return Err(InteropError::Forbidden(format!(
                "no role on {}",
                state.env.product_id()
            )));
        };
        Ok(Member {
            session,
            tenant,
            roles,
            via,
        })
    }
}

/// `Set-Cookie` for an environment's session.
pub fn session_cookie(
    env: Environment,
    secret: &SessionSecret,
    secure: bool,
    max_age_secs: i64,
) -> HeaderValue {
    Cookie::new(cookie_name(env), secret.expose())
        .path(base_path(env))
        .max_age(u64::try_from(max_age_secs).unwrap_or(0))
        .secure(secure)
        .to_header()
}

/// `Set-Cookie` that ends an environment's session in the browser.
pub fn clear_cookie(env: Environment, secure: bool) -> HeaderValue {
    Cookie::removal(cookie_name(env))
        .path(base_path(env))
        .secure(secure)
        .to_header()
}

/// Verifies an identity token of this environment's product, opens a session and records the
/// person with their roles (the people clients' members are chosen from).
pub async fn open_session(
    state: &EnvState,
    identity_token: &str,
) -> Result<(SessionSecret, BackOfficeSession), InteropError> {
    let claims = state
        .verifier
        .verify(identity_token.trim())
        .await
        .map_err(|e| match e {
            platform::identity::VerifyError::Unavailable(why) => InteropError::Unavailable(why),
            other => InteropError::Token(other.to_string()),
        })?;
    let (secret, session) = backoffice::open(
        &state.platform.db,
        back_office(state.env),
        state.env.product_id(),
        &claims,
    )
    .await?;
    let roles = roles_of(&session);
    let Some(tenant) = tenant_of(&session).filter(|_| !roles.is_empty()) else {
        backoffice::close(&state.platform.db, &secret).await?;
        return Err(InteropError::Token(format!(
            "no role on {}",
            state.env.product_id()
        )));
    };
    store::record_entry(&state.platform.db, state.env, &tenant, &session, &roles).await?;
    Ok((secret, session))
}
