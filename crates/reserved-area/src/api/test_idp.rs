//! The test identity provider's JSON door: its demo identities, and a session token for
//! scripts and tests (404 when it is off).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::auth;
use crate::error::RaError;
use crate::pages::login::{PersonInput, complete_login, require_test_idp, test_person};
use crate::state::{RaState, TestIdentity};

/// The demo identities (a JSON array).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TestIdentityList(pub Vec<TestIdentity>);

/// The demo identities of the test identity provider (404 when it is off).
pub async fn test_idp_identities(
    State(state): State<RaState>,
) -> Result<Json<TestIdentityList>, RaError> {
    require_test_idp(&state)?;
    Ok(Json(TestIdentityList(state.test_identities.clone())))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokenResponse {
    /// The session token (RS256) for `Authorization: Bearer`.
    pub session_token: String,
}

/// Logs in through the test identity provider: a listed identity by its fiscal code, or any
/// person with a valid fiscal code, name and family name (404 when it is off).
pub async fn test_idp_token(
    State(state): State<RaState>,
    parts: axum::http::request::Parts,
    platform::web::Json(input): platform::web::Json<PersonInput>,
) -> Result<Json<SessionTokenResponse>, RaError> {
    require_test_idp(&state)?;
    let who = test_person(&state, &input).map_err(|errors| {
        let (field, detail) = if errors.fiscal_number == Some("ra.test_idp.errors.mismatch") {
            (
                "fiscal_number",
                "name/family_name do not match the fiscal code",
            )
        } else if errors.fiscal_number.is_some() {
            ("fiscal_number", "not a valid fiscal code")
        } else if errors.name.is_some() {
            (
                "name",
                "name is required for a person not in the list (1..100 characters)",
            )
        } else {
            (
                "family_name",
                "family_name is required for a person not in the list (1..100 characters)",
            )
        };
        RaError::BadRequest {
            code: "invalid_identity",
            field,
            detail: detail.into(),
        }
    })?;
    let (_, session) = complete_login(&state, &who, None, "test-idp", &parts).await?;
    let token = auth::session_token(&state, &session)?;
    Ok(Json(SessionTokenResponse {
        session_token: token,
    }))
}
