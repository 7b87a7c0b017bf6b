//! The back-office pages.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::auth;
use crate::error::IoError;
use crate::state::IoState;
use crate::{Access, Route, r};

pub fn routes() -> Vec<Route> {
    vec![r("POST", "/io/session", Access::Entry, post(enter))]
}

#[derive(Debug, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    identity_token: String,
}

/// `POST /io/session`: the Reserved Area's "Gestisci" posts the identity token here.
pub async fn enter(
    State(state): State<IoState>,
    Form(form): Form<EntryForm>,
) -> Result<Response, IoError> {
    let (secret, session) = auth::open_session(&state, &form.identity_token).await?;
    let secure = state.platform.public_url.starts_with("https://");
    let max_age = (session.expires_at - platform::db::now_millis()) / 1000;
    let to = if session.claims.platform_operator {
        "/io/review"
    } else {
        "/io"
    };
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&secret, secure, max_age),
        )],
        Redirect::to(to),
    )
        .into_response())
}
