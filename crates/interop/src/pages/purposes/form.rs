//! The creation form of a purpose, with the risk analysis rendered from the form as data.

use super::*;

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
        form.applicable(&self.answers)
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
    /// The question and answer it depends on, for the page's script.
    pub depends_on: Option<(&'static str, &'static str)>,
    /// Asked now: it depends on nothing, or on an answer given (and asked itself).
    pub asked: bool,
}

fn ra_questions(
    page: &Page,
    form: &RiskAnalysisForm,
    answers: &BTreeMap<String, Vec<String>>,
    errors: &FormErrors,
) -> Vec<RaQuestion> {
    let lang = page.lang;
    let applicable = form.applicable(answers);
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
                depends_on: q.depends_on.map(|d| (d.question, d.value)),
                asked: RiskAnalysisForm::is_asked(q, &applicable),
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
    fn error_count(&self) -> String {
        platform::layout::error_count(&self.page, self.errors.count())
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

/// `POST /purposes/new/questions`: the form again with the questions that the answers given so
/// far make apply (the follow-up step of a browser without script); nothing is created.
pub async fn questions(
    State(state): State<EnvState>,
    on: On,
    form: Result<Form<Pairs>, FormRejection>,
) -> Result<Response, PageError> {
    let form = posted(&on, form)?;
    form_page(&state, on, form, FormErrors::default(), StatusCode::OK).await
}

/// The purpose form as posted by an admin of the consumer.
fn posted(on: &On, form: Result<Form<Pairs>, FormRejection>) -> Result<PurposeForm, PageError> {
    let pairs = on.form(form)?;
    require_consumer_admin(on)?;
    Ok(PurposeForm::from_pairs(&pairs))
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
    let form = posted(&on, form)?;
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
