//! The services, shared by the manage API and the back-office API (the caller `C` is a manage
//! key or a back-office session): the reference's `ServiceLifecycle`, `ServicePublication`,
//! `ServiceHistory`, their payloads, the logo and the keys of a service.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::Timestamp;
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{PageQuery, Pagination, SubscriptionKeys, key_type, own_service, service_id};
use crate::auth::Caller;
use crate::error::IoError;
use crate::model::{self, PayloadKind, ServiceData};
use crate::state::IoState;
use crate::store::{self, HistoryItem, ServiceRow, Tenant};

// ---- requests ----

/// The reference's `CreateServicePayload` / `ServicePayload`. Read leniently: each field is
/// checked by the model's rules (`model::parse_service`), which name every field refused at
/// once; fields the API does not read are ignored.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ServicePayload {
    /// 1 to 100 characters.
    #[schema(required = true, value_type = String)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Value>,
    /// 1 to 1000 characters.
    #[schema(required = true, value_type = String)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    /// Only `department_name` is taken: the organization is the caller's institution.
    #[schema(value_type = Option<OrganizationPayload>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Value>,
    #[schema(value_type = Option<bool>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_secure_channel: Option<Value>,
    /// Fiscal codes (the sandbox one is always added).
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_recipients: Option<Value>,
    /// IPv4 addresses or CIDRs.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_cidrs: Option<Value>,
    /// 0 to 9999999999.
    #[schema(value_type = Option<i64>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_payment_amount: Option<Value>,
    #[schema(value_type = Option<bool>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suitable_for_minors: Option<Value>,
    #[schema(required = true, value_type = MetadataPayload)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Any other field: ignored (an object is required, never a list).
    #[schema(ignore)]
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ServicePayload {
    /// The service it describes, or every field refused.
    pub fn read(&self, kind: PayloadKind) -> Result<ServiceData, IoError> {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        model::parse_service(&value, kind).map_err(IoError::Invalid)
    }
}

/// The organization of a payload (documentation of [`ServicePayload::organization`]).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct OrganizationPayload {
    pub name: Option<String>,
    /// 11 digits.
    pub fiscal_code: Option<String>,
    pub department_name: Option<String>,
}

/// The metadata of a payload (documentation of [`ServicePayload::metadata`]).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MetadataPayload {
    /// `NATIONAL` or `LOCAL`.
    pub scope: String,
    /// One of `/services/topics`.
    pub topic_id: i64,
    pub web_url: Option<String>,
    pub app_ios: Option<String>,
    pub app_android: Option<String>,
    pub tos_url: Option<String>,
    pub privacy_url: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub pec: Option<String>,
    pub cta: Option<String>,
    pub token_name: Option<String>,
    pub support_url: Option<String>,
    /// No group exists yet: always refused.
    pub group_id: Option<String>,
    /// `STANDARD` or `SPECIAL` (on update).
    pub category: Option<String>,
}

/// `PATCH /services/{id}`: sets `metadata.group_id`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchPayload {
    pub metadata: PatchMetadata,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchMetadata {
    pub group_id: String,
}

/// `PUT /services/{id}/review`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewPayload {
    /// Publish at once when approved.
    pub auto_publish: bool,
}

/// `PATCH /services/{id}/review`: the institution's explanation to the reviewers.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExplanationPayload {
    pub comment: String,
}

/// `PUT /services/{id}/logo`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoPayload {
    /// A square PNG of 300 to 1024 pixels a side, in base64.
    pub logo: String,
}

/// `GET /services/{id}/history`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `DESC` (newest first, the default) or `ASC`.
    #[param(inline)]
    pub order: Option<Order>,
    /// How many items (1 to 100; 10 when absent).
    pub limit: Option<i64>,
    /// The `continuationToken` of the previous page.
    #[serde(rename = "continuationToken")]
    #[param(rename = "continuationToken")]
    pub continuation_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Order {
    #[serde(rename = "ASC")]
    Asc,
    #[serde(rename = "DESC")]
    Desc,
}

// ---- answers ----

/// The reference's `Organization`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    pub name: String,
    pub fiscal_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
}

/// A topic of the fixed list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicRef {
    pub id: i64,
    pub name: String,
}

impl From<&model::Topic> for TopicRef {
    fn from(t: &model::Topic) -> Self {
        Self {
            id: t.id,
            name: t.name.to_string(),
        }
    }
}

/// The reference's `ServiceMetadata` (as answered).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ServiceMetadata {
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_ios: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_android: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cta: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

impl ServiceMetadata {
    pub fn of(d: &ServiceData) -> Self {
        let m = &d.metadata;
        Self {
            scope: m.scope.as_str().to_string(),
            topic: m.topic_id.and_then(model::topic).map(TopicRef::from),
            web_url: m.web_url.clone(),
            app_ios: m.app_ios.clone(),
            app_android: m.app_android.clone(),
            tos_url: m.tos_url.clone(),
            privacy_url: m.privacy_url.clone(),
            address: m.address.clone(),
            phone: m.phone.clone(),
            email: m.email.clone(),
            pec: m.pec.clone(),
            cta: m.cta.clone(),
            token_name: m.token_name.clone(),
            support_url: m.support_url.clone(),
            group_id: m.group_id.clone(),
        }
    }
}

/// What a service says of itself (the reference's `ServiceBaseData` and `metadata`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceContent {
    pub name: String,
    pub description: String,
    pub organization: Organization,
    pub require_secure_channel: bool,
    pub authorized_recipients: Vec<String>,
    pub authorized_cidrs: Vec<String>,
    pub max_allowed_payment_amount: i64,
    pub suitable_for_minors: bool,
    pub metadata: ServiceMetadata,
}

impl ServiceContent {
    pub fn of(t: &Tenant, d: &ServiceData) -> Self {
        Self {
            name: d.name.clone(),
            description: d.description.clone(),
            organization: Organization {
                name: t.name.clone(),
                fiscal_code: t.fiscal_code.clone(),
                department_name: d.department_name.clone(),
            },
            require_secure_channel: d.require_secure_channel,
            authorized_recipients: d.authorized_recipients.clone(),
            authorized_cidrs: d.authorized_cidrs.clone(),
            max_allowed_payment_amount: d.max_allowed_payment_amount,
            suitable_for_minors: d.suitable_for_minors,
            metadata: ServiceMetadata::of(d),
        }
    }
}

/// The state of a service's lifecycle.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LifecycleStatus {
    /// `draft`, `submitted`, `approved`, `rejected` or `deleted`.
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The reference's `ServiceLifecycle`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceLifecycle {
    pub id: String,
    pub status: LifecycleStatus,
    pub version: i64,
    pub last_update: String,
    #[serde(flatten)]
    pub content: ServiceContent,
}

impl ServiceLifecycle {
    pub fn of(row: &ServiceRow) -> Self {
        Self {
            id: row.id.clone(),
            status: LifecycleStatus {
                value: row.status.as_str().to_string(),
                reason: row.status_reason.clone(),
            },
            version: row.version,
            last_update: Timestamp::from_millis(row.updated_at).rfc3339_millis(),
            content: ServiceContent::of(&row.tenant, &row.data),
        }
    }
}

/// The reference's `ServicePublication`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServicePublication {
    pub id: String,
    /// `published` or `unpublished`.
    pub status: String,
    pub version: i64,
    pub last_update: String,
    #[serde(flatten)]
    pub content: ServiceContent,
}

impl ServicePublication {
    /// `None` when never published.
    pub fn of(row: &ServiceRow) -> Option<Self> {
        let (Some(p), Some(data)) = (row.publication, &row.published_data) else {
            return None;
        };
        Some(Self {
            id: row.id.clone(),
            status: p.as_str().to_string(),
            version: row.published_version.unwrap_or(row.version),
            last_update: Timestamp::from_millis(row.published_at.unwrap_or(row.updated_at))
                .rfc3339_millis(),
            content: ServiceContent::of(&row.tenant, data),
        })
    }
}

/// The status of a history item: which kind of change, and the state after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryStatus {
    pub kind: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One item of the reference's `ServiceHistory`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceHistoryItem {
    pub id: String,
    pub status: HistoryStatus,
    pub version: i64,
    pub last_update: String,
    #[serde(flatten)]
    pub content: ServiceContent,
}

impl ServiceHistoryItem {
    fn of(row: &ServiceRow, item: &HistoryItem) -> Self {
        Self {
            id: row.id.clone(),
            status: HistoryStatus {
                kind: item.kind.clone(),
                value: item.status.clone(),
                reason: item.reason.clone(),
            },
            version: item.version,
            last_update: Timestamp::from_millis(item.at).rfc3339_millis(),
            content: ServiceContent::of(&row.tenant, &item.data),
        }
    }
}

/// The reference's `ServiceHistory`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceHistory {
    pub items: Vec<ServiceHistoryItem>,
    #[serde(rename = "continuationToken", skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

/// The reference's `ServiceList`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceList {
    pub value: Vec<ServiceLifecycle>,
    pub pagination: Pagination,
}

// ---- handlers ----

pub async fn list_services<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Query(q): Query<PageQuery>,
) -> Result<Json<ServiceList>, IoError> {
    let (limit, offset) = q.bounds()?;
    let (rows, count) = store::list_services(
        &state.platform.db,
        &c.tenant().institution_id,
        "",
        limit,
        offset,
    )
    .await?;
    Ok(Json(ServiceList {
        value: rows.iter().map(ServiceLifecycle::of).collect(),
        pagination: Pagination {
            offset,
            limit,
            count,
        },
    }))
}

pub async fn create_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    web::Json(payload): web::Json<ServicePayload>,
) -> Result<(StatusCode, Json<ServiceLifecycle>), IoError> {
    let data = payload.read(PayloadKind::Create)?;
    let row = store::create_service(
        &state.platform.db,
        &state.ring,
        c.tenant(),
        &data,
        &c.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ServiceLifecycle::of(&row))))
}

pub async fn get_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<ServiceLifecycle>, IoError> {
    Ok(Json(ServiceLifecycle::of(
        &own_service(&state, &c, &id).await?,
    )))
}

pub async fn update_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    web::Json(payload): web::Json<ServicePayload>,
) -> Result<Json<ServiceLifecycle>, IoError> {
    own_service(&state, &c, &id).await?;
    let data = payload.read(PayloadKind::Update)?;
    let row = store::update_service(&state.platform.db, c.tenant(), &id, &data, &c.actor()).await?;
    Ok(Json(ServiceLifecycle::of(&row)))
}

/// `PATCH /services/{id}` (and `PUT .../patch`): sets `metadata.group_id`. Groups do not
/// exist yet, so every group id is unknown.
pub async fn patch_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    web::Json(payload): web::Json<PatchPayload>,
) -> Result<Json<ServiceLifecycle>, IoError> {
    own_service(&state, &c, &id).await?;
    let g = payload.metadata.group_id;
    if g.trim().is_empty() {
        Err(IoError::invalid("metadata.group_id", "must not be empty"))
    } else {
        Err(IoError::invalid(
            "metadata.group_id",
            format!("no group {g:?}: this institution has no groups"),
        ))
    }
}

pub async fn delete_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::delete_service(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn review_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    web::Json(payload): web::Json<ReviewPayload>,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    store::submit(
        &state.platform.db,
        c.tenant(),
        &id,
        payload.auto_publish,
        &c.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn explain_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    web::Json(payload): web::Json<ExplanationPayload>,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    store::explain(&state.platform.db, c.tenant(), &id, &payload.comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn release_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::release(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpublish_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<StatusCode, IoError> {
    store::unpublish(&state.platform.db, c.tenant(), service_id(&id)?, &c.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn published_service<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<ServicePublication>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    ServicePublication::of(&row)
        .map(Json)
        .ok_or(IoError::NotFound)
}

pub async fn service_history<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<ServiceHistory>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    let descending = q.order != Some(Order::Asc);
    let limit = super::within("limit", q.limit, 10, 1, 100)?;
    let after =
        match &q.continuation_token {
            None => None,
            Some(t) => Some(t.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                IoError::invalid("continuationToken", "is not a token of this API")
            })?),
        };
    let (items, next) =
        store::history(&state.platform.db, &row.id, descending, limit, after).await?;
    Ok(Json(ServiceHistory {
        items: items
            .iter()
            .map(|i| ServiceHistoryItem::of(&row, i))
            .collect(),
        continuation_token: next.map(|n| n.to_string()),
    }))
}

pub async fn service_keys<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionKeys>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    let keys = store::keys(&state.platform.db, &state.ring, &row.id).await?;
    Ok(Json(SubscriptionKeys::from(&keys)))
}

pub async fn regenerate_service_key<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path((id, kt)): Path<(String, String)>,
) -> Result<Json<SubscriptionKeys>, IoError> {
    let row = own_service(&state, &c, &id).await?;
    let kt = key_type(&kt)?;
    if !c.may_regenerate() {
        return Err(IoError::Forbidden(
            "only the institution's administrators regenerate keys".into(),
        ));
    }
    let keys = store::regenerate(&state.platform.db, &state.ring, &row.id, kt).await?;
    Ok(Json(SubscriptionKeys::from(&keys)))
}

pub async fn upload_logo<C: Caller>(
    State(state): State<IoState>,
    c: C,
    Path(id): Path<String>,
    web::Json(payload): web::Json<LogoPayload>,
) -> Result<StatusCode, IoError> {
    own_service(&state, &c, &id).await?;
    let png = model::check_logo(&payload.logo)?;
    store::set_logo(&state.platform.db, c.tenant(), &id, &png).await?;
    Ok(StatusCode::NO_CONTENT)
}
