//! `GET /healthz`: the process is up. `GET /readyz`: the database answers too.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{Platform, Problem};

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(platform): State<Platform>) -> Response {
    match platform.db.ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Problem::unavailable("database_unavailable", "the database does not answer")
                .into_response()
        }
    }
}

/// `GET /.well-known/jwks.json`: the public keys of the tokens this server signs.
pub async fn jwks(State(platform): State<Platform>) -> Response {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(platform.keys.jwks()),
    )
        .into_response()
}
