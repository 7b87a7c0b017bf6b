//! Interoperability's errors, mapped to HTTP in one place: problem+json for the API; pages
//! render the same errors through `pages::PageError`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Problem;
use platform::error::Common;

use crate::model::{FieldError, Refusal, attribute, descriptor, document};

#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    /// No session of this environment.
    #[error("not authenticated")]
    Unauthenticated,
    /// Known, but may not do this (role, side, environment).
    #[error("{0}")]
    Forbidden(String),
    /// May not, by a rule with its stable code (the pages say it in words by the code).
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error("not found")]
    NotFound,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("{}", .0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    /// What the request carries is refused by a rule (a file, a publication without an
    /// interface), with its stable code: 400.
    #[error("{1}")]
    Rejected(&'static str, String),
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

/// The refusals the real platform answers with 400 rather than 409 (with the upload checks of
/// [`document::CODES`]): the request is refused, whatever the state.
const REJECTED: &[&str] = &[
    descriptor::DRAFT_EXISTS,
    descriptor::WITHOUT_INTERFACE,
    descriptor::AUDIENCE_EMPTY,
    descriptor::PERSONAL_DATA_MISSING,
    descriptor::DAILY_CALLS_INCONSISTENT,
    descriptor::NOT_VALID,
    attribute::MISSING_CERTIFIED,
    attribute::SUBMISSION_FAILED,
    attribute::ACTIVATION_FAILED,
    attribute::NO_CONTACT_EMAIL,
];

impl From<Refusal> for InteropError {
    fn from(r: Refusal) -> Self {
        match r.code {
            // The wrong side of an agreement or purpose: not a state, a right.
            "not_the_consumer"
            | "not_the_producer"
            | attribute::NOT_THE_CERTIFIER
            | attribute::VERIFICATION_NOT_ALLOWED => InteropError::Refused(r),
            code if REJECTED.contains(&code) || document::CODES.contains(&code) => {
                InteropError::Rejected(r.code, r.message)
            }
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

    /// Every refusal of Interoperability is one the platform answers alike.
    pub fn common(&self) -> Common<'_> {
        match self {
            Self::Unauthenticated => Common::Unauthenticated {
                hint: "enter this environment from the Reserved Area, or send its token as \
                       Authorization: Bearer",
            },
            Self::Token(why) => Common::TokenRefused(why),
            Self::Forbidden(why) => Common::Forbidden(Some(why)),
            // The real platform's named refusals keep their names.
            Self::Refused(r) if r.code.starts_with("attribute") => Common::Denied {
                code: r.code,
                detail: &r.message,
            },
            Self::Refused(r) => Common::Forbidden(Some(&r.message)),
            Self::NotFound => Common::NotFound,
            Self::Csrf => Common::Csrf,
            Self::Invalid(errors) => Common::Invalid(errors),
            Self::Rejected(code, detail) => Common::Rejected { code, detail },
            Self::Conflict(code, detail) => Common::Conflict { code, detail },
            Self::Unavailable(why) => Common::Unavailable(why),
            Self::Sql(e) => Common::Internal(e),
            Self::Db(e) => Common::Internal(e),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.common().status()
    }

    pub fn problem(&self) -> Problem {
        self.common().problem()
    }
}

impl IntoResponse for InteropError {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
