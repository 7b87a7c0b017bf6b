//! "Panoramica": who is here, for which institution, and the services at a glance.

use askama::Template;
use askama_web::WebTemplate;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::layout::Page;

use super::view::{status_badge, status_key};
use super::{Bo, PageError, QueryString, Shell, query, render};
use crate::import::pages::{self as import, ImportBox};
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
}

/// `GET /io`
pub async fn overview(
    State(state): State<IoState>,
    bo: Bo,
    q: QueryString,
) -> Result<Response, PageError> {
    let flash = match query(q).get("import").map(String::as_str) {
        Some("started") => Some("io.import.started"),
        Some("rekeyed") => Some("io.import.rekeyed"),
        _ => None,
    };
    let import_box = if bo.user.is_admin() {
        Some(
            import::import_box(&state, &bo)
                .await
                .map_err(|e| bo.fail(e))?,
        )
    } else {
        None
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
            page,
            shell,
        },
        StatusCode::OK,
    ))
}
