//! Errors as HTTP answers. Every JSON API answers a refusal with `application/problem+json`
//! (RFC 9457) carrying a stable `code`; contexts turn their own error type into a [`Problem`]
//! in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

/// An error answer (RFC 9457), `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A stable, machine-readable reason: snake_case, but for the refusals Interoperability
    /// shares with the real platform, which keep its names (`eServiceDescriptorWithoutInterface`).
    pub code: String,
    #[serde(rename = "invalidParams", skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, title: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            code: code.to_string(),
            invalid_params: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_invalid_param(
        mut self,
        name: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        self.invalid_params.push(InvalidParam {
            name: name.into(),
            reason: reason.into(),
        });
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad Request").with_detail(detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not Found")
    }

    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict").with_detail(detail)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload Too Large",
        )
        .with_detail(format!("the request body is larger than {limit} bytes"))
    }

    /// An internal failure: the cause is logged here, never sent to the caller.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal Server Error",
        )
    }

    pub fn unavailable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, "Service Unavailable").with_detail(detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// The refusals every context answers alike, each with one status, code and title, so that the
/// code convention lives in one place. A context's error type maps its shared variants here
/// (its `common()`) and answers its own codes beside them.
pub enum Common<'a> {
    /// No credential, or not a valid one; `hint` says how this context is entered.
    Unauthenticated {
        hint: &'static str,
    },
    /// An identity token that was not accepted, and why.
    TokenRefused(&'a str),
    /// Known, but not allowed to; the reason when there is one to tell.
    Forbidden(Option<&'a str>),
    /// Not allowed to, by a rule with the context's stable code (403).
    Denied {
        code: &'a str,
        detail: &'a str,
    },
    NotFound,
    Csrf,
    /// Fields that are not valid (`invalid_payload`, each named in `invalidParams`).
    Invalid(&'a [crate::FieldError]),
    /// A request the rules refuse for what it carries (not its shape, not the state), with the
    /// context's stable code.
    Rejected {
        code: &'a str,
        detail: &'a str,
    },
    /// A refusal of the current state, with the context's stable code.
    Conflict {
        code: &'a str,
        detail: &'a str,
    },
    /// A dependency is down: logged, and the caller told to try again.
    Unavailable(&'a str),
    /// A failure of ours: logged, never shown.
    Internal(&'a dyn std::fmt::Display),
}

impl Common<'_> {
    pub fn status(&self) -> StatusCode {
        match self {
            Common::Unauthenticated { .. } | Common::TokenRefused(_) => StatusCode::UNAUTHORIZED,
            Common::Forbidden(_) | Common::Denied { .. } | Common::Csrf => StatusCode::FORBIDDEN,
            Common::NotFound => StatusCode::NOT_FOUND,
            Common::Invalid(_) | Common::Rejected { .. } => StatusCode::BAD_REQUEST,
            Common::Conflict { .. } => StatusCode::CONFLICT,
            Common::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Common::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            Common::Unauthenticated { hint } => Problem::unauthorized().with_detail(*hint),
            Common::TokenRefused(why) => {
                Problem::new(StatusCode::UNAUTHORIZED, "token_refused", "Unauthorized")
                    .with_detail(format!("the identity token was refused: {why}"))
            }
            Common::Forbidden(None) => Problem::forbidden(),
            Common::Forbidden(Some(why)) => Problem::forbidden().with_detail(*why),
            Common::Denied { code, detail } => {
                Problem::new(StatusCode::FORBIDDEN, code, "Forbidden").with_detail(*detail)
            }
            Common::NotFound => Problem::not_found(),
            Common::Csrf => Problem::new(StatusCode::FORBIDDEN, "csrf", "Forbidden")
                .with_detail("missing or wrong CSRF token"),
            Common::Invalid(errors) => crate::web::invalid(errors),
            Common::Rejected { code, detail } => Problem::bad_request(code, *detail),
            Common::Conflict { code, detail } => Problem::conflict(code, *detail),
            Common::Unavailable(why) => {
                tracing::error!(detail = %why, "unavailable");
                Problem::unavailable("unavailable", "try again shortly")
            }
            Common::Internal(cause) => Problem::internal(*cause),
        }
    }
}

/// A context's error as an answer: the refusals every context shares ([`Common`]) and the
/// context's own.
pub trait Answer {
    /// The shared refusal this error is, if it is one.
    fn common(&self) -> Option<Common<'_>>;

    /// The answer to an error that is not a shared refusal.
    fn own_problem(&self) -> Problem;

    fn status(&self) -> StatusCode {
        match self.common() {
            Some(common) => common.status(),
            None => self.own_problem().status(),
        }
    }

    fn problem(&self) -> Problem {
        match self.common() {
            Some(common) => common.problem(),
            None => self.own_problem(),
        }
    }
}

/// Errors of the plumbing itself.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl From<PlatformError> for Problem {
    fn from(e: PlatformError) -> Self {
        Problem::internal(&e)
    }
}

impl IntoResponse for PlatformError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_serialises_as_rfc9457_with_a_code() {
        let p = Problem::bad_request("invalid_fiscal_code", "wrong check character")
            .with_invalid_param("fiscalCode", "wrong check character");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 400);
        assert_eq!(v["code"], "invalid_fiscal_code");
        assert_eq!(v["type"], "/problems/invalid_fiscal_code");
        assert_eq!(v["invalidParams"][0]["name"], "fiscalCode");
        let r = p.into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
