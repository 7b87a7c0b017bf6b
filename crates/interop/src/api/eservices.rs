//! The catalogue and the producer's e-services with their versions (descriptors).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{PageQuery, check, producer};
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::{descriptor, eservice};
use crate::state::EnvState;
use crate::store::catalogue::{self, Descriptor, EService, InPlace, Retitle};

/// `GET /api/catalog?q=&offset=&limit=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Searches the e-services' names (at most 60 characters): each word of the search starts
    /// a word of the name, in any case ("anag" finds "ANPR - Anagrafe nazionale").
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

/// A window of the published e-services, by name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropCatalog)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub results: Vec<CatalogItem>,
    /// How many e-services match in all.
    pub total_count: i64,
}

/// `GET /api/catalog?q=&offset=&limit=`: the published e-services of the environment.
pub async fn catalog(
    State(state): State<EnvState>,
    _m: Member,
    Query(q): Query<CatalogQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Catalog>, InteropError> {
    let q = q.q.as_deref();
    if q.is_some_and(|q| q.chars().count() > 60) {
        return Err(InteropError::invalid("q", "at most 60 characters"));
    }
    let found = catalogue::catalog_page(&state.platform.db, state.env, q, page.window()?).await?;
    let results: Vec<CatalogItem> = found
        .results
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
        total_count: found.total_count,
        results,
    }))
}

/// A window of the caller's institution's e-services, by name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropEServices)]
#[serde(rename_all = "camelCase")]
pub struct EServices {
    pub results: Vec<EService>,
    /// How many e-services the institution has in all.
    pub total_count: i64,
}

/// `GET /api/eservices?offset=&limit=`: the caller's institution's e-services (producer side).
pub async fn eservices(
    State(state): State<EnvState>,
    m: Member,
    Query(page): Query<PageQuery>,
) -> Result<Json<EServices>, InteropError> {
    let found = catalogue::producer_page(
        &state.platform.db,
        state.env,
        &m.tenant.institution_id,
        page.window()?,
    )
    .await?;
    Ok(Json(EServices {
        results: found.results,
        total_count: found.total_count,
    }))
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
    /// Whether it handles personal data: may be left out of a draft, needed to publish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_data: Option<bool>,
    /// On creation only: the first version, created as a draft with the e-service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<DescriptorRequest>,
}

/// `POST /api/eservices`: an e-service, with its first version as a draft when `descriptor`
/// is given.
pub async fn create_eservice(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<EServiceRequest>,
) -> Result<(StatusCode, Json<EService>), InteropError> {
    producer(&m)?;
    let input = check(&body, eservice::parse_eservice);
    let first = body
        .descriptor
        .as_ref()
        .map(|d| check(d, descriptor::parse_descriptor))
        .transpose();
    let (input, first) = match (input, first) {
        (Ok(input), Ok(first)) => (input, first),
        (input, first) => {
            let mut errors = invalid_fields(input.err());
            for e in invalid_fields(first.err()) {
                errors.push(crate::model::FieldError::new(
                    format!("descriptor.{}", e.field),
                    e.message,
                ));
            }
            return Err(InteropError::Invalid(errors));
        }
    };
    let e = catalogue::create(
        &state.platform.db,
        state.env,
        &m.tenant,
        m.session.user_id(),
        &input,
        first.as_ref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

fn invalid_fields(e: Option<InteropError>) -> Vec<crate::model::FieldError> {
    match e {
        Some(InteropError::Invalid(errors)) => errors,
        Some(other) => vec![crate::model::FieldError::new("body", other.to_string())],
        None => Vec::new(),
    }
}

/// `{name}`: the new name of an e-service, in any state.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropNameUpdate)]
pub struct NameUpdate {
    /// 5 to 60 characters, unique among the producer's e-services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `{description}`: the new description of an e-service, in any state.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropDescriptionUpdate)]
pub struct DescriptionUpdate {
    /// 10 to 400 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /api/eservices/{id}/name/update`
pub async fn update_name(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<NameUpdate>,
) -> Result<Json<EService>, InteropError> {
    producer(&m)?;
    let name = check(&body, eservice::parse_name)?;
    retitle(&state, &m, &id, Retitle::Name(&name)).await
}

async fn retitle(
    state: &EnvState,
    m: &Member,
    id: &str,
    change: Retitle<'_>,
) -> Result<Json<EService>, InteropError> {
    let e = catalogue::retitle(&state.platform.db, state.env, m.by(), id, change).await?;
    Ok(Json(e))
}

/// `POST /api/eservices/{id}/description/update`
pub async fn update_description(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
    web::Json(body): web::Json<DescriptionUpdate>,
) -> Result<Json<EService>, InteropError> {
    producer(&m)?;
    let description = check(&body, eservice::parse_description)?;
    retitle(&state, &m, &id, Retitle::Description(&description)).await
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
    let e = catalogue::update(&state.platform.db, state.env, m.by(), &id, &input).await?;
    Ok(Json(e))
}

/// `DELETE /api/eservices/{id}`
pub async fn delete_eservice(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, InteropError> {
    producer(&m)?;
    catalogue::delete(&state.platform.db, state.env, m.by(), &id).await?;
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
}

/// What changes in a version consumers use: the voucher's lifespan and the daily calls.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropPublishedUpdate)]
#[serde(rename_all = "camelCase")]
pub struct PublishedUpdateRequest {
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
}

/// How the version's new requests are approved.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[schema(as = InteropPolicyUpdate)]
#[serde(rename_all = "camelCase")]
pub struct PolicyUpdate {
    /// `AUTOMATIC` or `MANUAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_approval_policy: Option<String>,
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/update`
pub async fn update_published(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
    web::Json(body): web::Json<PublishedUpdateRequest>,
) -> Result<Json<Descriptor>, InteropError> {
    producer(&m)?;
    let update = check(&body, descriptor::parse_published_update)?;
    in_place(&state, &m, &id, &descriptor_id, InPlace::Limits(update)).await
}

/// `POST /api/eservices/{id}/descriptors/{descriptorId}/agreementApprovalPolicy/update`
pub async fn update_policy(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
    web::Json(body): web::Json<PolicyUpdate>,
) -> Result<Json<Descriptor>, InteropError> {
    producer(&m)?;
    let policy = check(&body, descriptor::parse_policy)?;
    in_place(&state, &m, &id, &descriptor_id, InPlace::Policy(policy)).await
}

async fn in_place(
    state: &EnvState,
    m: &Member,
    id: &str,
    descriptor_id: &str,
    change: InPlace,
) -> Result<Json<Descriptor>, InteropError> {
    let d = catalogue::update_in_place(
        &state.platform.db,
        state.env,
        m.by(),
        id,
        descriptor_id,
        &change,
    )
    .await?;
    Ok(Json(d))
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
    let d = catalogue::add_descriptor(&state.platform.db, state.env, m.by(), &id, &input).await?;
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
        m.by(),
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
    catalogue::delete_descriptor(&state.platform.db, state.env, m.by(), &id, &descriptor_id)
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
        m.session.user_id(),
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
        m.session.user_id(),
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
