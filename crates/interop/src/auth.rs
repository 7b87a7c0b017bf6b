//! Who is calling an environment: a person of an institution with roles on that environment's
//! product, by the session opened with its identity token (a cookie on pages, a bearer token
//! for scripts). Every request checks the revocations, so a logout of the Reserved Area or a
//! suspended role ends the session at once.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::request::Parts;
pub use platform::backoffice::Via;
use platform::backoffice::{self, BackOfficeSession, Door};
use platform::session::SessionSecret;

use crate::error::InteropError;
use crate::model::{Environment, Role};
use crate::state::EnvState;
use crate::store::{self, Tenant};

/// An environment's back-office door: its sessions, its product, its cookie and paths. The
/// environments' routers are nested under their path, so their handlers see paths without it
/// (`/api/...`).
pub fn door(env: Environment) -> &'static Door {
    const PRODUZIONE: Door = Door {
        name: "interop-produzione",
        product_id: Environment::Produzione.product_id(),
        cookie: "interop_produzione",
        path: "/interop/produzione",
        api_prefix: "/api/",
    };
    const COLLAUDO: Door = Door {
        name: "interop-collaudo",
        product_id: Environment::Collaudo.product_id(),
        cookie: "interop_collaudo",
        path: "/interop/collaudo",
        api_prefix: "/api/",
    };
    match env {
        Environment::Produzione => &PRODUZIONE,
        Environment::Collaudo => &COLLAUDO,
    }
}

/// The back-office name of an environment's sessions.
pub fn back_office(env: Environment) -> &'static str {
    door(env).name
}

pub fn base_path(env: Environment) -> String {
    door(env).path.to_string()
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
    /// Who acts, for the activity log: the institution and the person.
    pub fn by(&self) -> crate::store::notices::By<'_> {
        crate::store::notices::By {
            institution_id: &self.tenant.institution_id,
            user_id: self.session.user_id(),
        }
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

/// The session secret a request carries (bearer first, then this environment's cookie).
pub fn presented_secret(parts: &Parts, env: Environment) -> Option<(SessionSecret, Via)> {
    door(env).presented(parts)
}

/// Constant-time comparison of a submitted CSRF token.
pub fn csrf_matches(session: &BackOfficeSession, submitted: &str) -> bool {
    backoffice::csrf_matches(session, submitted)
}

impl FromRequestParts<EnvState> for Member {
    type Rejection = InteropError;

    async fn from_request_parts(parts: &mut Parts, state: &EnvState) -> Result<Self, InteropError> {
        let (session, via) = door(state.env).session(&state.platform.db, parts).await?;
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
    door(env).session_cookie(secret, secure, max_age_secs)
}

/// `Set-Cookie` that ends an environment's session in the browser.
pub fn clear_cookie(env: Environment, secure: bool) -> HeaderValue {
    door(env).clear_cookie(secure)
}

/// Verifies an identity token of this environment's product, opens a session and records the
/// person with their roles (the people clients' members are chosen from).
pub async fn open_session(
    state: &EnvState,
    identity_token: &str,
) -> Result<(SessionSecret, BackOfficeSession), InteropError> {
    let (secret, session) = door(state.env)
        .open_with_token(&state.platform.db, &state.verifier, identity_token)
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
