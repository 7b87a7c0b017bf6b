//! The delegates' login and logout.

use super::*;
use platform::error::Answer;

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
