//! Logging in and out: the built-in test identity provider, the end of every login (whatever
//! the provider), logout.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::audit::{self, AuditEvent};
use platform::client_addr::ClientAddr;
use platform::layout::Page;
use platform::session::{self, Identity, Session, SessionSecret};
use platform::types::FiscalCode;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, PageUser};
use crate::error::RaError;
use crate::state::RaState;
use crate::store;

/// The SPID level the test identity provider claims.
pub const TEST_SPID_LEVEL: &str = "https://www.spid.gov.it/SpidL2";

/// A person as an identity provider vouches for them.
#[derive(Debug, Clone)]
pub struct LoginIdentity {
    pub fiscal_code: FiscalCode,
    pub name: String,
    pub family_name: String,
    pub spid_level: String,
}

/// The end of every login: the person is recorded (created when new) and a new session
/// starts; the browser's previous session, if any, ends (the id rotates at login).
pub async fn complete_login(
    state: &RaState,
    who: &LoginIdentity,
    previous: Option<&SessionSecret>,
    provider: &str,
    parts: &axum::http::request::Parts,
) -> Result<(SessionSecret, Session), RaError> {
    let mut tx = state.platform.db.begin().await?;
    let user = store::upsert_user(
        &mut tx,
        who.fiscal_code.as_str(),
        &who.name,
        &who.family_name,
    )
    .await?;
    let mut event = AuditEvent::new("auth.login");
    event.actor = Some(user.id.clone());
    event.details = json!({ "provider": provider });
    event.client_addr = ClientAddr::from_parts(parts).map(|a| a.0.to_string());
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    let identity = Identity {
        user_id: user.id,
        fiscal_code: who.fiscal_code.as_str().to_string(),
        name: who.name.clone(),
        family_name: who.family_name.clone(),
        spid_level: who.spid_level.clone(),
    };
    Ok(session::start(
        &state.platform.db,
        &identity,
        &state.settings.session,
        previous,
    )
    .await?)
}

/// The answer to a browser login: the session cookie, then the dashboard.
pub fn logged_in_response(state: &RaState, secret: &SessionSecret) -> Response {
    let mut response = Redirect::to("/dashboard").into_response();
    let cookie = session::cookie(
        secret,
        state.secure_cookies,
        state.settings.session.absolute_timeout_secs,
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    page: Page,
    test_idp: bool,
    oidc: bool,
}

/// `GET /login`: the ways in.
pub async fn login_page(State(state): State<RaState>, page: Page) -> LoginPage {
    LoginPage {
        page,
        test_idp: state.settings.test_idp.enabled,
        oidc: state.settings.oidc.enabled(),
    }
}

#[derive(Debug, Default, Clone)]
pub struct PersonErrors {
    pub fiscal_number: Option<&'static str>,
    pub name: Option<&'static str>,
    pub family_name: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "test_idp.html")]
pub struct TestIdpPage {
    page: Page,
    identities: Vec<crate::state::TestIdentity>,
    fiscal_number: String,
    name: String,
    family_name: String,
    errors: PersonErrors,
}

pub(crate) fn require_test_idp(state: &RaState) -> Result<(), RaError> {
    if state.settings.test_idp.enabled {
        Ok(())
    } else {
        Err(RaError::NotFound)
    }
}

/// `GET /auth/test-idp`: pick a demo identity, or be any person with a valid fiscal code.
pub async fn test_idp_page(State(state): State<RaState>, page: Page) -> Result<Response, RaError> {
    require_test_idp(&state)?;
    Ok(TestIdpPage {
        page,
        identities: state.test_identities.clone(),
        fiscal_number: String::new(),
        name: String::new(),
        family_name: String::new(),
        errors: PersonErrors::default(),
    }
    .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    pub fiscal_number: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
}

/// Who the test identity provider vouches for: a listed identity by its fiscal code, or anyone
/// whose fiscal code is valid and matches the given name and family name.
pub(crate) fn test_person(
    state: &RaState,
    input: &PersonInput,
) -> Result<LoginIdentity, PersonErrors> {
    let mut errors = PersonErrors::default();
    let code = match FiscalCode::parse(&input.fiscal_number) {
        Ok(code) => code,
        Err(_) => {
            errors.fiscal_number = Some("ra.test_idp.errors.fiscal_code");
            return Err(errors);
        }
    };
    if let Some(listed) = state
        .test_identities
        .iter()
        .find(|i| i.fiscal_number == code.as_str())
    {
        return Ok(LoginIdentity {
            fiscal_code: code,
            name: listed.name.clone(),
            family_name: listed.family_name.clone(),
            spid_level: TEST_SPID_LEVEL.into(),
        });
    }
    let name = input.name.as_deref().unwrap_or("").trim().to_string();
    let family_name = input
        .family_name
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.name = Some("ra.test_idp.errors.name");
    }
    if family_name.is_empty() || family_name.chars().count() > 100 {
        errors.family_name = Some("ra.test_idp.errors.family_name");
    }
    if errors.name.is_none()
        && errors.family_name.is_none()
        && !code.matches_person(&family_name, &name)
    {
        errors.fiscal_number = Some("ra.test_idp.errors.mismatch");
    }
    if errors.fiscal_number.is_some() || errors.name.is_some() || errors.family_name.is_some() {
        return Err(errors);
    }
    Ok(LoginIdentity {
        fiscal_code: code,
        name,
        family_name,
        spid_level: TEST_SPID_LEVEL.into(),
    })
}

/// `POST /auth/test-idp/login` (form).
pub async fn test_idp_login(
    State(state): State<RaState>,
    page: Page,
    parts: axum::http::request::Parts,
    Form(input): Form<PersonInput>,
) -> Result<Response, RaError> {
    require_test_idp(&state)?;
    match test_person(&state, &input) {
        Ok(who) => {
            let previous = auth::cookie_secret(&parts);
            let (secret, _) =
                complete_login(&state, &who, previous.as_ref(), "test-idp", &parts).await?;
            Ok(logged_in_response(&state, &secret))
        }
        Err(errors) => {
            let mut response = TestIdpPage {
                page,
                identities: state.test_identities.clone(),
                fiscal_number: input.fiscal_number.clone(),
                name: input.name.clone().unwrap_or_default(),
                family_name: input.family_name.clone().unwrap_or_default(),
                errors,
            }
            .into_response();
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`: ends the session everywhere (back-offices learn it from the revocations).
pub async fn logout(
    State(state): State<RaState>,
    user: PageUser,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<CsrfForm>,
) -> Result<Response, RaError> {
    auth::check_form_csrf(&user, &form.csrf)?;
    session::end(&state.platform.db, &user.session.sid, "logout").await?;
    let mut event = AuditEvent::new("auth.logout");
    event.actor = Some(user.session.identity.user_id.clone());
    event.client_addr = Some(addr.to_string());
    audit::record(state.platform.db.writer(), &event).await?;
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(state.secure_cookies)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
