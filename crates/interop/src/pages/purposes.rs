//! "Finalità": the consumer's purposes (and those received by a producer), the creation form
//! with the risk analysis rendered from the form as data, and a purpose's page with its
//! versions and actions.

use platform::Timestamp;
use std::collections::{BTreeMap, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::i18n::Lang;
use platform::layout::Page;
use serde_json::{Map, Value, json};

use super::view::{
    ActionButton, FormErrors, NextStep, StateView, flash, grouped, localize_error, purpose_state,
    query, shown_in_place, tr,
};
use super::{On, PageError, Pairs, Shell, render, see_other, value};
use crate::error::InteropError;
use crate::model::risk_analysis::{self, QuestionKind, RiskAnalysisForm};
use crate::model::{self as rules, AgreementState, PurposeVersionState, RejectionReason, purpose};
use crate::state::EnvState;
use crate::store::purposes::{self, Purpose, Version, VersionAction};
use crate::store::{self, agreements};

/// The version a purpose's state is read from: the current one (ACTIVE or SUSPENDED), else
/// the latest.
fn shown_version(p: &Purpose) -> Option<&Version> {
    p.versions
        .iter()
        .rev()
        .find(|v| v.state_value.is_current())
        .or_else(|| p.versions.last())
}

/// A number typed in a form as JSON: blank is absent, a whole number a number, anything else
/// a string (which the model refuses with its own message).
fn number(raw: &str) -> Option<Value> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    Some(t.parse::<i64>().map_or_else(|_| json!(t), |n| json!(n)))
}

fn label(lang: Lang, it: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::It => it,
        Lang::En => en,
    }
}

// ---- list ----

pub struct PurposeLine {
    pub href: String,
    pub title: String,
    pub eservice: String,
    /// The consumer, in the received ones.
    pub consumer: String,
    pub state: Option<StateView>,
    pub daily_calls: Option<String>,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "purposes.html")]
pub struct PurposesPage {
    page: Page,
    shell: Shell,
    mine: Vec<PurposeLine>,
    /// Producers only: where the purposes on their e-services are.
    received_href: Option<String>,
    may_create: bool,
    new_href: String,
    flash: Option<String>,
    pager: platform::paging::Pager,
}

/// A version waiting for the producer, with what it asks and what is already granted.
pub struct WaitingLine {
    pub href: String,
    pub title: String,
    pub eservice: String,
    pub consumer: String,
    pub asked: String,
    /// "1.000 of 10.000" in the person's words; `None` without an agreement.
    pub granted_to_consumer: Option<String>,
    pub granted_total: Option<String>,
    /// Whether activating it goes over a limit (the producer decides anyway).
    pub over: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "purposes_received.html")]
pub struct ReceivedPage {
    page: Page,
    shell: Shell,
    waiting: Vec<WaitingLine>,
    all: Vec<PurposeLine>,
    flash: Option<String>,
}

async fn lines(
    state: &EnvState,
    on: &On,
    list: &[Purpose],
    with_consumer: bool,
) -> Result<Vec<PurposeLine>, PageError> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        let consumer = if with_consumer {
            match names.get(&p.consumer_id) {
                Some(n) => n.clone(),
                None => {
                    let n = store::institution_name(&state.platform.db, state.env, &p.consumer_id)
                        .await
                        .map_err(|e| on.fail(e))?
                        .unwrap_or_default();
                    names.insert(p.consumer_id.clone(), n.clone());
                    n
                }
            }
        } else {
            String::new()
        };
        let shown = shown_version(p);
        out.push(PurposeLine {
            href: on.href(&format!("/purposes/{}", p.id)),
            title: p.title.clone(),
            eservice: p.eservice_name.clone(),
            consumer,
            state: shown.map(|v| purpose_state(v.state_value)),
            daily_calls: shown.map(|v| grouped(on.page.lang, v.daily_calls)),
            updated: Timestamp(p.updated_at).for_people(on.page.lang),
        });
    }
    Ok(out)
}

/// `GET /purposes`
pub async fn list(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q);
    let db = &state.platform.db;
    let number = super::view::page_number(&q);
    let found = purposes::page(
        db,
        state.env,
        on.institution(),
        crate::store::Side::Consumer,
        super::view::page_window(number),
    )
    .await
    .map_err(|e| on.fail(e))?;
    let base_href = on.href("/purposes");
    let pager = super::view::pager(number, found.total_count, |n| {
        super::view::list_href(&base_href, &[], n)
    });
    let mine = lines(&state, &on, &found.results, false).await?;
    let received_href =
        rules::may_manage_eservices(&on.member.roles).then(|| on.href("/purposes/received"));
    let flash = flash(&on.page, &q);
    let may_create = rules::may_act_as_consumer(&on.member.roles);
    let new_href = on.href("/purposes/new");
    let On { page, shell, .. } = on;
    Ok(render(
        PurposesPage {
            page,
            shell,
            mine,
            received_href,
            may_create,
            new_href,
            flash,
            pager,
        },
        StatusCode::OK,
    ))
}

/// `GET /purposes/received` ("Finalità ricevute", admin or api): the versions waiting for
/// the producer with the quota figures beside each, then every purpose on its e-services.
pub async fn received(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    if !rules::may_manage_eservices(&on.member.roles) {
        return Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.eservices.producers_only").to_string(),
        )));
    }
    let q = query(q);
    let db = &state.platform.db;
    let list = purposes::list(db, state.env, on.institution(), true)
        .await
        .map_err(|e| on.fail(e))?;
    let all = lines(&state, &on, &list, true).await?;
    let lang = on.page.lang;
    let mut waiting = Vec::new();
    for (p, line) in list.iter().zip(&all) {
        let Some(v) = p
            .versions
            .iter()
            .find(|v| v.state_value == PurposeVersionState::WaitingForApproval)
        else {
            continue;
        };
        let quota = purposes::quota(db, state.env, p)
            .await
            .map_err(|e| on.fail(e))?;
        let of = |n: i64, max: i64| {
            tr(
                on.page.t("interop.purposes.quota_of"),
                &[("n", &grouped(lang, n)), ("max", &grouped(lang, max))],
            )
        };
        waiting.push(WaitingLine {
            href: line.href.clone(),
            title: p.title.clone(),
            eservice: p.eservice_name.clone(),
            consumer: line.consumer.clone(),
            asked: grouped(lang, v.daily_calls),
            granted_to_consumer: quota.map(|q| of(q.granted_to_consumer, q.per_consumer)),
            granted_total: quota.map(|q| of(q.granted_total, q.total)),
            over: quota.is_some_and(|q| {
                purpose::over_quota(
                    q.granted_to_consumer,
                    q.granted_total,
                    v.daily_calls,
                    q.per_consumer,
                    q.total,
                )
            }),
        });
    }
    let flash = flash(&on.page, &q);
    let On { page, shell, .. } = on;
    Ok(render(
        ReceivedPage {
            page,
            shell,
            waiting,
            all,
            flash,
        },
        StatusCode::OK,
    ))
}

mod detail;
mod form;

pub use detail::{act, show};
pub use form::{create, new_form, questions};
