//! A version's page: what consumers get (audience, voucher, daily calls, approval), its
//! interface and documents, and by its state the changes allowed: a draft is edited whole,
//! given its files and published; a version in use changes its limits and its approval in
//! place, is suspended and reactivated; an archived one is read only. Also the download of a
//! file, for the producer in any state and for anyone once published.

use axum::extract::Path;
use platform::web::NotAForm;

use super::requirements;
use super::*;
use crate::api::documents::file_response;
use crate::model::DescriptorState;
use crate::model::document::{DocumentKind, Upload};
use crate::pages::attributes::RequirementsView;
use crate::pages::see_other;
use crate::pages::view::{NextStep, localize_error, shown_in_place};
use crate::store::catalogue::{DraftDeleted, InPlace};
use crate::store::documents::{self, NewDocument};

/// What a refused form leaves on the page.
#[derive(Default)]
struct Outcome {
    /// By the id of the field on the page.
    errors: FormErrors,
    form: Option<VersionForm>,
    interface_name: String,
    document_name: String,
    /// What was typed in the requirements' editor, by field id.
    typed: HashMap<String, String>,
    status: Option<StatusCode>,
}

#[derive(Template, WebTemplate)]
#[template(path = "version_page.html")]
pub struct VersionPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    eservice_href: String,
    eservice_name: String,
    id: String,
    version: String,
    state: StateView,
    draft: bool,
    /// PUBLISHED, SUSPENDED or DEPRECATED: consumers may use it.
    in_use: bool,
    archived: bool,
    may_suspend: bool,
    may_activate: bool,
    /// Deleting this draft deletes the e-service too.
    only_version: bool,
    description: Option<String>,
    audience: Vec<String>,
    lifespan: String,
    per_consumer: String,
    total: String,
    policy_key: &'static str,
    server_urls: Vec<String>,
    /// (label key, date) of its steps.
    dates: Vec<(&'static str, String)>,
    interface: Option<FileLine>,
    docs: Vec<FileLine>,
    accept: &'static str,
    form: VersionForm,
    errors: FormErrors,
    interface_name: String,
    document_name: String,
    summary: ErrorSummary,
    next: Option<NextStep>,
    flash: Option<String>,
    /// The attributes the version requires (with the draft's editor).
    requirements: RequirementsView,
    registry_href: String,
}

impl VersionPage {
    fn minutes_hint(&self) -> String {
        say(
            &self.page,
            "interop.eservice_form.minutes_hint",
            &[
                ("min", &MINUTES_MIN.to_string()),
                ("max", &MINUTES_MAX.to_string()),
            ],
        )
    }

    fn interface_hint(&self) -> String {
        say(
            &self.page,
            "interop.version.interface_hint",
            &[("extensions", self.accept)],
        )
    }
}

/// What is missing before a draft is published, in the order publication checks it; then the
/// publication itself.
fn next_for_draft(e: &EService, d: &Descriptor, eservice_href: &str) -> NextStep {
    if d.interface.is_none() {
        NextStep::new(
            "interop.next.version_interface",
            "#interface".into(),
            "interop.next.to_interface",
        )
    } else if d.audience.is_empty() {
        NextStep::new(
            "interop.next.version_audience",
            "#audience".into(),
            "interop.next.to_audience",
        )
    } else if e.personal_data.is_none() {
        NextStep::new(
            "interop.next.version_personal_data",
            format!("{eservice_href}#edit"),
            "interop.next.to_eservice",
        )
    } else if d.daily_calls_per_consumer > d.daily_calls_total {
        NextStep::new(
            "interop.next.version_daily_calls",
            "#dailyCallsPerConsumer".into(),
            "interop.next.to_daily_calls",
        )
    } else {
        NextStep::new(
            "interop.next.version_publish",
            "#publish".into(),
            "interop.version.publish",
        )
    }
}

fn detail(
    on: On,
    e: &EService,
    d: &Descriptor,
    q: &HashMap<String, String>,
    outcome: Outcome,
    requirements: RequirementsView,
) -> Response {
    let lang = on.page.lang;
    let s = d.state_value;
    let draft = s == DescriptorState::Draft;
    let eservice_href = on.href(&format!("/eservices/{}", e.id));
    let summary = summary(&on.page, &outcome.errors, str::to_string);
    let next = (draft && summary.is_empty()).then(|| next_for_draft(e, d, &eservice_href));
    let at = |t: Option<i64>| t.map(|t| Timestamp(t).for_people(lang));
    let dates: Vec<(&'static str, String)> = [
        ("interop.version.created", Some(d.created_at)),
        ("interop.eservice.published_at", d.published_at),
        ("interop.version.suspended_at", d.suspended_at),
        ("interop.version.deprecated_at", d.deprecated_at),
        ("interop.version.archived_at", d.archived_at),
    ]
    .into_iter()
    .filter_map(|(k, t)| at(t).map(|t| (k, t)))
    .collect();
    let base = version_path(&e.id, &d.id);
    let page_view = VersionPage {
        csrf: on.csrf(),
        action: on.href(&version_path(&e.id, &d.id)),
        eservice_name: e.name.clone(),
        id: d.id.clone(),
        version: d.version.clone(),
        state: descriptor_state(s),
        draft,
        in_use: matches!(
            s,
            DescriptorState::Published | DescriptorState::Suspended | DescriptorState::Deprecated
        ),
        archived: s == DescriptorState::Archived,
        may_suspend: matches!(s, DescriptorState::Published | DescriptorState::Deprecated),
        may_activate: s == DescriptorState::Suspended,
        only_version: e.descriptors.len() == 1,
        description: d.description.clone(),
        audience: d.audience.clone(),
        lifespan: lifespan_for_people(&on.page, d.voucher_lifespan),
        per_consumer: grouped(lang, d.daily_calls_per_consumer),
        total: grouped(lang, d.daily_calls_total),
        policy_key: policy_key(d.agreement_approval_policy),
        server_urls: d.server_urls.clone(),
        dates,
        interface: d.interface.as_ref().map(|f| FileLine::of(&on, &base, f)),
        docs: d.docs.iter().map(|f| FileLine::of(&on, &base, f)).collect(),
        accept: interface_accept(&e.technology),
        form: outcome.form.unwrap_or_else(|| VersionForm::of(d)),
        errors: outcome.errors,
        interface_name: outcome.interface_name,
        document_name: outcome.document_name,
        summary,
        next,
        flash: flash(&on.page, q),
        requirements,
        registry_href: on.href("/attributes/registry"),
        eservice_href,
        page: on.page,
        shell: on.shell,
    };
    render(page_view, outcome.status.unwrap_or(StatusCode::OK))
}

/// The producer's own e-service with the version, or a page that says it is not found.
async fn own(
    state: &EnvState,
    on: &On,
    id: &str,
    descriptor_id: &str,
) -> Result<EService, PageError> {
    let e = catalogue::own(&state.platform.db, state.env, on.institution(), id)
        .await
        .map_err(|e| on.fail(e))?;
    if e.descriptor(descriptor_id).is_none() {
        return Err(on.fail(InteropError::NotFound));
    }
    Ok(e)
}

/// `GET /eservices/{id}/versions/{descriptor_id}`
pub async fn version(
    State(state): State<EnvState>,
    on: On,
    Path((id, descriptor_id)): Path<(String, String)>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    let e = own(&state, &on, &id, &descriptor_id).await?;
    let d = e
        .descriptor(&descriptor_id)
        .ok_or_else(|| on.fail(InteropError::NotFound))?;
    let requirements = requirements::view(&state, &on, d, &HashMap::new()).await?;
    Ok(detail(
        on,
        &e,
        d,
        &query(q),
        Outcome::default(),
        requirements,
    ))
}

/// Where a refusal of the version's lifecycle is shown: next to the field it is about (the
/// interface's file input while the draft shows it).
fn field_of_refusal(code: &str, interface_form: bool) -> Option<&'static str> {
    match code {
        descriptor::WITHOUT_INTERFACE if interface_form => Some("interface-doc"),
        descriptor::AUDIENCE_EMPTY => Some("audience"),
        descriptor::DAILY_CALLS_INCONSISTENT => Some("dailyCallsPerConsumer"),
        _ => None,
    }
}

/// The upload of the interface or a document (`kind`, `prettyName`, `doc`): the form's
/// errors are placed under `prefix`.
async fn upload(
    state: &EnvState,
    on: &On,
    e: &EService,
    descriptor_id: &str,
    data: &FormData,
    outcome: &mut Outcome,
) -> Result<String, InteropError> {
    let Some(kind) = DocumentKind::parse(data.value("kind")) else {
        return Err(InteropError::invalid("action", "unknown action"));
    };
    let (prefix, done) = match kind {
        DocumentKind::Interface => ("interface", "interface_uploaded"),
        DocumentKind::Document => ("document", "document_uploaded"),
    };
    let pretty_name = data.value("prettyName").to_string();
    match kind {
        DocumentKind::Interface => outcome.interface_name.clone_from(&pretty_name),
        DocumentKind::Document => outcome.document_name.clone_from(&pretty_name),
    }
    let Some(file) = data.file("doc") else {
        outcome.errors.add(
            &format!("{prefix}-doc"),
            on.page.t("interop.version.file_required").to_string(),
        );
        if pretty_name.trim().is_empty() {
            outcome.errors.add(
                &format!("{prefix}-prettyName"),
                on.page.t("interop.field.required").to_string(),
            );
        }
        return Err(InteropError::invalid("doc", "is required"));
    };
    let added = documents::add(
        &state.platform.db,
        state.env,
        on.institution(),
        &e.id,
        descriptor_id,
        &NewDocument {
            upload: Upload {
                kind,
                file_name: &file.file_name,
                content_type: &file.content_type,
                bytes: &file.bytes,
            },
            pretty_name: &pretty_name,
            user_id: on.member.session.user_id(),
        },
    )
    .await;
    match added {
        Ok(_) => Ok(format!(
            "{}?done={done}",
            on.href(&version_path(&e.id, descriptor_id))
        )),
        Err(err) => {
            let field = match &err {
                InteropError::Invalid(_) => "prettyName",
                InteropError::Conflict(documents::PRETTY_NAME_TAKEN, _) => "prettyName",
                InteropError::Rejected(..) | InteropError::Conflict(..) => "doc",
                _ => return Err(err),
            };
            let message = match &err {
                InteropError::Invalid(errors) => errors
                    .iter()
                    .map(|x| words(&on.page, &x.message))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => localize_error(&on.page, &err),
            };
            outcome.errors.add(&format!("{prefix}-{field}"), message);
            Err(err)
        }
    }
}

/// `POST /eservices/{id}/versions/{descriptor_id}` with `action` = edit, publish, delete,
/// suspend, activate, limits, policy, upload (multipart: `kind`, `prettyName`, `doc`),
/// delete_document (`document`), requirement_add or requirement_remove (the attributes the
/// draft requires: [`requirements::change`]).
pub async fn version_act(
    State(state): State<EnvState>,
    on: On,
    Path((id, descriptor_id)): Path<(String, String)>,
    form: Result<FormData, NotAForm>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    // Someone else's e-service is not found, whatever was posted.
    let e = own(&state, &on, &id, &descriptor_id).await?;
    let data = on.form_data(form)?;
    let db = &state.platform.db;
    let env = state.env;
    let me = on.institution().to_string();
    let user = on.member.session.user_id().to_string();
    let user = user.as_str();
    let by = crate::store::notices::By {
        institution_id: &me,
        user_id: user,
    };
    let d_id = descriptor_id.as_str();
    let here = |done: &str| format!("{}?done={done}", on.href(&version_path(&e.id, d_id)));
    let mut outcome = Outcome::default();
    let action = data.value("action").to_string();
    let result: Result<String, InteropError> = match action.as_str() {
        "edit" => {
            let form = VersionForm::posted(&data);
            let parsed = form.parse(&on.page);
            outcome.form = Some(form);
            match parsed {
                Err(errors) => {
                    outcome.errors = errors;
                    Err(InteropError::invalid("form", "refused"))
                }
                Ok(input) => catalogue::update_descriptor(db, env, by, &e.id, d_id, &input)
                    .await
                    .map(|_| here("draft_saved")),
            }
        }
        "limits" => {
            let mut form = VersionForm::posted(&data);
            // The policy has its own form: it shows what the version has.
            if let Some(d) = e.descriptor(d_id) {
                form.policy = d.agreement_approval_policy.to_string();
            }
            let parsed = form.parse_limits(&on.page);
            outcome.form = Some(form);
            match parsed {
                Err(errors) => {
                    outcome.errors = errors;
                    Err(InteropError::invalid("form", "refused"))
                }
                Ok(u) => catalogue::update_in_place(db, env, by, &e.id, d_id, &InPlace::Limits(u))
                    .await
                    .map(|_| here("limits_updated")),
            }
        }
        "policy" => {
            let form = VersionForm::posted(&data);
            match form.parse_policy(&on.page) {
                Err(errors) => {
                    outcome.errors = errors;
                    Err(InteropError::invalid("form", "refused"))
                }
                Ok(p) => catalogue::update_in_place(db, env, by, &e.id, d_id, &InPlace::Policy(p))
                    .await
                    .map(|_| here("policy_updated")),
            }
        }
        "publish" => catalogue::publish(db, env, &me, user, &e.id, d_id)
            .await
            .map(|_| here("version_published")),
        "suspend" | "activate" => {
            let suspend = action == "suspend";
            catalogue::set_suspended(db, env, &me, user, &e.id, d_id, suspend)
                .await
                .map(|_| {
                    here(if suspend {
                        "version_suspended"
                    } else {
                        "version_activated"
                    })
                })
        }
        "delete" => catalogue::delete_descriptor(db, env, by, &e.id, d_id)
            .await
            .map(|gone| match gone {
                DraftDeleted::Version => {
                    on.href(&format!("/eservices/{}?done=draft_deleted", e.id))
                }
                DraftDeleted::EService => on.href("/eservices?done=eservice_deleted"),
            }),
        "upload" => upload(&state, &on, &e, d_id, &data, &mut outcome).await,
        "requirement_add" | "requirement_remove" => {
            requirements::change(
                &state,
                &on,
                by,
                &e,
                d_id,
                &action,
                &data,
                &mut outcome.errors,
                &mut outcome.typed,
            )
            .await
        }
        "delete_document" => {
            let doc = data.value("document");
            let interface = e
                .descriptor(d_id)
                .and_then(|d| d.interface.as_ref())
                .is_some_and(|f| f.id == doc);
            documents::delete(db, env, by, &e.id, d_id, doc)
                .await
                .map(|()| {
                    here(if interface {
                        "interface_deleted"
                    } else {
                        "document_deleted"
                    })
                })
        }
        _ => Err(InteropError::invalid("action", "unknown action")),
    };
    let err = match result {
        Ok(to) => return Ok(see_other(&to)),
        Err(err) => err,
    };
    let shown = shown_in_place(&err) || matches!(err, InteropError::NotFound);
    if !shown {
        return Err(on.fail(err));
    }
    // The version as it is now (it may have gone meanwhile: then the error's page).
    let e = own(&state, &on, &id, &descriptor_id).await?;
    let Some(d) = e.descriptor(d_id) else {
        return Err(on.fail(err));
    };
    outcome.status = Some(err.status());
    if outcome.errors.is_empty() {
        let message = match &err {
            InteropError::NotFound => on.page.t("interop.version.gone").to_string(),
            InteropError::Invalid(errors) => errors
                .iter()
                .map(|x| words(&on.page, &x.message))
                .collect::<Vec<_>>()
                .join(" "),
            _ => localize_error(&on.page, &err),
        };
        let field = match &err {
            InteropError::Rejected(code, _) | InteropError::Conflict(code, _) => {
                let interface_form =
                    d.interface.is_none() && d.state_value == DescriptorState::Draft;
                field_of_refusal(code, interface_form)
            }
            _ => None,
        };
        match field {
            Some(f) => outcome.errors.add(f, message),
            None => outcome.errors.general.push(message),
        }
    }
    let requirements = requirements::view(&state, &on, d, &outcome.typed).await?;
    Ok(detail(on, &e, d, &HashMap::new(), outcome, requirements))
}

/// `GET /eservices/{id}/versions/{descriptor_id}/documents/{document_id}`: a file of the
/// producer's own version, in any state (others download published files from the
/// catalogue's address).
pub async fn document(
    State(state): State<EnvState>,
    on: On,
    Path((id, descriptor_id, document_id)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    own(&state, &on, &id, &descriptor_id).await?;
    let (info, content) = documents::content(
        &state.platform.db,
        state.env,
        on.institution(),
        &id,
        &descriptor_id,
        &document_id,
    )
    .await
    .map_err(|e| on.fail(e))?;
    Ok(file_response(&info, content))
}
