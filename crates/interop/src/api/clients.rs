//! Clients, members, purposes and keys under `/api/clients`, and the debug tool.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use std::collections::HashMap;

use super::json_body;
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::client::{self as rules, ClientInput, ClientKind};
use crate::model::token::TokenForm;
use crate::model::{Role, uuid_shape};
use crate::state::EnvState;
use crate::store::clients::{self, Caller, Client, Key};
use crate::token::{self, NotYours};

pub fn caller(m: &Member) -> Caller<'_> {
    Caller {
        institution_id: &m.tenant.institution_id,
        user_id: m.user_id(),
        roles: &m.roles,
    }
}

async fn create(
    state: &EnvState,
    m: &Member,
    kind: ClientKind,
    body: &Bytes,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    let input = ClientInput::parse(&json_body(body)?)?;
    let c = clients::create(&state.platform.db, state.env, caller(m), kind, &input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `POST /api/clientsConsumer`
pub async fn create_consumer(
    State(state): State<EnvState>,
    m: Member,
    body: Bytes,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    create(&state, &m, ClientKind::Consumer, &body).await
}

/// `POST /api/clientsApi`
pub async fn create_api(
    State(state): State<EnvState>,
    m: Member,
    body: Bytes,
) -> Result<(StatusCode, Json<Client>), InteropError> {
    create(&state, &m, ClientKind::Api, &body).await
}

/// `GET /api/clients?kind=CONSUMER|API`
pub async fn list(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, InteropError> {
    let kind = match q.get("kind").map(String::as_str) {
        None | Some("") => None,
        Some(k) => Some(
            ClientKind::parse(k)
                .ok_or_else(|| InteropError::invalid("kind", "must be CONSUMER or API"))?,
        ),
    };
    let list = clients::list(&state.platform.db, state.env, caller(&m), kind).await?;
    Ok(Json(json!({ "results": list, "totalCount": list.len() })))
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

/// `POST /api/clients/{id}/purposes` `{"purposeId"}`
pub async fn link_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Client>, InteropError> {
    let payload = json_body(&body)?;
    let purpose_id = match payload.get("purposeId") {
        Some(Value::String(p)) if uuid_shape(p) => p.clone(),
        Some(Value::String(_)) => {
            return Err(InteropError::invalid(
                "purposeId",
                "must be a purpose id (UUID)",
            ));
        }
        None | Some(Value::Null) => return Err(InteropError::invalid("purposeId", "is required")),
        Some(_) => return Err(InteropError::invalid("purposeId", "must be a string")),
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

/// `GET /api/clients/{id}/keys`
pub async fn list_keys(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Value>, InteropError> {
    let keys = clients::list_keys(&state.platform.db, state.env, caller(&m), &id).await?;
    Ok(Json(json!({ "keys": keys })))
}

/// `POST /api/clients/{id}/keys` `[{key, use, alg, name}]`
pub async fn add_keys(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), InteropError> {
    let keys = rules::parse_keys(&json_body(&body)?)?;
    let added = clients::add_keys(
        &state.platform.db,
        state.env,
        caller(&m),
        &id,
        &keys,
        state.max_keys_per_client,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "keys": added }))))
}

fn key_json(k: &Key) -> Value {
    let mut v = serde_json::to_value(k).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("jwk".into(), k.jwk());
    }
    v
}

/// `GET /api/clients/{id}/keys/{kid}`: the key, with its JWK.
pub async fn get_key(
    State(state): State<EnvState>,
    m: Member,
    Path((id, kid)): Path<(String, String)>,
) -> Result<Json<Value>, InteropError> {
    let k = clients::get_key(&state.platform.db, state.env, caller(&m), &id, &kid).await?;
    Ok(Json(key_json(&k)))
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

/// The debug tool is for the consumer's admin and security users.
/// The debug tool's caller.
pub fn inspector(m: &Member) -> token::Inspector<'_> {
    token::Inspector {
        institution_id: &m.tenant.institution_id,
        user_id: m.user_id(),
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
fn debug_form(headers: &HeaderMap, body: &Bytes) -> Result<TokenForm, InteropError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Ok(TokenForm::parse(body));
    }
    let v = json_body(body)?;
    let field = |name: &str| -> Result<Option<String>, InteropError> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(InteropError::invalid(name, "must be a string")),
        }
    };
    Ok(TokenForm {
        client_id: field("client_id")?,
        client_assertion: field("client_assertion")?,
        client_assertion_type: field("client_assertion_type")?,
        grant_type: field("grant_type")?,
    })
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
    let form = debug_form(&headers, &body)?;
    match token::diagnose(&state, &inspector(&m), &form).await? {
        Ok(d) => Ok(Json(d)),
        Err(NotYours::NotFound) => Err(InteropError::NotFound),
    }
}
