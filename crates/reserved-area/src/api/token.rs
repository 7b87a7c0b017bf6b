//! The Gestisci token exchange: an identity token for a product's back-office, for a person
//! of an institution or for a platform operator.

use axum::Json;
use axum::extract::State;
use platform::web::Query;
use serde::{Deserialize, Serialize};

use crate::auth::ApiUser;
use crate::error::RaError;
use crate::exchange;
use crate::pages::operator::operator_token;
use crate::state::RaState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ExchangeQuery {
    pub institution_id: String,
    pub product_id: String,
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentityToken {
    /// An RS256 identity token (`typ: "ID"`) for the product's back-office.
    pub token: String,
}

/// Exchanges the session for an identity token for one product of one institution (Collaudo
/// is `productId=prod-interop-coll`; `environment` selects a product's extra back-office
/// environments). Only while the onboarding and the caller's role are both ACTIVE.
pub async fn token_exchange(
    State(state): State<RaState>,
    user: ApiUser,
    Query(q): Query<ExchangeQuery>,
) -> Result<Json<IdentityToken>, RaError> {
    let done = exchange::exchange(
        &state,
        &user.session,
        &q.institution_id,
        &q.product_id,
        q.environment.as_deref().filter(|e| !e.is_empty()),
    )
    .await?;
    Ok(Json(IdentityToken { token: done.token }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OperatorExchangeQuery {
    pub product_id: String,
}

/// A platform operator's identity token for a product's operator pages
/// (`platform_operator: true`, no `organization`).
pub async fn operator_exchange(
    State(state): State<RaState>,
    user: ApiUser,
    Query(q): Query<OperatorExchangeQuery>,
) -> Result<Json<IdentityToken>, RaError> {
    let (token, _) = operator_token(&state, &user.session, &q.product_id).await?;
    Ok(Json(IdentityToken { token }))
}
