//! The IO back-office's errors, mapped to HTTP in one place (pages render them through
//! `pages::PageError`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;
use platform::error::{Answer, Common};

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
}

impl Answer for IoError {
    /// The refusals the platform answers alike; `None` for the back-office's own.
    fn common(&self) -> Option<Common<'_>> {
        Some(match self {
            IoError::Unauthenticated => Common::Unauthenticated {
                hint: "open the back-office from the Reserved Area, send a back-office token as \
                       Authorization: Bearer, or a key as Ocp-Apim-Subscription-Key",
            },
            IoError::Token(why) => Common::TokenRefused(why),
            IoError::Forbidden(why) => Common::Forbidden(Some(why)),
            IoError::NotFound => Common::NotFound,
            IoError::Csrf => Common::Csrf,
            IoError::Invalid(errors) => Common::Invalid(errors),
            IoError::Conflict(detail) => Common::Conflict {
                code: "state_conflict",
                detail,
            },
            IoError::Unavailable(why) => Common::Unavailable(why),
            IoError::Sql(e) => Common::Internal(e),
            IoError::Db(e) => Common::Internal(e),
            IoError::Secret(e) => Common::Internal(e),
            IoError::AddressNotAllowed | IoError::Upstream(_) => return None,
        })
    }

    /// The back-office's own refusals (those [`Answer::common`] leaves out).
    fn own_problem(&self) -> Problem {
        match self {
            IoError::Upstream(why) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "devportal_unavailable",
                "Bad Gateway",
            )
            .with_detail(why.clone()),
            _ => Problem::new(StatusCode::FORBIDDEN, "address_not_allowed", "Forbidden")
                .with_detail("the caller's address is not in the key's authorized CIDRs"),
        }
    }
}

impl IntoResponse for IoError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
