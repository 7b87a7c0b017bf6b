//! The service API: `GET /api/v1/services/{service_id}` with the service's own key, from an
//! address its `authorized_cidrs` allow.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use serde::Serialize;
use utoipa::ToSchema;

use super::services::ServiceMetadata;
use crate::auth;
use crate::error::IoError;
use crate::model::{self, SubscriptionKind};
use crate::state::IoState;
use crate::store;

/// The published service, as the IO platform's service API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedService {
    pub service_id: String,
    pub service_name: String,
    pub organization_name: String,
    pub department_name: String,
    pub organization_fiscal_code: String,
    pub version: i64,
    pub require_secure_channels: bool,
    pub service_metadata: ServiceMetadata,
}

/// `GET /api/v1/services/{service_id}`: the published service.
pub async fn service_api_get(
    State(state): State<IoState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Result<Json<PublishedService>, IoError> {
    let (owner, ip) = auth::key_owner(&state, &parts).await?;
    if owner.subscription.kind != SubscriptionKind::Service || owner.subscription.id != id {
        return Err(IoError::Forbidden(
            "this key is not the service's own key".into(),
        ));
    }
    let row = store::find_service(&state.platform.db, &id)
        .await?
        .ok_or(IoError::NotFound)?;
    if !model::address_allowed(&row.data.cidrs(), ip) {
        return Err(IoError::AddressNotAllowed);
    }
    let (Some(model::Publication::Published), Some(d)) = (row.publication, &row.published_data)
    else {
        return Err(IoError::NotFound);
    };
    // The service API has no groups.
    let service_metadata = ServiceMetadata {
        group_id: None,
        ..ServiceMetadata::of(d)
    };
    Ok(Json(PublishedService {
        service_id: row.id.clone(),
        service_name: d.name.clone(),
        organization_name: row.tenant.name.clone(),
        department_name: d.department_name.clone().unwrap_or_default(),
        organization_fiscal_code: row.tenant.fiscal_code.clone(),
        version: row.published_version.unwrap_or(row.version),
        require_secure_channels: d.require_secure_channel,
        service_metadata,
    }))
}
