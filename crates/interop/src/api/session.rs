//! The environment's session for scripts, who is calling, the people of the institution and
//! the vouchers' public keys.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use platform::web::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::{self, Member};
use crate::error::InteropError;
use crate::state::EnvState;
use crate::store::{self, Person};

/// The environment's voucher public keys.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropJwkSet)]
pub struct JwkSet {
    /// RSA public keys as JWKs (`kty`, `kid`, `use`, `alg`, `n`, `e`).
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Value>,
}

/// `GET /.well-known/jwks.json`: the public keys of this environment's vouchers.
pub async fn jwks(State(state): State<EnvState>) -> Response {
    let keys = state
        .keys
        .as_ref()
        .and_then(|k| k.jwks().get("keys").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(JwkSet { keys }),
    )
        .into_response()
}

/// A client's public key, as the keys endpoint gives it (the real platform's `GET /keys/{kid}`
/// answer): producers check an `Agid-JWT-TrackingEvidence` (AUDIT_REST_02) with it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropClientPublicKey)]
#[serde(rename_all = "camelCase")]
pub struct ClientPublicKey {
    /// The client the key belongs to.
    pub client_id: String,
    /// The key as a JWK: `{kty: RSA, kid, use: sig, alg: RS256, n, e}`.
    #[schema(value_type = Object)]
    pub jwk: Value,
}

/// `GET /keys/{kid}`: a client's public key by its `kid`, in this environment (public, like
/// the JWKS: the key is public, and a producer checks its consumers' tracking evidence with
/// it).
pub async fn client_key(
    State(state): State<EnvState>,
    Path(kid): Path<String>,
) -> Result<Response, InteropError> {
    let kid = kid.trim();
    let facts = crate::store::tokens::facts(&state.platform.db, state.env, kid, None).await?;
    let Some(key) = facts.key else {
        return Err(InteropError::NotFound);
    };
    let body = ClientPublicKey {
        client_id: key.client_id,
        jwk: serde_json::json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": key.n, "e": key.e,
        }),
    };
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(body),
    )
        .into_response())
}

/// `POST /api/session`: an identity token of the environment's product.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropSessionRequest)]
pub struct SessionRequest {
    /// The identity token the Reserved Area issued for this environment's product.
    pub identity_token: Option<String>,
}

/// A bearer token for scripts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropSessionOpened)]
#[serde(rename_all = "camelCase")]
pub struct SessionOpened {
    /// Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    /// `produzione` or `collaudo`.
    pub environment: &'static str,
}

/// `POST /api/session` `{"identity_token": ...}` → `{"token": ...}`: a bearer token for
/// scripts.
pub async fn open_session(
    State(state): State<EnvState>,
    Json(body): Json<SessionRequest>,
) -> Result<axum::Json<SessionOpened>, InteropError> {
    let token = body
        .identity_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| InteropError::invalid("identity_token", "is required"))?;
    let (secret, session) = auth::open_session(&state, &token).await?;
    Ok(axum::Json(SessionOpened {
        token: secret.expose().to_string(),
        expires_at: session.expires_at,
        environment: state.env.as_str(),
    }))
}

/// The caller's institution.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropInstitution)]
#[serde(rename_all = "camelCase")]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub fiscal_code: String,
    /// PA or GSP, as the last IPA import says; absent when IPA does not list it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The contact email (CONTACT_EMAIL), needed to submit a request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
}

/// Who is calling, for which institution, in which environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropMe)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub environment: &'static str,
    pub user_id: String,
    pub name: String,
    pub family_name: String,
    pub institution: Institution,
    /// `admin`, `api`, `security`.
    pub roles: Vec<&'static str>,
}

/// `GET /api/me`: who is calling, for which institution, in which environment.
pub async fn me(State(state): State<EnvState>, m: Member) -> Result<axum::Json<Me>, InteropError> {
    let db = &state.platform.db;
    let kind = crate::store::ipa::kind(db, &m.tenant.fiscal_code).await?;
    let contact_email =
        crate::store::attributes::contact_email(db, state.env, &m.tenant.institution_id).await?;
    Ok(axum::Json(Me {
        environment: state.env.as_str(),
        user_id: m.session.user_id().to_string(),
        name: m.session.claims.name.clone(),
        family_name: m.session.claims.family_name.clone(),
        institution: Institution {
            id: m.tenant.institution_id.clone(),
            name: m.tenant.name.clone(),
            fiscal_code: m.tenant.fiscal_code.clone(),
            kind,
            contact_email,
        },
        roles: m.roles.iter().map(|r| r.as_str()).collect(),
    }))
}

/// The people who entered this environment for the caller's institution.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropPeople)]
#[serde(rename_all = "camelCase")]
pub struct People {
    pub users: Vec<Person>,
    /// How many people the institution has in all.
    pub total_count: i64,
}

/// `GET /api/users?offset=&limit=`: the people who entered this environment for the caller's
/// institution, by name.
pub async fn people(
    State(state): State<EnvState>,
    m: Member,
    platform::web::Query(page): platform::web::Query<super::PageQuery>,
) -> Result<axum::Json<People>, InteropError> {
    let found = store::people_page(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        page.window()?,
    )
    .await?;
    Ok(axum::Json(People {
        users: found.results,
        total_count: found.total_count,
    }))
}
