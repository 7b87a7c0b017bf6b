//! Agreements ("richieste di fruizione"): the consumer's requests and the producer's answers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PageQuery, SideQuery, consumer_admin, party};
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::{self as rules, RejectionReason};
use crate::state::EnvState;
use crate::store::agreements::{self, Action, Agreement};

/// A window of the caller's agreements on the side asked for, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropAgreements)]
#[serde(rename_all = "camelCase")]
pub struct Agreements {
    pub results: Vec<Agreement>,
    /// How many agreements the side has in all.
    pub total_count: i64,
}

/// `GET /api/agreements?role=consumer|producer&offset=&limit=`
pub async fn list_agreements(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<SideQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Agreements>, InteropError> {
    let side = q.side()?;
    let found = agreements::page(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        side,
        page.window()?,
    )
    .await?;
    Ok(Json(Agreements {
        results: found.results,
        total_count: found.total_count,
    }))
}

/// A new agreement on a published version of an e-service.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = InteropAgreementRequest)]
#[serde(rename_all = "camelCase")]
pub struct AgreementRequest {
    pub eservice_id: Option<String>,
    pub descriptor_id: Option<String>,
    /// For the producer, at most 1000 characters.
    pub consumer_notes: Option<String>,
}

fn required(value: Option<String>, field: &str) -> Result<String, InteropError> {
    value
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| InteropError::invalid(field, "is required"))
}

/// `POST /api/agreements` `{eserviceId, descriptorId, consumerNotes?}`
pub async fn create_agreement(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<AgreementRequest>,
) -> Result<(StatusCode, Json<Agreement>), InteropError> {
    consumer_admin(&m)?;
    let eservice_id = required(body.eservice_id, "eserviceId")?;
    let descriptor_id = required(body.descriptor_id, "descriptorId")?;
    let notes = rules::agreement::consumer_notes(body.consumer_notes.as_deref())
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
) -> Result<Json<Agreement>, InteropError> {
    Ok(Json(
        agreements::get(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

/// The agreement, once the caller is shown to have the role its side needs.
async fn as_party(state: &EnvState, m: &Member, id: &str) -> Result<Agreement, InteropError> {
    let a = agreements::get(&state.platform.db, state.env, &m.tenant.institution_id, id).await?;
    party(m, &a.consumer_id)?;
    Ok(a)
}

async fn act(
    state: &EnvState,
    m: &Member,
    id: &str,
    action: Action,
) -> Result<Json<Agreement>, InteropError> {
    as_party(state, m, id).await?;
    let a = agreements::act(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        m.session.user_id(),
        id,
        action,
    )
    .await?;
    // A decision, or a request that waits, may have queued emails.
    state.platform.mail.wake();
    Ok(Json(a))
}

/// `POST /api/agreements/{id}/submit`
pub async fn submit_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    act(&state, &m, &id, Action::Submit).await
}

/// `POST /api/agreements/{id}/approve`
pub async fn approve_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    act(&state, &m, &id, Action::Approve).await
}

/// A producer's reason for rejecting an agreement.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = InteropAgreementRejection)]
pub struct AgreementRejection {
    /// 20 to 1000 characters: the consumer reads it.
    pub reason: Option<String>,
}

/// `POST /api/agreements/{id}/reject` `{"reason": ...}`
pub async fn reject_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<AgreementRejection>,
) -> Result<Json<Agreement>, InteropError> {
    let reason = RejectionReason::of_agreement("reason", body.reason.as_deref().unwrap_or(""))
        .map_err(|e| InteropError::Invalid(vec![e]))?;
    act(&state, &m, &id, Action::Reject(reason)).await
}

/// `POST /api/agreements/{id}/suspend`
pub async fn suspend_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    act(&state, &m, &id, Action::Suspend).await
}

/// `POST /api/agreements/{id}/activate`
pub async fn activate_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    act(&state, &m, &id, Action::Activate).await
}

/// `POST /api/agreements/{id}/archive`
pub async fn archive_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    act(&state, &m, &id, Action::Archive).await
}

/// `POST /api/agreements/{id}/upgrade`: the new agreement on the newest version.
pub async fn upgrade_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Agreement>, InteropError> {
    as_party(&state, &m, &id).await?;
    Ok(Json(
        agreements::upgrade(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

/// `DELETE /api/agreements/{id}`
pub async fn delete_agreement(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    as_party(&state, &m, &id).await?;
    agreements::delete(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
