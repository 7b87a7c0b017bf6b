//! The migration API, for the IO back-office only (`X-Functions-Key`): which delegates and
//! services an institution can import, and the two steps of each service's import, freeze and
//! transfer, both idempotent.

use axum::Json;
use axum::extract::{Path, State};
use platform::Timestamp;
use serde::Serialize;

use crate::AppState;
use crate::auth::MigrationCaller;
use crate::error::DevportalError;
use crate::model::{self, LegacyService, OrgService, Visibility};
use crate::store;

fn check_fc(fc: &str) -> Result<(), DevportalError> {
    if model::is_org_fiscal_code(fc) {
        Ok(())
    } else {
        Err(DevportalError::InvalidFiscalCode)
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegateEntry {
    pub source_id: String,
    pub source_name: String,
    pub source_surname: String,
    pub source_email: String,
    pub subscription_counter: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DelegatesBody {
    pub delegates: Vec<DelegateEntry>,
}

pub async fn delegates(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path(fc): Path<String>,
) -> Result<Json<DelegatesBody>, DevportalError> {
    check_fc(&fc)?;
    let all = store::organization_services(&state.db, &fc, None).await?;
    let delegates = model::importable_delegates(&fc, &all)
        .into_iter()
        .map(|d| DelegateEntry {
            source_id: d.delegate.id,
            source_name: d.delegate.name,
            source_surname: d.delegate.surname,
            source_email: d.delegate.email,
            subscription_counter: d.pending,
        })
        .collect();
    Ok(Json(DelegatesBody { delegates }))
}

/// One delegate with importable services of the organization, as in the list; 404 when they
/// have none.
pub async fn delegate(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id)): Path<(String, String)>,
) -> Result<Json<DelegateEntry>, DevportalError> {
    check_fc(&fc)?;
    let theirs = store::organization_services(&state.db, &fc, Some(&delegate_id)).await?;
    model::importable_delegates(&fc, &theirs)
        .into_iter()
        .next()
        .map(|d| {
            Json(DelegateEntry {
                source_id: d.delegate.id,
                source_name: d.delegate.name,
                source_surname: d.delegate.surname,
                source_email: d.delegate.email,
                subscription_counter: d.pending,
            })
        })
        .ok_or(DevportalError::NotFound)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEntry {
    pub id: String,
    pub name: String,
    pub delegate_id: String,
    pub visibility: Visibility,
    pub frozen: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServicesBody {
    pub services: Vec<ServiceEntry>,
}

fn services_body(list: Vec<&OrgService>) -> ServicesBody {
    ServicesBody {
        services: list
            .into_iter()
            .map(|s| ServiceEntry {
                id: s.id.clone(),
                name: s.name.clone(),
                delegate_id: s.delegate.id.clone(),
                visibility: s.visibility,
                frozen: s.frozen,
            })
            .collect(),
    }
}

pub async fn services(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path(fc): Path<String>,
) -> Result<Json<ServicesBody>, DevportalError> {
    check_fc(&fc)?;
    let all = store::organization_services(&state.db, &fc, None).await?;
    Ok(Json(services_body(model::pending_services(
        &fc, None, &all,
    ))))
}

/// A service the import leaves out, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExcludedEntry {
    pub id: String,
    pub name: String,
    pub delegate_id: String,
    pub delegate_name: String,
    pub delegate_surname: String,
    pub reason: model::Exclusion,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExcludedBody {
    pub services: Vec<ExcludedEntry>,
}

/// The organization's services the import leaves out, with why (so that an institution's
/// admin learns why a service does not arrive).
pub async fn excluded(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path(fc): Path<String>,
) -> Result<Json<ExcludedBody>, DevportalError> {
    check_fc(&fc)?;
    let all = store::organization_services(&state.db, &fc, None).await?;
    let services = model::excluded_services(&fc, &all)
        .into_iter()
        .map(|(s, reason)| ExcludedEntry {
            id: s.id.clone(),
            name: s.name.clone(),
            delegate_id: s.delegate.id.clone(),
            delegate_name: s.delegate.name.clone(),
            delegate_surname: s.delegate.surname.clone(),
            reason,
        })
        .collect();
    Ok(Json(ExcludedBody { services }))
}

pub async fn delegate_services(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id)): Path<(String, String)>,
) -> Result<Json<ServicesBody>, DevportalError> {
    check_fc(&fc)?;
    let theirs = store::organization_services(&state.db, &fc, Some(&delegate_id)).await?;
    Ok(Json(services_body(model::pending_services(
        &fc,
        Some(&delegate_id),
        &theirs,
    ))))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrozenService {
    pub id: String,
    #[serde(flatten)]
    pub service: LegacyService,
    pub visibility: Visibility,
}

/// No `Debug`: it holds the keys.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Keys {
    pub primary: String,
    pub secondary: String,
}

/// No `Debug`: it holds the keys.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FreezeBody {
    pub service: FrozenService,
    pub keys: Keys,
    pub frozen_at: String,
    pub transferred: bool,
}

pub async fn freeze(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id, service_id)): Path<(String, String, String)>,
) -> Result<Json<FreezeBody>, DevportalError> {
    check_fc(&fc)?;
    let stored = store::freeze(&state.db, &fc, &delegate_id, &service_id).await?;
    let frozen_at = stored.frozen_at.ok_or_else(|| {
        DevportalError::Corrupt(format!("service {service_id}: not frozen after the freeze"))
    })?;
    let body = FreezeBody {
        transferred: stored.transferred_at.is_some(),
        service: FrozenService {
            id: stored.id,
            service: stored.service,
            visibility: stored.visibility,
        },
        keys: Keys {
            primary: stored.primary_key,
            secondary: stored.secondary_key,
        },
        frozen_at: Timestamp(frozen_at).rfc3339(),
    };
    tracing::info!(service = %service_id, delegate = %delegate_id, "service frozen for the import");
    Ok(Json(body))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    pub transferred: bool,
    pub transferred_at: String,
}

pub async fn transfer(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id, service_id)): Path<(String, String, String)>,
) -> Result<Json<TransferBody>, DevportalError> {
    check_fc(&fc)?;
    let at = store::transfer(&state.db, &fc, &delegate_id, &service_id).await?;
    tracing::info!(service = %service_id, delegate = %delegate_id, "service transferred");
    Ok(Json(TransferBody {
        transferred: true,
        transferred_at: Timestamp(at).rfc3339(),
    }))
}
