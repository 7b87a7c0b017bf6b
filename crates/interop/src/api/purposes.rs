//! Purposes ("finalità") with their versions, and the risk-analysis form.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{PageQuery, SideQuery, check, consumer_admin, party};
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::{RejectionReason, purpose as rules, risk_analysis};
use crate::state::EnvState;
use crate::store::purposes::{self, Purpose, VersionAction};

/// `GET /api/purposes/riskAnalysis/form`: the current risk-analysis form, as data.
pub async fn risk_analysis_form(_m: Member) -> Json<risk_analysis::RiskAnalysisForm> {
    Json(risk_analysis::current_form())
}

/// A window of the caller's purposes on the side asked for, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropPurposes)]
#[serde(rename_all = "camelCase")]
pub struct Purposes {
    pub results: Vec<Purpose>,
    /// How many purposes the side has in all.
    pub total_count: i64,
}

/// `GET /api/purposes?role=consumer|producer&offset=&limit=`
pub async fn list_purposes(
    State(state): State<EnvState>,
    m: Member,
    Query(q): Query<SideQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Purposes>, InteropError> {
    let side = q.side()?;
    let found = purposes::page(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        side,
        page.window()?,
    )
    .await?;
    Ok(Json(Purposes {
        results: found.results,
        total_count: found.total_count,
    }))
}

/// A new purpose, on an e-service the consumer has an ACTIVE agreement with.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropPurposeRequest)]
#[serde(rename_all = "camelCase")]
pub struct PurposeRequest {
    /// The e-service's id (a UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eservice_id: Option<String>,
    /// 5 to 60 characters, unique among the consumer's purposes on the e-service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 10 to 250 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_free_of_charge: Option<bool>,
    /// 1 to 250 characters: required when free of charge, refused otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_of_charge_reason: Option<String>,
    /// 1 to 1e9.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub daily_calls: Option<serde_json::Number>,
    /// The answers to the current risk-analysis form (`GET /api/purposes/riskAnalysis/form`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<risk_analysis::RiskAnswers>)]
    pub risk_analysis_form: Option<Value>,
}

/// `POST /api/purposes`
pub async fn create_purpose(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<PurposeRequest>,
) -> Result<(StatusCode, Json<Purpose>), InteropError> {
    consumer_admin(&m)?;
    let input = check(&body, rules::parse_purpose)?;
    let p = purposes::create(&state.platform.db, state.env, &m.tenant, &input).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// `GET /api/purposes/{id}`
pub async fn get_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<Purpose>, InteropError> {
    Ok(Json(
        purposes::get(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?,
    ))
}

/// Shows that the caller has the role their side of the purpose needs.
async fn as_party(state: &EnvState, m: &Member, id: &str) -> Result<(), InteropError> {
    let p = purposes::get(&state.platform.db, state.env, &m.tenant.institution_id, id).await?;
    party(m, &p.consumer_id)
}

/// `DELETE /api/purposes/{id}`
pub async fn delete_purpose(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    as_party(&state, &m, &id).await?;
    purposes::delete(&state.platform.db, state.env, &m.tenant.institution_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new version of a purpose, with other daily calls.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropVersionRequest)]
#[serde(rename_all = "camelCase")]
pub struct VersionRequest {
    /// 1 to 1e9.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub daily_calls: Option<serde_json::Number>,
}

/// `POST /api/purposes/{id}/versions` `{"dailyCalls": n}`
pub async fn new_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<VersionRequest>,
) -> Result<Json<Purpose>, InteropError> {
    as_party(&state, &m, &id).await?;
    let calls = check(&body, rules::parse_new_version)?;
    let p = purposes::new_version(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        m.session.user_id(),
        &id,
        calls,
    )
    .await?;
    state.platform.mail.wake();
    Ok(Json(p))
}

async fn version_act(
    state: &EnvState,
    m: &Member,
    id: &str,
    version_id: &str,
    action: VersionAction,
) -> Result<Json<Purpose>, InteropError> {
    as_party(state, m, id).await?;
    let p = purposes::act(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        m.session.user_id(),
        id,
        version_id,
        action,
    )
    .await?;
    state.platform.mail.wake();
    Ok(Json(p))
}

/// `POST /api/purposes/{id}/versions/{versionId}/activate`
pub async fn activate_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Activate).await
}

/// `POST /api/purposes/{id}/versions/{versionId}/suspend`
pub async fn suspend_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Suspend).await
}

/// `POST /api/purposes/{id}/versions/{versionId}/archive`
pub async fn archive_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
) -> Result<Json<Purpose>, InteropError> {
    version_act(&state, &m, &id, &version_id, VersionAction::Archive).await
}

/// A producer's reason for rejecting a waiting version.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = InteropVersionRejection)]
#[serde(rename_all = "camelCase")]
pub struct VersionRejection {
    /// 10 to 250 characters: the consumer reads it.
    pub rejection_reason: Option<String>,
}

/// `POST /api/purposes/{id}/versions/{versionId}/reject` `{"rejectionReason": ...}`
pub async fn reject_purpose_version(
    State(state): State<EnvState>,
    m: Member,
    Path((id, version_id)): Path<(String, String)>,
    web::Json(body): web::Json<VersionRejection>,
) -> Result<Json<Purpose>, InteropError> {
    let reason = RejectionReason::of_purpose(
        "rejectionReason",
        body.rejection_reason.as_deref().unwrap_or(""),
    )
    .map_err(|e| InteropError::Invalid(vec![e]))?;
    version_act(&state, &m, &id, &version_id, VersionAction::Reject(reason)).await
}
