//! The IO back-office's errors, mapped to HTTP in one place (pages render them through
//! `pages::PageError`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;

use crate::model::{FieldError, Refusal};
use crate::secrets::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// No back-office session, or no (valid) key.
    #[error("not authenticated")]
    Unauthenticated,
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The address is not in the key's allow-list.
    #[error("the caller's address is not authorized for this key")]
    AddressNotAllowed,
    #[error("not found")]
    NotFound,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("{}", .0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("identity token refused: {0}")]
    Token(String),
    #[error("{0}")]
    Unavailable(String),
    /// The legacy Developer Portal failed or did not answer.
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] platform::db::DbError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

platform::backoffice_refusals!(IoError);

impl From<Refusal> for IoError {
    fn from(r: Refusal) -> Self {
        IoError::Conflict(r.0)
    }
}

impl From<FieldError> for IoError {
    fn from(e: FieldError) -> Self {
        IoError::Invalid(vec![e])
    }
}

impl IoError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        IoError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            IoError::Unauthenticated | IoError::Token(_) => StatusCode::UNAUTHORIZED,
            IoError::Forbidden(_) | IoError::AddressNotAllowed | IoError::Csrf => {
                StatusCode::FORBIDDEN
            }
            IoError::NotFound => StatusCode::NOT_FOUND,
            IoError::Invalid(_) => StatusCode::BAD_REQUEST,
            IoError::Conflict(_) => StatusCode::CONFLICT,
            IoError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IoError::Upstream(_) => StatusCode::BAD_GATEWAY,
            IoError::Sql(_) | IoError::Db(_) | IoError::Secret(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            IoError::Unauthenticated => Problem::unauthorized().with_detail(
                "open the back-office from the Reserved Area, send a back-office token as \
                 Authorization: Bearer, or a key as Ocp-Apim-Subscription-Key",
            ),
            IoError::Token(why) => {
                Problem::new(StatusCode::UNAUTHORIZED, "token_refused", "Unauthorized")
                    .with_detail(format!("the identity token was refused: {why}"))
            }
            IoError::Forbidden(why) => Problem::forbidden().with_detail(why.clone()),
            IoError::AddressNotAllowed => {
                Problem::new(StatusCode::FORBIDDEN, "address_not_allowed", "Forbidden")
                    .with_detail("the caller's address is not in the key's authorized CIDRs")
            }
            IoError::NotFound => Problem::not_found(),
            IoError::Csrf => Problem::new(StatusCode::FORBIDDEN, "csrf", "Forbidden")
                .with_detail("missing or wrong CSRF token"),
            IoError::Invalid(errors) => platform::web::invalid(errors),
            IoError::Conflict(why) => Problem::conflict("state_conflict", why.clone()),
            IoError::Unavailable(why) => {
                tracing::error!(detail = %why, "unavailable");
                Problem::unavailable("unavailable", "try again shortly")
            }
            IoError::Upstream(why) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "devportal_unavailable",
                "Bad Gateway",
            )
            .with_detail(why.clone()),
            IoError::Sql(e) => Problem::internal(e),
            IoError::Db(e) => Problem::internal(e),
            IoError::Secret(e) => Problem::internal(e),
        }
    }
}

impl IntoResponse for IoError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
