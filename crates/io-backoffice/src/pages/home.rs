//! "Panoramica": who is here, for which institution, and the services at a glance.

use askama::Template;
use askama_web::WebTemplate;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::view::{status_badge, status_key};
use super::{Bo, PageError, QueryString, Shell, query, render};
use crate::import::pages::{self as import, ImportBox, ImportDialog};
use crate::model::Lifecycle;
use crate::state::IoState;
use crate::store;

/// One count of the overview: label key, badge class, number.
pub struct Count {
    pub label: &'static str,
    pub badge: &'static str,
    pub n: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    page: Page,
    shell: Shell,
    name: String,
    institution: String,
    fiscal_code: String,
    is_admin: bool,
    total: i64,
    counts: Vec<Count>,
    published: i64,
    /// The import from the Developer Portal (administrators).
    import_box: Option<ImportBox>,
    flash: Option<&'static str>,
    /// The banner of an import: running, or done since it was started from this page.
    import_banner: Option<&'static str>,
    /// "Importa i servizi" open over the overview.
    dialog: Option<ImportDialog>,
}

/// `GET /io`
pub async fn overview(
    State(state): State<IoState>,
    bo: Bo,
    q: QueryString,
) -> Result<Response, PageError> {
    let q = query(q);
    let started = q.get("import").map(String::as_str) == Some("started");
    let flash = match q.get("import").map(String::as_str) {
        Some("rekeyed") => Some("io.import.rekeyed"),
        _ => None,
    };
    overview_page(&state, bo, flash, started, None, StatusCode::OK).await
}

/// The overview, with the import's window open over it when `dialog` is given.
pub async fn overview_page(
    state: &IoState,
    bo: Bo,
    flash: Option<&'static str>,
    started: bool,
    dialog: Option<ImportDialog>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let import_box = if bo.user.is_admin() {
        Some(
            import::import_box(state, &bo)
                .await
                .map_err(|e| bo.fail(e))?,
        )
    } else {
        None
    };
    let import_banner = match &import_box {
        Some(b) if b.running => Some("io.import.banner_running"),
        Some(b) if started && b.failed.is_empty() => Some("io.import.banner_done"),
        Some(_) if started => Some("io.import.banner_failed"),
        _ => None,
    };
    let (by_status, published) =
        store::status_counts(&state.platform.db, &bo.user.tenant.institution_id)
            .await
            .map_err(|e| bo.fail(e))?;
    let counts: Vec<Count> = [
        Lifecycle::Draft,
        Lifecycle::Submitted,
        Lifecycle::Approved,
        Lifecycle::Rejected,
    ]
    .into_iter()
    .map(|l| Count {
        label: status_key(l),
        badge: status_badge(l),
        n: by_status
            .iter()
            .find(|(s, _)| *s == l)
            .map_or(0, |(_, n)| *n),
    })
    .collect();
    let Bo { user, page, shell } = bo;
    Ok(render(
        OverviewPage {
            name: user.session.claims.name.clone(),
            institution: user.tenant.name.clone(),
            fiscal_code: user.tenant.fiscal_code.clone(),
            is_admin: user.is_admin(),
            total: counts.iter().map(|c| c.n).sum(),
            counts,
            published,
            import_box,
            flash,
            import_banner,
            dialog,
            page,
            shell,
        },
        status,
    ))
}
