//! The delegates' services with their keys: list, create, edit, regenerate a key.

use super::*;

/// A service as the pages show it.
struct ServiceView {
    id: String,
    name: String,
    organization_name: String,
    organization_fiscal_code: String,
    visibility: &'static str,
    frozen: bool,
    primary_key: String,
    secondary_key: String,
}

impl From<&StoredService> for ServiceView {
    fn from(s: &StoredService) -> Self {
        ServiceView {
            id: s.id.clone(),
            name: s.service.name.clone(),
            organization_name: s.service.organization.name.clone(),
            organization_fiscal_code: s.service.organization.fiscal_code.clone(),
            visibility: s.visibility.label(),
            frozen: s.frozen_at.is_some(),
            primary_key: s.primary_key.clone(),
            secondary_key: s.secondary_key.clone(),
        }
    }
}

/// One field of the service form, with its value and error.
struct FieldView {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    required: bool,
    hint: Option<&'static str>,
    value: String,
    error: Option<String>,
}

/// The form's fields in order: name, label, kind, required, hint.
const FIELDS: &[(&str, &str, &str, bool, Option<&str>)] = &[
    ("name", "Nome del servizio", "text", true, None),
    ("description", "Descrizione", "textarea", true, None),
    ("organization_name", "Nome dell'ente", "text", true, None),
    (
        "organization_fiscal_code",
        "Codice fiscale dell'ente",
        "text",
        true,
        Some("11 cifre"),
    ),
    (
        "department_name",
        "Ufficio o dipartimento",
        "text",
        false,
        None,
    ),
    ("scope", "Ambito", "scope", true, None),
    (
        "topic_id",
        "Argomento (numero)",
        "text",
        false,
        Some("Facoltativo, da 1 a 99"),
    ),
    ("web_url", "Sito web", "text", false, Some("https://...")),
    (
        "privacy_url",
        "Informativa privacy",
        "text",
        false,
        Some("https://..."),
    ),
    (
        "tos_url",
        "Termini di servizio",
        "text",
        false,
        Some("https://..."),
    ),
    ("email", "Email", "text", false, None),
    ("pec", "PEC", "text", false, None),
    ("phone", "Telefono", "text", false, None),
    ("address", "Indirizzo", "text", false, None),
    (
        "authorized_cidrs",
        "Reti autorizzate (CIDR)",
        "textarea",
        false,
        Some("Una per riga, ad esempio 192.168.1.0/24"),
    ),
    (
        "authorized_recipients",
        "Destinatari autorizzati",
        "textarea",
        false,
        Some("Codici fiscali, uno per riga (per i test)"),
    ),
    (
        "max_allowed_payment_amount",
        "Importo massimo di un pagamento (centesimi)",
        "text",
        false,
        Some("Da 0 a 9999999999"),
    ),
];

fn form_value(form: &ServiceForm, name: &str) -> String {
    match name {
        "name" => &form.name,
        "description" => &form.description,
        "organization_name" => &form.organization_name,
        "organization_fiscal_code" => &form.organization_fiscal_code,
        "department_name" => &form.department_name,
        "scope" => &form.scope,
        "topic_id" => &form.topic_id,
        "web_url" => &form.web_url,
        "privacy_url" => &form.privacy_url,
        "tos_url" => &form.tos_url,
        "email" => &form.email,
        "pec" => &form.pec,
        "phone" => &form.phone,
        "address" => &form.address,
        "authorized_cidrs" => &form.authorized_cidrs,
        "authorized_recipients" => &form.authorized_recipients,
        "max_allowed_payment_amount" => &form.max_allowed_payment_amount,
        _ => "",
    }
    .to_string()
}

fn field_views(form: &ServiceForm, errors: &[FieldError]) -> Vec<FieldView> {
    FIELDS
        .iter()
        .map(|&(name, label, kind, required, hint)| FieldView {
            name,
            label,
            kind,
            required,
            hint,
            value: form_value(form, name),
            error: errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
        })
        .collect()
}

/// The labels of the fields in error, for the summary above the form.
fn error_summary(errors: &[FieldError]) -> String {
    FIELDS
        .iter()
        .filter(|(name, ..)| errors.iter().any(|e| e.field == *name))
        .map(|(_, label, ..)| *label)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Template, WebTemplate)]
#[template(path = "services.html")]
struct ServicesPage {
    layout: Layout,
    services: Vec<ServiceView>,
}

pub(crate) async fn services(State(state): State<AppState>, session: LoggedIn) -> Response {
    match store::delegate_services(&state.db, &session.0.delegate_id).await {
        Ok(list) => ServicesPage {
            layout: Layout::of(&session.0),
            services: list.iter().map(ServiceView::from).collect(),
        }
        .into_response(),
        Err(e) => PageError::of(&session.0, e).into_response(),
    }
}

/// The service form as shown (`edit_form.html`): where it posts, its button, its fields and
/// the list of those with errors.
struct EditForm {
    action: String,
    submit: &'static str,
    fields: Vec<FieldView>,
    fields_with_errors: String,
}

impl EditForm {
    fn of(action: String, submit: &'static str, form: &ServiceForm, errors: &[FieldError]) -> Self {
        EditForm {
            action,
            submit,
            fields: field_views(form, errors),
            fields_with_errors: error_summary(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "service_new.html")]
struct NewServicePage {
    layout: Layout,
    csrf: String,
    form: EditForm,
}

fn new_page(session: &SessionRow, form: &ServiceForm, errors: &[FieldError]) -> NewServicePage {
    NewServicePage {
        layout: Layout::of(session),
        csrf: session.csrf.clone(),
        form: EditForm::of("/services".into(), "Crea il servizio", form, errors),
    }
}

pub(crate) async fn new_form(session: LoggedIn) -> Response {
    let form = ServiceForm {
        scope: "LOCAL".into(),
        max_allowed_payment_amount: "0".into(),
        ..ServiceForm::default()
    };
    new_page(&session.0, &form, &[]).into_response()
}

/// The service form with the CSRF token.
#[derive(Deserialize)]
pub(crate) struct ServicePost {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: ServiceForm,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    session: LoggedIn,
    Form(post): Form<ServicePost>,
) -> Response {
    let s = &session.0;
    if let Err(e) = session.check_csrf(&post.csrf) {
        return PageError::of(s, e).into_response();
    }
    let service = match post.form.to_service(None) {
        Ok(service) => service,
        Err(errors) => {
            return with_status(new_page(s, &post.form, &errors), StatusCode::BAD_REQUEST);
        }
    };
    // Visibility is the platform's decision: a new service is never visible.
    match store::add_service(
        &state.db,
        &s.delegate_id,
        &service,
        Visibility::NeverVisible,
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/services/{id}?ok=created")).into_response(),
        Err(DevportalError::Invalid(errors)) => {
            with_status(new_page(s, &post.form, &errors), StatusCode::BAD_REQUEST)
        }
        Err(e) => PageError::of(s, e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "service.html")]
struct ServicePage {
    layout: Layout,
    csrf: String,
    s: ServiceView,
    form: EditForm,
    notice: Option<&'static str>,
}

fn service_page(
    session: &SessionRow,
    stored: &StoredService,
    form: &ServiceForm,
    errors: &[FieldError],
    notice: Option<&'static str>,
) -> ServicePage {
    let action = format!("/services/{}", stored.id);
    ServicePage {
        layout: Layout::of(session),
        csrf: session.csrf.clone(),
        s: ServiceView::from(stored),
        form: EditForm::of(action, "Salva le modifiche", form, errors),
        notice,
    }
}

#[derive(Deserialize)]
pub(crate) struct Outcome {
    ok: Option<String>,
}

pub(crate) async fn service(
    State(state): State<AppState>,
    session: LoggedIn,
    Path(id): Path<String>,
    Query(outcome): Query<Outcome>,
) -> Response {
    let s = &session.0;
    let stored = match store::delegate_service(&state.db, &s.delegate_id, &id).await {
        Ok(Some(stored)) => stored,
        // Theirs once, now the institution's: say where it went.
        Ok(None) => {
            let error = match store::transferred(&state.db, &s.delegate_id, &id).await {
                Ok(Some((organization, at))) => DevportalError::Transferred { organization, at },
                Ok(None) => DevportalError::NotFound,
                Err(e) => e,
            };
            return PageError::of(s, error).into_response();
        }
        Err(e) => return PageError::of(s, e).into_response(),
    };
    let notice = match outcome.ok.as_deref() {
        Some("created") => Some("Servizio creato."),
        Some("saved") => Some("Modifiche salvate."),
        Some("key") => Some("Chiave rigenerata: la precedente non è più valida."),
        _ => None,
    };
    let form = ServiceForm::from_service(&stored.service);
    service_page(s, &stored, &form, &[], notice).into_response()
}

pub(crate) async fn update(
    State(state): State<AppState>,
    session: LoggedIn,
    Path(id): Path<String>,
    Form(post): Form<ServicePost>,
) -> Response {
    let s = &session.0;
    if let Err(e) = session.check_csrf(&post.csrf) {
        return PageError::of(s, e).into_response();
    }
    let stored = match store::delegate_service(&state.db, &s.delegate_id, &id).await {
        Ok(Some(stored)) => stored,
        Ok(None) => return PageError::of(s, DevportalError::NotFound).into_response(),
        Err(e) => return PageError::of(s, e).into_response(),
    };
    if stored.frozen_at.is_some() {
        return PageError::of(s, DevportalError::Frozen).into_response();
    }
    let service = match post.form.to_service(Some(&stored.service)) {
        Ok(service) => service,
        Err(errors) => {
            return with_status(
                service_page(s, &stored, &post.form, &errors, None),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    // The store refuses again if the import froze it since the read above.
    match store::update_service(&state.db, &s.delegate_id, &id, &service).await {
        Ok(()) => Redirect::to(&format!("/services/{id}?ok=saved")).into_response(),
        Err(DevportalError::Invalid(errors)) => with_status(
            service_page(s, &stored, &post.form, &errors, None),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => PageError::of(s, e).into_response(),
    }
}

pub(crate) async fn regenerate(
    State(state): State<AppState>,
    session: LoggedIn,
    Path((id, which)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let s = &session.0;
    let Some(kind) = KeyKind::parse(&which) else {
        return PageError::of(s, DevportalError::NotFound).into_response();
    };
    if let Err(e) = session.check_csrf(&form.csrf) {
        return PageError::of(s, e).into_response();
    }
    match store::regenerate_key(&state.db, &s.delegate_id, &id, kind).await {
        Ok(_) => {
            tracing::info!(service = %id, key = kind.label(), "key regenerated");
            Redirect::to(&format!("/services/{id}?ok=key")).into_response()
        }
        Err(e) => PageError::of(s, e).into_response(),
    }
}
