//! Errors of HTML pages: the same [`RaError`], shown as a page in the person's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::layout::{Page, error_page};

use crate::error::RaError;

pub struct PageError(Box<(Page, RaError)>);

/// Attaches the page's layout to an error, so that it is shown as HTML.
pub trait OnPage<T> {
    fn on_page(self, page: &Page) -> Result<T, PageError>;
}

impl<T> OnPage<T> for Result<T, RaError> {
    fn on_page(self, page: &Page) -> Result<T, PageError> {
        self.map_err(|error| PageError(Box::new((page.clone(), error))))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (page, error) = *self.0;
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
            // Logins and internal failures answer as the error itself does (a redirect to the
            // login; a logged 500).
            _ => return error.into_response(),
        };
        error_page(page, status, title, message)
    }
}
