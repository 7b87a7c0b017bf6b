//! The institution's manage keys (`/io/api/subscriptions`, administrators): their key pairs
//! and the addresses they may be used from.

use axum::Json;
use axum::extract::{Path, State};
use platform::web::{self, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{SubscriptionKeys, key_type};
use crate::auth::BoUser;
use crate::error::IoError;
use crate::model::{self, SubscriptionKind};
use crate::state::IoState;
use crate::store;

/// `GET /io/api/subscriptions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionsQuery {
    /// `MANAGE_ROOT` (the only kind listed, and the default).
    #[param(inline)]
    pub kind: Option<ListedKind>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum ListedKind {
    #[serde(rename = "MANAGE_ROOT")]
    ManageRoot,
}

/// A manage key pair's subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    /// `MANAGE_ROOT`.
    pub kind: String,
    pub cidrs: Vec<String>,
}

/// `PUT /io/api/subscriptions/{id}/cidrs`: `{cidrs: [...]}` as the real back-office sends, or
/// a bare list. Each entry is checked by the model (naming `cidrs[i]`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CidrsPayload {
    Wrapped {
        /// IPv4 addresses or CIDRs.
        #[schema(value_type = Vec<String>)]
        cidrs: Vec<Value>,
    },
    #[schema(value_type = Vec<String>)]
    List(Vec<Value>),
    /// Anything else: refused, naming `cidrs` (not part of the documented shape).
    #[serde(skip_serializing)]
    Other(serde::de::IgnoredAny),
}

async fn manage_subscription(
    state: &IoState,
    user: &BoUser,
    id: &str,
) -> Result<store::Subscription, IoError> {
    user.require_admin()?;
    match store::subscription(&state.platform.db, id).await? {
        Some(s)
            if s.institution_id == user.tenant.institution_id
                && s.kind == SubscriptionKind::ManageRoot =>
        {
            Ok(s)
        }
        _ => Err(IoError::NotFound),
    }
}

pub async fn list_subscriptions(
    State(state): State<IoState>,
    user: BoUser,
    Query(q): Query<SubscriptionsQuery>,
) -> Result<Json<Vec<Subscription>>, IoError> {
    user.require_admin()?;
    let kind = match q.kind {
        None | Some(ListedKind::ManageRoot) => SubscriptionKind::ManageRoot,
    };
    let subs = store::subscriptions(&state.platform.db, &user.tenant.institution_id, kind).await?;
    Ok(Json(
        subs.into_iter()
            .map(|s| Subscription {
                id: s.id,
                kind: s.kind.as_str().to_string(),
                cidrs: s.cidrs,
            })
            .collect(),
    ))
}

pub async fn subscription_keys(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionKeys>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    let keys = store::keys(&state.platform.db, &state.ring, &s.id).await?;
    Ok(Json(SubscriptionKeys::from(&keys)))
}

pub async fn regenerate_subscription_key(
    State(state): State<IoState>,
    user: BoUser,
    Path((id, kt)): Path<(String, String)>,
) -> Result<Json<SubscriptionKeys>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    let kt = key_type(&kt)?;
    let keys = store::regenerate(&state.platform.db, &state.ring, &s.id, kt).await?;
    Ok(Json(SubscriptionKeys::from(&keys)))
}

pub async fn subscription_cidrs(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<String>>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    Ok(Json(s.cidrs))
}

pub async fn set_subscription_cidrs(
    State(state): State<IoState>,
    user: BoUser,
    Path(id): Path<String>,
    web::Json(payload): web::Json<CidrsPayload>,
) -> Result<Json<Vec<String>>, IoError> {
    let s = manage_subscription(&state, &user, &id).await?;
    let items = match payload {
        CidrsPayload::Wrapped { cidrs } | CidrsPayload::List(cidrs) => cidrs,
        CidrsPayload::Other(_) => {
            return Err(IoError::invalid(
                "cidrs",
                "must be a list of IPv4 addresses or CIDRs",
            ));
        }
    };
    let mut raw = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => raw.push(s.to_string()),
            None => return Err(IoError::invalid(&format!("cidrs[{i}]"), "must be a string")),
        }
    }
    let cidrs: Vec<String> = model::parse_cidrs(&raw)?
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    store::set_cidrs(&state.platform.db, &s.id, &cidrs).await?;
    Ok(Json(cidrs))
}
