//! "Crea e-service": one form with the e-service and its first version, created as a draft.

use super::*;
use crate::pages::see_other;
use crate::pages::view::{localize_error, shown_in_place};

#[derive(Template, WebTemplate)]
#[template(path = "eservice_new.html")]
pub struct NewEServicePage {
    page: Page,
    shell: Shell,
    csrf: String,
    action: String,
    cancel_href: String,
    form: EServiceForm,
    version: VersionForm,
    errors: FormErrors,
    summary: ErrorSummary,
}

impl NewEServicePage {
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
}

fn form_page(
    on: On,
    form: EServiceForm,
    version: VersionForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let summary = summary(&on.page, &errors, str::to_string);
    let csrf = on.csrf();
    let action = on.href("/eservices/new");
    let cancel_href = on.href("/eservices");
    let On { page, shell, .. } = on;
    render(
        NewEServicePage {
            page,
            shell,
            csrf,
            action,
            cancel_href,
            form,
            version,
            errors,
            summary,
        },
        status,
    )
}

/// `GET /eservices/new`
pub async fn new_form(on: On) -> Result<Response, PageError> {
    require_producer(&on)?;
    Ok(form_page(
        on,
        EServiceForm::default(),
        VersionForm::first(),
        FormErrors::default(),
        StatusCode::OK,
    ))
}

/// `POST /eservices/new`: the e-service and its first version, checked by the model as
/// through the API and created together; then the draft's page.
pub async fn create(
    State(state): State<EnvState>,
    on: On,
    form: Result<FormData, platform::web::NotAForm>,
) -> Result<Response, PageError> {
    let data = on.form_data(form)?;
    require_producer(&on)?;
    let form = EServiceForm::posted(&data);
    let version = VersionForm::posted(&data);
    let (input, first) = match (form.parse(&on.page), version.parse(&on.page)) {
        (Ok(input), Ok(first)) => (input, first),
        (a, b) => {
            let mut errors = a.err().unwrap_or_default();
            if let Err(more) = b {
                for (field, messages) in more.by_field {
                    for m in messages {
                        errors.add(&field, m);
                    }
                }
                errors.general.extend(more.general);
            }
            return Ok(form_page(
                on,
                form,
                version,
                errors,
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    let created = catalogue::create(
        &state.platform.db,
        state.env,
        &on.member.tenant,
        on.member.session.user_id(),
        &input,
        Some(&first),
    )
    .await;
    match created {
        Ok(e) => {
            let to = e.descriptors.first().map_or_else(
                || format!("/eservices/{}?done=eservice_created", e.id),
                |d| format!("{}?done=eservice_created", version_path(&e.id, &d.id)),
            );
            Ok(see_other(&on.href(&to)))
        }
        Err(e) if shown_in_place(&e) => {
            let mut errors = FormErrors::default();
            let message = localize_error(&on.page, &e);
            match &e {
                InteropError::Conflict(eservice::NAME_TAKEN, _) => errors.add("name", message),
                _ => errors.general.push(message),
            }
            let status = e.status();
            Ok(form_page(on, form, version, errors, status))
        }
        Err(e) => Err(on.fail(e)),
    }
}
