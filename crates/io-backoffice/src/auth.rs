//! Who is calling the IO back-office: a person (back-office session from the identity token,
//! by cookie on pages or bearer token for scripts), a platform operator (review queue only),
//! or a manage key (manage API).

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::request::Parts;
pub use platform::backoffice::Via;
use platform::backoffice::{self, BackOfficeSession, Door};
use platform::client_addr::ClientAddr;
use platform::session::SessionSecret;

use crate::error::IoError;
use crate::model::{self, SubscriptionKind};
use crate::secrets::ApiKey;
use crate::state::IoState;
use crate::store::{self, KeyOwner, Tenant};

/// The back-office's door: its sessions, the product whose identity tokens open it, its
/// cookie (scoped to `/io`) and its JSON API.
pub const DOOR: Door = Door {
    name: "io",
    product_id: "prod-io",
    cookie: "io_session",
    path: "/io",
    api_prefix: "/io/api/",
};
/// The back-office name in `backoffice_sessions`.
pub const BACK_OFFICE: &str = DOOR.name;
pub const COOKIE: &str = DOOR.cookie;
/// The header that carries a key, as on the real gateway.
pub const KEY_HEADER: &str = "ocp-apim-subscription-key";

/// The product roles of `prod-io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }
}

/// A person of an institution in the back-office.
#[derive(Debug, Clone)]
pub struct BoUser {
    pub session: BackOfficeSession,
    pub tenant: Tenant,
    pub role: Role,
    pub via: Via,
}

impl BoUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), IoError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(IoError::Forbidden(
                "only the institution's administrators (admin of prod-io) may do this".into(),
            ))
        }
    }
}

/// A platform operator (review queue).
#[derive(Debug, Clone)]
pub struct ReviewOperator {
    pub session: BackOfficeSession,
    pub via: Via,
}

/// The role a (verified) identity token gives on `prod-io`; admin wins over operator.
pub fn role_of(session: &BackOfficeSession) -> Option<Role> {
    let roles = &session.claims.organization.as_ref()?.roles;
    if roles.iter().any(|r| r.role == "admin") {
        Some(Role::Admin)
    } else if roles.iter().any(|r| r.role == "operator") {
        Some(Role::Operator)
    } else {
        None
    }
}

pub fn tenant_of(session: &BackOfficeSession) -> Option<Tenant> {
    let org = session.claims.organization.as_ref()?;
    Some(Tenant {
        institution_id: org.id.clone(),
        name: org.name.clone(),
        fiscal_code: org.fiscal_code.clone(),
    })
}

/// The live back-office session of a request (cookie or bearer), the CSRF token checked.
async fn resolve(parts: &Parts, state: &IoState) -> Result<(BackOfficeSession, Via), IoError> {
    Ok(DOOR.session(&state.platform.db, parts).await?)
}

/// Constant-time comparison of a submitted CSRF token.
pub fn csrf_matches(session: &BackOfficeSession, submitted: &str) -> bool {
    backoffice::csrf_matches(session, submitted)
}

impl FromRequestParts<IoState> for BoUser {
    type Rejection = IoError;

    async fn from_request_parts(parts: &mut Parts, state: &IoState) -> Result<Self, IoError> {
        let (session, via) = resolve(parts, state).await?;
        if session.claims.platform_operator {
            return Err(IoError::Forbidden(
                "platform operators work on the review queue only".into(),
            ));
        }
        let (Some(tenant), Some(role)) = (tenant_of(&session), role_of(&session)) else {
            return Err(IoError::Forbidden("no role on prod-io".into()));
        };
        Ok(BoUser {
            session,
            tenant,
            role,
            via,
        })
    }
}

impl FromRequestParts<IoState> for ReviewOperator {
    type Rejection = IoError;

    async fn from_request_parts(parts: &mut Parts, state: &IoState) -> Result<Self, IoError> {
        let (session, via) = resolve(parts, state).await?;
        if !session.claims.platform_operator {
            return Err(IoError::Forbidden(
                "the review queue is for platform operators".into(),
            ));
        }
        Ok(ReviewOperator { session, via })
    }
}

/// Either kind of back-office session (pages that adapt to who is there).
#[derive(Debug, Clone)]
pub enum Anyone {
    User(BoUser),
    Operator(ReviewOperator),
}

/// The key presented in `Ocp-Apim-Subscription-Key`, if any.
fn presented_key(parts: &Parts) -> Option<ApiKey> {
    parts
        .headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty() && v.len() <= 128)
        .map(ApiKey::presented)
}

/// Looks up a key and checks the caller's address against `cidrs`.
pub async fn key_owner(state: &IoState, parts: &Parts) -> Result<(KeyOwner, IpAddr), IoError> {
    let key = presented_key(parts).ok_or(IoError::Unauthenticated)?;
    let owner = store::key_owner(&state.platform.db, &key)
        .await?
        .ok_or(IoError::Unauthenticated)?;
    let ClientAddr(ip) =
        ClientAddr::from_parts(parts).unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0])));
    Ok((owner, ip))
}

/// A caller of the manage API: an institution's manage key, from an authorized address.
#[derive(Debug, Clone)]
pub struct ManageKey {
    pub owner: KeyOwner,
}

impl FromRequestParts<IoState> for ManageKey {
    type Rejection = IoError;

    async fn from_request_parts(parts: &mut Parts, state: &IoState) -> Result<Self, IoError> {
        let (owner, ip) = key_owner(state, parts).await?;
        if owner.subscription.kind != SubscriptionKind::ManageRoot {
            return Err(IoError::Forbidden(
                "a service key does not authenticate the manage API; use a manage key".into(),
            ));
        }
        let cidrs = model::parse_cidrs(&owner.subscription.cidrs).unwrap_or_default();
        if !model::address_allowed(&cidrs, ip) {
            return Err(IoError::AddressNotAllowed);
        }
        Ok(ManageKey { owner })
    }
}

/// What the service handlers shared by the manage API and the back-office API need to know of
/// their caller.
pub trait Caller: Send + Sync {
    fn tenant(&self) -> &Tenant;
    /// Who did it, for the history.
    fn actor(&self) -> String;
    /// May see and regenerate keys of services, and manage keys.
    fn may_regenerate(&self) -> bool;
}

impl Caller for BoUser {
    fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    fn actor(&self) -> String {
        self.session.user_id().to_string()
    }

    fn may_regenerate(&self) -> bool {
        self.is_admin()
    }
}

impl Caller for ManageKey {
    fn tenant(&self) -> &Tenant {
        &self.owner.tenant
    }

    fn actor(&self) -> String {
        format!("key:{}", self.owner.subscription.id)
    }

    fn may_regenerate(&self) -> bool {
        true
    }
}

/// `Set-Cookie` for a back-office session (scoped to `/io`).
pub fn session_cookie(secret: &SessionSecret, secure: bool, max_age_secs: i64) -> HeaderValue {
    DOOR.session_cookie(secret, secure, max_age_secs)
}

/// `Set-Cookie` that ends the back-office session's cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    DOOR.clear_cookie(secure)
}

/// Verifies an identity token and opens a back-office session; records the institution and
/// makes sure it has its root manage key pair.
pub async fn open_session(
    state: &IoState,
    identity_token: &str,
) -> Result<(SessionSecret, BackOfficeSession), IoError> {
    let (secret, session) = DOOR
        .open_with_token(&state.platform.db, &state.verifier, identity_token)
        .await?;
    if !session.claims.platform_operator {
        let tenant = tenant_of(&session).ok_or(IoError::Token("no organization".into()))?;
        if role_of(&session).is_none() {
            backoffice::close(&state.platform.db, &secret).await?;
            return Err(IoError::Token("no role on prod-io".into()));
        }
        store::upsert_institution(&state.platform.db, &tenant).await?;
        store::ensure_manage_subscription(&state.platform.db, &state.ring, &tenant.institution_id)
            .await?;
    }
    Ok((secret, session))
}

/// The session secret a request carries (bearer or cookie), for logout.
pub fn presented_secret(parts: &Parts) -> Option<SessionSecret> {
    DOOR.presented(parts).map(|(secret, _)| secret)
}
