//! Errors of HTML pages: the same [`RaError`], shown as a page in the person's language through
//! the platform's [`PageError`]. Logins and internal failures answer as the error itself does (a
//! redirect to the login; a logged 500).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::layout::Page;
use platform::page_error::PageError;

use crate::error::RaError;

/// A page's failure: shown as the platform's error page, or answered as the error itself does.
pub enum PageFailure {
    Shown(PageError),
    AsIs(Box<RaError>),
}

impl IntoResponse for PageFailure {
    fn into_response(self) -> Response {
        match self {
            PageFailure::Shown(page) => page.into_response(),
            PageFailure::AsIs(error) => error.into_response(),
        }
    }
}

/// Attaches the page's layout to an error, so that it is shown as HTML.
pub trait OnPage<T> {
    fn on_page(self, page: &Page) -> Result<T, PageFailure>;
}

impl<T> OnPage<T> for Result<T, RaError> {
    fn on_page(self, page: &Page) -> Result<T, PageFailure> {
        self.map_err(|error| page_error(page, error))
    }
}

/// The one place an [`RaError`] becomes a page: its status, title and message, and the way home.
pub fn page_error(page: &Page, error: RaError) -> PageFailure {
    let (status, title, message) = match &error {
        RaError::NotFound => (
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.message",
        ),
        RaError::Forbidden | RaError::NotAllowed(_) => (
            StatusCode::FORBIDDEN,
            "error.forbidden.title",
            "error.forbidden.message",
        ),
        RaError::Csrf => (
            StatusCode::FORBIDDEN,
            "error.csrf.title",
            "error.csrf.message",
        ),
        RaError::BadRequest { .. } => (
            StatusCode::BAD_REQUEST,
            "error.bad_request.title",
            "error.bad_request.message",
        ),
        _ => return PageFailure::AsIs(Box::new(error)),
    };
    PageFailure::Shown(keyed(page, status, title, message))
}

/// An error page from message keys, with the way back to the home page.
pub fn keyed(page: &Page, status: StatusCode, title_key: &str, message_key: &str) -> PageError {
    PageError::from_keys(page, status, title_key, message_key)
        .link("/", page.t("error.back_home").to_string())
}
