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
    FormErrors, StateView, flash, grouped, localize_error, purpose_state, query, shown_in_place, tr,
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
    /// Producers only.
    received: Option<Vec<PurposeLine>>,
    may_create: bool,
    new_href: String,
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
    let mine = purposes::list(db, state.env, on.institution(), false)
        .await
        .map_err(|e| on.fail(e))?;
    let mine = lines(&state, &on, &mine, false).await?;
    let received = if rules::may_manage_eservices(&on.member.roles) {
        let list = purposes::list(db, state.env, on.institution(), true)
            .await
            .map_err(|e| on.fail(e))?;
        Some(lines(&state, &on, &list, true).await?)
    } else {
        None
    };
    let flash = flash(&on.page, &q);
    let may_create = rules::may_act_as_consumer(&on.member.roles);
    let new_href = on.href("/purposes/new");
    let On { page, shell, .. } = on;
    Ok(render(
        PurposesPage {
            page,
            shell,
            mine,
            received,
            may_create,
            new_href,
            flash,
        },
        StatusCode::OK,
    ))
}

// ---- the creation form ----

/// What was typed in the creation form.
#[derive(Default)]
pub struct PurposeForm {
    pub eservice_id: String,
    pub title: String,
    pub description: String,
    /// `true`, `false` or empty.
    pub free_of_charge: String,
    pub free_of_charge_reason: String,
    pub daily_calls: String,
    /// Question id → values, as posted.
    pub answers: BTreeMap<String, Vec<String>>,
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

impl PurposeForm {
    pub fn from_pairs(pairs: &Pairs) -> PurposeForm {
        let mut answers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            if let Some(id) = k.strip_prefix("ra.")
                && !v.trim().is_empty()
            {
                answers.entry(id.to_string()).or_default().push(v.clone());
            }
        }
        PurposeForm {
            eservice_id: value(pairs, "eserviceId").trim().to_string(),
            title: value(pairs, "title").to_string(),
            description: value(pairs, "description").to_string(),
            free_of_charge: value(pairs, "isFreeOfCharge").to_string(),
            free_of_charge_reason: value(pairs, "freeOfChargeReason").to_string(),
            daily_calls: value(pairs, "dailyCalls").to_string(),
            answers,
        }
    }

    /// The answers to the questions that apply: a question that depends on another is left
    /// out unless the other's answer includes its value (the page cannot hide it without
    /// script, so what was typed there does not count).
    pub fn applicable(&self, form: &RiskAnalysisForm) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for q in &form.questions {
            let Some(values) = self.answers.get(q.id) else {
                continue;
            };
            if let Some(d) = q.depends_on
                && !out
                    .get(d.question)
                    .is_some_and(|given| given.iter().any(|v| v == d.value))
            {
                continue;
            }
            out.insert(q.id.to_string(), values.clone());
        }
        out
    }

    /// The JSON payload of the API's `POST /purposes`.
    pub fn to_json(&self, form: &RiskAnalysisForm) -> Value {
        let mut m = Map::new();
        if !self.eservice_id.is_empty() {
            m.insert("eserviceId".into(), json!(self.eservice_id));
        }
        m.insert("title".into(), json!(self.title));
        m.insert("description".into(), json!(self.description));
        match self.free_of_charge.as_str() {
            "true" => {
                m.insert("isFreeOfCharge".into(), json!(true));
            }
            "false" => {
                m.insert("isFreeOfCharge".into(), json!(false));
            }
            _ => {}
        }
        if !self.free_of_charge_reason.trim().is_empty() {
            m.insert(
                "freeOfChargeReason".into(),
                json!(self.free_of_charge_reason),
            );
        }
        if let Some(n) = number(&self.daily_calls) {
            m.insert("dailyCalls".into(), n);
        }
        m.insert(
            "riskAnalysisForm".into(),
            json!({ "version": form.version, "answers": self.applicable(form) }),
        );
        Value::Object(m)
    }
}

/// The form field of a JSON path of the payload.
fn field_of(path: &str) -> Option<String> {
    if let Some(id) = path.strip_prefix("riskAnalysisForm.answers.") {
        return Some(format!("ra.{id}"));
    }
    match path {
        "eserviceId" | "title" | "description" | "isFreeOfCharge" | "freeOfChargeReason"
        | "dailyCalls" => Some(path.to_string()),
        _ => None,
    }
}

pub struct RaOption {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// A question of the risk analysis as the form shows it.
pub struct RaQuestion {
    pub n: usize,
    pub id: &'static str,
    pub label: &'static str,
    /// `SINGLE`, `MULTI` or `TEXT`.
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<RaOption>,
    pub text: String,
    /// When a dependent question applies.
    pub note: Option<String>,
    pub error: Option<String>,
}

fn label(lang: Lang, it: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::It => it,
        Lang::En => en,
    }
}

fn ra_questions(
    page: &Page,
    form: &RiskAnalysisForm,
    answers: &BTreeMap<String, Vec<String>>,
    errors: &FormErrors,
) -> Vec<RaQuestion> {
    let lang = page.lang;
    form.questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let given = answers.get(q.id);
            let note = q.depends_on.and_then(|d| {
                let parent = form.question(d.question)?;
                let answer = parent.options.iter().find(|o| o.value == d.value)?;
                Some(tr(
                    page.t("interop.purpose_form.depends_note"),
                    &[
                        ("question", label(lang, parent.label_it, parent.label_en)),
                        ("answer", label(lang, answer.label_it, answer.label_en)),
                    ],
                ))
            });
            RaQuestion {
                n: i + 1,
                id: q.id,
                label: label(lang, q.label_it, q.label_en),
                kind: match q.kind {
                    QuestionKind::Single => "SINGLE",
                    QuestionKind::Multi => "MULTI",
                    QuestionKind::Text => "TEXT",
                },
                required: q.required,
                options: q
                    .options
                    .iter()
                    .map(|o| RaOption {
                        value: o.value,
                        label: label(lang, o.label_it, o.label_en),
                        checked: given.is_some_and(|g| g.iter().any(|v| v == o.value)),
                    })
                    .collect(),
                text: if q.kind == QuestionKind::Text {
                    given.and_then(|g| g.first()).cloned().unwrap_or_default()
                } else {
                    String::new()
                },
                note,
                error: errors.of(&format!("ra.{}", q.id)),
            }
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "purpose_form.html")]
pub struct PurposeFormPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    cancel_href: String,
    catalog_href: String,
    /// The e-services with an ACTIVE agreement of the institution: id and name.
    eservices: Vec<(String, String)>,
    form: PurposeForm,
    errors: FormErrors,
    questions: Vec<RaQuestion>,
    form_version: &'static str,
}

impl PurposeFormPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.of(field)
    }

    fn error_count(&self) -> String {
        match self.errors.count() {
            1 => self
                .page
                .t("interop.purpose_form.error_summary_one")
                .to_string(),
            n => tr(
                self.page.t("interop.purpose_form.error_summary"),
                &[("count", &n.to_string())],
            ),
        }
    }
}

/// The e-services the institution may create purposes on: those of its ACTIVE agreements.
async fn subscribed(state: &EnvState, on: &On) -> Result<Vec<(String, String)>, PageError> {
    let list = agreements::list(&state.platform.db, state.env, on.institution(), false)
        .await
        .map_err(|e| on.fail(e))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for a in list {
        if a.state_value == AgreementState::Active
            && !out.iter().any(|(id, _)| *id == a.eservice_id)
        {
            out.push((a.eservice_id, a.eservice_name));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn require_consumer_admin(on: &On) -> Result<(), PageError> {
    if rules::may_act_as_consumer(&on.member.roles) {
        Ok(())
    } else {
        Err(on.fail(InteropError::Forbidden(
            on.page.t("interop.purpose_form.admin_only").to_string(),
        )))
    }
}

async fn form_page(
    state: &EnvState,
    on: On,
    form: PurposeForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, PageError> {
    let eservices = subscribed(state, &on).await?;
    let ra = risk_analysis::current_form();
    let questions = ra_questions(&on.page, &ra, &form.answers, &errors);
    let csrf = on.csrf();
    let action = on.href("/purposes/new");
    let cancel_href = on.href("/purposes");
    let catalog_href = on.href("/catalog");
    let On { page, shell, .. } = on;
    Ok(render(
        PurposeFormPage {
            page,
            shell,
            csrf,
            action,
            cancel_href,
            catalog_href,
            eservices,
            form,
            errors,
            questions,
            form_version: ra.version,
        },
        status,
    ))
}

/// `GET /purposes/new?eserviceId=`
pub async fn new_form(
    State(state): State<EnvState>,
    on: On,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    require_consumer_admin(&on)?;
    let q = query(q);
    let form = PurposeForm {
        eservice_id: q.get("eserviceId").cloned().unwrap_or_default(),
        free_of_charge: "false".into(),
        ..PurposeForm::default()
    };
    form_page(&state, on, form, FormErrors::default(), StatusCode::OK).await
}

/// `POST /purposes/new`: checked by the model's `parse_purpose` (the risk analysis against the
/// form as data), created by the store as through the API; then the purpose's page.
pub async fn create(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = on.form(form)?;
    require_consumer_admin(&on)?;
    let form = PurposeForm::from_pairs(&pairs);
    let ra = risk_analysis::current_form();
    let input = match purpose::parse_purpose(&form.to_json(&ra)) {
        Ok(input) => input,
        Err(errors) => {
            let errors = FormErrors::place(&on.page, &errors, field_of);
            return form_page(&state, on, form, errors, StatusCode::BAD_REQUEST).await;
        }
    };
    match purposes::create(&state.platform.db, state.env, &on.member.tenant, &input).await {
        Ok(p) => Ok(see_other(
            &on.href(&format!("/purposes/{}?done=purpose_created", p.id)),
        )),
        Err(e) if shown_in_place(&e) => {
            let mut errors = FormErrors::default();
            let message = localize_error(&on.page, &e);
            match &e {
                InteropError::Conflict("purpose_title_taken", _) => errors.add("title", message),
                InteropError::Conflict("agreement_not_active", _) => {
                    errors.add("eserviceId", message)
                }
                _ => errors.general.push(message),
            }
            let status = e.status();
            form_page(&state, on, form, errors, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}

// ---- a purpose ----

pub struct VersionLine {
    pub id: String,
    pub state: StateView,
    pub daily_calls: String,
    pub created: String,
    pub first_activation: Option<String>,
    pub rejection_reason: Option<String>,
}

/// An answer of the risk analysis as shown: the question and the answer's labels.
pub struct AnswerLine {
    pub question: &'static str,
    pub answer: Vec<String>,
}

/// What this person may do to the purpose, each with the version it acts on.
#[derive(Default)]
pub struct PurposeAllowed {
    pub activate_draft: Option<String>,
    pub suspend: Option<String>,
    pub reactivate: Option<String>,
    pub archive: Option<String>,
    pub new_version: bool,
    pub delete: bool,
    pub approve: Option<String>,
    pub reject: Option<String>,
}

impl PurposeAllowed {
    pub fn any(&self) -> bool {
        self.activate_draft.is_some()
            || self.suspend.is_some()
            || self.reactivate.is_some()
            || self.archive.is_some()
            || self.new_version
            || self.delete
            || self.approve.is_some()
            || self.reject.is_some()
    }
}

/// What the caller may do on it, from their side's role and its state.
fn allowed(on: &On, p: &Purpose) -> PurposeAllowed {
    if !on.may_act_as_party(&p.consumer_id) {
        return PurposeAllowed::default();
    }
    let caller = on.institution();
    let Some(side) = rules::side_of(caller, &p.consumer_id, &p.producer_id) else {
        return PurposeAllowed::default();
    };
    let consumer = caller == p.consumer_id;
    let producer = caller == p.producer_id;
    let facts = p.facts();
    let current = facts.current().map(|v| v.id.clone());
    let waiting = facts.waiting().map(|v| v.id.clone());
    let states: Vec<PurposeVersionState> = p.versions.iter().map(|v| v.state_value).collect();
    PurposeAllowed {
        activate_draft: p
            .versions
            .iter()
            .find(|v| consumer && v.state_value == PurposeVersionState::Draft)
            .map(|v| v.id.clone()),
        suspend: current
            .clone()
            .filter(|_| purpose::suspend(&facts, side).is_ok()),
        reactivate: current
            .clone()
            .filter(|_| purpose::activate(&facts, side).is_ok()),
        archive: current.filter(|_| consumer && purpose::archive(&facts).is_ok()),
        new_version: consumer && facts.current().is_some() && facts.waiting().is_none(),
        delete: consumer && purpose::delete_allowed(&states).is_ok(),
        approve: waiting.clone().filter(|_| producer),
        reject: waiting.filter(|_| producer),
    }
}

fn answer_lines(lang: Lang, p: &Purpose) -> Vec<AnswerLine> {
    let Some(given) = &p.risk_analysis_form else {
        return Vec::new();
    };
    let form = risk_analysis::current_form();
    form.questions
        .iter()
        .filter_map(|q| {
            let values = given.answers.get(q.id)?;
            Some(AnswerLine {
                question: label(lang, q.label_it, q.label_en),
                answer: values
                    .iter()
                    .map(|v| {
                        q.options.iter().find(|o| o.value == v).map_or_else(
                            || v.clone(),
                            |o| label(lang, o.label_it, o.label_en).to_string(),
                        )
                    })
                    .collect(),
            })
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "purpose.html")]
pub struct PurposePage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    id: String,
    title: String,
    description: String,
    eservice: String,
    eservice_href: String,
    consumer: String,
    as_consumer: bool,
    free_of_charge: bool,
    free_of_charge_reason: Option<String>,
    suspended_by_consumer: bool,
    suspended_by_producer: bool,
    state: Option<StateView>,
    current_daily_calls: Option<String>,
    versions: Vec<VersionLine>,
    answers: Vec<AnswerLine>,
    allowed: PurposeAllowed,
    flash: Option<String>,
    error: Option<String>,
    errors: FormErrors,
    daily_calls: String,
    reason: String,
}

impl PurposePage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.of(field)
    }
}

/// What a failed action leaves on the page.
#[derive(Default)]
struct Outcome {
    error: Option<String>,
    errors: FormErrors,
    daily_calls: String,
    reason: String,
}

async fn detail(
    state: &EnvState,
    on: On,
    id: &str,
    q: HashMap<String, String>,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let p = purposes::get(db, state.env, on.institution(), id)
        .await
        .map_err(|e| on.fail(e))?;
    let lang = on.page.lang;
    let consumer = store::institution_name(db, state.env, &p.consumer_id)
        .await
        .map_err(|e| on.fail(e))?
        .unwrap_or_default();
    let allowed = allowed(&on, &p);
    let shown = shown_version(&p);
    let flash = flash(&on.page, &q);
    let csrf = on.csrf();
    let action = on.href(&format!("/purposes/{}", p.id));
    let eservice_href = on.href(&format!("/catalog/{}", p.eservice_id));
    let as_consumer = p.consumer_id == on.institution();
    let On { page, shell, .. } = on;
    Ok(render(
        PurposePage {
            csrf,
            action,
            eservice_href,
            consumer,
            as_consumer,
            state: shown.map(|v| purpose_state(v.state_value)),
            current_daily_calls: shown.map(|v| grouped(lang, v.daily_calls)),
            versions: p
                .versions
                .iter()
                .rev()
                .map(|v| VersionLine {
                    id: v.id.clone(),
                    state: purpose_state(v.state_value),
                    daily_calls: grouped(lang, v.daily_calls),
                    created: Timestamp(v.created_at).for_people(lang),
                    first_activation: v.first_activation_at.map(|t| Timestamp(t).for_people(lang)),
                    rejection_reason: v.rejection_reason.clone(),
                })
                .collect(),
            answers: answer_lines(lang, &p),
            allowed,
            flash,
            error: outcome.error,
            errors: outcome.errors,
            daily_calls: outcome.daily_calls,
            reason: outcome.reason,
            id: p.id,
            title: p.title,
            description: p.description,
            eservice: p.eservice_name,
            free_of_charge: p.is_free_of_charge,
            free_of_charge_reason: p.free_of_charge_reason,
            suspended_by_consumer: p.suspended_by_consumer,
            suspended_by_producer: p.suspended_by_producer,
            page,
            shell,
        },
        status,
    ))
}

/// `GET /purposes/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    detail(
        &state,
        on,
        &id,
        query(q),
        Outcome::default(),
        StatusCode::OK,
    )
    .await
}

/// The flash after a version action: the state the version reached says more than the verb
/// (an activation over quota waits for the producer).
fn done_of(p: &Purpose, version_id: &str, done: &'static str) -> &'static str {
    let waiting = p
        .versions
        .iter()
        .any(|v| v.id == version_id && v.state_value == PurposeVersionState::WaitingForApproval);
    if waiting { "purpose_waiting" } else { done }
}

/// `POST /purposes/{id}` with `action` = activate (a draft), suspend, reactivate, archive,
/// approve, reject (with `reason`), new_version (with `dailyCalls`) or delete, on `version`.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let db = &state.platform.db;
    let caller = on.institution().to_string();
    // Someone else's purpose is not found, whatever was posted.
    let p = purposes::get(db, state.env, &caller, &id)
        .await
        .map_err(|e| on.fail(e))?;
    let pairs = on.form(form)?;
    let kind = value(&pairs, "action").to_string();
    let version = value(&pairs, "version").to_string();
    let mut outcome = Outcome {
        daily_calls: value(&pairs, "dailyCalls").to_string(),
        reason: value(&pairs, "reason").to_string(),
        ..Outcome::default()
    };
    if !on.may_act_as_party(&p.consumer_id) {
        outcome.error = Some(on.page.t("interop.purpose.not_allowed").to_string());
        return detail(
            &state,
            on,
            &id,
            HashMap::new(),
            outcome,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let env = state.env;
    let href = |done: &str| on.href(&format!("/purposes/{id}?done={done}"));
    let version_act = |action: VersionAction, done: &'static str| {
        let version = version.clone();
        let caller = caller.clone();
        let id = id.clone();
        async move {
            purposes::act(db, env, &caller, &id, &version, action)
                .await
                .map(|p| done_of(&p, &version, done))
        }
    };
    let result: Result<String, InteropError> = match kind.as_str() {
        "activate" => version_act(VersionAction::Activate, "purpose_activated")
            .await
            .map(href),
        "reactivate" => version_act(VersionAction::Activate, "purpose_reactivated")
            .await
            .map(href),
        "approve" => version_act(VersionAction::Activate, "purpose_approved")
            .await
            .map(href),
        "suspend" => version_act(VersionAction::Suspend, "purpose_suspended")
            .await
            .map(href),
        "archive" => version_act(VersionAction::Archive, "purpose_archived")
            .await
            .map(href),
        "reject" => match RejectionReason::parse("reason", &outcome.reason) {
            Ok(reason) => version_act(VersionAction::Reject(reason), "purpose_rejected")
                .await
                .map(href),
            Err(e) => Err(InteropError::Invalid(vec![e])),
        },
        "new_version" => {
            let payload = match number(&outcome.daily_calls) {
                Some(n) => json!({ "dailyCalls": n }),
                None => json!({}),
            };
            match purpose::parse_new_version(&payload) {
                Ok(calls) => purposes::new_version(db, state.env, &caller, &id, calls)
                    .await
                    .map(|p| {
                        let waiting = p
                            .versions
                            .iter()
                            .any(|v| v.state_value == PurposeVersionState::WaitingForApproval);
                        href(if waiting {
                            "purpose_waiting"
                        } else {
                            "purpose_new_version"
                        })
                    }),
                Err(errors) => Err(InteropError::Invalid(errors)),
            }
        }
        "delete" => purposes::delete(db, state.env, &caller, &id)
            .await
            .map(|()| on.href("/purposes?done=purpose_deleted")),
        _ => Err(InteropError::invalid("action", "unknown action")),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) if shown_in_place(&e) => {
            let status = e.status();
            match &e {
                InteropError::Invalid(errors) => {
                    outcome.errors = FormErrors::place(&on.page, errors, |f| match f {
                        "reason" | "dailyCalls" => Some(f.to_string()),
                        _ => None,
                    });
                }
                _ => outcome.error = Some(localize_error(&on.page, &e)),
            }
            detail(&state, on, &id, HashMap::new(), outcome, status).await
        }
        Err(e) => Err(on.fail(e)),
    }
}
