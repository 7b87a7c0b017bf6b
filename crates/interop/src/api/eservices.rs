//! The catalogue and the producer's e-services with their versions (descriptors).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{check, producer};
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::{descriptor, eservice};
use crate::state::EnvState;
use crate::store::catalogue::{self, Descriptor, EService};

/// `GET /api/catalog?q=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Searches the e-services' names (at most 60 characters).
    pub q: Option<String>,
}

/// An e-service of the catalogue with the version consumers subscribe to now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropCatalogItem)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    pub id: String,
    pub name: String,
    pub description: String,
    pub producer_id: String,
    pub producer_name: String,
    pub technology: String,
    /// The latest PUBLISHED version (`null` when none is).
    pub active_descriptor: Option<Descriptor>,
}

/// The published e-services.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropCatalog)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub results: Vec<CatalogItem>,
    pub total_count: usize,
}

/// `GET /api/catalog?q=`: the published e-services of the environment.
pub async fn catalog(
    State(state): State<EnvState>,
    _m: Member,
    Query(q): Query<CatalogQuery>,
) -> Result<Json<Catalog>, InteropError> {
    let q = q.q.as_deref();
    if q.is_some_and(|q| q.chars().count() > 60) {
        return Err(InteropError::invalid("q", "at most 60 characters"));
    }
    let list = catalogue::catalog(&state.platform.db, state.env, q).await?;
    let results: Vec<CatalogItem> = list
        .iter()
        .map(|e| CatalogItem {
            id: e.id.clone(),
            name: e.name.clone(),
            description: e.description.clone(),
            producer_id: e.producer_id.clone(),
            producer_name: e.producer_name.clone(),
            technology: e.technology.clone(),
            active_descriptor: e.latest_published().cloned(),
        })
        .collect();
    Ok(Json(Catalog {
        total_count: results.len(),
        results,
    }))
}

/// The caller's institution's e-services.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropEServices)]
pub struct EServices {
    pub results: Vec<EService>,
}

/// `GET /api/eservices`: the caller's institution's e-services (producer side).
pub async fn eservices(
    State(state): State<EnvState>,
    m: Member,
) -> Result<Json<EServices>, InteropError> {
    let results =
        catalogue::of_producer(&state.platform.db, state.env, &m.tenant.institution_id).await?;
    Ok(Json(EServices { results }))
}

/// A new e-service, or the whole new content of one (`PUT`).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropEServiceRequest)]
#[serde(rename_all = "camelCase")]
pub struct EServiceRequest {
    /// 5 to 60 characters, unique among the producer's e-services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 10 to 400 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `REST` or `SOAP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technology: Option<String>,
    /// `RECEIVE` (the default) or `DELIVER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `POST /api/eservices`
pub async fn create_eservice(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<EServiceRequest>,
) -> Result<(StatusCode, Json<EService>), InteropError> {
    producer(&m)?;
    let input = check(&body, eservice::parse_eservice)?;
    let e = catalogue::create(&state.platform.db, state.env, &m.tenant, &input).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// `GET /api/eservices/{id}`: any published e-service of the catalogue, or the caller's own in
/// any state.
pub async fn get_eservice(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<EService>, InteropError> {
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
    web::Json(body): web::Json<EServiceRequest>,
) -> Result<Json<EService>, InteropError> {
    producer(&m)?;
    let input = check(&body, eservice::parse_eservice_update)?;
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

/// A version of an e-service (a draft's whole content).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropDescriptorRequest)]
#[serde(rename_all = "camelCase")]
pub struct DescriptorRequest {
    /// At most 250 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The audiences of its vouchers (needed to publish).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// Seconds, 60 to 86400.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub voucher_lifespan: Option<serde_json::Number>,
    /// 1 to 1e9, at most `dailyCallsTotal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub daily_calls_per_consumer: Option<serde_json::Number>,
    /// 1 to 1e9.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub daily_calls_total: Option<serde_json::Number>,
    /// `AUTOMATIC` or `MANUAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_approval_policy: Option<String>,
    /// `http://` or `https://` URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_urls: Option<Vec<String>>,
}

/// `POST /api/eservices/{id}/descriptors`: a new draft version.
pub async fn create_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<DescriptorRequest>,
) -> Result<(StatusCode, Json<Descriptor>), InteropError> {
    producer(&m)?;
    let input = check(&body, descriptor::parse_descriptor)?;
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
    web::Json(body): web::Json<DescriptorRequest>,
) -> Result<Json<Descriptor>, InteropError> {
    producer(&m)?;
    let input = check(&body, descriptor::parse_descriptor)?;
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
) -> Result<Json<Descriptor>, InteropError> {
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
) -> Result<Json<Descriptor>, InteropError> {
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
) -> Result<Json<Descriptor>, InteropError> {
    set_suspended(&state, &m, &id, &descriptor_id, true).await
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/activate`
pub async fn activate_descriptor(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
) -> Result<Json<Descriptor>, InteropError> {
    set_suspended(&state, &m, &id, &descriptor_id, false).await
}
