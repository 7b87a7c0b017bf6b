//! The institution's audit trail for its administrators: read-only, newest first, filtered by
//! kind of action, in pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use platform::Timestamp;
use platform::layout::Page;
use serde::Deserialize;

use crate::access;
use crate::auth::PageUser;
use crate::error::RaError;
use crate::model::Action;
use crate::pages::dashboard::page_for;
use crate::pages::error::{OnPage, PageFailure};
use crate::state::RaState;
use crate::store::{self, AuditEntry, Institution};

const PAGE_SIZE: i64 = 20;

/// The filters offered: (value, message key).
const KINDS: &[(&str, &str)] = &[
    ("", "ra.audit.kinds.all"),
    ("user.", "ra.audit.kinds.users"),
    ("token.", "ra.audit.kinds.tokens"),
    ("institution.", "ra.audit.kinds.institution"),
];

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub page: u32,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    page: Page,
    institution: Institution,
    entries: Vec<(String, AuditEntry)>,
    kinds: &'static [(&'static str, &'static str)],
    kind: String,
    number: u32,
    has_next: bool,
}

/// `GET /dashboard/{institution_id}/audit`
pub async fn audit(
    State(state): State<RaState>,
    user: PageUser,
    page: Page,
    Path(institution_id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageFailure> {
    let page = page_for(page, &user);
    let a = access::load(&state, &user.session, &institution_id)
        .await
        .on_page(&page)?;
    if !a.authority.can(Action::ManageProductUsers) {
        return Err(RaError::Forbidden).on_page(&page);
    }
    let kind = KINDS
        .iter()
        .find(|(v, _)| *v == q.kind)
        .map(|(v, _)| *v)
        .unwrap_or("");
    // One more than a page tells whether there is a next one.
    let mut entries = store::audit_trail(
        &state.platform.db,
        &institution_id,
        kind,
        i64::from(q.page) * PAGE_SIZE,
        PAGE_SIZE + 1,
    )
    .await
    .map_err(RaError::from)
    .on_page(&page)?;
    let has_next = entries.len() as i64 > PAGE_SIZE;
    entries.truncate(PAGE_SIZE as usize);
    let lang = page.lang;
    Ok(AuditPage {
        page,
        institution: a.institution,
        entries: entries
            .into_iter()
            .map(|e| (Timestamp(e.at).for_people(lang), e))
            .collect(),
        kinds: KINDS,
        kind: kind.to_string(),
        number: q.page,
        has_next,
    }
    .into_response())
}
