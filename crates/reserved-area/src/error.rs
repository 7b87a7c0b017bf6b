//! The Reserved Area's errors, mapped to HTTP in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::Problem;

#[derive(Debug, thiserror::Error)]
pub enum RaError {
    /// No session: APIs answer 401, pages send the person to the login.
    #[error("not logged in")]
    Unauthenticated { page: bool },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("{detail}")]
    BadRequest {
        code: &'static str,
        field: &'static str,
        detail: String,
    },
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] platform::db::DbError),
    #[error("token: {0}")]
    Token(#[from] platform::jwt::JwtError),
}

impl IntoResponse for RaError {
    fn into_response(self) -> Response {
        match self {
            RaError::Unauthenticated { page: true } => Redirect::to("/login").into_response(),
            RaError::Unauthenticated { page: false } => Problem::unauthorized()
                .with_detail("log in, or send a session token as Authorization: Bearer")
                .into_response(),
            RaError::Forbidden => Problem::forbidden().into_response(),
            RaError::NotFound => Problem::not_found().into_response(),
            RaError::Csrf => Problem::new(StatusCode::FORBIDDEN, "csrf", "Forbidden")
                .with_detail("missing or wrong CSRF token")
                .into_response(),
            RaError::BadRequest {
                code,
                field,
                detail,
            } => Problem::bad_request(code, detail.clone())
                .with_invalid_param(field, detail)
                .into_response(),
            RaError::NotAllowed(detail) => {
                Problem::new(StatusCode::FORBIDDEN, "not_allowed", "Forbidden")
                    .with_detail(detail)
                    .into_response()
            }
            RaError::Conflict(detail) => Problem::conflict("conflict", detail).into_response(),
            RaError::Unavailable(detail) => {
                tracing::error!(%detail, "unavailable");
                Problem::unavailable("unavailable", "try again shortly").into_response()
            }
            RaError::Sql(e) => Problem::internal(&e).into_response(),
            RaError::Db(e) => Problem::internal(&e).into_response(),
            RaError::Token(e) => Problem::internal(&e).into_response(),
        }
    }
}
