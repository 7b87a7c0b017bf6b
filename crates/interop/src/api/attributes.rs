//! Attributes: the registry, what institutions hold, declarations, certifications and
//! verifications, the institution's contact email, and a version's requirements.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::timestamp::Timestamp;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::producer;
use crate::auth::Member;
use crate::error::InteropError;
use crate::model::Role;
use crate::model::attribute::{AttributeInput, AttributeKind};
use crate::state::EnvState;
use crate::store::attributes::{self, Attribute, TenantAttributes};
use crate::store::catalogue::{self, Descriptor};

/// The institution's admin.
fn admin(m: &Member) -> Result<(), InteropError> {
    m.require(m.has(Role::Admin), "act for the institution (admin)")
}

/// `?kind=&q=&limit=&offset=`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributeQuery {
    /// CERTIFIED, DECLARED or VERIFIED; any when absent.
    #[param(value_type = Option<String>)]
    pub kind: Option<String>,
    /// Part of the name, any case.
    pub q: Option<String>,
    /// 1 to 200 (50 when absent).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One page of the registry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InteropAttributes)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub results: Vec<Attribute>,
    pub total_count: i64,
}

fn kind(raw: Option<&str>) -> Result<Option<AttributeKind>, InteropError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => AttributeKind::parse(s).map(Some).ok_or_else(|| {
            InteropError::invalid("kind", "must be CERTIFIED, DECLARED or VERIFIED")
        }),
    }
}

/// `GET /api/attributes`
pub async fn list_attributes(
    State(state): State<EnvState>,
    _: Member,
    Query(q): Query<AttributeQuery>,
) -> Result<Json<Attributes>, InteropError> {
    let (results, total_count) = attributes::search(
        &state.platform.db,
        state.env,
        kind(q.kind.as_deref())?,
        q.q.as_deref().unwrap_or(""),
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    Ok(Json(Attributes {
        results,
        total_count,
    }))
}

/// `GET /api/attributes/{id}`
pub async fn get_attribute(
    State(state): State<EnvState>,
    _: Member,
    Path(id): Path<String>,
) -> Result<Json<Attribute>, InteropError> {
    attributes::get(&state.platform.db, state.env, &id)
        .await?
        .map(Json)
        .ok_or(InteropError::NotFound)
}

/// A new attribute: `{name, description}`, and `code` for a certified one.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = InteropAttributeSeed)]
pub struct AttributeSeed {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Certified attributes only: unique in the certifier's origin.
    pub code: Option<String>,
}

impl AttributeSeed {
    fn input(&self) -> AttributeInput {
        AttributeInput {
            name: self.name.clone().unwrap_or_default(),
            description: self.description.clone().unwrap_or_default(),
        }
    }
}

async fn create(
    state: &EnvState,
    m: &Member,
    kind: AttributeKind,
    body: &AttributeSeed,
) -> Result<(StatusCode, Json<Attribute>), InteropError> {
    admin(m)?;
    let db = &state.platform.db;
    let a = match kind {
        AttributeKind::Certified => {
            let code = body.code.as_deref().unwrap_or_default();
            attributes::create_certified(db, state.env, m.by(), code, &body.input()).await?
        }
        _ => attributes::create(db, state.env, m.by(), kind, &body.input()).await?,
    };
    Ok((StatusCode::CREATED, Json(a)))
}

/// `POST /api/attributes/declared`
pub async fn create_declared(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<AttributeSeed>,
) -> Result<(StatusCode, Json<Attribute>), InteropError> {
    create(&state, &m, AttributeKind::Declared, &body).await
}

/// `POST /api/attributes/verified`
pub async fn create_verified(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<AttributeSeed>,
) -> Result<(StatusCode, Json<Attribute>), InteropError> {
    create(&state, &m, AttributeKind::Verified, &body).await
}

/// `POST /api/attributes/certified` (a certifier's admin)
pub async fn create_certified(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<AttributeSeed>,
) -> Result<(StatusCode, Json<Attribute>), InteropError> {
    create(&state, &m, AttributeKind::Certified, &body).await
}

/// `GET /api/tenants/{id}/attributes`: what an institution of the environment holds (any
/// member reads it, as producers weigh their consumers by it).
pub async fn tenant_attributes(
    State(state): State<EnvState>,
    _: Member,
    Path(id): Path<String>,
) -> Result<Json<TenantAttributes>, InteropError> {
    let db = &state.platform.db;
    if crate::store::institution_name(db, state.env, &id)
        .await?
        .is_none()
    {
        return Err(InteropError::NotFound);
    }
    Ok(Json(
        attributes::of_institution(db.reader(), state.env, &id).await?,
    ))
}

/// An attribute named by its id.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = InteropAttributeRef)]
pub struct AttributeRef {
    pub id: Option<String>,
}

fn id_of(body: &AttributeRef) -> Result<String, InteropError> {
    body.id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| InteropError::invalid("id", "is required"))
}

/// After a change of `holder`'s attributes: the emails it queued are sent, and the caller reads
/// what the holder now has.
async fn after_change(
    state: &EnvState,
    holder: &str,
) -> Result<Json<TenantAttributes>, InteropError> {
    state.platform.mail.wake();
    Ok(Json(
        attributes::of_institution(state.platform.db.reader(), state.env, holder).await?,
    ))
}

/// `POST /api/tenants/attributes/declared {id}`: the institution declares it (its admin).
pub async fn declare(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<AttributeRef>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    let id = id_of(&body)?;
    attributes::declare(&state.platform.db, state.env, m.by(), &id, true).await?;
    after_change(&state, &m.tenant.institution_id).await
}

/// `DELETE /api/tenants/attributes/declared/{id}`: withdraws the declaration.
pub async fn withdraw(
    State(state): State<EnvState>,
    m: Member,
    Path(id): Path<String>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    attributes::declare(&state.platform.db, state.env, m.by(), &id, false).await?;
    after_change(&state, &m.tenant.institution_id).await
}

/// `POST /api/tenants/{id}/attributes/certified {id}`: a certifier assigns an attribute of
/// its origin.
pub async fn certify(
    State(state): State<EnvState>,
    m: Member,
    Path(holder): Path<String>,
    web::Json(body): web::Json<AttributeRef>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    let id = id_of(&body)?;
    let db = &state.platform.db;
    attributes::certify(db, state.env, m.by(), &holder, &id, true).await?;
    after_change(&state, &holder).await
}

/// `DELETE /api/tenants/{id}/attributes/certified/{attribute_id}`: the certifier revokes it.
pub async fn uncertify(
    State(state): State<EnvState>,
    m: Member,
    Path((holder, attribute_id)): Path<(String, String)>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    let db = &state.platform.db;
    attributes::certify(db, state.env, m.by(), &holder, &attribute_id, false).await?;
    after_change(&state, &holder).await
}

/// A producer's verification: the attribute, the request it is made on, an optional expiry.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = InteropVerification)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSeed {
    pub id: Option<String>,
    pub agreement_id: Option<String>,
    /// RFC 3339, in the future.
    pub expiration_date: Option<String>,
}

/// `POST /api/tenants/{id}/attributes/verified`: the producer verifies a consumer's attribute
/// (its admin).
pub async fn verify(
    State(state): State<EnvState>,
    m: Member,
    Path(consumer): Path<String>,
    web::Json(body): web::Json<VerificationSeed>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    let id = id_of(&AttributeRef {
        id: body.id.clone(),
    })?;
    let expires = match body.expiration_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            Timestamp::parse_rfc3339(s)
                .ok_or_else(|| {
                    InteropError::invalid("expirationDate", "must be an RFC 3339 date and time")
                })?
                .millis(),
        ),
    };
    let db = &state.platform.db;
    attributes::verify(
        db,
        state.env,
        m.by(),
        &consumer,
        &id,
        body.agreement_id.as_deref(),
        expires,
        true,
    )
    .await?;
    after_change(&state, &consumer).await
}

/// `DELETE /api/tenants/{id}/attributes/verified/{attribute_id}`: the producer revokes its
/// verification.
pub async fn unverify(
    State(state): State<EnvState>,
    m: Member,
    Path((consumer, attribute_id)): Path<(String, String)>,
) -> Result<Json<TenantAttributes>, InteropError> {
    admin(&m)?;
    let db = &state.platform.db;
    attributes::verify(
        db,
        state.env,
        m.by(),
        &consumer,
        &attribute_id,
        None,
        None,
        false,
    )
    .await?;
    after_change(&state, &consumer).await
}

/// The institution's contact email.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = InteropContactEmail)]
pub struct ContactEmail {
    /// CONTACT_EMAIL (the only kind set here).
    pub kind: Option<String>,
    pub address: Option<String>,
}

/// `POST /api/tenants/mails {kind: CONTACT_EMAIL, address}` (its admin).
pub async fn set_contact_email(
    State(state): State<EnvState>,
    m: Member,
    web::Json(body): web::Json<ContactEmail>,
) -> Result<Json<ContactEmail>, InteropError> {
    admin(&m)?;
    if body.kind.as_deref().is_some_and(|k| k != "CONTACT_EMAIL") {
        return Err(InteropError::invalid("kind", "must be CONTACT_EMAIL"));
    }
    let address = body.address.as_deref().unwrap_or_default();
    let set =
        attributes::set_contact_email(&state.platform.db, state.env, m.by(), &m.tenant, address)
            .await?;
    Ok(Json(ContactEmail {
        kind: Some("CONTACT_EMAIL".into()),
        address: Some(set),
    }))
}

/// `POST /api/eservices/{id}/descriptors/{descriptor_id}/attributes/update`: the attributes a
/// draft version requires (the producer).
pub async fn set_requirements(
    State(state): State<EnvState>,
    m: Member,
    Path((id, descriptor_id)): Path<(String, String)>,
    web::Json(body): web::Json<serde_json::Value>,
) -> Result<Json<Descriptor>, InteropError> {
    producer(&m)?;
    let db = &state.platform.db;
    let requirements = attributes::parse_requirements(db, state.env, Some(&body)).await?;
    Ok(Json(
        catalogue::set_requirements(db, state.env, m.by(), &id, &descriptor_id, &requirements)
            .await?,
    ))
}
