//! The delegates' pages (Italian, server-rendered, no JavaScript): login, their services with
//! the keys, create, edit, regenerate a key. Every form after the login carries the session's
//! CSRF token.

use std::sync::LazyLock;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::client_addr::ClientAddr;
use platform::db::now_millis;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, LoggedIn, SessionSecret};
use crate::error::DevportalError;
use crate::model::{self, FieldError, KeyKind, ServiceForm, Visibility};
use crate::store::{self, SessionRow, StoredService};

/// The stylesheet's URL carries a hash of its content, since it is cached for long.
static CSS_URL: LazyLock<String> = LazyLock::new(|| {
    let digest = store::sha256_hex(platform::layout::CSS);
    format!(
        "/static/selfcare.css?v={}",
        digest.get(..12).unwrap_or(&digest)
    )
});

/// What the base layout shows.
pub(crate) struct Layout {
    css_url: &'static str,
    delegate: Option<String>,
    csrf: Option<String>,
}

impl Layout {
    fn anonymous() -> Layout {
        Layout {
            css_url: CSS_URL.as_str(),
            delegate: None,
            csrf: None,
        }
    }

    fn of(session: &SessionRow) -> Layout {
        Layout {
            css_url: CSS_URL.as_str(),
            delegate: Some(format!("{} {}", session.name, session.surname)),
            csrf: Some(session.csrf.clone()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    title: &'static str,
    message: String,
    back_href: &'static str,
    back_label: &'static str,
}

/// An error as a page, with the status and message of [`DevportalError`].
pub(crate) struct PageError {
    error: DevportalError,
    layout: Layout,
}

impl PageError {
    pub fn anonymous(error: DevportalError) -> PageError {
        PageError {
            error,
            layout: Layout::anonymous(),
        }
    }

    fn of(session: &SessionRow, error: DevportalError) -> PageError {
        PageError {
            error,
            layout: Layout::of(session),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Non trovato",
            StatusCode::CONFLICT => "Modifica non consentita",
            StatusCode::FORBIDDEN => "Richiesta non valida",
            StatusCode::TOO_MANY_REQUESTS => "Troppi tentativi",
            s if s.is_client_error() => "Richiesta non valida",
            _ => "Errore",
        };
        let (back_href, back_label) = if self.layout.csrf.is_some() {
            ("/services", "Torna ai tuoi servizi")
        } else {
            ("/login", "Vai all'accesso")
        };
        with_status(
            ErrorPage {
                layout: self.layout,
                status: status.as_u16(),
                title,
                message: self.error.message_it(),
                back_href,
                back_label,
            },
            status,
        )
    }
}

fn with_status(page: impl IntoResponse, status: StatusCode) -> Response {
    let mut response = page.into_response();
    *response.status_mut() = status;
    response
}

/// Paths that match nothing: a problem under the API, a page elsewhere.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return platform::Problem::not_found()
            .with_detail(format!("no resource at {}", uri.path()))
            .into_response();
    }
    with_status(
        ErrorPage {
            layout: Layout::anonymous(),
            status: 404,
            title: "Pagina non trovata",
            message: "La pagina richiesta non esiste.".into(),
            back_href: "/",
            back_label: "Vai alla pagina iniziale",
        },
        StatusCode::NOT_FOUND,
    )
}

pub(crate) async fn home(headers: HeaderMap, State(state): State<AppState>) -> Response {
    let logged_in = match SessionSecret::from_headers(&headers) {
        Some(secret) => matches!(
            store::find_session(&state.db, &secret.hash()).await,
            Ok(Some(_))
        ),
        None => false,
    };
    Redirect::to(if logged_in { "/services" } else { "/login" }).into_response()
}

// ---------------------------------------------------------------------------------------------
// Login

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

pub(crate) async fn login_form() -> Response {
    LoginPage {
        layout: Layout::anonymous(),
        email: String::new(),
        error: None,
    }
    .into_response()
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let email = model::normalize_email(&form.email);
    match try_login(&state, &client.to_string(), &email, form.password, &headers).await {
        Ok(response) => response,
        Err(error @ (DevportalError::BadCredentials | DevportalError::TooManyAttempts)) => {
            let status = error.status();
            let mut response = with_status(
                LoginPage {
                    layout: Layout::anonymous(),
                    email,
                    error: Some(error.message_it()),
                },
                status,
            );
            if status == StatusCode::TOO_MANY_REQUESTS {
                let retry = (state.login_window_millis / 1000).max(1).to_string();
                if let Ok(v) = HeaderValue::from_str(&retry) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            response
        }
        Err(error) => PageError::anonymous(error).into_response(),
    }
}

async fn try_login(
    state: &AppState,
    client: &str,
    email: &str,
    password: String,
    headers: &HeaderMap,
) -> Result<Response, DevportalError> {
    let since = now_millis() - state.login_window_millis;
    let (by_email, by_client) = store::count_failures(&state.db, email, client, since).await?;
    // Checked before the password: past the limit even the right one waits.
    if model::login_blocked(by_email, by_client, state.login_max_failures) {
        tracing::warn!(%client, "login refused: too many failures");
        return Err(DevportalError::TooManyAttempts);
    }
    let record = store::login_record(&state.db, email).await?;
    // An unknown email costs a verification too, so that timing does not tell them apart.
    let (delegate_id, hash) = match record {
        Some((id, hash)) => (Some(id), hash),
        None => (None, state.dummy_hash.clone()),
    };
    let verified = store::verify_password(hash, password).await?;
    let Some(delegate_id) = delegate_id.filter(|_| verified) else {
        store::record_failure(&state.db, email, client, state.login_window_millis).await?;
        return Err(DevportalError::BadCredentials);
    };
    let previous = SessionSecret::from_headers(headers).map(|s| s.hash());
    let secret = SessionSecret::generate()?;
    store::start_session(
        &state.db,
        &delegate_id,
        email,
        &secret.hash(),
        previous.as_deref(),
        i64::try_from(state.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
    )
    .await?;
    tracing::info!(delegate = %delegate_id, "delegate logged in");
    let mut response = Redirect::to("/services").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, secret.cookie(state.session_ttl_secs));
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    session: LoggedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = session.check_csrf(&form.csrf) {
        return PageError::of(&session.0, e).into_response();
    }
    if let Err(e) = store::end_session(&state.db, &session.0.secret_hash).await {
        return PageError::of(&session.0, e).into_response();
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, auth::clear_cookie());
    response
}

// ---------------------------------------------------------------------------------------------
// Services

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

#[derive(Template, WebTemplate)]
#[template(path = "service_new.html")]
struct NewServicePage {
    layout: Layout,
    csrf: String,
    fields: Vec<FieldView>,
    fields_with_errors: String,
}

fn new_page(session: &SessionRow, form: &ServiceForm, errors: &[FieldError]) -> NewServicePage {
    NewServicePage {
        layout: Layout::of(session),
        csrf: session.csrf.clone(),
        fields: field_views(form, errors),
        fields_with_errors: error_summary(errors),
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
    fields: Vec<FieldView>,
    fields_with_errors: String,
    notice: Option<&'static str>,
}

fn service_page(
    session: &SessionRow,
    stored: &StoredService,
    form: &ServiceForm,
    errors: &[FieldError],
    notice: Option<&'static str>,
) -> ServicePage {
    ServicePage {
        layout: Layout::of(session),
        csrf: session.csrf.clone(),
        s: ServiceView::from(stored),
        fields: field_views(form, errors),
        fields_with_errors: error_summary(errors),
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
        Ok(None) => return PageError::of(s, DevportalError::NotFound).into_response(),
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
