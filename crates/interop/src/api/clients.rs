//! Clients, members, purposes and keys under `/api/clients`, and the debug tool.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{PageQuery, check};
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::client::{self as rules, ClientInput, ClientKind};
use crate::model::{Role, uuid_shape};
use crate::state::EnvState;
use crate::store::clients::{self, Caller, Client, Key};
use crate::token::{self, DebugRequest, NotYours};

pub fn caller(m: &Member) -> Caller<'_> {
    Caller {
        institution_id: &m.tenant.institution_id,
        user_id: m.session.user_id(),
        roles: &m.roles,
    }
}

/// A new client.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropClientRequest)]
pub struct ClientRequest {
    /// 5 to 60 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// At most 250 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// User ids of people who entered the environment for the institution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
}

async fn create(
    state: &EnvState,
    m: &Member,
    kind: ClientKind,
    body: &ClientRequest,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    let input = check(body, ClientInput::parse)?;
    let c = clients::create(&state.platform.db, state.env, caller(m), kind, &input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `POST /api/clientsConsumer`
pub async fn create_consumer(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<ClientRequest>,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    create(&state, &m, ClientKind::Consumer, &body).await
}

/// `POST /api/clientsApi`
pub async fn create_api(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<ClientRequest>,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    create(&state, &m, ClientKind::Api, &body).await
}

/// `GET /api/clients?kind=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientsQuery {
    /// `CONSUMER` or `API` (all when absent).
    pub kind: Option<String>,
}

/// The institution's clients the caller may see.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropClients)]
#[serde(rename_all = "camelCase")]
pub struct Clients {
    pub results: Vec<Client>,
    /// How many clients the caller may see in all.
    pub total_count: i64,
}

/// `GET /api/clients?kind=CONSUMER|API&offset=&limit=`
pub async fn list(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<ClientsQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Clients>, InteropError> {
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(
            ClientKind::parse(k)
                .ok_or_else(|| InteropError::invalid("kind", "must be CONSUMER or API"))?,
        ),
    };
    let found = clients::page(
        &state.platform.db,
        state.env,
        caller(&m),
        kind,
        page.window()?,
    )
    .await?;
    Ok(Json(Clients {
        results: found.results,
        total_count: found.total_count,
    }))
}

/// `GET /api/clients/{id}`
pub async fn get(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Client>, InteropError> {
    Ok(Json(
        clients::get(&state.platform.db, state.env, caller(&m), &id).await?,
    ))
}

/// `DELETE /api/clients/{id}`
pub async fn delete(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    clients::delete(&state.platform.db, state.env, caller(&m), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/clients/{id}/users/{userId}`
pub async fn add_member(
    State(state): State<EnvState>,
    m: Member,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Json<Client>, InteropError> {
    Ok(Json(
        clients::add_member(&state.platform.db, state.env, caller(&m), &id, &user_id).await?,
    ))
}

/// `DELETE /api/clients/{id}/users/{userId}`
pub async fn remove_member(
    State(state): State<EnvState>,
    m: Member,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, InteropError> {
    clients::remove_member(&state.platform.db, state.env, caller(&m), &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A purpose to link to a client.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = InteropPurposeLink)]
#[serde(rename_all = "camelCase")]
pub struct PurposeLink {
    /// The purpose's id (a UUID).
    pub purpose_id: Option<String>,
}

/// `POST /api/clients/{id}/purposes` `{"purposeId"}`
pub async fn link_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<PurposeLink>,
) -> Result<Json<Client>, InteropError> {
    let purpose_id = match body.purpose_id {
        Some(p) if uuid_shape(&p) => p,
        Some(_) => {
            return Err(InteropError::invalid(
                "purposeId",
                "must be a purpose id (UUID)",
            ));
        }
        None => return Err(InteropError::invalid("purposeId", "is required")),
    };
    Ok(Json(
        clients::link_purpose(&state.platform.db, state.env, caller(&m), &id, &purpose_id).await?,
    ))
}

/// `DELETE /api/clients/{id}/purposes/{purposeId}`
pub async fn unlink_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path((id, purpose_id)): Path<(String, String)>,
) -> Result<StatusCode, InteropError> {
    clients::unlink_purpose(&state.platform.db, state.env, caller(&m), &id, &purpose_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A client's public keys.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropKeys)]
#[serde(rename_all = "camelCase")]
pub struct Keys {
    pub keys: Vec<Key>,
    /// How many keys the client has in all (in the answer to an upload: how many were added).
    pub total_count: i64,
}

/// `GET /api/clients/{id}/keys?offset=&limit=`
pub async fn list_keys(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Keys>, InteropError> {
    let window = page.window()?;
    let found = clients::keys_page(&state.platform.db, state.env, caller(&m), &id, window).await?;
    Ok(Json(Keys {
        keys: found.results,
        total_count: found.total_count,
    }))
}

/// One public key to upload.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropKeyRequest)]
pub struct KeyRequest {
    /// The base64 of a PEM RSA public key of at least 2048 bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `SIG`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// `RS256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// 5 to 60 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The keys of an upload: a list of 1 to 10.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropKeyUpload)]
#[serde(transparent)]
pub struct KeyUpload(pub Vec<KeyRequest>);

/// `POST /api/clients/{id}/keys` `[{key, use, alg, name}]`
pub async fn add_keys(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<KeyUpload>,
) -> Result<(StatusCode, Json<Keys>), InteropError> {
    let keys = check(&body, rules::parse_keys)?;
    let added = clients::add_keys(
        &state.platform.db,
        state.env,
        caller(&m),
        &id,
        &keys,
        state.max_keys_per_client,
    )
    .await?;
    let total_count = i64::try_from(added.len()).unwrap_or(i64::MAX);
    Ok((
        StatusCode::CREATED,
        Json(Keys {
            keys: added,
            total_count,
        }),
    ))
}

/// A public key with its JWK.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropKeyWithJwk)]
pub struct KeyWithJwk {
    #[serde(flatten)]
    pub key: Key,
    /// `kty`, `kid`, `use`, `alg`, `n`, `e`.
    #[schema(value_type = Object)]
    pub jwk: Value,
}

/// `GET /api/clients/{id}/keys/{kid}`: the key, with its JWK.
pub async fn get_key(
    State(state): State<EnvState>,
    m: Member,
    Path((id, kid)): Path<(String, String)>,
) -> Result<Json<KeyWithJwk>, InteropError> {
    let key = clients::get_key(&state.platform.db, state.env, caller(&m), &id, &kid).await?;
    let jwk = key.jwk();
    Ok(Json(KeyWithJwk { key, jwk }))
}

/// `DELETE /api/clients/{id}/keys/{kid}`
pub async fn delete_key(
    State(state): State<EnvState>,
    m: Member,
    Path((id, kid)): Path<(String, String)>,
) -> Result<StatusCode, InteropError> {
    clients::delete_key(&state.platform.db, state.env, caller(&m), &id, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The debug tool's caller.
pub fn inspector(m: &Member) -> token::Inspector<'_> {
    token::Inspector {
        institution_id: &m.tenant.institution_id,
        user_id: m.session.user_id(),
        roles: &m.roles,
    }
}

pub fn may_debug(m: &Member) -> Result<(), InteropError> {
    m.require(
        m.has(Role::Admin) || m.has(Role::Security),
        "verify client assertions (admin or security)",
    )
}

/// Reads the debug tool's request: a form (as sent to the token endpoint) or JSON with the
/// same fields.
fn debug_form(headers: &HeaderMap, body: &Bytes) -> Result<DebugRequest, InteropError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Ok(DebugRequest::parse(body));
    }
    platform::web::parse_json::<DebugRequest>(body).map_err(|e| InteropError::Invalid(vec![e]))
}

/// `POST /api/tools/validateTokenGeneration`: the token endpoint's checks on a pasted
/// assertion, naming the first that fails.
pub async fn validate_token_generation(
    State(state): State<EnvState>,
    m: Member,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<token::Diagnosis>, InteropError> {
    may_debug(&m)?;
    let request = debug_form(&headers, &body)?;
    let proof = request.dpop_proof.as_deref();
    match token::diagnose(&state, &inspector(&m), &request.form, proof).await? {
        Ok(d) => Ok(Json(d)),
        Err(NotYours::NotFound) => Err(InteropError::NotFound),
    }
}
