//! The JSON APIs: the manage API (`/api/v1/manage`, a manage key), the back-office API
//! (`/io/api`, a back-office session) — the same handlers, generic over the caller — and the
//! service API (`/api/v1/services/{id}`, the service's own key). Shapes as the reference's
//! `io-services-cms` schemas; each request and answer is a type of its resource's module,
//! documented in the route table (`routes.rs`).

pub mod keys;
pub mod review;
pub mod service_api;
pub mod services;
pub mod session;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::IoError;
use crate::model::{self, KeyType};
use crate::state::IoState;
use crate::store::{self, KeyPair, ServiceRow};

/// A page of a list: `limit` (1 to 100, 20 when absent) and `offset` (0 when absent).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items (1 to 100; 20 when absent).
    pub limit: Option<i64>,
    /// How many items to skip (0 when absent).
    pub offset: Option<i64>,
}

impl PageQuery {
    /// `(limit, offset)` within bounds, or a 400 naming the parameter.
    pub fn bounds(&self) -> Result<(i64, i64), IoError> {
        let limit = within("limit", self.limit, 20, 1, 100)?;
        let offset = within("offset", self.offset, 0, 0, i64::from(i32::MAX))?;
        Ok((limit, offset))
    }
}

/// An integer parameter within bounds, or a 400 naming it.
pub fn within(
    name: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, IoError> {
    match value {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(IoError::invalid(
            name,
            format!("must be a whole number from {min} to {max}"),
        )),
    }
}

/// Where a page of a list is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pagination {
    pub offset: i64,
    pub limit: i64,
    pub count: i64,
}

/// A key pair (the reference's `SubscriptionKeys`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionKeys {
    pub primary_key: String,
    pub secondary_key: String,
}

impl From<&KeyPair> for SubscriptionKeys {
    fn from(k: &KeyPair) -> Self {
        Self {
            primary_key: k.primary.expose().to_string(),
            secondary_key: k.secondary.expose().to_string(),
        }
    }
}

/// A service id as the API writes them; anything else is no service (404).
pub fn service_id(id: &str) -> Result<&str, IoError> {
    if model::service_id_shape(id) {
        Ok(id)
    } else {
        Err(IoError::NotFound)
    }
}

/// The caller's institution's service `id`, or 404.
pub async fn own_service<C: Caller>(
    state: &IoState,
    c: &C,
    id: &str,
) -> Result<ServiceRow, IoError> {
    store::get_service(
        &state.platform.db,
        &c.tenant().institution_id,
        service_id(id)?,
    )
    .await?
    .ok_or(IoError::NotFound)
}

/// The `{key_type}` of a path, or a 400 naming it.
pub fn key_type(raw: &str) -> Result<KeyType, IoError> {
    KeyType::parse(raw).ok_or_else(|| IoError::invalid("keyType", "must be primary or secondary"))
}

#[cfg(test)]
mod tests {
    use platform::Timestamp;

    #[test]
    fn timestamps_are_iso_with_milliseconds() {
        assert_eq!(
            Timestamp::from_millis(0).rfc3339_millis(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_millis(1_674_345_600_123).rfc3339_millis(),
            "2023-01-22T00:00:00.123Z"
        );
    }
}
