//! The import's JSON API under `/io/api/services/migrations` (administrators of the
//! institution): the delegates, starting an import per delegate ("ownership claim") and its
//! status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::client::{Delegate, PendingService};
use super::model::{Counts, StepError};
use super::store::{self, DelegateImport};
use crate::auth::BoUser;
use crate::error::IoError;
use crate::model::service_id_shape;
use crate::state::IoState;

pub fn upstream(e: StepError) -> IoError {
    IoError::Upstream(e.message().to_string())
}

/// The delegates of the caller's institution with services on the portal.
pub async fn portal_delegates(s: &IoState, user: &BoUser) -> Result<Vec<Delegate>, IoError> {
    s.importer
        .portal()?
        .delegates(&user.tenant.fiscal_code)
        .await
        .map_err(upstream)
}

/// The services of the caller's institution still on the portal.
pub async fn portal_services(s: &IoState, user: &BoUser) -> Result<Vec<PendingService>, IoError> {
    s.importer
        .portal()?
        .pending_services(&user.tenant.fiscal_code)
        .await
        .map_err(upstream)
}

/// The institution's services the import leaves out, with why.
pub async fn portal_excluded(
    s: &IoState,
    user: &BoUser,
) -> Result<Vec<super::client::ExcludedService>, IoError> {
    s.importer
        .portal()?
        .excluded_services(&user.tenant.fiscal_code)
        .await
        .map_err(upstream)
}

/// Starts (or resumes) the import of a delegate's services: records an item per service still
/// on the portal and wakes the workers. Asking again while it runs adds nothing.
pub async fn start_import(s: &IoState, user: &BoUser, delegate_id: &str) -> Result<(), IoError> {
    user.require_admin()?;
    if !service_id_shape(delegate_id) {
        return Err(IoError::invalid("delegateId", "is not a delegate id"));
    }
    let portal = s.importer.portal()?;
    let fc = &user.tenant.fiscal_code;
    let delegate = portal
        .delegate(fc, delegate_id)
        .await
        .map_err(upstream)?
        .ok_or(IoError::NotFound)?;
    let services = portal
        .delegate_services(fc, delegate_id)
        .await
        .map_err(upstream)?;
    store::request(
        &s.platform.db,
        &user.tenant,
        &delegate,
        &services,
        user.session.user_id(),
    )
    .await?;
    s.importer.wake();
    Ok(())
}

/// The delegates of the institution with services on the portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delegates {
    pub delegates: Vec<Delegate>,
}

/// How many of a delegate's services are in each state of the import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCounts {
    pub initial: i64,
    pub processing: i64,
    pub failed: i64,
    pub completed: i64,
}

impl From<&Counts> for ImportCounts {
    fn from(c: &Counts) -> Self {
        Self {
            initial: c.initial,
            processing: c.processing,
            failed: c.failed,
            completed: c.completed,
        }
    }
}

/// The import of a delegate's services ("ownership claim"): its state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimStatus {
    pub last_update: String,
    pub status: ImportCounts,
}

/// The delegate an import is for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimDelegate {
    pub source_id: String,
    pub source_name: String,
    pub source_surname: String,
    pub source_email: String,
}

/// One delegate's import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub delegate: ClaimDelegate,
    pub last_update: String,
    pub status: ImportCounts,
}

/// The latest import of each delegate.
#[derive(Debug, Serialize, ToSchema)]
pub struct Claims {
    pub items: Vec<Claim>,
}

impl From<&DelegateImport> for Claim {
    fn from(d: &DelegateImport) -> Self {
        Self {
            delegate: ClaimDelegate {
                source_id: d.delegate.source_id.clone(),
                source_name: d.delegate.source_name.clone(),
                source_surname: d.delegate.source_surname.clone(),
                source_email: d.delegate.source_email.clone(),
            },
            last_update: Timestamp::from_millis(d.updated_at).rfc3339_millis(),
            status: ImportCounts::from(&d.counts),
        }
    }
}

/// `GET /io/api/services/migrations/delegates`
pub async fn delegates(State(s): State<IoState>, user: BoUser) -> Result<Json<Delegates>, IoError> {
    user.require_admin()?;
    let delegates = portal_delegates(&s, &user).await?;
    Ok(Json(Delegates { delegates }))
}

/// `POST /io/api/services/migrations/ownership-claims/{delegateId}` → 202
pub async fn claim(
    State(s): State<IoState>,
    user: BoUser,
    Path(delegate_id): Path<String>,
) -> Result<StatusCode, IoError> {
    start_import(&s, &user, &delegate_id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /io/api/services/migrations/ownership-claims/{delegateId}`
pub async fn claim_status(
    State(s): State<IoState>,
    user: BoUser,
    Path(delegate_id): Path<String>,
) -> Result<Json<ClaimStatus>, IoError> {
    user.require_admin()?;
    let d = store::delegate(&s.platform.db, &user.tenant.institution_id, &delegate_id)
        .await?
        .ok_or(IoError::NotFound)?;
    Ok(Json(ClaimStatus {
        last_update: Timestamp::from_millis(d.updated_at).rfc3339_millis(),
        status: ImportCounts::from(&d.counts),
    }))
}

/// `GET /io/api/services/migrations/ownership-claims/latest`
pub async fn latest(State(s): State<IoState>, user: BoUser) -> Result<Json<Claims>, IoError> {
    user.require_admin()?;
    let items = store::latest(&s.platform.db, &user.tenant.institution_id).await?;
    Ok(Json(Claims {
        items: items.iter().map(Claim::from).collect(),
    }))
}
