//! The JSON API of an environment under `/interop/<environment>/api`, with the same rules as
//! the pages.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{self, Member};
use crate::error::InteropError;
use crate::state::EnvState;
use crate::store;

/// Reads a JSON body, answering a clear 400 for anything that is not JSON.
pub fn json_body(body: &Bytes) -> Result<Value, InteropError> {
    if body.is_empty() {
        return Err(InteropError::invalid("body", "a JSON body is required"));
    }
    serde_json::from_slice(body)
        .map_err(|e| InteropError::invalid("body", format!("not valid JSON: {e}")))
}

/// `GET /.well-known/jwks.json`: the public keys of this environment's vouchers.
pub async fn jwks(State(state): State<EnvState>) -> Response {
    let keys = state
        .keys
        .as_ref()
        .map_or_else(|| json!({ "keys": [] }), |k| k.jwks());
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response()
}

/// `POST /api/session` `{"identity_token": ...}` → `{"token": ...}`: a bearer token for
/// scripts.
pub async fn open_session(
    State(state): State<EnvState>,
    body: Bytes,
) -> Result<Json<Value>, InteropError> {
    let payload = json_body(&body)?;
    let token = match payload.get("identity_token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(InteropError::invalid("identity_token", "is required"));
        }
        Some(_) => return Err(InteropError::invalid("identity_token", "must be a string")),
    };
    let (secret, session) = auth::open_session(&state, &token).await?;
    Ok(Json(json!({
        "token": secret.expose(),
        "expiresAt": session.expires_at,
        "environment": state.env.as_str(),
    })))
}

/// `GET /api/me`: who is calling, for which institution, in which environment.
pub async fn me(State(state): State<EnvState>, m: Member) -> Json<Value> {
    Json(json!({
        "environment": state.env.as_str(),
        "userId": m.user_id(),
        "name": m.session.claims.name,
        "familyName": m.session.claims.family_name,
        "institution": {
            "id": m.tenant.institution_id,
            "name": m.tenant.name,
            "fiscalCode": m.tenant.fiscal_code,
        },
        "roles": m.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    }))
}

/// `GET /api/users`: the people who entered this environment for the caller's institution.
pub async fn people(State(state): State<EnvState>, m: Member) -> Result<Json<Value>, InteropError> {
    let people = store::people(&state.platform.db, state.env, &m.tenant.institution_id).await?;
    Ok(Json(json!({ "users": people })))
}

pub mod clients;

// ---- catalogue: e-services and their versions ----

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use std::collections::HashMap;

use crate::model::{self as rules, descriptor, eservice};
use crate::store::catalogue;

fn producer(m: &Member) -> Result<(), InteropError> {
    m.require(
        rules::may_manage_eservices(&m.roles),
        "manage e-services (admin or api)",
    )
}

/// `GET /api/catalog?q=`: the published e-services of the environment.
pub async fn catalog(
    State(state): State<EnvState>,
    _m: Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, InteropError> {
    let q = q.get("q").map(String::as_str);
    if q.is_some_and(|q| q.chars().count() > 60) {
        return Err(InteropError::invalid("q", "at most 60 characters"));
    }
    let list = catalogue::catalog(&state.platform.db, state.env, q).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "name": e.name,
                "description": e.description,
                "producerId": e.producer_id,
                "producerName": e.producer_name,
                "technology": e.technology,
                "activeDescriptor": e.latest_published(),
            })
        })
        .collect();
    Ok(Json(json!({ "results": items, "totalCount": items.len() })))
}

/// `GET /api/eservices`: the caller's institution's e-services (producer side).
pub async fn eservices(
    State(state): State<EnvState>,
    m: Member,
) -> Result<Json<Value>, InteropError> {
    let list =
        catalogue::of_producer(&state.platform.db, state.env, &m.tenant.institution_id).await?;
    Ok(Json(json!({ "results": list })))
}

/// `POST /api/eservices`
pub async fn create_eservice(
    State(state): State<EnvState>,
    m: Member,
    body: Bytes,
) -> Result<(StatusCode, Json<catalogue::EService>), InteropError> {
    producer(&m)?;
    let input = eservice::parse_eservice(&json_body(&body)?)?;
    let e = catalogue::create(&state.platform.db, state.env, &m.tenant, &input).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// `GET /api/eservices/{id}`: any published e-service of the catalogue, or the caller's own in
/// any state.
pub async fn get_eservice(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<catalogue::EService>, InteropError> {
    let e = catalogue::eservice(&state.platform.db, state.env, &id)
        .await?
        .filter(|e| e.producer_id == m.tenant.institution_id || e.latest_published().is_some())
        .ok_or(InteropError::NotFound)?;
    Ok(Json(e))
}

/// `PUT /api/eservices/{id}`
pub async fn update_eservice(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<catalogue::EService>, InteropError> {
    producer(&m)?;
    let input = eservice::parse_eservice_update(&json_body(&body)?)?;
    let e = catalogue::update(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &input,
    )
    .await?;
    Ok(Json(e))
}

/// `DELETE /api/eservices/{id}`
pub async fn delete_eservice(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    producer(&m)?;
    catalogue::delete(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/eservices/{id}/descriptors`: a new draft version.
pub async fn create_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<catalogue::Descriptor>), InteropError> {
    producer(&m)?;
    let input = descriptor::parse_descriptor(&json_body(&body)?)?;
    let d = catalogue::add_descriptor(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &input,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `PUT /api/eservices/{id}/descriptors/{descriptorId}`: changes a draft.
pub async fn update_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<catalogue::Descriptor>, InteropError> {
    producer(&m)?;
    let input = descriptor::parse_descriptor(&json_body(&body)?)?;
    let d = catalogue::update_descriptor(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &descriptor_id,
        &input,
    )
    .await?;
    Ok(Json(d))
}

/// `DELETE /api/eservices/{id}/descriptors/{descriptorId}`: deletes a draft.
pub async fn delete_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
) -> Result<StatusCode, InteropError> {
    producer(&m)?;
    catalogue::delete_descriptor(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &descriptor_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/publish`
pub async fn publish_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
) -> Result<Json<catalogue::Descriptor>, InteropError> {
    producer(&m)?;
    let d = catalogue::publish(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        &id,
        &descriptor_id,
    )
    .await?;
    Ok(Json(d))
}

async fn set_suspended(
    state: &EnvState,
    m: &Member,
    id: &str,
    descriptor_id: &str,
    suspend: bool,
) -> Result<Json<catalogue::Descriptor>, InteropError> {
    producer(m)?;
    let d = catalogue::set_suspended(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        id,
        descriptor_id,
        suspend,
    )
    .await?;
    Ok(Json(d))
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/suspend`
pub async fn suspend_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
) -> Result<Json<catalogue::Descriptor>, InteropError> {
    set_suspended(&state, &m, &id, &descriptor_id, true).await
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/activate`
pub async fn activate_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
) -> Result<Json<catalogue::Descriptor>, InteropError> {
    set_suspended(&state, &m, &id, &descriptor_id, false).await
}

// ---- agreements ("richieste di fruizione") ----

use crate::model::RejectionReason;
use crate::store::agreements::{self, Action};

fn consumer_admin(m: &Member) -> Result<(), InteropError> {
    m.require(
        rules::may_act_as_consumer(&m.roles),
        "act for the consumer institution (admin)",
    )
}

/// The role needed for `action` on this agreement: the consumer's admin, or the producer's
/// admin or api operator.
fn may_act(m: &Member, a: &agreements::Agreement) -> Result<(), InteropError> {
    if a.consumer_id == m.tenant.institution_id {
        consumer_admin(m)
    } else {
        producer(m)
    }
}

fn required_text(payload: &Value, field: &str) -> Result<String, InteropError> {
    match payload.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(InteropError::invalid(field, "is required"))
        }
        Some(_) => Err(InteropError::invalid(field, "must be a string")),
    }
}

/// `?role=consumer` (the default) or `?role=producer`: which side's list.
fn as_producer(q: &HashMap<String, String>) -> Result<bool, InteropError> {
    match q.get("role").map(String::as_str) {
        None | Some("consumer") => Ok(false),
        Some("producer") => Ok(true),
        Some(_) => Err(InteropError::invalid(
            "role",
            "must be consumer or producer",
        )),
    }
}

/// `GET /api/agreements?role=consumer|producer`
pub async fn list_agreements(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, InteropError> {
    let as_producer = as_producer(&q)?;
    let list = agreements::list(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        as_producer,
    )
    .await?;
    Ok(Json(json!({ "results": list })))
}

/// `POST /api/agreements` `{eserviceId, descriptorId, consumerNotes?}`
pub async fn create_agreement(
    State(state): State<EnvState>,
    m: Member,
    body: Bytes,
) -> Result<(StatusCode, Json<agreements::Agreement>), InteropError> {
    consumer_admin(&m)?;
    let payload = json_body(&body)?;
    let eservice_id = required_text(&payload, "eserviceId")?;
    let descriptor_id = required_text(&payload, "descriptorId")?;
    let notes =
        rules::agreement::consumer_notes(payload.get("consumerNotes").and_then(Value::as_str))
            .map_err(|e| InteropError::Invalid(vec![e]))?;
    let a = agreements::create(
        &state.platform.db,
        state.env,
        &m.tenant,
        &eservice_id,
        &descriptor_id,
        notes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// `GET /api/agreements/{id}`
pub async fn get_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    Ok(Json(
        agreements::get(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

async fn act(
    state: &EnvState,
    m: &Member,
    id: &str,
    action: Action,
) -> Result<Json<agreements::Agreement>, InteropError> {
    let db = &state.platform.db;
    let a = agreements::get(db, state.env, &m.tenant.institution_id, id).await?;
    may_act(m, &a)?;
    Ok(Json(
        agreements::act(db, state.env, &m.tenant.institution_id, id, action).await?,
    ))
}

/// `POST /api/agreements/{id}/submit`
pub async fn submit_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    act(&state, &m, &id, Action::Submit).await
}

/// `POST /api/agreements/{id}/approve`
pub async fn approve_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    act(&state, &m, &id, Action::Approve).await
}

/// `POST /api/agreements/{id}/reject` `{"reason": ...}`
pub async fn reject_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<agreements::Agreement>, InteropError> {
    let payload = json_body(&body)?;
    let raw = payload.get("reason").and_then(Value::as_str).unwrap_or("");
    let reason =
        RejectionReason::parse("reason", raw).map_err(|e| InteropError::Invalid(vec![e]))?;
    act(&state, &m, &id, Action::Reject(reason)).await
}

/// `POST /api/agreements/{id}/suspend`
pub async fn suspend_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    act(&state, &m, &id, Action::Suspend).await
}

/// `POST /api/agreements/{id}/activate`
pub async fn activate_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    act(&state, &m, &id, Action::Activate).await
}

/// `POST /api/agreements/{id}/archive`
pub async fn archive_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    act(&state, &m, &id, Action::Archive).await
}

/// `POST /api/agreements/{id}/upgrade`: the new agreement on the newest version.
pub async fn upgrade_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<agreements::Agreement>, InteropError> {
    let db = &state.platform.db;
    let a = agreements::get(db, state.env, &m.tenant.institution_id, &id).await?;
    may_act(&m, &a)?;
    Ok(Json(
        agreements::upgrade(db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

/// `DELETE /api/agreements/{id}`
pub async fn delete_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    let db = &state.platform.db;
    let a = agreements::get(db, state.env, &m.tenant.institution_id, &id).await?;
    may_act(&m, &a)?;
    agreements::delete(db, state.env, &m.tenant.institution_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- purposes ("finalità") ----

use crate::model::{purpose as purpose_rules, risk_analysis};
use crate::store::purposes::{self, VersionAction};

/// `GET /api/purposes/riskAnalysis/form`: the current risk-analysis form, as data.
pub async fn risk_analysis_form(_m: Member) -> Json<risk_analysis::RiskAnalysisForm> {
    Json(risk_analysis::current_form())
}

/// `GET /api/purposes?role=consumer|producer`
pub async fn list_purposes(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, InteropError> {
    let as_producer = as_producer(&q)?;
    let list = purposes::list(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        as_producer,
    )
    .await?;
    Ok(Json(json!({ "results": list })))
}

/// `POST /api/purposes`
pub async fn create_purpose(
    State(state): State<EnvState>,
    m: Member,
    body: Bytes,
) -> Result<(StatusCode, Json<purposes::Purpose>), InteropError> {
    consumer_admin(&m)?;
    let input = purpose_rules::parse_purpose(&json_body(&body)?)?;
    let p = purposes::create(&state.platform.db, state.env, &m.tenant, &input).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// `GET /api/purposes/{id}`
pub async fn get_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<purposes::Purpose>, InteropError> {
    Ok(Json(
        purposes::get(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

/// The role a party needs on a purpose: the consumer's admin, or the producer's admin or api
/// operator.
async fn purpose_party(state: &EnvState, m: &Member, id: &str) -> Result<(), InteropError> {
    let p = purposes::get(&state.platform.db, state.env, &m.tenant.institution_id, id).await?;
    if p.consumer_id == m.tenant.institution_id {
        consumer_admin(m)
    } else {
        producer(m)
    }
}

/// `DELETE /api/purposes/{id}`
pub async fn delete_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    purpose_party(&state, &m, &id).await?;
    purposes::delete(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/purposes/{id}/versions` `{"dailyCalls": n}`
pub async fn new_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<purposes::Purpose>, InteropError> {
    purpose_party(&state, &m, &id).await?;
    let calls = purpose_rules::parse_new_version(&json_body(&body)?)?;
    Ok(Json(
        purposes::new_version(
            &state.platform.db,
            state.env,
            &m.tenant.institution_id,
            &id,
            calls,
        )
        .await?,
    ))
}

async fn version_act(
    state: &EnvState,
    m: &Member,
    id: &str,
    version_id: &str,
    action: VersionAction,
) -> Result<Json<purposes::Purpose>, InteropError> {
    purpose_party(state, m, id).await?;
    Ok(Json(
        purposes::act(
            &state.platform.db,
            state.env,
            &m.tenant.institution_id,
            id,
            version_id,
            action,
        )
        .await?,
    ))
}

/// `POST /api/purposes/{id}/versions/{versionId}/activate`
pub async fn activate_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<purposes::Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Activate).await
}

/// `POST /api/purposes/{id}/versions/{versionId}/suspend`
pub async fn suspend_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<purposes::Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Suspend).await
}

/// `POST /api/purposes/{id}/versions/{versionId}/archive`
pub async fn archive_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<purposes::Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Archive).await
}

/// `POST /api/purposes/{id}/versions/{versionId}/reject` `{"rejectionReason": ...}`
pub async fn reject_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<purposes::Purpose>, InteropError> {
    let payload = json_body(&body)?;
    let raw = payload
        .get("rejectionReason")
        .and_then(Value::as_str)
        .unwrap_or("");
    let reason = RejectionReason::parse("rejectionReason", raw)
        .map_err(|e| InteropError::Invalid(vec![e]))?;
    version_act(&state, &m, &id, &version_id, VersionAction::Reject(reason)).await
}
