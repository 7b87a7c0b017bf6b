//! The back-office session of scripts (`/io/api/session`, `/io/api/logout`, `/io/api/me`) and
//! the public facts of the API (`info`, `topics`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use platform::Timestamp;
use platform::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::services::TopicRef;
use crate::auth::{self, BoUser};
use crate::error::IoError;
use crate::model;
use crate::state::IoState;
use crate::store::Tenant;

/// `POST /io/api/session`: an identity token of the Reserved Area.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    pub identity_token: String,
}

/// A bearer token for scripts, and when it expires.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionToken {
    pub token: String,
    pub expires_at: String,
}

/// Who the back-office session is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub name: String,
    pub family_name: String,
    /// `admin` or `operator`.
    pub role: String,
    pub institution: Tenant,
}

/// The fixed list of topics.
#[derive(Debug, Serialize, ToSchema)]
pub struct Topics {
    pub topics: Vec<TopicRef>,
}

/// The API's name and version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Info {
    pub name: String,
    pub version: String,
}

/// `POST /io/api/session`: `{identity_token}` → `{token}` (a bearer token for scripts).
pub async fn open_session(
    State(state): State<IoState>,
    web::Json(body): web::Json<SessionRequest>,
) -> Result<Json<SessionToken>, IoError> {
    let (secret, session) = auth::open_session(&state, &body.identity_token).await?;
    Ok(Json(SessionToken {
        token: secret.expose().to_string(),
        expires_at: Timestamp::from_millis(session.expires_at).rfc3339_millis(),
    }))
}

/// `POST /io/api/logout`: ends the back-office session presented (401 when none is: the
/// route is for sessions; one already ended answers 204 again).
pub async fn close_session(
    State(state): State<IoState>,
    parts: Parts,
) -> Result<StatusCode, IoError> {
    let secret = auth::presented_secret(&parts).ok_or(IoError::Unauthenticated)?;
    platform::backoffice::close(&state.platform.db, &secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /io/api/me`: who the back-office session is.
pub async fn me(user: BoUser) -> Json<Me> {
    Json(Me {
        user_id: user.session.user_id().to_string(),
        name: user.session.claims.name.clone(),
        family_name: user.session.claims.family_name.clone(),
        role: user.role.as_str().to_string(),
        institution: user.tenant.clone(),
    })
}

pub async fn topics() -> Json<Topics> {
    Json(Topics {
        topics: model::TOPICS.iter().map(TopicRef::from).collect(),
    })
}

pub async fn info() -> Json<Info> {
    Json(Info {
        name: "selfcare io-services-cms".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
