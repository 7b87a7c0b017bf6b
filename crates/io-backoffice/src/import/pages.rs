//! The import's pages: the box on "Panoramica" with the status table (the overview refreshes
//! itself while something runs), the window over the overview listing the delegates, the
//! start, and the regeneration of the imported services' keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::Timestamp;

use super::api::{portal_delegates, portal_excluded, portal_services, start_import};
use super::model::{Counts, ImportState, delegate_state, selectable};
use super::store;
use crate::error::IoError;
use crate::model::KeyType;
use crate::pages::home::overview_page;
use crate::pages::services::ConfirmPage;
use crate::pages::{Bo, PageError, PostedForm, render, see_other};
use crate::state::IoState;

/// One delegate's row in the status table.
pub struct StatusRow {
    pub name: String,
    pub email: String,
    pub counts: Counts,
    pub state: ImportState,
    pub updated: String,
}

/// One failed item, with its reason.
pub struct FailedRow {
    pub service_id: String,
    pub service_name: String,
    pub error: String,
}

/// The import box of the overview (administrators).
pub struct ImportBox {
    pub configured: bool,
    pub rows: Vec<StatusRow>,
    pub running: bool,
    pub failed: Vec<FailedRow>,
    /// Imported services still using the keys the delegate knows: `(id, name)`.
    pub rekey: Vec<(String, String)>,
    pub csrf: String,
}

/// Everything the overview shows of the import.
pub async fn import_box(state: &IoState, bo: &Bo) -> Result<ImportBox, IoError> {
    let db = &state.platform.db;
    let institution = &bo.user.tenant.institution_id;
    let imports = store::latest(db, institution).await?;
    let lang = bo.page.lang;
    let rows: Vec<StatusRow> = imports
        .iter()
        .map(|d| StatusRow {
            name: format!("{} {}", d.delegate.source_surname, d.delegate.source_name),
            email: d.delegate.source_email.clone(),
            counts: d.counts,
            state: d.counts.state(),
            updated: Timestamp::from_millis(d.updated_at).for_people(lang),
        })
        .collect();
    let failed = store::failed(db, institution)
        .await?
        .into_iter()
        .map(|f| FailedRow {
            service_id: f.service_id,
            service_name: f.service_name,
            error: f.error,
        })
        .collect();
    Ok(ImportBox {
        configured: state.importer.configured(),
        running: rows.iter().any(|r| r.counts.running()),
        rows,
        failed,
        rekey: store::services_with_imported_keys(db, institution).await?,
        csrf: bo.csrf(),
    })
}

/// A delegate in the window.
pub struct DelegateRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub services: Vec<String>,
    pub pending: i64,
    pub state: ImportState,
    pub selectable: bool,
    pub checked: bool,
}

/// "Importa i servizi", the window over the overview: the delegates, or why the portal could
/// not be asked.
pub struct ImportDialog {
    pub csrf: String,
    pub delegates: Vec<DelegateRow>,
    /// The services left out: name, delegate, why (a message key).
    pub excluded: Vec<(String, String, &'static str)>,
    /// Why the portal could not be asked, if it could not.
    pub unavailable: Option<String>,
    pub error: Option<String>,
}

async fn window(
    state: &IoState,
    bo: Bo,
    checked: &[String],
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let listing = async {
        let delegates = portal_delegates(state, &bo.user).await?;
        let services = portal_services(state, &bo.user).await?;
        let imports = store::latest(&state.platform.db, &bo.user.tenant.institution_id).await?;
        let excluded = portal_excluded(state, &bo.user).await?;
        Ok::<_, IoError>((delegates, services, imports, excluded))
    };
    let mut left_out = Vec::new();
    let (delegates, unavailable) = match listing.await {
        Ok((delegates, services, imports, excluded)) => {
            left_out = excluded
                .into_iter()
                .map(|e| {
                    let why = match e.reason.as_str() {
                        "MARKED_DELETED" => "io.import.excluded_reason.marked_deleted",
                        _ => "io.import.excluded_reason.other",
                    };
                    (
                        e.name,
                        format!("{} {}", e.delegate_surname, e.delegate_name),
                        why,
                    )
                })
                .collect();
            let rows = delegates
                .into_iter()
                .map(|d| {
                    let counts = imports
                        .iter()
                        .find(|i| i.delegate.source_id == d.source_id)
                        .map(|i| i.counts);
                    let pending = d.subscription_counter;
                    DelegateRow {
                        services: services
                            .iter()
                            .filter(|s| s.delegate_id == d.source_id)
                            .map(|s| s.name.clone())
                            .collect(),
                        name: format!("{} {}", d.source_surname, d.source_name),
                        email: d.source_email,
                        pending,
                        state: delegate_state(pending, counts.as_ref()),
                        selectable: selectable(pending, counts.as_ref()),
                        checked: checked.contains(&d.source_id),
                        id: d.source_id,
                    }
                })
                .collect();
            (rows, None)
        }
        Err(IoError::Unavailable(_)) => (Vec::new(), Some(bo.t("io.import.not_configured"))),
        Err(IoError::Upstream(_)) => (Vec::new(), Some(bo.t("io.import.unavailable_message"))),
        Err(e) => return Err(bo.fail(e)),
    };
    let dialog = ImportDialog {
        csrf: bo.csrf(),
        delegates,
        excluded: left_out,
        unavailable,
        error,
    };
    overview_page(state, bo, None, false, Some(dialog), status).await
}

/// `GET /io/import` (administrators): "Importa i servizi dal Developer Portal".
pub async fn open(State(state): State<IoState>, bo: Bo) -> Result<Response, PageError> {
    bo.require_admin()?;
    window(&state, bo, &[], None, StatusCode::OK).await
}

/// `POST /io/import` (administrators): starts the import of the selected delegates, then back
/// to the overview, where its progress shows.
pub async fn start(
    State(state): State<IoState>,
    bo: Bo,
    form: PostedForm,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    let form = bo.posted(form)?;
    let mut chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "delegate")
        .map(|(_, v)| v.clone())
        .collect();
    chosen.dedup();
    if chosen.is_empty() {
        let message = bo.t("io.import.choose_one");
        return window(&state, bo, &[], Some(message), StatusCode::BAD_REQUEST).await;
    }
    for delegate in &chosen {
        match start_import(&state, &bo.user, delegate).await {
            Ok(()) => {}
            Err(IoError::NotFound) => {
                let message = bo.t("io.import.delegate_gone");
                return window(&state, bo, &chosen, Some(message), StatusCode::CONFLICT).await;
            }
            Err(e) => return Err(bo.fail(e)),
        }
    }
    Ok(see_other("/io?import=started#import"))
}

/// `GET /io/import/regenerate-keys` (administrators): "Rigenerare tutte le chiavi?"
pub async fn confirm_rekey(State(state): State<IoState>, bo: Bo) -> Result<Response, PageError> {
    bo.require_admin()?;
    let services =
        store::services_with_imported_keys(&state.platform.db, &bo.user.tenant.institution_id)
            .await
            .map_err(|e| bo.fail(e))?;
    let names: Vec<&str> = services.iter().map(|(_, n)| n.as_str()).collect();
    let message = format!("{} {}", bo.t("io.import.rekey_message"), names.join(", "));
    let title = bo.t("io.import.rekey_title");
    let (action, cancel) = ("/io/import/regenerate-keys".into(), "/io#import".into());
    let confirm = ConfirmPage::danger(bo, title, message, "io.import.rekey_all", action, cancel);
    Ok(render(confirm, StatusCode::OK))
}

/// `POST /io/import/regenerate-keys` (administrators): new primary and secondary keys for every
/// imported service still using the keys it arrived with.
pub async fn rekey(
    State(state): State<IoState>,
    bo: Bo,
    form: PostedForm,
) -> Result<Response, PageError> {
    bo.require_admin()?;
    bo.posted(form)?;
    let db = &state.platform.db;
    let services = store::services_with_imported_keys(db, &bo.user.tenant.institution_id)
        .await
        .map_err(|e| bo.fail(e))?;
    for (id, _) in &services {
        for kt in [KeyType::Primary, KeyType::Secondary] {
            crate::store::regenerate(db, &state.ring, id, kt)
                .await
                .map_err(|e| bo.fail(e))?;
        }
    }
    Ok(see_other("/io?import=rekeyed#import"))
}
