//! "I miei e-service": a producer's e-services with their versions.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::Timestamp;
use platform::layout::Page;

use super::view::{StateView, descriptor_state, grouped, policy_key};
use super::{On, PageError, Shell, render};
use crate::error::InteropError;
use crate::model as rules;
use crate::state::EnvState;
use crate::store::catalogue;

pub struct DescriptorLine {
    pub version: String,
    pub state: StateView,
    pub policy_key: &'static str,
    pub daily_calls_per_consumer: String,
    pub daily_calls_total: String,
    pub voucher_lifespan: String,
    pub audience: String,
    pub published_at: Option<String>,
}

pub struct EServiceLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub technology: String,
    pub mode: String,
    /// Its page in the catalogue, when a version is published.
    pub catalog_href: Option<String>,
    pub versions: Vec<DescriptorLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "eservices.html")]
pub struct EServicesPage {
    page: Page,
    shell: Shell,
    lines: Vec<EServiceLine>,
}

/// `GET /eservices` (admin or api).
pub async fn list(State(state): State<EnvState>, on: On) -> Result<Response, PageError> {
    if !rules::may_manage_eservices(&on.member.roles) {
        return Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.eservices.producers_only").to_string(),
        )));
    }
    let list = catalogue::of_producer(&state.platform.db, state.env, on.institution())
        .await
        .map_err(|e| on.fail(e))?;
    let lang = on.page.lang;
    let lines = list
        .iter()
        .map(|e| EServiceLine {
            id: e.id.clone(),
            name: e.name.clone(),
            description: e.description.clone(),
            technology: e.technology.clone(),
            mode: e.mode.clone(),
            catalog_href: e
                .latest_published()
                .map(|_| on.href(&format!("/catalog/{}", e.id))),
            versions: e
                .descriptors
                .iter()
                .rev()
                .map(|d| DescriptorLine {
                    version: d.version.clone(),
                    state: descriptor_state(d.state_value),
                    policy_key: policy_key(d.agreement_approval_policy),
                    daily_calls_per_consumer: grouped(lang, d.daily_calls_per_consumer),
                    daily_calls_total: grouped(lang, d.daily_calls_total),
                    voucher_lifespan: grouped(lang, d.voucher_lifespan),
                    audience: d.audience.join(", "),
                    published_at: d.published_at.map(|t| Timestamp(t).for_people(lang)),
                })
                .collect(),
        })
        .collect();
    let On { page, shell, .. } = on;
    Ok(render(EServicesPage { page, shell, lines }, StatusCode::OK))
}
