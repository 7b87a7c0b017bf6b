//! An e-service's page: what it is, its versions, and the changes made on it (rename, new
//! description, every field while all its versions are drafts, deletion, a new version).

use axum::extract::Path;
use platform::web::NotAForm;

use super::*;
use crate::model::DescriptorState;
use crate::pages::see_other;
use crate::pages::view::{localize_error, shown_in_place};
use crate::store::catalogue::Retitle;

pub struct VersionLine {
    pub id: String,
    pub version: String,
    pub href: String,
    pub state: StateView,
    pub published_at: Option<String>,
}

/// What a refused form leaves on the page: its errors by field and what was typed.
#[derive(Default)]
struct Outcome {
    rename: FormErrors,
    describe: FormErrors,
    edit: FormErrors,
    delete: FormErrors,
    general: Vec<String>,
    name: Option<String>,
    description: Option<String>,
    form: Option<EServiceForm>,
}

#[derive(Template, WebTemplate)]
#[template(path = "eservice_page.html")]
pub struct EServiceDetailPage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    list_href: String,
    catalog_href: Option<String>,
    id: String,
    name: String,
    description: String,
    technology: String,
    mode_key: &'static str,
    personal_data_key: &'static str,
    personal_data_unsaid: bool,
    created: String,
    versions: Vec<VersionLine>,
    /// The draft, while there is one: a new version waits for it.
    draft: Option<VersionLine>,
    /// Every version is a draft: the e-service may change whole, or go.
    all_drafts: bool,
    rename_value: String,
    describe_value: String,
    form: EServiceForm,
    rename_errors: FormErrors,
    describe_errors: FormErrors,
    edit_errors: FormErrors,
    delete_errors: FormErrors,
    summary: ErrorSummary,
    flash: Option<String>,
}

/// The producer's own e-service, or a page that says it is not found.
async fn own(state: &EnvState, on: &On, id: &str) -> Result<EService, PageError> {
    catalogue::own(&state.platform.db, state.env, on.institution(), id)
        .await
        .map_err(|e| on.fail(e))
}

fn detail(
    on: On,
    e: EService,
    q: &HashMap<String, String>,
    outcome: Outcome,
    status: StatusCode,
) -> Response {
    let lang = on.page.lang;
    let line = |d: &Descriptor| VersionLine {
        id: d.id.clone(),
        version: d.version.clone(),
        href: on.href(&version_path(&e.id, &d.id)),
        state: descriptor_state(d.state_value),
        published_at: d.published_at.map(|t| Timestamp(t).for_people(lang)),
    };
    let versions: Vec<VersionLine> = e.descriptors.iter().rev().map(line).collect();
    let draft = e
        .descriptors
        .iter()
        .find(|d| d.state_value == DescriptorState::Draft)
        .map(line);
    let all_drafts = e
        .descriptors
        .iter()
        .all(|d| d.state_value == DescriptorState::Draft);
    let mut all = FormErrors::default();
    for (errors, prefix) in [
        (&outcome.rename, "rename-"),
        (&outcome.describe, "describe-"),
        (&outcome.edit, "edit-"),
        (&outcome.delete, "delete-"),
    ] {
        for (field, messages) in &errors.by_field {
            let id = format!("{prefix}{field}");
            for m in messages {
                all.add(&id, m.clone());
            }
        }
        all.general.extend(errors.general.iter().cloned());
    }
    all.general.extend(outcome.general.iter().cloned());
    let summary = summary(&on.page, &all, str::to_string);
    let flash = flash(&on.page, q);
    let csrf = on.csrf();
    let action = on.href(&format!("/eservices/{}", e.id));
    let list_href = on.href("/eservices");
    let catalog_href = e
        .latest_published()
        .map(|_| on.href(&format!("/catalog/{}", e.id)));
    let On { page, shell, .. } = on;
    render(
        EServiceDetailPage {
            page,
            shell,
            csrf,
            action,
            list_href,
            catalog_href,
            mode_key: mode_key(&e.mode),
            personal_data_key: personal_data_key(e.personal_data),
            personal_data_unsaid: e.personal_data.is_none(),
            created: Timestamp(e.created_at).for_people(lang),
            versions,
            draft,
            all_drafts,
            rename_value: outcome.name.unwrap_or_else(|| e.name.clone()),
            describe_value: outcome.description.unwrap_or_else(|| e.description.clone()),
            form: outcome.form.unwrap_or_else(|| EServiceForm::of(&e)),
            rename_errors: outcome.rename,
            describe_errors: outcome.describe,
            edit_errors: outcome.edit,
            delete_errors: outcome.delete,
            summary,
            flash,
            id: e.id,
            name: e.name,
            description: e.description,
            technology: e.technology,
        },
        status,
    )
}

/// `GET /eservices/{id}`
pub async fn show(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    let e = own(&state, &on, &id).await?;
    Ok(detail(on, e, &query(q), Outcome::default(), StatusCode::OK))
}

/// The content of a new version: the latest version's, else the first version's defaults.
fn next_version(e: &EService) -> DescriptorInput {
    match e.descriptors.iter().max_by_key(|d| d.version_n) {
        Some(d) => DescriptorInput {
            description: d.description.clone(),
            audience: d.audience.clone(),
            voucher_lifespan: d.voucher_lifespan,
            daily_calls_per_consumer: d.daily_calls_per_consumer,
            daily_calls_total: d.daily_calls_total,
            agreement_approval_policy: d.policy,
        },
        None => DescriptorInput {
            description: None,
            audience: Vec::new(),
            voucher_lifespan: 600,
            daily_calls_per_consumer: 1_000,
            daily_calls_total: 10_000,
            agreement_approval_policy: AgreementApprovalPolicy::Automatic,
        },
    }
}

/// `POST /eservices/{id}` with `action` = rename (`name`), describe (`description`), edit
/// (every field), delete (`confirm=yes`) or new_version.
pub async fn act(
    State(state): State<EnvState>,
    on: On,
    Path(id): Path<String>,
    form: Result<FormData, NotAForm>,
) -> Result<Response, PageError> {
    require_producer(&on)?;
    // Someone else's e-service is not found, whatever was posted.
    let e = own(&state, &on, &id).await?;
    let data = on.form_data(form)?;
    let db = &state.platform.db;
    let env = state.env;
    let me = on.institution().to_string();
    let user = on.member.session.user_id().to_string();
    let by = crate::store::notices::By {
        institution_id: &me,
        user_id: &user,
    };
    let here = |done: &str| on.href(&format!("/eservices/{}?done={done}", e.id));
    let mut outcome = Outcome::default();
    let action = data.value("action").to_string();
    let result: Result<String, InteropError> = match action.as_str() {
        "rename" => {
            let raw = data.value("name").to_string();
            match eservice::parse_name(&json!({ "name": raw })) {
                Err(errors) => {
                    for err in errors {
                        outcome.rename.add("name", words(&on.page, &err.message));
                    }
                    outcome.name = Some(raw);
                    Err(InteropError::invalid("name", "refused"))
                }
                Ok(name) => {
                    outcome.name = Some(raw);
                    catalogue::retitle(db, env, by, &e.id, Retitle::Name(&name))
                        .await
                        .map(|_| here("eservice_renamed"))
                }
            }
        }
        "describe" => {
            let raw = data.value("description").to_string();
            match eservice::parse_description(&json!({ "description": raw })) {
                Err(errors) => {
                    for err in errors {
                        outcome
                            .describe
                            .add("description", words(&on.page, &err.message));
                    }
                    outcome.description = Some(raw);
                    Err(InteropError::invalid("description", "refused"))
                }
                Ok(d) => {
                    outcome.description = Some(raw);
                    catalogue::retitle(db, env, by, &e.id, Retitle::Description(&d))
                        .await
                        .map(|_| here("eservice_described"))
                }
            }
        }
        "edit" => {
            let form = EServiceForm::posted(&data);
            let parsed = form.parse(&on.page);
            outcome.form = Some(form);
            match parsed {
                Err(errors) => {
                    outcome.edit = errors;
                    Err(InteropError::invalid("form", "refused"))
                }
                Ok(input) => catalogue::update(db, env, by, &e.id, &input)
                    .await
                    .map(|_| here("eservice_updated")),
            }
        }
        // One click must not delete an e-service: the form carries a confirmation to tick.
        "delete" if data.value("confirm") != "yes" => {
            outcome.delete.add(
                "confirm",
                on.page
                    .t("interop.eservice_page.delete_confirm_required")
                    .to_string(),
            );
            Err(InteropError::invalid("confirm", "confirm to delete"))
        }
        "delete" => catalogue::delete(db, env, by, &e.id)
            .await
            .map(|()| on.href("/eservices?done=eservice_deleted")),
        "new_version" => catalogue::add_descriptor(db, env, by, &e.id, &next_version(&e))
            .await
            .map(|d| {
                on.href(&format!(
                    "{}?done=version_created",
                    version_path(&e.id, &d.id)
                ))
            }),
        _ => {
            outcome
                .general
                .push(on.page.t("interop.field.unknown_action").to_string());
            Err(InteropError::invalid("action", "unknown action"))
        }
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(err) if shown_in_place(&err) => {
            let status = err.status();
            // The form's own errors are placed already; a refusal of the store is said here.
            if !matches!(err, InteropError::Invalid(_)) {
                let message = localize_error(&on.page, &err);
                match (&err, action.as_str()) {
                    (InteropError::Conflict(eservice::NAME_TAKEN, _), "rename") => {
                        outcome.rename.add("name", message);
                    }
                    (InteropError::Conflict(eservice::NAME_TAKEN, _), _) => {
                        outcome.edit.add("name", message);
                    }
                    _ => outcome.general.push(message),
                }
            }
            // The e-service as it is now.
            let e = own(&state, &on, &id).await?;
            Ok(detail(on, e, &HashMap::new(), outcome, status))
        }
        Err(err) => Err(on.fail(err)),
    }
}
