//! Interoperability's errors, mapped to HTTP in one place: problem+json for the API; pages
//! render the same errors through `pages::PageError`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;

use crate::model::{FieldError, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    /// No session of this environment.
    #[error("not authenticated")]
    Unauthenticated,
    /// Known, but may not do this (role, side, environment).
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("{}", .0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    /// A state-machine refusal, with its stable code.
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("identity token refused: {0}")]
    Token(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] platform::db::DbError),
}

platform::backoffice_refusals!(InteropError);

impl From<Refusal> for InteropError {
    fn from(r: Refusal) -> Self {
        match r.code {
            // The wrong side of an agreement or purpose: not a state, a right.
            "not_the_consumer" | "not_the_producer" => InteropError::Forbidden(r.message),
            _ => InteropError::Conflict(r.code, r.message),
        }
    }
}

impl From<Vec<FieldError>> for InteropError {
    fn from(e: Vec<FieldError>) -> Self {
        InteropError::Invalid(e)
    }
}

impl InteropError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        InteropError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::Token(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Sql(_) | Self::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            Self::Unauthenticated => Problem::unauthorized().with_detail(
                "enter this environment from the Reserved Area, or send its token as \
                 Authorization: Bearer",
            ),
            Self::Token(why) => {
                Problem::new(StatusCode::UNAUTHORIZED, "token_refused", "Unauthorized")
                    .with_detail(format!("the identity token was refused: {why}"))
            }
            Self::Forbidden(why) => Problem::forbidden().with_detail(why.clone()),
            Self::NotFound => Problem::not_found(),
            Self::Csrf => Problem::new(StatusCode::FORBIDDEN, "csrf", "Forbidden")
                .with_detail("missing or wrong CSRF token"),
            Self::Invalid(errors) => platform::web::invalid(errors),
            Self::Conflict(code, why) => Problem::conflict(code, why.clone()),
            Self::Unavailable(why) => {
                tracing::error!(detail = %why, "unavailable");
                Problem::unavailable("unavailable", "try again shortly")
            }
            Self::Sql(e) => Problem::internal(e),
            Self::Db(e) => Problem::internal(e),
        }
    }
}

impl IntoResponse for InteropError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
