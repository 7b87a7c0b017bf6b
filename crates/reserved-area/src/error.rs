//! The Reserved Area's errors, mapped to HTTP in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::Problem;
use platform::error::{Answer, Common};

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
    /// A failure of our own (never the caller's), logged and answered 500.
    #[error("{0}")]
    Internal(String),
}

impl Answer for RaError {
    /// The refusals the platform answers alike; `None` for the Reserved Area's own.
    fn common(&self) -> Option<Common<'_>> {
        Some(match self {
            RaError::Unauthenticated { .. } => Common::Unauthenticated {
                hint: "log in, or send a session token as Authorization: Bearer",
            },
            RaError::Forbidden => Common::Forbidden(None),
            RaError::NotFound => Common::NotFound,
            RaError::Csrf => Common::Csrf,
            RaError::Conflict(detail) => Common::Conflict {
                code: "conflict",
                detail,
            },
            RaError::Unavailable(why) => Common::Unavailable(why),
            RaError::Sql(e) => Common::Internal(e),
            RaError::Db(e) => Common::Internal(e),
            RaError::Token(e) => Common::Internal(e),
            RaError::Internal(e) => Common::Internal(e),
            RaError::BadRequest { .. } | RaError::NotAllowed(_) => return None,
        })
    }

    /// The Reserved Area's own refusals (those [`Answer::common`] leaves out).
    fn own_problem(&self) -> Problem {
        match self {
            RaError::BadRequest {
                code,
                field,
                detail,
            } => Problem::bad_request(code, detail.clone())
                .with_invalid_param(*field, detail.clone()),
            _ => Problem::new(StatusCode::FORBIDDEN, "not_allowed", "Forbidden")
                .with_detail(self.to_string()),
        }
    }
}

impl IntoResponse for RaError {
    fn into_response(self) -> Response {
        if let RaError::Unauthenticated { page: true } = self {
            return Redirect::to("/login").into_response();
        }
        self.problem().into_response()
    }
}
