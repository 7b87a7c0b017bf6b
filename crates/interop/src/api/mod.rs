//! The JSON API of an environment under `/interop/<environment>/api`, with the same rules as
//! the pages: one module per resource, each with its handlers and their typed requests and
//! answers (documented in [`crate::routes`]).

pub mod agreements;
pub mod attributes;
pub mod clients;
pub mod documents;
pub mod eservices;
pub mod purposes;
pub mod session;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::Member;
use crate::error::InteropError;
use crate::model::{self as rules, FieldError};
use crate::store::Window;

/// The model's checks on a typed request: the body arrives through `platform::web::Json` in a
/// lenient shape (every field optional, texts as texts, numbers as numbers), and the model
/// names each problem of every field in its own words, all at once.
pub fn check<B: Serialize, T>(
    body: &B,
    rules: fn(&Value) -> Result<T, Vec<FieldError>>,
) -> Result<T, InteropError> {
    let value =
        serde_json::to_value(body).map_err(|e| InteropError::invalid("body", e.to_string()))?;
    rules(&value).map_err(InteropError::Invalid)
}

/// The producer's side: its admin or api operator.
pub fn producer(m: &Member) -> Result<(), InteropError> {
    m.require(
        rules::may_manage_eservices(&m.roles),
        "manage e-services (admin or api)",
    )
}

/// The consumer's side: its admin.
pub fn consumer_admin(m: &Member) -> Result<(), InteropError> {
    m.require(
        rules::may_act_as_consumer(&m.roles),
        "act for the consumer institution (admin)",
    )
}

/// The role needed on an agreement or a purpose ([`rules::may_act_as_party`]), refused in the
/// words of the caller's side.
pub fn party(m: &Member, consumer_id: &str) -> Result<(), InteropError> {
    if rules::may_act_as_party(&m.roles, &m.tenant.institution_id, consumer_id) {
        Ok(())
    } else if consumer_id == m.tenant.institution_id {
        consumer_admin(m)
    } else {
        producer(m)
    }
}

/// `?offset=&limit=`: the window of a list, as the real platform's API pages its lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The results to skip: 0 (the default) to 100000.
    pub offset: Option<i64>,
    /// The results to return: 1 to 100 (50 when absent).
    pub limit: Option<i64>,
}

impl PageQuery {
    /// The window asked for; a value out of range is refused with every problem named.
    pub fn window(&self) -> Result<Window, InteropError> {
        let mut errors = Vec::new();
        let limit = self.limit.unwrap_or(Window::DEFAULT_LIMIT);
        if !(1..=Window::MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                format!("must be between 1 and {}", Window::MAX_LIMIT),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if !(0..=Window::MAX_OFFSET).contains(&offset) {
            errors.push(FieldError::new(
                "offset",
                format!("must be between 0 and {}", Window::MAX_OFFSET),
            ));
        }
        if errors.is_empty() {
            Ok(Window::new(limit, offset))
        } else {
            Err(InteropError::Invalid(errors))
        }
    }
}

/// `?role=consumer` (the default) or `?role=producer`: which side's list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SideQuery {
    /// `consumer` (the default: the caller's own requests) or `producer` (those received).
    #[param(value_type = Option<String>)]
    pub role: Option<String>,
}

impl SideQuery {
    /// The side asked for.
    pub fn side(&self) -> Result<crate::store::Side, InteropError> {
        self.as_producer().map(crate::store::Side::of)
    }

    pub fn as_producer(&self) -> Result<bool, InteropError> {
        match self.role.as_deref() {
            None | Some("consumer") => Ok(false),
            Some("producer") => Ok(true),
            Some(_) => Err(InteropError::invalid(
                "role",
                "must be consumer or producer",
            )),
        }
    }
}
