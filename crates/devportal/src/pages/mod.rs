//! The delegates' pages (Italian, server-rendered, no JavaScript): login, their services with
//! the keys, create, edit, regenerate a key. Every form after the login carries the session's
//! CSRF token.

use platform::error::Answer;
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

mod login;
mod services;

pub(crate) use login::*;
pub(crate) use services::*;

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
            StatusCode::GONE => "Servizio trasferito all'Area Riservata",
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

/// The CSRF token of a form without other fields.
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}
