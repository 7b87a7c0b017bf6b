//! A purpose's page: its versions, its risk analysis and the actions on it.

use super::*;

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

    /// The buttons of the actions allowed, in the page's order (a new version and rejecting
    /// have their forms).
    pub fn buttons(&self) -> Vec<ActionButton> {
        let on_version = |version: &Option<String>, value, class, label_key| {
            version.as_ref().map(|v| ActionButton {
                version: Some(v.clone()),
                ..ActionButton::new(value, class, label_key)
            })
        };
        [
            on_version(
                &self.activate_draft,
                "activate",
                "btn-primary",
                "interop.purpose.activate",
            ),
            on_version(
                &self.approve,
                "approve",
                "btn-primary",
                "interop.purpose.approve",
            ),
            on_version(
                &self.reactivate,
                "reactivate",
                "btn-primary",
                "interop.purpose.reactivate",
            ),
            on_version(
                &self.suspend,
                "suspend",
                "btn-outline",
                "interop.purpose.suspend",
            ),
            on_version(
                &self.archive,
                "archive",
                "btn-outline",
                "interop.purpose.archive",
            ),
            self.delete
                .then(|| ActionButton::new("delete", "btn-danger", "interop.purpose.delete")),
        ]
        .into_iter()
        .flatten()
        .collect()
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
    next: Option<NextStep>,
    page: Page,
    shell: Shell,
    /// The environment's address.
    base: String,
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
    // Active for its consumer: next, a client that asks vouchers for it.
    let next = (as_consumer
        && shown.is_some_and(|v| v.state_value == crate::model::PurposeVersionState::Active))
    .then(|| {
        NextStep::new(
            "interop.next.client",
            on.href("/clients?kind=CONSUMER"),
            "interop.next.to_clients",
        )
    });
    let On {
        page, shell, base, ..
    } = on;
    Ok(render(
        PurposePage {
            next,
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
            base,
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
    let href = |done: &str| on.href(&format!("/purposes/{id}?done={done}"));
    // An action on the version: which one, and the flash once it is done.
    let on_version = match kind.as_str() {
        "activate" => Some(Ok((VersionAction::Activate, "purpose_activated"))),
        "reactivate" => Some(Ok((VersionAction::Activate, "purpose_reactivated"))),
        "approve" => Some(Ok((VersionAction::Activate, "purpose_approved"))),
        "suspend" => Some(Ok((VersionAction::Suspend, "purpose_suspended"))),
        "archive" => Some(Ok((VersionAction::Archive, "purpose_archived"))),
        "reject" => Some(
            RejectionReason::of_purpose("reason", &outcome.reason)
                .map(|reason| (VersionAction::Reject(reason), "purpose_rejected")),
        ),
        _ => None,
    };
    let user = on.member.session.user_id();
    let result: Result<String, InteropError> = match (on_version, kind.as_str()) {
        (Some(Ok((action, done))), _) => {
            purposes::act(db, state.env, &caller, user, &id, &version, action)
                .await
                .map(|p| href(done_of(&p, &version, done)))
        }
        (Some(Err(e)), _) => Err(InteropError::Invalid(vec![e])),
        (None, "new_version") => {
            let payload = match number(&outcome.daily_calls) {
                Some(n) => json!({ "dailyCalls": n }),
                None => json!({}),
            };
            match purpose::parse_new_version(&payload) {
                Ok(calls) => purposes::new_version(db, state.env, &caller, user, &id, calls)
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
        (None, "delete") => purposes::delete(db, state.env, &caller, &id)
            .await
            .map(|()| on.href("/purposes?done=purpose_deleted")),
        _ => Err(InteropError::invalid("action", "unknown action")),
    };
    match result {
        Ok(to) => {
            // A decision, or a request that waits, may have queued emails.
            state.platform.mail.wake();
            Ok(see_other(&to))
        }
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
