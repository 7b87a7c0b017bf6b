//! The migration API, for the IO back-office only (`X-Functions-Key`): which delegates and
//! services an institution can import, and the two steps of each service's import, freeze and
//! transfer, both idempotent.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::AppState;
use crate::auth::MigrationCaller;
use crate::error::DevportalError;
use crate::model::{self, LegacyService, OrgService};
use crate::store;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/organizations/{fc}/delegates", get(delegates))
        .route("/organizations/{fc}/services", get(services))
        .route("/organizations/{fc}/delegates/{delegate_id}", get(delegate))
        .route(
            "/organizations/{fc}/delegates/{delegate_id}/services",
            get(delegate_services),
        )
        .route(
            "/organizations/{fc}/delegates/{delegate_id}/services/{service_id}/freeze",
            post(freeze),
        )
        .route(
            "/organizations/{fc}/delegates/{delegate_id}/services/{service_id}/transfer",
            post(transfer),
        )
}

fn check_fc(fc: &str) -> Result<(), DevportalError> {
    if model::is_org_fiscal_code(fc) {
        Ok(())
    } else {
        Err(DevportalError::InvalidFiscalCode)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DelegateEntry {
    source_id: String,
    source_name: String,
    source_surname: String,
    source_email: String,
    subscription_counter: usize,
}

#[derive(Serialize)]
struct DelegatesBody {
    delegates: Vec<DelegateEntry>,
}

async fn delegates(
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
async fn delegate(
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceEntry {
    id: String,
    name: String,
    delegate_id: String,
    visibility: &'static str,
    frozen: bool,
}

#[derive(Serialize)]
struct ServicesBody {
    services: Vec<ServiceEntry>,
}

fn services_body(list: Vec<&OrgService>) -> ServicesBody {
    ServicesBody {
        services: list
            .into_iter()
            .map(|s| ServiceEntry {
                id: s.id.clone(),
                name: s.name.clone(),
                delegate_id: s.delegate.id.clone(),
                visibility: s.visibility.as_str(),
                frozen: s.frozen,
            })
            .collect(),
    }
}

async fn services(
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

async fn delegate_services(
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

#[derive(Serialize)]
struct FrozenService<'a> {
    id: &'a str,
    #[serde(flatten)]
    service: &'a LegacyService,
    visibility: &'static str,
}

#[derive(Serialize)]
struct Keys<'a> {
    primary: &'a str,
    secondary: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FreezeBody<'a> {
    service: FrozenService<'a>,
    keys: Keys<'a>,
    frozen_at: String,
    transferred: bool,
}

async fn freeze(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id, service_id)): Path<(String, String, String)>,
) -> Result<Json<serde_json::Value>, DevportalError> {
    check_fc(&fc)?;
    let stored = store::freeze(&state.db, &fc, &delegate_id, &service_id).await?;
    let frozen_at = stored.frozen_at.ok_or_else(|| {
        DevportalError::Corrupt(format!("service {service_id}: not frozen after the freeze"))
    })?;
    let body = FreezeBody {
        service: FrozenService {
            id: &stored.id,
            service: &stored.service,
            visibility: stored.visibility.as_str(),
        },
        keys: Keys {
            primary: &stored.primary_key,
            secondary: &stored.secondary_key,
        },
        frozen_at: model::rfc3339(frozen_at),
        transferred: stored.transferred_at.is_some(),
    };
    tracing::info!(service = %service_id, delegate = %delegate_id, "service frozen for the import");
    let value = serde_json::to_value(&body).map_err(|e| DevportalError::Corrupt(e.to_string()))?;
    Ok(Json(value))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransferBody {
    transferred: bool,
    transferred_at: String,
}

async fn transfer(
    _: MigrationCaller,
    State(state): State<AppState>,
    Path((fc, delegate_id, service_id)): Path<(String, String, String)>,
) -> Result<Json<TransferBody>, DevportalError> {
    check_fc(&fc)?;
    let at = store::transfer(&state.db, &fc, &delegate_id, &service_id).await?;
    tracing::info!(service = %service_id, delegate = %delegate_id, "service transferred");
    Ok(Json(TransferBody {
        transferred: true,
        transferred_at: model::rfc3339(at),
    }))
}
